"""containerd-migrate: move containerd config.toml between schema versions, minimally.

    from migrator import migrate
    result = migrate(text, to=3)
    result.text          # the migrated TOML, comments and untouched lines kept
    result.changes       # every move, rename and drop, with the rule it follows
    result.findings      # warnings (removed keys, behaviour changes, unknown keys)

    cfg = migrator.load(text)       # edit by name, whatever the version (docs/settings.md)
    cfg.sandbox_image = "registry.k8s.io/pause:3.10"
    text = cfg.dump()

Bad input raises ConfigError (str() gives `file:line:col: message`).
"""
import types as _types

from migrator import load as _load_module
from migrator.errors import ConfigError, LossError
from migrator.pipeline import UNSET, migrate, supported_versions
from migrator.report import Change, Finding, MigrationResult



class _Loader(_types.ModuleType):
    """`migrator.load(text)` gives a version-independent view for editing (migrator.settings);
    the name is also the loading submodule, which stays importable as it was."""

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from migrator.settings import load
        return load(*args, **kwargs)


_load_module.__class__ = _Loader

__all__ = ["load", "migrate", "UNSET", "supported_versions", "ConfigError", "LossError", "Change", "Finding",
           "MigrationResult"]

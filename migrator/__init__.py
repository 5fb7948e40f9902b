"""containerd-migrate: move containerd config.toml between schema versions, minimally.

    import migrator
    result = migrator.migrate(text, to=3)
    result.text          # the migrated TOML, comments and untouched lines kept
    result.changes       # every move, rename and drop, with the rule it follows
    result.findings      # warnings (removed keys, behaviour changes, unknown keys)

    cfg = migrator.load(text)       # edit by name, whatever the version (docs/settings.md)
    cfg.sandbox_image = "registry.k8s.io/pause:3.10"
    text = cfg.dump()

Bad input raises ConfigError (str() gives `file:line:col: message`); a target that cannot
express a setting raises LossError, a ConfigError. examples/installer.py is a typed installer.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

# the one place the version is written: pyproject reads it from here (hatch), `--version`
# prints it without importing the rest of the package
__version__ = "0.1.0"

if TYPE_CHECKING:  # the names, for type checkers; at run time they load on first use
    from migrator.core.errors import ConfigError, LossError
    from migrator.core.results import Change, Finding, MigrationResult
    from migrator.emit.write import write_atomic
    from migrator.features.settings import Config, Options, Runtime
    from migrator.pipeline import UNSET, InternalError, migrate, supported_versions

_LAZY = {
    "ConfigError": "migrator.core.errors", "LossError": "migrator.core.errors",
    "Change": "migrator.core.results", "Finding": "migrator.core.results",
    "MigrationResult": "migrator.core.results", "write_atomic": "migrator.emit.write",
    "Config": "migrator.features.settings", "Options": "migrator.features.settings",
    "Runtime": "migrator.features.settings", "UNSET": "migrator.pipeline",
    "InternalError": "migrator.pipeline", "migrate": "migrator.pipeline",
    "supported_versions": "migrator.pipeline",
}


def load(text: str | bytes, *, version: int | None = None, containerd: str | None = None,
         file: str = "<string>") -> Config:
    """Read a config of any version (1 to 4) to edit by version-independent names.

    `version`: what a file without a `version` key (a drop-in) is read as; `containerd`: the
    release line ("2.1") whose schema judges the edits; `file`: the name used in messages.
    Raises ConfigError on bad input. `Config.dump()` writes the edits in the file's version.
    """
    from migrator.features.settings import Config
    return Config(text, version=version, containerd=containerd, file=file)


__all__ = ["__version__", "load", "migrate", "supported_versions", "UNSET", "Config", "Runtime",
           "Options", "MigrationResult", "Change", "Finding", "ConfigError", "LossError",
           "InternalError", "write_atomic"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # once
        return value
    import difflib
    close = difflib.get_close_matches(name, __all__, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise AttributeError(f"module 'migrator' has no attribute {name!r}{hint}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

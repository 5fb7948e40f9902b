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

from importlib import metadata as _metadata

from migrator.core.errors import ConfigError, LossError
from migrator.pipeline import UNSET, InternalError, migrate, supported_versions
from migrator.core.results import Change, Finding, MigrationResult
from migrator.features.settings import Config, Options, Runtime
from migrator.emit.write import write_atomic

try:
    __version__: str = _metadata.version("containerd-migrate")
except _metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0.0.0+unknown"


def load(text: str | bytes, *, version: int | None = None, containerd: str | None = None,
         file: str = "<string>") -> Config:
    """Read a config of any version (1 to 4) to edit by version-independent names.

    `version`: what a file without a `version` key (a drop-in) is read as; `containerd`: the
    release line ("2.1") whose schema judges the edits; `file`: the name used in messages.
    Raises ConfigError on bad input. `Config.dump()` writes the edits in the file's version.
    """
    return Config(text, version=version, containerd=containerd, file=file)


__all__ = ["__version__", "load", "migrate", "supported_versions", "UNSET", "Config", "Runtime",
           "Options", "MigrationResult", "Change", "Finding", "ConfigError", "LossError",
           "InternalError", "write_atomic"]

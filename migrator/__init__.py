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

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~2 ms)

from migrator._version import __version__

# The public names are imported when first used (PEP 562): `import migrator` and the command
# line's `--version` stay fast, and a program pays for the pipeline only when it calls it.
_PUBLIC = {
    "ConfigError": "migrator.core.errors", "LossError": "migrator.core.errors",
    "UNSET": "migrator.pipeline", "InternalError": "migrator.pipeline",
    "migrate": "migrator.pipeline", "supported_versions": "migrator.pipeline",
    "Change": "migrator.core.results", "Finding": "migrator.core.results",
    "MigrationResult": "migrator.core.results", "Config": "migrator.features.settings",
    "Options": "migrator.features.settings", "Runtime": "migrator.features.settings",
    "write_atomic": "migrator.emit.write",
}
_SUBPACKAGES = ("core", "emit", "checks", "pipeline", "features", "lint", "cli")

if TYPE_CHECKING:  # what type checkers see: the real names, no module __getattr__
    from migrator.core.errors import ConfigError, LossError
    from migrator.core.results import Change, Finding, MigrationResult
    from migrator.emit.write import write_atomic
    from migrator.features.settings import Config, Options, Runtime
    from migrator.pipeline import UNSET, InternalError, migrate, supported_versions
else:
    def __getattr__(name: str):
        import importlib
        if name in _PUBLIC:
            value = getattr(importlib.import_module(_PUBLIC[name]), name)
        elif name in _SUBPACKAGES:
            value = importlib.import_module(f"migrator.{name}")
        else:
            raise AttributeError(f"module 'migrator' has no attribute {name!r}", name=name,
                                 obj=__import__("sys").modules[__name__])
        globals()[name] = value  # asked once per process
        return value

    def __dir__():
        return sorted(set(globals()) | set(__all__) | set(_SUBPACKAGES))


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

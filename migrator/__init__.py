"""containerd-migrate: move containerd config.toml between schema versions, minimally.

    from migrator import migrate
    result = migrate(text, to=3)
    result.text          # the migrated TOML, comments and untouched lines kept
    result.changes       # every move, rename and drop, with the rule it follows
    result.findings      # warnings (removed keys, behaviour changes, unknown keys)

Bad input raises ConfigError (str() gives `file:line:col: message`).
"""
from migrator.errors import ConfigError, LossError
from migrator.pipeline import UNSET, migrate, supported_versions
from migrator.report import Change, Finding, MigrationResult

__all__ = ["migrate", "UNSET", "supported_versions", "ConfigError", "LossError", "Change", "Finding",
           "MigrationResult"]

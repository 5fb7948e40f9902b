"""Writing a migrated set back, each file atomically."""
from __future__ import annotations

from migrator.core.errors import ConfigError
from migrator.features.imports.sets import SetResult


def write_set(result: SetResult, *, backup_suffix: str | None = None) -> list[str]:
    """Write every file of an on-disk set whose text changed (atomically, like --in-place).
    Refuses a set with error findings. Returns the paths written."""
    from migrator.emit.write import write_atomic

    if not result.on_disk:
        raise ValueError("this set was read from a mapping; write its texts yourself")
    if result.errors:
        raise ConfigError("the set has errors; nothing written: " + "; ".join(
            f.message for f in result.errors), file=result.root)
    written = []
    for path, r in result.files.items():
        if r.changed:
            written.append(write_atomic(path, r.text.encode("utf-8"),
                                        backup_suffix=backup_suffix))
    return written

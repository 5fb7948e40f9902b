"""A cache of plain data derived from data files, keyed by the content of those files.

    value = compiled("rules", [this_module, grammar, *rules_files], build)

The entry lives in `<cache_dir>/compiled/<kind>-<key>.marshal`, where the key is a checksum of
the inputs' names and contents (and of the marshal format and Python version): any edit to an
input (a rules file, a schema, the module that builds the value) is a new key and a rebuild, and
every install of the same release on a machine (virtualenvs, pipx, checkouts) shares one entry
instead of evicting the others'. Stale entries go when a kind gets a new one: the newest
`KEEP` of each kind stay, by modification time (a hit does not refresh it; at worst an entry
is rebuilt once more). The entries are plain data read with marshal, never executed; a stored
key is compared in full, so a checksum collision is a miss. Without a writable cache dir, or
with $CONTAINERD_MIGRATE_NO_CACHE set, `build()` runs every time: slower, never different.
"""
from __future__ import annotations

import marshal
import os
import sys
import zlib
from pathlib import Path
from typing import Any, Callable

NO_CACHE_ENV = "CONTAINERD_MIGRATE_NO_CACHE"
CACHE_ENV = "CONTAINERD_MIGRATE_CACHE"
FORMAT = 3  # bump when the layout of an entry changes
KEEP = 8    # entries per kind: a few releases side by side, plus edits of a checkout


def cache_dir() -> Path:
    """$CONTAINERD_MIGRATE_CACHE or ~/.cache/containerd-migrate (shared with the oracle)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "containerd-migrate"


def fingerprint(path: Path) -> tuple[Any, ...]:
    """What the key knows of one input: its name and its content (never where it is)."""
    data = path.read_bytes()
    return (path.name, len(data), zlib.crc32(data), zlib.adler32(data))


def key_of(kind: str, inputs: list[Path]) -> tuple[Any, ...]:
    return (FORMAT, marshal.version, tuple(sys.version_info[:2]), kind,
            tuple(fingerprint(p) for p in inputs))


def entry_path(kind: str, key: tuple[Any, ...]) -> Path:
    blob = marshal.dumps(key)
    digest = (zlib.crc32(blob) << 32) | zlib.adler32(blob)
    return cache_dir() / "compiled" / f"{kind}-{digest:016x}.marshal"


def compiled(kind: str, inputs: list[Path], build: Callable[[], Any]) -> Any:
    """`build()`, a value derived from the input files (plain data that marshal can hold),
    read from the cache when an entry for exactly these input contents exists."""
    if os.environ.get(NO_CACHE_ENV):
        return build()
    try:
        key = key_of(kind, inputs)
        path = entry_path(kind, key)
    except (OSError, ValueError):
        return build()
    try:
        stored, data = marshal.loads(path.read_bytes())
        if stored == key:
            return data
    except Exception:  # missing, unreadable or not ours: build it
        pass
    data = build()
    try:
        _store(path, kind, marshal.dumps((key, data)))
    except (OSError, ValueError):
        pass  # a read-only home, or a value marshal cannot hold: build every time, still correct
    return data


def _store(path: Path, kind: str, blob: bytes) -> None:
    import tempfile
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{kind}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)  # atomic: a reader sees the old entry, the new one or none
    except BaseException:
        os.unlink(tmp)
        raise
    prune(path.parent, kind)


def prune(folder: Path, kind: str, keep: int = KEEP) -> None:
    """Keep the newest `keep` entries of a kind."""
    entries = []
    for p in folder.glob(f"{kind}-*.marshal"):
        try:
            entries.append((p.stat().st_mtime_ns, p))
        except OSError:
            continue
    for _, p in sorted(entries, reverse=True)[keep:]:
        p.unlink(missing_ok=True)

"""Values derived from data files, kept between runs as marshal files keyed by content.

`compiled(kind, inputs, build)` returns `build()` (plain data marshal can hold), from
`<cache dir>/compiled/<kind>-<key>.marshal` when present, where `key` is a digest of the
contents of `inputs` (the data files and the module that builds from them), the cache format
and the Python version. Installs with the same files share one entry, whatever their paths; a
changed file gets a new entry; old entries go when a kind holds more than `KEEP`. With
$CONTAINERD_MIGRATE_NO_CACHE set, or without a writable cache directory, `build()` runs every
time: slower, never different (tests/test_speed_equivalence.py).
"""
from __future__ import annotations

import hashlib
import marshal
import os
import sys
from pathlib import Path
from typing import Any, Callable

FORMAT = 3
KEEP = 16  # entries per kind: different versions of the data, newest kept
NO_CACHE_ENV = "CONTAINERD_MIGRATE_NO_CACHE"


def cache_dir() -> Path:
    """$CONTAINERD_MIGRATE_CACHE or ~/.cache/containerd-migrate (shared with the oracle)."""
    env = os.environ.get("CONTAINERD_MIGRATE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "containerd-migrate"


def key(inputs: list[Path]) -> str:
    """The digest of the inputs' contents (names too: a renamed input is another input)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{FORMAT} {marshal.version} {sys.version_info[:2]}".encode())
    for path in inputs:
        data = path.read_bytes()
        h.update(f"\0{path.name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def compiled(kind: str, inputs: list[Path], build: Callable[[], Any]) -> Any:
    if os.environ.get(NO_CACHE_ENV):
        return build()
    try:
        path = cache_dir() / "compiled" / f"{kind}-{key(inputs)}.marshal"
    except OSError:
        return build()
    try:
        return marshal.loads(path.read_bytes())
    except Exception:  # missing, unreadable or not ours: build it
        pass
    data = build()
    try:
        blob = marshal.dumps(data)
        import tempfile
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{kind}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(path.parent, kind)
    except (OSError, ValueError):
        pass  # a read-only home: build every time, still correct
    return data


def _prune(folder: Path, kind: str) -> None:
    entries = []
    for p in folder.glob(f"{kind}-*.marshal"):
        try:
            entries.append((p.stat().st_mtime, p))
        except OSError:
            continue
    for _, p in sorted(entries, reverse=True)[KEEP:]:
        p.unlink(missing_ok=True)

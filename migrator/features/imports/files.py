"""The files of a set: read from disk or a mapping, and imports resolved as containerd resolves
them (Go's filepath.Match globs)."""
from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Mapping
from typing import Any

from migrator.core import loading
from migrator.core.errors import ConfigError

PER_KEY = ("timeouts", "proxy_plugins", "stream_processors")



class _Disk:
    sep = os.sep

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self.path = os.path

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path)

    def listdir(self, path: str) -> list[str] | None:
        try:
            return os.listdir(path) if os.path.isdir(path) else None
        except OSError:
            return None

    def read(self, path: str) -> bytes:
        return loading.read_regular(path)  # a FIFO matched by a glob must not block the run


class _Memory:
    sep = "/"

    def __init__(self, files: Mapping[str, str | bytes]) -> None:
        if not files:
            raise ConfigError("the set of files is empty")
        self.files = {self._norm(k): v for k, v in files.items()}
        self.root = self._norm(next(iter(files)))
        self.path = posixpath

    @staticmethod
    def _norm(name: str) -> str:
        return posixpath.normpath(str(name).replace(os.sep, "/"))

    def exists(self, path: str) -> bool:
        return path in self.files or self.isdir(path)

    def isdir(self, path: str) -> bool:
        prefix = "" if path == "." else path.rstrip("/") + "/"
        return any(k.startswith(prefix) and k != path for k in self.files) and \
            path not in self.files

    def listdir(self, path: str) -> list[str] | None:
        if not self.isdir(path):
            return None
        prefix = "" if path == "." else path.rstrip("/") + "/"
        names = set()
        for k in self.files:
            if k.startswith(prefix) and not (prefix == "" and (k.startswith("/")
                                                              or k.startswith("../"))):
                names.add(k[len(prefix):].split("/", 1)[0])
        return sorted(names)

    def read(self, path: str) -> bytes:
        value = self.files[path]
        return value.encode("utf-8") if isinstance(value, str) else value


# -- Go's filepath.Glob ----------------------------------------------------------------------------

def _has_meta(path: str) -> bool:
    return any(c in path for c in "*?[\\")


def _go_pattern(pattern: str) -> re.Pattern[str] | None:
    """filepath.Match as a regex; None for a malformed pattern (ErrBadPattern)."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            i += 1
            if i >= n:
                return None
            out.append(re.escape(pattern[i]))
        elif c == "[":
            i += 1
            neg = i < n and pattern[i] == "^"
            if neg:
                i += 1
            items, first = [], True
            while True:
                if i >= n:
                    return None
                ch = pattern[i]
                if ch == "]" and not first:
                    break
                first = False
                if ch == "\\":
                    i += 1
                    if i >= n:
                        return None
                    ch = pattern[i]
                lo = ch
                if i + 2 < n and pattern[i + 1] == "-" and pattern[i + 2] != "]":
                    hi = pattern[i + 2]
                    if hi == "\\":
                        if i + 3 >= n:
                            return None
                        hi = pattern[i + 3]
                        i += 1
                    items.append(f"{re.escape(lo)}-{re.escape(hi)}")
                    i += 3
                    continue
                items.append(re.escape(lo))
                i += 1
            out.append(("[^" if neg else "[") + "".join(items) + "]")
        else:
            out.append(re.escape(c))
        i += 1
    try:
        return re.compile("".join(out), re.DOTALL)
    except re.error:
        return None


class _BadPattern(Exception):
    pass


def _glob(pattern: str, fs: Any) -> list[str]:
    if _go_pattern(pattern) is None:
        raise _BadPattern(pattern)
    if not _has_meta(pattern):
        return [pattern] if fs.exists(pattern) else []
    directory, name = fs.path.split(pattern)
    directory = directory or "."
    if directory != fs.sep:
        directory = directory.rstrip(fs.sep) or fs.sep
    if not _has_meta(directory):
        return _glob_in(directory, name, fs)
    if directory == pattern:
        raise _BadPattern(pattern)
    out: list[str] = []
    for d in _glob(directory, fs):
        out += _glob_in(d, name, fs)
    return out


def _glob_in(directory: str, name: str, fs: Any) -> list[str]:
    names = fs.listdir(directory)
    rx = _go_pattern(name)
    if names is None or rx is None:
        return []
    return [fs.path.normpath(fs.path.join(directory, n)) for n in sorted(names)
            if rx.fullmatch(n)]


def resolve_imports(parent: str, entries: list[str], fs: Any) -> list[tuple[str, str, bool]]:
    """(entry, resolved path, is a glob) for each file an `imports` list names (resolveImports)."""
    out = []
    for entry in entries:
        path = fs.path.normpath(entry) if entry else "."
        if not fs.path.isabs(path):
            path = fs.path.normpath(fs.path.join(fs.path.dirname(parent) or ".", path))
        if "*" in path:
            out += [(entry, m, True) for m in _glob(path, fs)] or [(entry, "", True)]
        else:
            out.append((entry, path, False))
    return out


# -- the result ------------------------------------------------------------------------------------

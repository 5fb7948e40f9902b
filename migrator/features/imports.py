"""A config and the files it imports, migrated as one set, each kept in its own file.

    from migrator.features.imports import migrate_set
    result = migrate_set(Path("/etc/containerd/config.toml"), to=3)
    result.texts            # {path: migrated text}, in the order containerd loads them
    result.findings         # about the set: missing files, cycles, mixed versions, merging
    write_set(result)       # write the files that changed, atomically

    migrate_set({"config.toml": root_text, "conf.d/10-a.toml": a_text}, to=3)  # no disk

`imports` is followed the way containerd's `LoadConfig` does it (facts §1.4, §1.5;
cmd/containerd/server/config/config.go@v2.1.0, services/server/config/config.go@v1.7.34):
breadth first from the root, each path loaded once; an entry is cleaned and, when relative,
joined to the importing file's directory; an entry holding `*` is a glob (Go's filepath.Glob:
sorted per directory, `*` matches dot files too, a pattern without a match adds nothing), any
other entry must exist (containerd refuses to start otherwise).

Every file is migrated to the same version with `migrate()`. What the set means can still
change, because containerd merges the files:

* 1.x replaces a whole `plugins.<name>` table with the one of a later file;
* 2.0+ merges plugin tables key by key (a later `false`, `0` or `[]` wins; arrays are replaced);
* both append top-level lists, replace `timeouts`, `proxy_plugins`, `stream_processors` per key,
  and let a later non-empty top-level value win.

`migrate_set` merges the original set the way the source release did, migrates the result, and
compares it with the migrated files merged the way the target release will: any difference is a
finding naming the key paths (never values). Mixed versions are reported too: a drop-in above the
root's version makes containerd 2.0-2.2 skip the root's migration (its CRI keys are lost, E15)
and 2.3.0-2.3.4 refuse to start.
"""
from __future__ import annotations

import copy
import os
import posixpath
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from migrator.core import catalog, engine, loading, rules
from migrator.core.errors import ConfigError
from migrator.core.paths import dotted
from migrator.core.results import Finding, MigrationResult

__all__ = ["migrate_set", "write_set", "SetResult", "resolve_imports", "merge_trees"]

#: Top-level tables whose entries a later file replaces one by one (mergeConfig).
PER_KEY = ("timeouts", "proxy_plugins", "stream_processors")


# -- where files come from -------------------------------------------------------------------------

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

@dataclass
class SetResult:
    root: str
    target_version: int
    files: dict[str, MigrationResult] = field(default_factory=dict)   # load order
    imports: dict[str, list[str]] = field(default_factory=dict)       # file -> files it loads
    findings: list[Finding] = field(default_factory=list)              # about the set
    on_disk: bool = False

    @property
    def texts(self) -> dict[str, str]:
        return {path: r.text for path, r in self.files.items()}

    @property
    def changed(self) -> bool:
        return any(r.changed for r in self.files.values())

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {"root": self.root, "target_version": self.target_version,
                "changed": self.changed, "imports": self.imports,
                "files": [r.to_json() for r in self.files.values()],
                "findings": [asdict(f) for f in self.findings]}

    def format_text(self) -> str:
        parts = [r.format_text() for r in self.files.values()]
        if self.findings:
            parts.append(f"{self.root} and its imports:\n" + "".join(
                "  " + f.format(self.root) + "\n" for f in self.findings))
        return "".join(parts)


# -- migrate -------------------------------------------------------------------------------------

def migrate_set(root: str | os.PathLike[str] | Mapping[str, str | bytes], *, to: int | None,
                containerd: str | None = None, allow_loss: bool = False,
                assignments: tuple = ()) -> SetResult:
    """Migrate a root config and every file it imports (recursively) to one version.

    `root` is a path (files are read from disk; nothing is written) or a mapping of paths to
    texts whose first entry is the root (paths relative to each other, `/`-separated). A file
    that does not parse, or that the target cannot express without `allow_loss`, raises
    ConfigError/LossError naming it; problems of the set itself (a missing import, a cycle,
    mixed versions, a merge that means something else after the migration) are findings.
    `assignments` (`NAME=VALUE`, --set) edit the root file, in the same pass as its migration."""
    from migrator import pipeline

    fs: Any = _Memory(root) if isinstance(root, Mapping) else _Disk(root)
    root_name = fs.root
    try:
        target, release = pipeline.resolve_target(to, containerd)
    except ConfigError as exc:
        raise exc.with_file(str(root_name)) from None
    out = SetResult(root_name, target, on_disk=isinstance(fs, _Disk))
    if not fs.exists(root_name) or fs.isdir(root_name):
        raise ConfigError("file not found" if not fs.exists(root_name) else "is a directory",
                          file=root_name)
    loaded: dict[str, loading.Loaded] = {}
    data: dict[str, bytes] = {}
    parent: dict[str, str | None] = {root_name: None}
    pending: list[tuple[str, str | None]] = [(root_name, None)]
    known = pipeline.supported_versions()
    while pending:
        path, importer = pending.pop(0)
        if path in loaded:
            if importer is not None and _ancestor(path, importer, parent):
                out.findings.append(Finding(
                    "warning", "imports-cycle", f"{importer} imports {path}, which imports it "
                    "back: containerd loads each file once, so the cycle is harmless but "
                    "pointless", None))
            else:
                out.findings.append(Finding(
                    "info", "imports-repeated", f"{path} is imported more than once; containerd "
                    "loads it once, where it is first reached", None))
            continue
        if importer is not None and not fs.exists(path):
            out.findings.append(Finding(
                "error", "imports-missing", f"{importer} imports {path}, which does not exist: "
                f"containerd refuses to start (`open {path}: no such file or directory`)", None))
            continue
        if fs.isdir(path):
            out.findings.append(Finding(
                "error", "imports-directory", f"{importer} imports {path}, a directory: "
                "containerd cannot read it as a config and refuses to start", None))
            continue
        try:
            raw = fs.read(path)
        except loading.NotRegularFile:
            if importer is None:
                raise ConfigError("not a regular file; --with-imports reads only regular files",
                                  file=path) from None
            out.findings.append(Finding(
                "error", "imports-not-a-file", f"{importer} imports {path}, which is not a "
                "regular file (a FIFO, a device or a socket): it is not read (containerd would "
                "wait on a FIFO for ever)", None))
            continue
        except OSError as exc:
            raise ConfigError(f"cannot read: {exc.strerror or exc}", file=path) from None
        data[path] = raw
        loaded[path] = ld = loading.load(raw, path, known)
        out.imports[path] = []
        parent.setdefault(path, importer)
        entries = ld.tree.get("imports", [])
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            line = next((st.line for st in ld.doc.statements if st.path == ("imports",)), None)
            raise ConfigError("imports must be a list of file names or glob patterns",
                              file=path, line=line)
        try:
            resolved = resolve_imports(path, entries, fs)
        except _BadPattern as exc:
            out.findings.append(Finding(
                "error", "imports-pattern", f"{path}: import pattern {str(exc)!r} is malformed: "
                "containerd refuses to start", None))
            resolved = []
        for entry, match, _ in resolved:
            if not match:
                out.findings.append(Finding(
                    "info", "imports-no-match", f"{path}: import {entry!r} matches no file", None))
                continue
            out.imports[path].append(match)
            parent.setdefault(match, path)
            pending.append((match, path))
    order = list(loaded)
    declared = {p: (ld.tree.get("version") if isinstance(ld.tree.get("version"), int) else None)
                for p, ld in loaded.items()}
    root_version = next((v for v in (declared[p] for p in order) if v), None)  # 2.3's rule
    own = declared[root_name] or 1  # a drop-in without a version is read at the root's
    out.findings += _version_findings(order, declared, root_version)
    edit = None
    if assignments:  # --set: the root's edits join its plan
        from migrator.features import settings
        edit = settings.plan_edits(assignments, loaded[root_name], target, release, containerd,
                                   root_name)
    for path in order:
        mine = edit is not None and path == root_name
        result = pipeline.migrate(data[path], to=target, containerd=containerd,
                                  allow_loss=allow_loss, file=path, loaded=loaded[path],
                                  sets=edit.sets if mine else None)
        if mine:
            settings.explain(result, edit)
        if path != root_name and declared[path] is None and own >= 2:
            result.findings[:] = [f for f in result.findings
                                  if f.code != "plugin-fallback/unknown-name"]
            short = [k for k in (loaded[path].tree.get("plugins") or {}) if "." not in k]
            result.findings.append(Finding(
                "info", "imports-versionless", f"no version: containerd 1.x reads this file at "
                f"the root's version {own} (full plugin URIs take effect), 2.x "
                "migrates it from version 1", None))
            if short:
                result.findings.append(Finding(
                    "warning", "imports-versionless", "short plugin names in a file without a "
                    f"version, imported by a version {own} root: containerd 1.x "
                    "refuses to start (`invalid plugin key URI`), 2.x renames them", "plugins"))
        out.files[path] = result
    if isinstance(fs, _Memory):
        unused = [k for k in fs.files if k not in loaded]
        if unused:
            out.findings.append(Finding(
                "info", "imports-unused", "not imported by the set: " + ", ".join(unused), None))
    out.findings += _merge_findings(order, loaded, out.files, declared, own, target, release)
    return out


def _ancestor(path: str, importer: str, parent: dict[str, str | None]) -> bool:
    cur: str | None = importer
    seen = set()
    while cur is not None and cur not in seen:
        if cur == path:
            return True
        seen.add(cur)
        cur = parent.get(cur)
    return False


def _version_findings(order: list[str], declared: dict[str, int | None],
                      root_version: int | None) -> list[Finding]:
    out = []
    versions = {v for v in declared.values() if v}
    for path in order[1:]:
        v = declared[path]
        if v and root_version and v > root_version:
            out.append(Finding(
                "warning", "imports-version", f"{path} is version {v}, above the root's "
                f"version {root_version}: containerd 2.0-2.2 then read the whole set at one "
                "version and skip the root's migration (its CRI settings are lost, E15), "
                "2.3.0-2.3.4 refuse to start; after the migration every file has the same "
                "version", None))
    if len(versions) > 1 and not out:
        out.append(Finding(
            "info", "imports-version", "the files have different versions (" + ", ".join(
                f"{p}: {declared[p] or 'none'}" for p in order) + "); after the migration "
            "every file has the same version", None))
    return out


# -- what the merged set means -------------------------------------------------------------------

def _zero(value: Any) -> bool:
    return value in ("", 0, False, [], {})


def merge_trees(trees: list[dict], *, deep: bool) -> dict:
    """The files merged the way containerd does: `deep` for 2.0+ (plugin tables key by key,
    lists appended without duplicates), otherwise 1.x (a later file's plugin table replaces
    the whole table; lists appended)."""
    out: dict = {}
    for tree in trees:
        for key, value in tree.items():
            if key == "plugins" and isinstance(value, dict):
                plugins = out.setdefault("plugins", {})
                for name, section in value.items():
                    if deep and isinstance(section, dict) and isinstance(plugins.get(name), dict):
                        plugins[name] = _deep(plugins[name], section)
                    else:
                        plugins[name] = copy.deepcopy(section)
            elif key in PER_KEY and isinstance(value, dict):
                out.setdefault(key, {}).update(copy.deepcopy(value))
            elif isinstance(value, list):
                have = out.setdefault(key, [])
                if isinstance(have, list):
                    have += [v for v in value if not (deep and v in have)]
                else:
                    out[key] = copy.deepcopy(value)
            elif isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = _struct(out[key], value)
            elif not _zero(value) or key not in out:
                out[key] = copy.deepcopy(value)
    return out


def _deep(base: dict, later: dict) -> dict:
    out = dict(base)
    for k, v in later.items():
        out[k] = _deep(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) \
            else copy.deepcopy(v)
    return out


def _struct(base: dict, later: dict) -> dict:
    """mergo.Merge(WithOverride) on a struct: a later non-empty value wins."""
    out = dict(base)
    for k, v in later.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _struct(out[k], v)
        elif not _zero(v) or k not in out:
            out[k] = copy.deepcopy(v)
    return out


def _is_deep(release: str | None, version: int) -> bool:
    line = release or rules.native_release(version)
    return line is not None and rules.release_key(line) >= rules.release_key(
        catalog.since("struct-merge"))


def _merge_findings(order: list[str], loaded: dict[str, loading.Loaded],
                    results: dict[str, MigrationResult], declared: dict[str, int | None],
                    own: int, target: int, release: str | None) -> list[Finding]:
    if len(order) < 2:
        return []
    versions = {declared[p] or own for p in order}
    if len(versions) != 1:
        return []  # mixed versions: containerd itself reads such a set inconsistently
    source = versions.pop()
    src_deep = _is_deep(None, source)
    tgt_deep = _is_deep(release, target)
    drops = {}
    for r in results.values():
        for c in r.changes:
            if c.kind == "dropped" and c.from_key is not None:
                drops[c.from_key] = c.reason
    trees = []
    for p in order:
        tree = copy.deepcopy(loaded[p].tree)
        if declared[p] is None and source >= 2:
            tree["version"] = source
        trees.append(tree)
    try:
        merged = merge_trees(trees, deep=src_deep)
        chain = rules.chain(source, target, release)
        meant = engine.plan(merged, chain, drops or None).expected
        now = merge_trees([tomllib.loads(results[p].text) for p in order], deep=tgt_deep)
    except Exception:  # the check is advice; the per-file migrations stand on their own
        return []
    differ = _differences(meant, now)
    if not differ:
        return []
    shown = ", ".join(differ[:8]) + (f" and {len(differ) - 8} more" if len(differ) > 8 else "")
    if not src_deep and tgt_deep:
        why = ("containerd 1.x replaced a whole plugin table with the one of a later file; "
               "containerd 2.0+ merges plugin tables key by key, so settings that a later file "
               "used to hide take effect again")
    elif src_deep and not tgt_deep:
        why = ("containerd 2.0+ merged plugin tables key by key across these files; containerd "
               "1.x replaces a whole plugin table with the one of a later file, so settings of "
               "an earlier file are lost")
    else:
        why = "migrating each file on its own does not give what the merged set meant"
    return [Finding("warning", "imports-merge", f"{why}: the merged result differs at {shown}; "
                    "keep each plugin's settings in one file", None)]


def _differences(a: dict, b: dict) -> list[str]:
    a = {k: v for k, v in a.items() if k not in ("version", "imports")}
    b = {k: v for k, v in b.items() if k not in ("version", "imports")}
    out: list[str] = []

    def walk(x: Any, y: Any, path: tuple) -> None:
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y), key=str):
                if k not in x and y[k] == {} or k not in y and x[k] == {}:
                    continue  # an empty table says nothing
                walk(x.get(k, _MISSING), y.get(k, _MISSING), path + (k,))
        elif x != y:
            out.append(dotted(path))
    walk(a, b, ())
    return out


class _Missing:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Missing)

    def __hash__(self) -> int:
        return 0


_MISSING = _Missing()


# -- writing -------------------------------------------------------------------------------------

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

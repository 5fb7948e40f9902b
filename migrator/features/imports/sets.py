"""A root config and its imports migrated as one set, and written back."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from migrator.core import loading
from migrator.core.errors import ConfigError
from migrator.core.results import Finding, MigrationResult
from migrator.features.imports.files import _BadPattern, _Disk, _Memory, resolve_imports
from migrator.features.imports.merge import _merge_findings


@dataclass
class SetResult:
    root: str
    target_version: int
    files: dict[str, MigrationResult] = field(default_factory=dict)   # load order
    imports: dict[str, list[str]] = field(default_factory=dict)       # file -> files it loads
    findings: list[Finding] = field(default_factory=list)              # about the set
    on_disk: bool = False
    hosts: dict[Path, str] = field(default_factory=dict)   # hosts.toml files to write (hosts_dir)

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



def migrate_set(root: str | os.PathLike[str] | Mapping[str, str | bytes], *, to: int | None,
                containerd: str | None = None, allow_loss: bool = False,
                assignments: tuple = (), hosts_dir: str | os.PathLike[str] | None = None,
                overwrite_hosts: bool = False) -> SetResult:
    """Migrate a root config and every file it imports (recursively) to one version.

    `root` is a path (files are read from disk; nothing is written) or a mapping of paths to
    texts whose first entry is the root (paths relative to each other, `/`-separated). A file
    that does not parse, or that the target cannot express without `allow_loss`, raises
    ConfigError/LossError naming it; problems of the set itself (a missing import, a cycle,
    mixed versions, a merge that means something else after the migration) are findings.
    `assignments` (`NAME=VALUE`, --set) edit the root file, in the same pass as its migration.
    With `hosts_dir`, the registry mirrors and TLS settings move to hosts.toml files as
    `migrate_registry` moves them (`hosts`: the files to write, nothing written), from the one
    file of the set that has them (`registry_file`)."""
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
    registry, hosts_plan = registry_file(order, loaded, hosts_dir) if hosts_dir is not None \
        else (None, None)
    hosts_moves: dict[tuple, object] = {}
    for path in order:
        mine = edit is not None and path == root_name
        if path == registry:  # its edits and the registry's moves join its one plan
            from migrator.features.hosts.migrate import registry_migration
            assert hosts_dir is not None
            result, out.hosts, hosts_moves = registry_migration(
                data[path], to=target, containerd=containerd, allow_loss=allow_loss,
                file=path, hosts_dir=hosts_dir, overwrite=overwrite_hosts, loaded=loaded[path],
                plan=hosts_plan, edit=edit if mine else None)
        else:
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
    out.findings += _merge_findings(order, loaded, out.files, declared, own, target, release,
                                    edit.sets if edit is not None else {}, hosts_moves)
    return out


def registry_file(order: list[str], loaded: dict[str, loading.Loaded],
                  hosts_dir: str | os.PathLike[str]) -> tuple[str, Any]:
    """The file whose registry mirrors and TLS settings --hosts-dir moves, and its registry
    plan: the one file of the set that has any (else the root). Two such files are refused: which of their tables
    containerd reads depends on its merge (1.x keeps a later file's plugin table whole, 2.0+
    merges key by key), so no one set of hosts.toml files means what both did. A config_path
    of another directory in any file is refused as in one file: containerd refuses mirrors
    next to it, and the set would have two."""
    from migrator.features.hosts.migrate import _hosts_root
    from migrator.features.hosts.plan import _where, plan_hosts
    plans = {p: plan_hosts(loaded[p], file=p) for p in order}
    movers = [p for p in order if plans[p].mirror_paths or plans[p].tls_paths]
    if len(movers) > 1:
        first = plans[movers[1]]
        path = next(iter(first.mirror_paths or first.tls_paths.values()))
        line, col = _where(loaded[movers[1]], path)
        raise ConfigError(f"registry mirrors or TLS settings are in {movers[0]} and here: "
                          "--hosts-dir moves them from one file of the set only (containerd "
                          "1.x and 2.x merge these tables differently); keep them in one file",
                          file=movers[1], line=line, col=col)
    chosen = movers[0] if movers else order[0]
    root = str(_hosts_root(hosts_dir, chosen))
    for p in order:
        current = plans[p].config_path_value
        if p != chosen and movers and current not in (None, "") and current != root:
            line, col = _where(loaded[p], plans[p].config_path)
            raise ConfigError(f"config_path is set here to another directory, while "
                              f"--hosts-dir moves the mirrors of {chosen} to {root}: containerd "
                              "reads one config_path for the set and refuses mirrors next to "
                              "it; give that directory as the hosts directory or remove one "
                              "of them", file=p, line=line, col=col)
    return chosen, plans[chosen]


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

"""A config migrated with its registries: config_path set, mirrors and TLS moved into hosts.toml,
their comments with them, every move reported."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

from migrator.core import catalog, engine, loading, rules
from migrator.core.errors import ConfigError
from migrator.core.paths import dotted
from migrator.core.results import Change, Finding, MigrationResult
from migrator.features.hosts.disk import _conflicts, _shadowing
from migrator.features.hosts.names import HOSTS_FILE, RELEASE, RULE, SOURCE, _show
from migrator.features.hosts.plan import RegistryPlan, _where, plan_hosts


def migrate_registry(text: str | bytes, *, to: int | None, hosts_dir: str | os.PathLike[str],
                     overwrite: bool = False, allow_loss: bool = False,
                     file: str = "<string>", containerd: str | None = None,
                     assignments: tuple = (),
                     ) -> tuple[MigrationResult, dict[Path, str]]:
    """Migrate `text` to version `to` and move mirrors/TLS into hosts.toml files under
    `hosts_dir` (absolute; written into `config_path`). Plans only: nothing is written.

    Returns the migration result (its report lists every move to a hosts.toml) and the files
    to write, `{path: content}`; files already on disk with the same content are included
    (write_hosts leaves them alone). A file on disk with other content is a ConfigError unless
    `overwrite`. Credentials stay in the config (removed only with `allow_loss`), with a
    finding either way. `assignments` (`NAME=VALUE`, --set) are edited in the same pass."""
    result, files, _ = registry_migration(text, to=to, hosts_dir=hosts_dir, overwrite=overwrite,
                                          allow_loss=allow_loss, file=file,
                                          containerd=containerd, assignments=assignments)
    return result, files


def registry_migration(text: str | bytes, *, to: int | None,
                       hosts_dir: str | os.PathLike[str], overwrite: bool = False,
                       allow_loss: bool = False, file: str = "<string>",
                       containerd: str | None = None, assignments: tuple = (),
                       loaded: loading.Loaded | None = None,
                       plan: RegistryPlan | None = None, edit=None,
                       ) -> tuple[MigrationResult, dict[Path, str], dict[tuple, object]]:
    """`migrate_registry`, for a file already `loaded` (an import set's), maybe with its
    registry plan and its --set edits already made (`plan`, `edit`), also giving the edits the registry contributed to the plan
    in target key paths (config_path set, mirrors and TLS tables removed): what the set's
    merge check must expect of them."""
    from migrator import pipeline
    from migrator.pipeline import UNSET, migrate

    try:
        target, release = pipeline.resolve_target(to, containerd)
    except ConfigError as exc:
        raise exc.with_file(file) from None
    root = _hosts_root(hosts_dir, file)
    if loaded is None:
        loaded = loading.load(text, file, pipeline.supported_versions())
    if plan is None:
        plan = plan_hosts(loaded, file=file)
    chain = rules.chain(loaded.version, target, release)
    mapper = engine.Mapper(chain, tree=loaded.tree)

    def where_to(path: tuple) -> tuple | None:
        return mapper.target(path).path

    sets: dict[tuple, object] = {}
    work = bool(plan.mirror_paths or plan.tls_paths)
    if work:
        current = plan.config_path_value
        if current not in (None, "") and current != str(root):
            line, col = _where(loaded, plan.config_path)
            raise ConfigError(
                f"{dotted(plan.config_path)} is already set to another directory, and "
                "containerd refuses mirrors together with config_path; give that directory as "
                "the hosts directory or remove one of them", file=file, line=line, col=col)
        cp = where_to(plan.config_path)
        if cp is None:
            raise ConfigError(f"config version {target} has no registry config_path",
                              file=file)
        sets[cp] = str(root)
        if plan.mirror_paths:  # every entry moves: the whole table goes (also when inline)
            t = where_to(plan.source_prefix + ("mirrors",))
            if t is not None:
                sets[t] = UNSET
        for path in plan.tls_paths.values():
            t = where_to(path)
            if t is not None:
                sets[t] = UNSET
    if allow_loss:
        for path in plan.auth_paths:
            t = where_to(path)
            if t is not None:
                sets[t] = UNSET
    moves = dict(sets)
    if assignments and edit is None:  # --set in the same pass: its edits join the plan
        from migrator.features import settings
        edit = settings.plan_edits(assignments, loaded, target, release, containerd, file)
    if edit is not None:
        for path, value in edit.sets.items():
            if path in sets and sets[path] != value:
                raise ConfigError(f"--set writes {dotted(path)}, which --hosts-dir sets too",
                                  file=file)
            sets[path] = value
    try:
        result = migrate(text, to=target, containerd=containerd, allow_loss=allow_loss,
                         file=file, sets=sets or None, loaded=loaded)
    except ValueError as exc:
        raise ConfigError(f"cannot set config_path in this file ({exc})", file=file) from None
    if edit is not None:
        from migrator.features import settings  # (lazily: most runs edit nothing)
        settings.explain(result, edit)
    result.text, comments = _move_comments(loaded, plan, result.text)
    files = {root / hf.directory / HOSTS_FILE: _with_comments(hf.render(),
                                                               comments.get(hf.directory, []))
             for hf in plan.files}
    for path in files:  # belt and braces: validated names cannot leave the directory
        if Path(os.path.normpath(path)).parent.parent != Path(os.path.normpath(root)):
            raise ConfigError(f"{path} is outside {root}; nothing written", file=file)
    _report(result, loaded, plan, root, files, allow_loss, where_to, release, target,
            containerd, work and plan.headers)
    if files:
        _conflicts(files, overwrite, file)
        result.findings.extend(_shadowing(root, plan, file))
    return result, files, moves


def _move_comments(loaded: loading.Loaded, plan: RegistryPlan,
                   out: str) -> tuple[str, dict[str, list[str]]]:
    """The comments of the registry tables that became hosts.toml files go with them.

    The emitter keeps a removed statement's comments where it stood (comments travel with their
    keys); for mirrors and TLS tables they describe a registry that now lives in its hosts.toml,
    so they move there: `{directory: [comment lines]}`. The text loses only those comments
    (checked: it means the same); a comment whose registry has no file stays."""
    text = loaded.text
    nl = "\r\n" if "\r\n" in text else "\n"
    directory = {hf.registry: hf.directory for hf in plan.files}
    owners: dict[tuple, tuple[int, list[str]]] = {}   # table -> (rank, directories)
    depth = len(plan.source_prefix) + 1
    for path in plan.mirror_paths:
        name = path[depth] if len(path) > depth else None
        if name in directory:
            owners.setdefault(path[:depth + 1], (len(owners), [directory[name]]))
    for x, path in plan.tls_paths.items():
        dirs = [t.split("/")[0] for t in plan.tls_targets.get(x, [])]
        if dirs:
            owners.setdefault(path, (len(owners), dirs))
    moved: dict[str, list[str]] = {}
    new, cursor = out, 0
    for st in loaded.doc.statements:
        hits = [owners[p] for p in (st.path[:i] for i in range(len(st.path) + 1)) if p in owners]
        dirs = min(hits, key=lambda h: h[0])[1] if hits else None  # the first owner listed
        if dirs is None or (st.leading == st.start and st.comment_start is None):
            continue
        chunk = text[st.leading:st.start]
        if st.comment_start is not None:
            end = text.find("\n", st.comment_start)
            comment = text[st.comment_start:len(text) if end < 0 else end].rstrip("\r")
            line = text[st.start:st.key_start]
            chunk += line[:len(line) - len(line.lstrip(" \t"))] + comment + nl
        at = new.find(chunk, cursor)
        if at < 0:
            continue
        new, cursor = _tidy(new[:at] + new[at + len(chunk):], at, nl)
        lines = [ln.strip() for ln in chunk.splitlines() if ln.strip().startswith("#")]
        for d in dict.fromkeys(dirs):
            moved.setdefault(d, []).extend(lines)
    try:
        if tomllib.loads(new) != tomllib.loads(out):
            return out, {}
    except tomllib.TOMLDecodeError:
        return out, {}
    return new, moved


def _tidy(text: str, at: int, nl: str) -> tuple[str, int]:
    """After a removal at `at` (a line start), no double blank line and no blank line at the
    end of the file (docs/emitting.md: what disappears takes a blank line along)."""
    blank = nl + nl
    while at >= len(blank) and text[at - len(blank):at] == blank and \
            (text.startswith(nl, at) or at == len(text)):
        text, at = text[:at - len(nl)] + text[at:], at - len(nl)
    if not text[at:].strip() and text[:at].strip():
        text = text.rstrip("\r\n") + nl
        at = len(text)
    return text, at


def _with_comments(content: str, comments: list[str]) -> str:
    if not comments:
        return content
    head, _, rest = content.partition("\n")
    return head + "\n" + "".join(c + "\n" for c in comments) + rest


def _hosts_root(hosts_dir: str | os.PathLike[str], file: str) -> Path:
    text = os.fspath(hosts_dir)
    if not text or not os.path.isabs(text):
        raise ConfigError(f"the hosts directory {_show(text)} must be an absolute path "
                          "(containerd resolves config_path against its own working directory)",
                          file=file)
    if os.pathsep in text or any(ord(c) < 32 for c in text):
        raise ConfigError(f"the hosts directory {_show(text)} must not contain "
                          f"{os.pathsep!r} (config_path is a {os.pathsep!r}-separated list) or "
                          "control characters", file=file)
    return Path(os.path.normpath(text))


def _report(result: MigrationResult, loaded: loading.Loaded, plan: RegistryPlan, root: Path,
            files: dict[Path, str], allow_loss: bool, where_to, release: str | None,
            target: int, containerd: str | None, headers: bool) -> None:
    by_registry = {hf.registry: root / hf.directory / HOSTS_FILE for hf in plan.files}
    kept: list[Change] = []
    mirrors_prefix = plan.source_prefix + ("mirrors",)
    for c in result.changes:
        src = c.from_key or ()  # none for a list entry such as `disabled_plugins "aufs"`
        if c.kind == "dropped" and src == mirrors_prefix:
            kept.append(Change("dropped", RULE, "the mirrors table goes with its entries "
                               "(they are in hosts.toml now)", c.from_path, c.from_line,
                               release=RELEASE, source=SOURCE))
            continue
        if c.kind == "dropped" and src[:len(mirrors_prefix)] == mirrors_prefix and \
                len(src) > len(mirrors_prefix):
            registry = src[len(mirrors_prefix)]
            dest = by_registry.get(registry)
            if src[len(mirrors_prefix) + 1:] not in ((), ("endpoint",)):
                kept.append(Change("dropped", RULE, "containerd reads only `endpoint` in a "
                                   "mirrors entry", c.from_path, c.from_line, release=RELEASE,
                                   source=SOURCE))
                continue
            if dest is not None:
                kept.append(Change("moved", RULE, "registry mirrors are read from hosts.toml "
                                   "under config_path (the CRI mirrors are deprecated and "
                                   "cannot be combined with config_path)", c.from_path,
                                   c.from_line, str(dest), RELEASE, SOURCE))
                continue
            if registry == "*":
                kept.append(Change("dropped", RULE, "mirrors.\"*\" has no endpoints: every "
                                   "registry is contacted directly, which is also what an "
                                   "absent _default directory means", c.from_path, c.from_line,
                                   release=RELEASE, source=SOURCE))
                continue
        tls_hit = next((x for x, p in plan.tls_paths.items()
                        if src[:len(p)] == p and c.kind == "dropped"), None)
        if tls_hit is not None:
            dests = plan.tls_targets.get(tls_hit)
            if dests:
                kept.append(Change("moved", RULE, "TLS settings for a registry host belong in "
                                   "hosts.toml (ca, client, skip_verify): containerd 1.x refuses "
                                   "configs.<host>.tls next to config_path, 2.0+ ignores it",
                                   c.from_path,
                                   c.from_line, ", ".join(str(root / d) for d in dests),
                                   RELEASE, SOURCE))
            else:
                kept.append(Change("dropped", RULE, plan.tls_unused.get(tls_hit, c.reason),
                                   c.from_path, c.from_line, release=RELEASE, source=SOURCE))
            continue
        if c.kind == "dropped" and c.rule == "unset" and any(
                src[:len(p)] == p for p in plan.auth_paths):
            kept.append(Change("dropped", RULE, "registry credentials have no hosts.toml form; "
                               "removed because loss was allowed", c.from_path, c.from_line,
                               release=RELEASE, source=SOURCE))
            continue
        kept.append(c)
    result.changes[:] = kept
    registries = {root / hf.directory / HOSTS_FILE: hf.registry for hf in plan.files}
    for path in files:
        registry = registries[path]
        what = "every registry without its own directory" if registry == "*" else registry
        result.changes.append(Change("added", RULE, f"registry host configuration for {what}",
                                     to_path=str(path), release=RELEASE, source=SOURCE))
    result.findings.extend(plan.findings)
    if headers:
        result.findings.append(Finding(
            "info", "registry-headers", "registry.headers stay in the CRI config: containerd "
            "sends them on every registry request, with config_path too (a copy in hosts.toml "
            "would send them twice)", dotted(where_to(plan.source_prefix + ("headers",))
                                             or plan.source_prefix + ("headers",))))
    for path in plan.auth_paths:
        line, col = _where(loaded, path)
        shown = where_to(path) or path
        if allow_loss:
            msg = ("registry credentials have no hosts.toml form and were removed (allowed "
                   "loss): pulls from this host now need the kubelet's pull secrets or a "
                   "credential provider")
        else:
            msg = ("registry credentials have no hosts.toml form and stay in the config; "
                   "containerd 2.1+ keeps pulling without the transfer service while any "
                   "configs/auths entry is set")
        result.findings.append(Finding("warning", "registry-auth", msg, dotted(shown), line, col))
    if any(hf.registry == "*" for hf in plan.files) and target <= 2 and \
            (containerd is None or release is None or
             catalog.affected("hosts-default-dir", release, None) is not False):
        result.findings.append(Finding(
            "warning", "hosts-default-dir", "containerd 1.6.0-1.6.16 do not read the _default "
            "directory: mirrors.\"*\" takes effect from 1.6.17 and 1.7.0", None))

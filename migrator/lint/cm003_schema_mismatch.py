"""CM003 schema-mismatch: keys of one config version in a file that declares another.

From: the loaders of every release (facts §1.1-§1.3, §4.2, §4.3, E2, E7, E8, E16):

* version-2 names under `version = 3` or `4` (`sandbox_image`, `containerd.*`, `registry` in
  `io.containerd.grpc.v1.cri`, `io.containerd.internal.v1.restart`, `sched_core`, ...):
  containerd 2.0-2.2 log "Ignoring unknown key in TOML for plugin" and drop them; 2.3 migrates
  a version 3 file again at start and lets them override the version 3 values (B7); in a
  version 4 file nothing migrates them.
* version-3 names under `version = 2` (`io.containerd.cri.v1.images`, `...cri.v1.runtime`, the
  renamed monitors, `io.containerd.shim.v1.manager`): containerd 1.x ignores them silently;
  2.x uses them as the destination of its in-memory migration, where a version 2 value
  overwrites the image settings and an existing runtime table wins over the old one.
* version-1 short plugin names (`[plugins.cri]`, `disabled_plugins = ["cri"]`) under
  `version >= 2`: containerd 1.x refuses to start ("invalid plugin key URI"), 2.x ignores the
  table (and refuses a disabled_plugins entry without a dot).
* full plugin URIs in a file without `version` (schema 1): containerd 1.x looks plugin tables
  up by short ID and ignores them silently; 2.0-2.2 skip the plugin migrations of a schema-1
  file (B3).
* top-level `[grpc]`, `[ttrpc]`, `[metrics]` and `[debug] address/uid/gid` in a `version = 4`
  file: containerd 2.3 decodes and ignores them without a word (B13); the server plugins
  (`io.containerd.server.v1.*`) hold these settings from version 4.

Applies to: config versions 1-4, every release (severities depend on the target release).

Fixes (what the keys clearly mean):
* every key of the file is a version 2 key but the header says 3 or 4: set `version = 2`
  (containerd 2.x migrates it in memory; `containerd-migrate --to 3` writes it out);
* a file mixing both: move the version 2 keys where the declared version reads them (the
  migration rules), when nothing is in the way there;
* version 3 tables in a version 2 file: `version = 3` when every key is version 3 and the target
  (--containerd) is 2.0 or later; otherwise move them back where version 2 reads them;
* short plugin names in a version 2+ file: rename them (and the list entries) to the plugin URIs
  containerd 1.x used for these IDs; names 1.x did not know (a guess) are not fixed;
* URIs in a versionless file: insert `version = 2` (or 3 for version 3 names) when every plugin
  table is written as a URI;
* version 4 server tables: move each key into its server plugin unless the plugin already sets
  it (to the same value: the top-level key is removed).
"""
from __future__ import annotations

from typing import Any

from migrator.core.paths import dotted
from migrator.lint.base import (
    Context,
    Fix,
    leaves,
    rule,
    schema,
    schema_knows,
    table_schema,
)
from migrator.lint.cm003_plugin_names import (
    LISTS,
    SERVER_TABLES,
    _has_short_names,
    _map_nodes,
    _only_in,
    _renamed_in_v3,
    _short_names,
    _uris_in_v1,
)

DEBUG_KEPT = ("level", "format", "log_trace_id")


@rule("CM003", "schema-mismatch",
      "keys of another config version than the file declares (v2 names under version 3, v3 "
      "names under version 2, v1 short names, v4 top-level server tables)")
def check(ctx: Context) -> None:
    v = ctx.version
    if v is None:
        return
    if v == 4:
        _server_tables(ctx)
    if v >= 3:
        _v2_names(ctx, v)
    if v == 2:
        _v3_names(ctx)
    if v >= 2:
        _short_names(ctx, v)
    if v == 1:
        _uris_in_v1(ctx)


# ---------------------------------------------------------------------------------------------
# version 2 names in a version 3 or 4 file


def _v2_names(ctx: Context, v: int) -> None:
    v2 = schema(2)
    found: list[tuple] = []
    for p in ctx.problems(v):
        if p.kind != "unknown-key" or not p.path or p.path[0] == "version":
            continue
        if p.path[0] in LISTS:
            continue
        if v == 4 and p.path[0] in SERVER_TABLES:
            continue
        if not schema_knows(v2, p.path):
            continue
        ls = leaves(ctx.get(p.path), p.path)
        m = ctx.mapper(2, v)
        targets = [m.target(leaf).path for leaf, _ in ls]
        if all(t is None for t in targets):
            continue      # removed keys: CM004 says what replaces them
        if all(t == leaf for t, (leaf, _) in zip(targets, ls)):
            continue      # unknown in version 2 as well: CM002
        found.append(p.path)
    entries = _v2_entries(ctx, v)
    if not found and not entries:
        return
    header = not _only_in(ctx, v, 2)
    for path in found:
        fix: Fix | None
        if header:
            fix = Fix("set version = 2: every key of the file is a version 2 key", version=2)
            suggestion = "every key of this file is a version 2 key: set version = 2"
        else:
            moves, converts, _ = _map_nodes(ctx, 2, v, path)
            fix = Fix(f"move {dotted(path)} where version {v} reads it", moves=tuple(moves),
                      converts=tuple(converts))
            dest = ctx.mapper(2, v).target(path).path
            suggestion = (f"move it to {dotted(dest)}" if dest and dest != path else
                          f"move its keys where version {v} reads them "
                          f"(containerd-migrate shows where)")
        severity = "error"
        if v == 3 and ctx.target.has("per-file-migration"):
            effect = ("containerd 2.3 migrates this version 3 file again at every start and "
                      "lets the old key override the version 3 value (facts B7)")
            dest = ctx.mapper(2, v).target(path).path
            if dest is not None and not ctx.has(dest):
                severity = "warning"
                effect = ("containerd 2.0-2.2 ignore it; 2.3 only reads it because it migrates "
                          "this version 3 file again at every start (facts §4.3)")
        elif v == 3:
            effect = ("containerd 2.0-2.2 log 'Ignoring unknown key' and drop it")
        else:
            effect = "a version 4 file is not migrated, so containerd 2.3 ignores it"
        what = "plugin table" if len(path) == 2 and path[0] == "plugins" else "key"
        ctx.report(severity, f"{dotted(path)} is a config version 2 {what} in a version {v} "
                             f"file: {effect}", path, suggestion=suggestion, fix=fix)
    for index, name, new in entries:
        fix = (Fix("set version = 2", version=2) if header else
               Fix(f"rename the entry {name}", entries=((name, tuple(new)),)))
        ctx.report("warning", f"{name!r} in disabled_plugins/required_plugins is a version 2 "
                              f"plugin name; version {v} calls it {', '.join(new)}, so the entry "
                              f"matches no plugin", (_list_of(ctx, name), index),
                   at=ctx.entry_position(_list_of(ctx, name), index),
                   suggestion=f"use {', '.join(repr(n) for n in new)}", fix=fix)


def _list_of(ctx: Context, name: str) -> str:
    for key in LISTS:
        if isinstance(ctx.tree.get(key), list) and name in ctx.tree[key]:
            return key
    return LISTS[0]


def _v2_entries(ctx: Context, v: int) -> list[tuple[int, str, list[str]]]:
    out = []
    known_v = set(schema(v)["properties"]["plugins"].get("properties", {}))
    known_2 = set(schema(2)["properties"]["plugins"].get("properties", {}))
    m = ctx.mapper(2, v)
    for key in LISTS:
        value = ctx.tree.get(key)
        if not isinstance(value, list):
            continue
        for i, name in enumerate(value):
            if not isinstance(name, str) or name in known_v or name not in known_2:
                continue
            new, used = m.entry(name)
            if new and new != [name] and used:
                out.append((i, name, new))
    return out


# ---------------------------------------------------------------------------------------------
# version 3 names in a version 2 file


def _v3_names(ctx: Context) -> None:
    plugins = ctx.tree.get("plugins")
    if not isinstance(plugins, dict):
        return
    v3_names = [n for n in plugins if n in _renamed_in_v3()]
    if not v3_names:
        return
    all_v3 = not _only_in(ctx, 2, 3) and not _has_short_names(ctx)
    header_ok = ctx.target.explicit and ctx.target.has("cri-split")
    for name in v3_names:
        path = ("plugins", name)
        ctx.claim(path)
        fix: Fix | None = None
        if all_v3 and header_ok:
            fix = Fix("set version = 3: every key of the file is a version 3 key", version=3)
            suggestion = "every key of this file is a version 3 key: set version = 3"
        else:
            moves, converts, complete = _map_nodes(ctx, 3, 2, path)
            m = ctx.mapper(3, 2)
            complete = complete and all(m.target(leaf).path != leaf
                                        for leaf, _ in leaves(ctx.get(path), path))
            dest = ctx.mapper(3, 2).target(path).path
            suggestion = ("set version = 3 if this file is for containerd 2.x; otherwise move "
                          "its keys where version 2 has them" +
                          (f" ({dotted(dest)})" if dest and dest != path else ""))
            if complete:
                fix = Fix(f"move {dotted(path)} where version 2 reads it", moves=tuple(moves),
                          converts=tuple(converts))
        if ctx.target.is_1x():
            severity, effect = "error", (f"containerd {ctx.target.label} ignores it silently "
                                         f"(it only exists from containerd 2.0)")
        else:
            severity, effect = "warning", (
                "containerd 2.x reads it only as the destination of its in-memory migration of "
                "this version 2 file, where version 2 values overwrite image settings and an "
                "existing runtime table wins over the old one (facts §3.2)")
        ctx.report(severity, f"plugin table {name!r} is a config version 3 name in a version 2 "
                             f"file: {effect}", path, suggestion=suggestion, fix=fix)


# ---------------------------------------------------------------------------------------------
# version 4: top-level server tables


def _server_tables(ctx: Context) -> None:
    m = ctx.mapper(3, 4)
    v4 = schema(4)
    for top in SERVER_TABLES:
        table = ctx.tree.get(top)
        if not isinstance(table, dict):
            continue
        for key, value in table.items():
            if top == "debug" and key in DEBUG_KEPT:
                continue
            path = (top, key)
            ctx.claim(path)
            t = m.target(path)
            dest = t.path if t.path != path else None
            default = (table_schema(v4, dest) or {}).get("default", _NONE) if dest else _NONE
            drop = Fix(f"remove {dotted(path)}", drops=(path,))
            if value in ("", 0, False) or value == default:
                ctx.report("warning", f"{dotted(path)} is a top-level server setting in a "
                                      f"version 4 file, where containerd 2.3 ignores it; it "
                                      f"holds the default, so nothing is lost", path,
                           suggestion="remove it", fix=drop)
                continue
            if dest is None:
                why = t.drop_reason or "version 3 did not read it either"
                ctx.report("warning", f"{dotted(path)} is a top-level server setting in a "
                                      f"version 4 file, where containerd 2.3 ignores it (and in "
                                      f"version 3 it did nothing: {why})", path,
                           suggestion="remove it", fix=drop)
                continue
            have: Any = ctx.get(dest)
            fix = None
            if have is None:
                if t.converts:
                    r = t.converts[-1]
                    assert r.transform is not None
                    fix = Fix(f"move {dotted(path)} to {dotted(dest)}", converts=(
                        (path, dest, r.transform[0], tuple(r.transform[1]), r.reverse),))
                else:
                    fix = Fix(f"move {dotted(path)} to {dotted(dest)}", moves=((path, dest),))
            elif have == value:
                fix = Fix(f"remove {dotted(path)}: {dotted(dest)} already says the same",
                          drops=(path,))
            ctx.report("error", f"{dotted(path)} is a top-level server setting in a version 4 "
                                f"file: containerd 2.3 decodes it and ignores it without a "
                                f"warning (facts B13)", path,
                       suggestion=f"set {dotted(dest)}" + (
                           f" (it is already {have!r} there)" if have is not None and
                           have != value else ""), fix=fix)


_NONE = object()

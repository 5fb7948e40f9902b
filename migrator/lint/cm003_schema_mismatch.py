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
    nodes,
    rule,
    schema,
    schema_knows,
    table_schema,
)

SERVER_TABLES = ("grpc", "ttrpc", "metrics", "debug")
DEBUG_KEPT = ("level", "format", "log_trace_id")
LISTS = ("disabled_plugins", "required_plugins")


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
# helpers


def _moved(ctx: Context, source: int, target: int, path: tuple) -> bool:
    """Whether the migration rules source -> target move (or drop) this key path."""
    return ctx.mapper(source, target).target(path).path != path


def _only_in(ctx: Context, mine: int, other: int) -> list[tuple]:
    """Leaves of the file that only config version `mine` has (the rules move them when read
    as version `other`)."""
    out = []
    for path, _ in leaves(ctx.tree):
        if path[:1] in (("version",),) or path[:1] in tuple((k,) for k in LISTS):
            continue
        if mine == 4 and path[:1] in tuple((t,) for t in SERVER_TABLES):
            continue
        if not schema_knows(schema(mine), path) or schema_knows(schema(other), path):
            continue
        if _moved(ctx, mine, other, path):
            out.append(path)
    return out


def _map_nodes(ctx: Context, source: int, target: int, top: tuple,
               fallback: tuple[int, int] | None = None) -> tuple[list, list, bool]:
    """Literal moves and converts taking every node at or below `top` where the rules put it.
    Nodes the rules drop stay (or follow `fallback`, a shorter chain). Returns (moves,
    converts, complete): complete is False when something has no place to go."""
    m = ctx.mapper(source, target)
    moves, converts = [], []
    complete = True
    value = ctx.get(top)
    for node in nodes(value, top):
        t = m.target(node)
        dest = t.path
        if dest is None and fallback is not None:
            dest = ctx.mapper(*fallback).target(node).path
        if dest is None:
            complete = False
            moves.append((node, node))
            continue
        is_leaf = not isinstance(ctx.get(node), dict) or not ctx.get(node)
        if t.path is not None and t.converts and is_leaf:
            rule_ = t.converts[-1]
            assert rule_.transform is not None
            converts.append((node, dest, rule_.transform[0], tuple(rule_.transform[1]),
                             rule_.reverse))
        else:
            moves.append((node, dest))
    return moves, converts, complete


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


def _renamed_in_v3() -> set[str]:
    from migrator.core import rules
    names: set[str] = set()
    known_2 = set(schema(2)["properties"]["plugins"].get("properties", {}))
    for r in rules.chain(2, 3)[0].rules:
        if r.dst is not None and len(r.dst.segments) >= 2 and r.dst.segments[0] == "plugins":
            name = r.dst.segments[1]
            if "*" not in name and name not in known_2:
                names.add(name)
    return names


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
# version 1 short names in a version 2+ file


def _has_short_names(ctx: Context) -> bool:
    plugins = ctx.tree.get("plugins")
    return isinstance(plugins, dict) and any("." not in n for n in plugins)


def _clear(ctx: Context, name: str) -> bool:
    """Whether containerd 1.x knew this plugin ID (the v1 -> v2 rules name it without a
    guess)."""
    t = ctx.mapper(1, 2).target(("plugins", name))
    return t.rule is not None and t.rule.kind == "plugin" and t.rule.warn is None


def _short_names(ctx: Context, v: int) -> None:
    plugins = ctx.tree.get("plugins")
    if isinstance(plugins, dict):
        for name in plugins:
            if "." in name:
                continue
            path = ("plugins", name)
            ctx.claim(path)
            uri = ctx.mapper(1, 2).target(path).path
            fix = None
            if _clear(ctx, name):
                moves, converts, _ = _map_nodes(ctx, 1, v, path, fallback=(1, 2))
                fix = Fix(f"rename plugins.{name} to its plugin URI", moves=tuple(moves),
                          converts=tuple(converts))
            effect = (f"containerd {ctx.target.label} refuses to start (invalid plugin key URI)"
                      if ctx.target.is_1x() else
                      f"containerd {ctx.target.label} ignores the table")
            guess = "" if _clear(ctx, name) else \
                " (a guess: containerd 1.x knew no plugin by this ID)"
            ctx.report("error", f"plugin table {name!r} uses a short plugin ID, which only a "
                                f"version 1 file may: {effect}", path,
                       suggestion=f"write [{dotted(uri or path)}]{guess}", fix=fix)
    for key in LISTS:
        value = ctx.tree.get(key)
        if not isinstance(value, list):
            continue
        for i, name in enumerate(value):
            if not isinstance(name, str) or "." in name:
                continue
            ctx.claim((key, i))
            new, _ = ctx.mapper(1, v).entry(name)
            fix = (Fix(f"rename the entry {name}", entries=((name, tuple(new)),))
                   if _clear(ctx, name) else None)
            ctx.report("error", f"{name!r} in {key} is not a plugin URI: containerd refuses to "
                                f"start ('invalid {key.split('_')[0]} plugin URI')", (key, i),
                       at=ctx.entry_position(key, i),
                       suggestion=f"use {', '.join(repr(n) for n in new)}", fix=fix)


# ---------------------------------------------------------------------------------------------
# plugin URIs in a versionless (schema 1) file


def _uris_in_v1(ctx: Context) -> None:
    plugins = ctx.tree.get("plugins")
    if not isinstance(plugins, dict):
        return
    uris = [n for n in plugins if "." in n]
    if not uris:
        return
    short = [n for n in plugins if "." not in n]
    v3_names = [n for n in uris if n in _renamed_in_v3()]
    v2_only = [p for p in (("plugins", n) for n in uris)
               if any(_moved(ctx, 2, 3, leaf) and schema_knows(schema(2), leaf)
                      for leaf, _ in leaves(ctx.get(p), p))]
    fix: Fix | None = None
    if not short:
        if not v3_names:
            fix = Fix("insert version = 2: every plugin table is written as a URI", version=2)
        elif not v2_only and not ctx.target.is_1x():
            fix = Fix("insert version = 3: every plugin table is a version 3 URI", version=3)
    for name in uris:
        path = ("plugins", name)
        ctx.claim(path)
        if ctx.target.is_1x():
            severity, effect = "error", (f"containerd {ctx.target.label} reads plugin tables of a "
                                         f"file without `version` by short ID and ignores this "
                                         f"one silently")
        elif not ctx.target.has("per-file-migration") and path in v2_only:
            severity, effect = "error", (f"containerd {ctx.target.label} forces a versionless file "
                                         f"to version 3 without migrating its plugins, so these "
                                         f"version 2 settings are lost (facts B3)")
        else:
            severity, effect = "warning", ("containerd 1.x ignores it (a versionless file is "
                                           "schema 1, read by short plugin ID)")
        want = 3 if name in v3_names else 2
        ctx.report(severity, f"plugin table {name!r} is a plugin URI in a file without "
                             f"`version`: {effect}", path,
                   suggestion=f"add version = {want} at the top", fix=fix)


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

"""CM003's checks of plugin names written for another version (version 1 short IDs in a
version 2+ file, plugin URIs in a file without `version`) and the helpers CM003 shares;
cm003_schema_mismatch.py runs them (facts §1.1, §4.2, B3)."""
from __future__ import annotations

from migrator.core.paths import dotted
from migrator.lint.base import Context, Fix, leaves, nodes, schema, schema_knows

SERVER_TABLES = ("grpc", "ttrpc", "metrics", "debug")
LISTS = ("disabled_plugins", "required_plugins")


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

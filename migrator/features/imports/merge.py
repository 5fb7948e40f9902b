"""How containerd merges the files of a set (1.x deep, 2.x per plugin table), and where the two
merges mean different things."""
from __future__ import annotations

import copy
import tomllib
from typing import Any

from migrator.core import catalog, engine, loading, rules
from migrator.core.paths import dotted
from migrator.core.results import Finding, MigrationResult
from migrator.features.imports.files import PER_KEY


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
                    own: int, target: int, release: str | None,
                    edits: dict[tuple, Any] | None = None,
                    moves: dict[tuple, Any] | None = None) -> list[Finding]:
    """Where the migrated files, merged as the target merges them, mean something else than
    the original set merged as the source did; `edits` (the root's --set) and `moves` (what
    --hosts-dir did to the registry's file) are what the set was asked to become."""
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
        meant = _asked(engine.plan(merged, chain, drops or None).expected, edits or {},
                       moves or {})
        now = merge_trees([tomllib.loads(results[p].text) for p in order], deep=tgt_deep)
    except Exception:  # the check is advice; the per-file migrations stand on their own
        return []
    differ = _differences(meant, now)
    edited = {dotted(p) for p in edits or {}}
    hidden = [d for d in differ if d in edited]
    differ = [d for d in differ if d not in edited]
    out = []
    if hidden:
        out.append(Finding("warning", "imports-set", f"{', '.join(hidden)}: set in {order[0]}, "
                           "but a later file of the set sets it too (or holds its whole plugin "
                           "table, for containerd 1.x), and containerd reads that one", None))
    if not differ:
        return out
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
    return out + [Finding("warning", "imports-merge", f"{why}: the merged result differs at "
                          f"{shown}; keep each plugin's settings in one file", None)]


def _asked(meant: dict, edits: dict[tuple, Any], moves: dict[tuple, Any]) -> dict:
    """The merged set as the edits leave it: the root's --set values where they go, and the
    registry tables --hosts-dir moved replaced by the config_path that now stands for them,
    where the merge had kept them (a table a later file hid stays hidden: its hosts.toml files
    taking effect is a change to report)."""
    from migrator.features.settings.resolve import _apply
    from migrator.features.settings.values import _MISSING as ABSENT
    from migrator.features.settings.values import _get
    from migrator.pipeline import UNSET
    held = any(_get(meant, p) is not ABSENT for p, v in moves.items() if v is UNSET)
    return _apply(meant, {**{p: v for p, v in moves.items() if v is UNSET or held}, **edits})


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

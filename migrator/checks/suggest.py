"""Did-you-mean suggestions for unknown keys: a close name in the same table of the schema, or
the same name in another table (a key written one table too high or too low)."""
from __future__ import annotations

from typing import Any, Iterable

from migrator.core.paths import dotted

_CUTOFF = 0.75


def _tables(schema: dict) -> dict[str, dict]:
    """Child keys of a table schema whose values are tables with known keys."""
    out = {}
    for key, sub in schema.get("properties", {}).items():
        if isinstance(sub, dict) and sub.get("properties"):
            out[key] = sub
    return out


def _close(word: str, possibilities: list[str], n: int, cutoff: float) -> list[str]:
    import difflib  # only for unknown keys
    return difflib.get_close_matches(word, possibilities, n=n, cutoff=cutoff)


_SUGGESTED: dict[tuple[int, str], tuple[dict, str | None]] = {}


def _suggest(key: str, table: dict) -> str | None:
    """suggest(), remembered per schema table and key (a table's keys never change)."""
    hit = _SUGGESTED.get((id(table), key))
    if hit is None or hit[0] is not table:
        hit = _SUGGESTED[(id(table), key)] = (table, suggest(key, table))
    return hit[1]


def suggest(key: str, table: dict) -> str | None:
    """Did-you-mean for an unknown `key` of the table described by `table`.

    Order: same key in another case; same key one table deeper (`options.SystemdCgroup`);
    a close spelling in this table; a close or differently cased key one table deeper.
    """
    known = list(table.get("properties", {}))
    lower = {k.lower(): k for k in known}
    if key.lower() in lower:
        return lower[key.lower()]
    children = _tables(table)
    for child, sub in sorted(children.items()):
        if key in sub["properties"]:
            return f"{child}.{key}"
    close = _close(key, known, n=1, cutoff=_CUTOFF)
    if close:
        return close[0]
    close = _close(key.lower(), list(lower), n=1, cutoff=_CUTOFF)
    if close:
        return lower[close[0]]
    for child, sub in sorted(children.items()):
        sub_lower = {k.lower(): k for k in sub["properties"]}
        if key.lower() in sub_lower:
            return f"{child}.{sub_lower[key.lower()]}"
    for child, sub in sorted(children.items()):
        close = _close(key, list(sub["properties"]), n=1, cutoff=0.85)
        if close:
            return f"{child}.{close[0]}"
    return None





def _walk_schema(root: dict, path: tuple) -> list[tuple[tuple, dict]]:
    """[(prefix, schema)] from the root down `path`, as far as the schema describes it."""
    chain = [((), root)]
    cur = root
    for i, part in enumerate(path):
        nxt = None
        if isinstance(part, int):
            nxt = cur.get("items")
        else:
            nxt = cur.get("properties", {}).get(part)
            if nxt is None and isinstance(cur.get("additionalProperties"), dict):
                nxt = cur["additionalProperties"]
        if not isinstance(nxt, dict):
            break
        cur = nxt
        chain.append((tuple(path[:i + 1]), cur))
    return chain


def _key_paths(schema: dict, key: str, prefix: tuple, depth: int = 0) -> Iterable[tuple]:
    """Concrete paths (no map wildcards) under `schema` where `key` is a listed property."""
    if depth > 12 or not isinstance(schema, dict):
        return
    props = schema.get("properties", {})
    if key in props and schema.get("additionalProperties") is False:
        yield prefix + (key,)
    for name, sub in props.items():
        yield from _key_paths(sub, key, prefix + (name,), depth + 1)


_KEY_INDEX: dict[int, tuple[dict, dict[str, list[tuple]]]] = {}


def _key_index(root: dict) -> dict[str, list[tuple]]:
    """_key_paths(root, key, ()) for every key at once, from one walk of the schema."""
    hit = _KEY_INDEX.get(id(root))
    if hit is not None and hit[0] is root:
        return hit[1]
    index: dict[str, list[tuple]] = {}

    def walk(schema: Any, prefix: tuple, depth: int) -> None:
        if depth > 12 or not isinstance(schema, dict):
            return
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            for key in props:
                index.setdefault(key, []).append(prefix + (key,))
        for name, sub in props.items():
            walk(sub, prefix + (name,), depth + 1)
    walk(root, (), 0)
    _KEY_INDEX[id(root)] = (root, index)
    return index


def _suggest_elsewhere(key: str, path: tuple, root: dict) -> str | None:
    """The same key in an enclosing table (closest first), else a single place in the schema.

    Returns a full dotted path from the root,
    e.g. plugins."io.containerd.cri.v1.images".snapshotter.
    """
    chain = _walk_schema(root, path)
    for prefix, schema in reversed(chain[:-1]):
        if key in schema.get("properties", {}) and schema.get("additionalProperties") is False:
            return dotted(prefix + (key,))
    hits = [p for p in _key_index(root).get(key, ()) if p != path + (key,)]
    if len(path) >= 2 and path[0] == "plugins":
        same = [p for p in hits if p[:2] == path[:2]]
        if len(same) == 1:
            return dotted(same[0])
    if len(hits) == 1:
        return dotted(hits[0])
    return None

"""Key paths as tuples, and their dotted TOML spelling for people (reports, messages)."""
from __future__ import annotations

import functools
import re
from typing import Any

_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"',
            "\\": "\\\\"}
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f\x7f"\\]')
_UNESCAPES = {v[1]: k for k, v in _ESCAPES.items()}
_ESCAPED = re.compile(r"\\(?:([btnfr\"\\])|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))")


def toml_string(text: str) -> str:
    """A TOML basic string, escaped as tomlkit escapes it (control characters, quote and
    backslash; everything else as it is)."""
    return '"' + _NEEDS_ESCAPE.sub(lambda m: _ESCAPES.get(m.group()) or
                                   f"\\u{ord(m.group()):04x}", text) + '"'


def _unescape(body: str) -> str:
    return _ESCAPED.sub(lambda m: _UNESCAPES[m.group(1)] if m.group(1) else
                        chr(int(m.group(2) or m.group(3), 16)), body)


def dotted(path: tuple[Any, ...] | list[Any]) -> str:
    """Render a key path the way TOML would write it (quoting what needs it)."""
    out = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
            continue
        text = str(part)
        bare = text and all(c.isalnum() or c in "-_" for c in text) and text.isascii()
        out.append(("." if out else "") + (text if bare else toml_string(text)))
    return "".join(out)


_PART = re.compile(r"""\s*(?:\[(\d+)\]|([A-Za-z0-9_-]+)|("(?:[^"\\]|\\.)*")|'([^']*)')\s*(\.?)""")


def parse_dotted(text: str) -> tuple:
    """Inverse of `dotted`: TOML key segments, with `[N]` array indexes as ints."""
    out: list = []
    at = 0
    while at < len(text):
        m = _PART.match(text, at)
        if m is None:
            raise ValueError(f"not a dotted key path: {text!r}")
        index, bare, basic, literal, dot = m.groups()
        if not dot and m.end() < len(text) and text[m.end()] != "[":
            raise ValueError(f"not a dotted key path: {text!r}")
        if index is not None:
            out.append(int(index))
        elif basic is not None:
            out.append(_unescape(basic[1:-1]))
        else:
            out.append(bare if bare is not None else literal)
        at = m.end()
    return tuple(out)


def node_at(schema: dict, path: tuple) -> dict | None:
    """The schema of the value at a key path (following properties, then additionalProperties)."""
    node: dict | None = schema
    for key in path:
        if node is None:
            return None
        props = node.get("properties", {})
        if key in props:
            node = props[key]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return None
        ref = node.get("$ref") if isinstance(node, dict) else None
        if ref:
            target: object = schema
            for part in ref.lstrip("#/").split("/"):
                target = target.get(part) if isinstance(target, dict) else None
            node = target if isinstance(target, dict) else None
    return node


@functools.lru_cache(maxsize=8192, typed=True)
def _dotted_part(part: Any) -> str:
    return dotted((part,))


def dotted_path(path: tuple) -> str:
    """report.dotted(path), the same string, with each part's rendering remembered (the same
    table names recur in every path of a file)."""
    out = [_dotted_part(part) for part in path]
    for i in range(1, len(out)):
        if not isinstance(path[i], int):
            out[i] = "." + out[i]
    return "".join(out)


def has_prefix_in(path: tuple, prefixes: set[tuple] | frozenset[tuple]) -> bool:
    """Whether some element of `prefixes` is a prefix of path (or path itself)."""
    return any(path[:n] in prefixes for n in range(len(path) + 1))


def under(prefixes: set[tuple], items: Any) -> dict[tuple, list]:
    """For each of the prefixes, the values of the (path, value) items whose path starts with
    it, in the items' order: one pass over the items instead of one per prefix."""
    lengths = sorted({len(p) for p in prefixes})
    out: dict[tuple, list] = {}
    for path, value in items:
        for n in lengths:
            if n > len(path):
                break
            key = path[:n]
            if key in prefixes:
                out.setdefault(key, []).append(value)
    return out


def leaves(tree: dict, prefix: tuple = ()) -> list[tuple[tuple, Any]]:
    """Every value that is not a table, plus empty tables (they are settings too)."""
    out: list[tuple[tuple, Any]] = []
    for k, v in tree.items():
        path = prefix + (k,)
        if isinstance(v, dict) and v:
            out.extend(leaves(v, path))
        else:
            out.append((path, v))
    return out

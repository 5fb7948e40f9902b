"""Values of the wrong type that containerd refuses to start with.

    refused = refusals(tree, 2)          # [SchemaProblem], kind "refused", one per value

containerd decodes its config into Go structs: a value whose TOML type is not the Go type of its
key ("cni = 5", "runtimes = [...]", "options = 'x'") stops the daemon with a decode error. Which
mismatches each decoder lets through is data (schemas/decoding.json, from `config dump`
experiments recorded in tests/data/type_refusals.json); what type a key has comes from the
schema of the file's config version. A value is refused when every release line that reads that
config version natively *and reads the key* refuses it: a line that does not have the key
(`cni.bin_dirs` on 2.0, the transfer plugin on 1.6) ignores the value, and says nothing about its
type. Values below a free-form table (runtime `options`, unknown plugins) are decoded later, by
whatever reads them, and are never refused here; neither are keys of Windows-only plugins,
which a Linux containerd does not have.
"""
from __future__ import annotations

import datetime
import functools
import json
from typing import Any

from migrator.checks import validate
from migrator.checks.validate import SchemaProblem

_MISSING = object()


@functools.lru_cache(maxsize=None)
def _table() -> dict:
    with open(validate.schemas_dir() / "decoding.json", encoding="utf-8") as fh:
        return json.load(fh)


def given_kind(value: Any) -> str:
    """The kind of a TOML value, as schemas/decoding.json names it."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "zero" if value == 0 else "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (datetime.date, datetime.time)):
        return "datetime"
    if isinstance(value, list):
        if not value:
            return "empty-array"
        return "array-of-tables" if all(isinstance(v, dict) for v in value) else "array"
    if isinstance(value, dict):
        return "table" if value else "empty-table"
    return type(value).__name__


def expected_kind(node: dict, path: tuple) -> str:
    """The kind the schema node wants (its Go type, as far as decoding goes)."""
    if len(path) == 2 and path[0] == "plugins":
        return "plugin-table"
    types = node.get("type")
    types = types if isinstance(types, list) else [types]
    if "string" in types and "integer" in types:
        return "duration"  # a Go duration type with UnmarshalText (schema: string or 0)
    if "object" in types:
        return "table"
    if "array" in types:
        items = node.get("items")
        return "array-of-tables" if isinstance(items, dict) and items.get("type") == "object" \
            else "array"
    return str(types[0])


def _where(path: tuple, known_plugin: bool) -> str:
    if path[:1] != ("plugins",) or len(path) < 2:
        return "top"
    if len(path) == 2:
        return "plugin-table" if known_plugin else "unknown-plugin-table"
    return "plugin"


def _chain(schema: dict, path: tuple) -> list[dict] | None:
    """The schema nodes from the root down to `path`, or None where the schema has no node or a
    free-form table holds the value (nothing decodes it when the file is read)."""
    nodes = [schema]
    node = schema
    for part in path:
        if isinstance(part, int):
            nxt = node.get("items")
        else:
            props = node.get("properties", {})
            extra = node.get("additionalProperties", True)
            if part in props:
                nxt = props[part]
            elif isinstance(extra, dict):
                nxt = extra
            else:
                return None
            if extra is True and node is not schema:
                return None  # a free-form map (runtime options): decoded later, if at all
        if not isinstance(nxt, dict):
            return None
        node = nxt
        nodes.append(node)
    return nodes


def _value(tree: Any, path: tuple) -> Any:
    for part in path:
        if isinstance(part, int):
            if not isinstance(tree, list) or part >= len(tree):
                return _MISSING
        elif not isinstance(tree, dict) or part not in tree:
            return _MISSING
        tree = tree[part]
    return tree


def _tolerated(decoder: str, where: str, expected: str, given: str) -> bool:
    return any(where in e["where"] and expected in e["expected"]
               and (given in e["given"] or "*" in e["given"])
               for e in _table()["tolerated"].get(decoder, ()))


def refusing_lines(tree: dict, version: int | str, path: tuple) -> list[str]:
    """The release lines that refuse the value at `path`: all native lines that read the key,
    or none when one of them lets it through."""
    schema = validate.load_schema_cached(version)
    nodes = _chain(schema, path)
    value = _value(tree, path)
    if nodes is None or value is _MISSING:
        return []
    lines = list(schema.get("x-containerd-lines", ()))
    for node in nodes[1:]:
        if "x-containerd-lines" in node:
            lines = [line for line in lines if line in node["x-containerd-lines"]]
        if (node.get("x-containerd-plugin") or {}).get("platform") == "windows":
            return []
    if not lines:
        return []
    plugins = schema.get("properties", {}).get("plugins", {}).get("properties", {})
    where = _where(path, len(path) >= 2 and path[1] in plugins)
    expected, given = expected_kind(nodes[-1], path), given_kind(value)
    from migrator.core import catalog
    decoders = {name: line.data.get("decoder") for name, line in catalog.lines().items()}
    if any(not decoders.get(line) or _tolerated(decoders[line], where, expected, given)
           for line in lines):
        return []
    return lines


def refusals(tree: dict, version: int | str,
             problems: list[SchemaProblem] | None = None) -> list[SchemaProblem]:
    """The type problems of `tree` that containerd refuses to start with (kind "refused")."""
    if problems is None:
        problems = validate.validate(tree, version)
    out = []
    for p in problems:
        if p.kind != "type" or not p.path:
            continue
        lines = refusing_lines(tree, version, p.path)
        if lines:
            who = lines[0] if len(lines) == 1 else f"{', '.join(lines[:-1])} and {lines[-1]}"
            out.append(SchemaProblem(p.path, f"{p.message}: containerd {who} "
                                     f"refuse{'s' if len(lines) == 1 else ''} to start with a "
                                     f"value of this type", p.suggestion, "refused"))
    return out

"""Key paths as tuples, and their dotted TOML spelling for people (reports, messages)."""
from __future__ import annotations

import json
from typing import Any


def dotted(path: tuple[Any, ...] | list[Any]) -> str:
    """Render a key path the way TOML would write it (quoting what needs it)."""
    out = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
            continue
        text = str(part)
        bare = text and all(c.isalnum() or c in "-_" for c in text) and text.isascii()
        out.append(("." if out else "") + (text if bare else json.dumps(text)))
    return "".join(out)



def parse_dotted(text: str) -> tuple:
    """Inverse of `dotted`: TOML key segments, with `[N]` array indexes as ints."""
    import re

    from migrator.core import source
    out: list = []
    for piece in re.split(r"(\[\d+\])", text):
        if re.fullmatch(r"\[\d+\]", piece):
            out.append(int(piece[1:-1]))
        elif piece.strip("."):
            doc = source.parse(f"[{piece.strip('.')}]\n")
            out.extend(p.name for p in doc.statements[0].parts)
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

"""Which spellings of a runtime option a release reads: containerd 1.x decodes options with
go-toml v1 (the exact name, then four case variants), 2.x with any case."""
from __future__ import annotations

from migrator.core.paths import node_at


def _is_1x(schema: dict) -> bool:
    return str(schema.get("x-containerd-lines", [""])[0]).startswith("1.")


def _go_toml_v1_names(name: str) -> set[str]:
    """Spellings go-toml v1 accepts for an untagged Go field (facts: keys/README.md)."""
    return {name, name.lower(), name.upper(), name[:1].lower() + name[1:]}


def reads_spelling(name: str, key: str, one: bool) -> bool:
    """Whether containerd matches `key` to the untagged option field `name`: 2.x (go-toml v2)
    in any case, 1.x (go-toml v1) only the spellings of _go_toml_v1_names."""
    return key in _go_toml_v1_names(name) if one else key.lower() == name.lower()


_LOWERED: dict[int, tuple[dict, dict[str, str]]] = {}


def _lowered(props: dict) -> dict[str, str]:
    """{k.lower(): k for k in props}, once per schema table."""
    hit = _LOWERED.get(id(props))
    if hit is None or hit[0] is not props:
        hit = _LOWERED[id(props)] = (props, {k.lower(): k for k in props})
    return hit[1]


def option_spelling(schema: dict, table: tuple, key: str) -> str | None:
    """The listed option name that `key` writes in another case, when the release of `schema`
    would not take `key` as written (the problem `_option_lint` reports); else None."""
    node = node_at(schema, table)
    if not isinstance(node, dict) or not isinstance(key, str):
        return None
    props = node.get("properties", {})
    if not props or node.get("additionalProperties", True) is not True or key in props:
        return None
    hit = _lowered(props).get(key.lower())
    if hit is None or (_is_1x(schema) and key in _go_toml_v1_names(hit)):
        return None
    return hit

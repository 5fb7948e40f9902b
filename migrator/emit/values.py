"""Values and keys as TOML writes them inline, as tomlkit lays them out (tests/test_emit_values.py),
written directly for strings, booleans, integers and arrays of them."""
from __future__ import annotations

from typing import Any

from migrator.core import source
from migrator.core.paths import toml_string


def render_value(value: Any) -> str:
    """A value as TOML writes it inline, as tomlkit lays it out (tests/test_emit_values.py):
    strings, booleans, integers and arrays of them directly, the rest through tomlkit."""
    kind = type(value)
    if kind is str:
        return toml_string(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is list and all(type(v) in (str, bool, int, list) for v in value):
        return "[" + ", ".join(map(render_value, value)) + "]"
    import tomlkit
    if isinstance(value, dict):
        return render_inline(value)   # tomlkit.item makes a dict a table, which renders as ''
    if isinstance(value, list):  # tomlkit.item would make a list of tables an [[array]]
        array = tomlkit.array()
        array.extend(value)
        array.multiline(False)
        return array.as_string()
    return tomlkit.item(value).as_string()


def render_inline(value: dict) -> str:
    # by hand: tomlkit writes a nested inline table's second key without the space after ","
    return "{" + ", ".join(f"{render_key(k)} = {render_value(v)}" for k, v in value.items()) \
        + "}"


def render_key(name: str) -> str:
    bare = source.render_key_part(name)
    return bare if bare == name else render_value(name)  # tomlkit escapes control characters

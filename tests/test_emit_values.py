"""Values are rendered without tomlkit where that is simple (issue 17: a tomlkit item per value
was most of the time of thousands of hosts.toml files); the text must be tomlkit's."""
from __future__ import annotations

import tomllib
from typing import Any

import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.emit.emitter import render_value


def tomlkit_value(value: Any) -> str:
    """How tomlkit writes a value inline (the renderer before issue 17)."""
    if isinstance(value, list):
        array = tomlkit.array()
        array.extend(value)
        array.multiline(False)
        return array.as_string()
    return tomlkit.item(value).as_string()


scalars = st.one_of(st.text(st.characters(blacklist_categories=("Cs",))), st.booleans(),
                    st.integers(min_value=-2**63, max_value=2**63 - 1))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=12)


@settings(max_examples=1000, deadline=None)
@given(values)
def test_values_render_as_tomlkit_renders_them(value: Any) -> None:
    text = render_value(value)
    assert text == tomlkit_value(value)
    assert tomllib.loads(f"v = {text}")["v"] == value


def test_the_escapes() -> None:
    for raw, written in (('a"b', r'"a\"b"'), ("a\\b", r'"a\\b"'), ("\t\n\r\b\f", r'"\t\n\r\b\f"'),
                         ("\x00\x1b\x7f", r'"\u0000\u001b\u007f"'), ('"""', r'"\"\"\""'),
                         ("é\u2028", '"é\u2028"')):
        assert render_value(raw) == written == tomlkit_value(raw)
    assert render_value([["a", "b"], [], True, 3]) == '[["a", "b"], [], true, 3]'

"""Key paths: `dotted` renders one for people, `parse_dotted` reads it back exactly."""
from __future__ import annotations

import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.core.paths import dotted, parse_dotted

parts = st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8),
                  st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True))


@settings(max_examples=500, deadline=None)
@given(st.lists(parts, min_size=1, max_size=6), st.lists(st.integers(0, 99), max_size=2))
def test_parse_dotted_reads_back_what_dotted_writes(keys, indexes):
    path = tuple(keys) + tuple(indexes)
    assert parse_dotted(dotted(path)) == path
    if not indexes:  # and what dotted writes is a TOML key for the same path
        tree = tomllib.loads(f"{dotted(path)} = 1")
        for k in path:
            tree = tree[k]
        assert tree == 1


def test_written_forms():
    assert parse_dotted('plugins."io.containerd.grpc.v1.cri" . registry') == \
        ("plugins", "io.containerd.grpc.v1.cri", "registry")
    assert parse_dotted("a.'b.c'[2]") == ("a", "b.c", 2)
    for bad in ("a..b", '"open', "a b"):
        try:
            parse_dotted(bad)
        except ValueError:
            continue
        raise AssertionError(bad)

"""The source map must locate every value tomllib sees, on every valid TOML 1.0 document."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from migrator.core import source

from .helpers import shared_path


def rebuild(text: str) -> dict:
    """Rebuild the document from the source map alone, each value read from its own span."""
    doc = source.parse(text)
    root: dict = {}

    def node(path, create_list_at=None):
        cur = root
        for k in path:
            if isinstance(k, int):
                cur = cur[k]
            else:
                cur = cur.setdefault(k, {})
        return cur

    for st in doc.statements:
        if st.kind == "table":
            node(st.path)
        elif st.kind == "array_table":
            parent = node(st.path[:-2])
            parent.setdefault(st.path[-2], []).append({})
        else:
            value = tomllib.loads("v = " + text[st.value_start:st.value_end])["v"]
            if st.elements:
                items = [tomllib.loads("v = " + text[a:b])["v"] for a, b in st.elements]
                assert items == value
            parent = node(st.path[:-1])
            parent[st.path[-1]] = value
    return root


def toml_test_valid() -> list[Path]:
    base = shared_path("corpus", "toml-test", "tests")
    if base is None:
        return []
    listed = (base / "files-toml-1.0.0").read_text().split()
    return [base / p for p in listed if p.startswith("valid/") and p.endswith(".toml")]


@pytest.mark.parametrize("path", toml_test_valid(), ids=lambda p: p.name)
def test_source_map_matches_tomllib(path: Path) -> None:
    text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")  # the loader strips it
    assert nan_safe(rebuild(text)) == nan_safe(tomllib.loads(text))


def nan_safe(value):
    if isinstance(value, float) and value != value:
        return "<nan>"
    if isinstance(value, dict):
        return {k: nan_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nan_safe(v) for v in value]
    return value


@pytest.mark.parametrize("path", toml_test_valid(), ids=lambda p: p.name)
def test_key_spans_agree_with_the_parts(path: Path) -> None:
    """A statement keeps its key's span and quote style (read in one match for most keys);
    its parts, scanned again on demand, must say the same."""
    text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    for st in source.parse(text).statements:
        parts = st.parts
        assert (st.key_start, st.key_end) == (parts[0].start, parts[-1].end)
        assert tuple(p.name for p in parts) == st.key
        quotes = {p.quote for p in parts}
        assert st.quote == ("'" if "'" in quotes else '"' if '"' in quotes else "")


def test_toml_test_suite_present_or_skipped() -> None:
    if shared_path("corpus", "toml-test") is None:
        pytest.skip("../shared/corpus/toml-test is not present")
    assert len(toml_test_valid()) > 100


def test_spans_and_comments() -> None:
    text = '# top\n\n# about a\na = 1 # trailing\n[t."x.y"]\r\n  b.c = [1, # one\n 2]\n'
    doc = source.parse(text)
    a, t, b = doc.statements
    assert a.path == ("a",) and text[a.leading:a.start] == "# about a\n"
    assert text[a.comment_start:a.end] == "# trailing\n"
    assert t.path == ("t", "x.y") and t.parts[1].quote == '"'
    assert b.path == ("t", "x.y", "b", "c") and b.value_kind == "array"
    assert [text[x:y] for x, y in b.elements] == ["1", "2"]
    assert (b.line, b.col) == (6, 3)


def test_array_of_tables_paths() -> None:
    doc = source.parse("[[a]]\nx = 1\n[[a.b]]\n[[a]]\n[a.c]\ny = 2\n[[a.b]]\n")
    assert [st.path for st in doc.statements] == [
        ("a", 0), ("a", 0, "x"), ("a", 0, "b", 0), ("a", 1), ("a", 1, "c"), ("a", 1, "c", "y"),
        ("a", 1, "b", 0)]

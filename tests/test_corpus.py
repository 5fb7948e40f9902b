"""Every real-world config of ../shared/corpus/real: migrates, keeps comments, is stable."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import migrator

from .helpers import shared_path

CORPUS = shared_path("corpus", "real")
FILES = sorted(CORPUS.glob("*.toml")) if CORPUS else []
# An empty file is a valid config (every default); nvidia-ctk's test fixture is one.
EMPTY = {p.name for p in FILES if not p.read_bytes().strip()}


def comments(text: str) -> list[str]:
    return sorted(m.group(0).strip() for m in re.finditer(r"#[^\n]*", text)
                  if not _inside_string(text, m.start()))


def _inside_string(text: str, pos: int) -> bool:
    line = text[text.rfind("\n", 0, pos) + 1:pos]
    return line.count('"') % 2 == 1 or line.count("'") % 2 == 1


def version_of(data: bytes) -> int:
    return tomllib.loads(data.decode("utf-8").lstrip("\ufeff")).get("version", 1)


def test_corpus_present_or_skipped() -> None:
    if CORPUS is None:
        pytest.skip("../shared/corpus/real is not present")
    assert len(FILES) >= 80


@pytest.mark.parametrize("path", [p for p in FILES if p.name not in EMPTY], ids=lambda p: p.name)
def test_corpus_file(path: Path) -> None:
    data = path.read_bytes()
    version = version_of(data)
    targets = [t for t in (2, 3, 4) if t >= version]
    for to in targets:
        result = migrator.migrate(data, to=to, file=path.name)
        assert result.target_version == to
        if version == to:
            assert result.text == data.decode("utf-8").lstrip("\ufeff")
            assert [c.kind for c in result.changes if c.kind != "encoding"] == []
            continue
        assert tomllib.loads(result.text)["version"] == to
        # every comment survives, and nothing changes on a second run
        assert comments(result.text) == comments(data.decode("utf-8"))
        again = migrator.migrate(result.text, to=to, file=path.name)
        assert again.text == result.text and not again.changes
        # CRLF files stay CRLF
        if b"\r\n" in data:
            assert result.text.count("\n") == result.text.count("\r\n")


@pytest.mark.parametrize("name", sorted(EMPTY))
def test_empty_corpus_file_migrates(name: str) -> None:
    assert CORPUS is not None
    data = (CORPUS / name).read_bytes().decode("utf-8")
    for to in (2, 3, 4):
        result = migrator.migrate(data, to=to, file=name)
        assert result.text == data + f"version = {to}\n"
        assert [c.kind for c in result.changes] == ["header"]
    assert migrator.migrate(data, to=1, file=name).text == data

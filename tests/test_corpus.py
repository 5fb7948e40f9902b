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
# An empty file is bad input by the core issue's own rules (exit 2); nvidia-ctk's test fixture is one.
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
        # a file at the target changes only for keys of an older version that containerd of
        # the file's version ignores (issue 18: e.g. Kubespray's v4 template, containerd's own
        # v4 man page example); tests/test_oracle_engine_cases.py proves those moves
        if version == to and not any(f.code == "version-mix" for f in result.findings):
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
def test_empty_corpus_file_is_bad_input(name: str) -> None:
    assert CORPUS is not None
    with pytest.raises(migrator.ConfigError, match="empty"):
        migrator.migrate((CORPUS / name).read_bytes(), to=3, file=name)

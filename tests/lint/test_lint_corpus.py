"""Lint over the real-world corpus (shared/corpus/real) and the migration golden inputs, for
every release line: no crash, and wherever --fix changes a file, the result parses, passes lint
(no fixable finding left), keeps every comment and is stable (fixing it again changes
nothing)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from migrator.lint import lint

from ..helpers import REPO, shared_path
from .cases import comments

CORPUS = shared_path("corpus", "real")
FILES = (sorted(CORPUS.glob("*.toml")) if CORPUS else []) + sorted(REPO.glob("golden/*/input.toml"))
TARGETS = (None, "1.6", "1.7", "2.0", "2.1", "2.2.0", "2.3")


def _id(path: Path) -> str:
    return (path.parent.name if path.name == "input.toml" else path.name)[:80]


@pytest.mark.skipif(not FILES, reason="no corpus files")
@pytest.mark.parametrize("path", FILES, ids=_id)
def test_lint_and_fix_hold_up(path: Path) -> None:
    data = path.read_bytes()
    for containerd in TARGETS:
        result = lint(data, file=path.name, containerd=containerd, kubernetes=True)
        assert all(f.line and f.col for f in result.findings if f.path), containerd
        if result.fixed_text is None:
            continue
        again = lint(result.fixed_text, file=path.name, containerd=containerd, kubernetes=True)
        assert [f.format(path.name) for f in again.findings if f.fixable] == [], containerd
        assert again.fixed_text is None
        before = comments(data.decode("utf-8").lstrip("\ufeff"))
        assert Counter(before) == Counter(comments(result.fixed_text.lstrip("\ufeff")))

"""golden/<case>/: input.toml, expected.v<N>.toml written by hand from docs/emitting.md, and
report.v3.json listing the changes a reader should see. The oracle tier
(tests/test_oracle_migrations.py) checks with real containerd that each input and our output
mean the same."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import migrator

from .helpers import REPO

CASES = sorted(p for p in (REPO / "golden").iterdir() if (p / "input.toml").is_file()) \
    if (REPO / "golden").is_dir() else []
EXPECTED = [(case, int(f.name.split(".")[1][1:])) for case in CASES
            for f in sorted(case.glob("expected.v*.toml"))]


def options(case: Path) -> dict:
    """options.json: keyword arguments of migrate() for the case (e.g. allow_loss)."""
    path = case / "options.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def test_enough_cases() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("case,to", EXPECTED, ids=lambda x: getattr(x, "name", str(x)))
def test_output_is_the_expected_text(case: Path, to: int) -> None:
    data = (case / "input.toml").read_bytes()
    expected = (case / f"expected.v{to}.toml").read_bytes().decode("utf-8")
    result = migrator.migrate(data, to=to, file=case.name, **options(case))
    assert result.text == expected
    again = migrator.migrate(result.text, to=to, file=case.name, **options(case))
    assert again.text == result.text


@pytest.mark.parametrize("case", [c for c in CASES if (c / "report.v3.json").is_file()],
                         ids=lambda c: c.name)
def test_report_lists_the_expected_changes(case: Path) -> None:
    expected = json.loads((case / "report.v3.json").read_text())
    result = migrator.migrate((case / "input.toml").read_bytes(), to=3, file=case.name)
    got = {(c.kind, c.from_path, c.to_path) for c in result.changes}
    got |= {(c.kind, c.from_path, None) for c in result.changes}  # drops name no target
    for change in expected["changes"]:
        key = (change["kind"], change.get("from_path"), change.get("to_path"))
        assert key in got or (key[0], key[1], None) in got, key

"""golden/<case>/: input.toml, expected.v<N>.toml written by hand from docs/emitting.md, and
report.v<N>.json listing exactly the changes and warnings a reader should see. The oracle tier
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


REPORTS = [(case, int(f.name.split(".")[1][1:])) for case in CASES
           for f in sorted(case.glob("report.v*.json"))]


def _changes(items) -> list[tuple]:
    return sorted(((c["kind"], c.get("from_path"), c.get("to_path")) for c in items),
                  key=repr)


def _warnings(items) -> list[tuple]:
    """A warning's identity: its rule group (or code) and path, not its wording."""
    return sorted(((w["code"].split("/")[0], w.get("path")) for w in items), key=repr)


@pytest.mark.parametrize("case,to", REPORTS, ids=lambda x: getattr(x, "name", str(x)))
def test_report_lists_exactly_the_expected_changes_and_warnings(case: Path, to: int) -> None:
    """Every change (kind, from, to) and every warning, nothing more: a wrong destination, an
    unlisted move or an invented warning fails the case."""
    expected = json.loads((case / f"report.v{to}.json").read_text())
    result = migrator.migrate((case / "input.toml").read_bytes(), to=to, file=case.name,
                              **options(case))
    got = result.to_json()
    assert _changes(got["changes"]) == _changes(expected["changes"])
    assert _warnings(f for f in got["findings"] if f["severity"] != "info") == \
        _warnings(expected["warnings"])


def test_every_expected_output_has_its_report() -> None:
    assert sorted((c.name, to) for c, to in EXPECTED) == sorted((c.name, to) for c, to in REPORTS)

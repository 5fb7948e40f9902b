"""Every lint rule fires on its bad cases, is silent on its good ones, and --fix gives exactly
the hand-checked fixed file, which passes lint and keeps every comment (golden/lint/)."""
from __future__ import annotations

from collections import Counter

import pytest

from migrator.lint import RULES, lint

from .cases import GOLDEN, Case, cases, comments, rule_dirs

BAD = cases("bad")
GOOD = cases("good")
FIXED = [c for c in BAD if c.fixed is not None]


def run(case: Case, data: bytes | str | None = None):
    return lint(case.data if data is None else data, file=str(case.path), **case.options)


def signature(findings, rule: str) -> Counter:
    return Counter((f.id, f.severity, f.line, f.col) for f in findings if f.id == rule)


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.id)
def test_rule_fires_on_bad_case(case: Case) -> None:
    assert case.expect, f"{case.id} states no expected finding"
    result = run(case)
    want = Counter(e for e in case.expect if e[0] == case.rule)
    assert signature(result.findings, case.rule) == want, \
        "\n".join(f.format(case.path.name) for f in result.findings)
    others = [e for e in case.expect if e[0] != case.rule]
    got = {(f.id, f.severity, f.line, f.col) for f in result.findings}
    assert not [e for e in others if e not in got]


@pytest.mark.parametrize("case", GOOD, ids=lambda c: c.id)
def test_rule_is_silent_on_good_case(case: Case) -> None:
    result = run(case)
    assert [f.format(case.path.name) for f in result.findings if f.id == case.rule] == []


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.id)
def test_fix_gives_the_fixed_file(case: Case) -> None:
    result = run(case)
    if case.fixed is None:
        assert not [f for f in result.findings if f.id == case.rule and f.fixable], \
            f"{case.id} has a fix but no fixed file"
        return
    assert result.fixed_text is not None
    assert result.fixed_text.encode("utf-8") == case.fixed.read_bytes()
    assert any(f.id == case.rule for f in result.fixed)


@pytest.mark.parametrize("case", FIXED, ids=lambda c: c.id)
def test_fixed_file_passes_lint(case: Case) -> None:
    assert case.fixed is not None
    after = lint(case.fixed.read_bytes(), file=str(case.path), **case.options)
    assert [f.format("fixed") for f in after.findings if f.fixable] == []
    assert signature(after.findings, case.rule) == Counter(case.expect_after)
    assert after.fixed_text is None


@pytest.mark.parametrize("case", FIXED, ids=lambda c: c.id)
def test_fix_keeps_every_comment(case: Case) -> None:
    assert case.fixed is not None
    before = comments(case.data.decode("utf-8").lstrip("\ufeff"))
    after = comments(case.fixed.read_text(encoding="utf-8"))
    assert Counter(before) == Counter(after)


def test_every_rule_has_golden_cases_and_a_page() -> None:
    docs = (GOLDEN.parent.parent / "docs" / "rules.md").read_text(encoding="utf-8")
    dirs = {d.name.split("-")[0]: d for d in rule_dirs()}
    assert sorted(dirs) == sorted(RULES)
    for rule_id, r in RULES.items():
        d = dirs[rule_id]
        assert d.name == f"{rule_id}-{r.name}"
        assert any(c.dir == d for c in BAD) and any(c.dir == d for c in GOOD), rule_id
        assert f"## {rule_id} {r.name}" in docs, f"docs/rules.md has no section for {rule_id}"

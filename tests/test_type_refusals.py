"""Values of the wrong type: refused (exit 2, position) when containerd refuses to start with them,
carried with a warning when it reads the file anyway.

The table is tests/data/type_refusals.json: per case, what `containerd-X -c FILE config dump` of
1.6.39, 1.7.34, 2.0.11, 2.1.9, 2.2.7 and 2.3.4 did (the experiment, scripts/type_experiment.py)
and what containerd-migrate must do. The rule in the tool (migrator/decoding.py with
schemas/decoding.json and the schemas) is not read here: the expectation is the recorded
behaviour of the binaries under the policy "refused when every release that reads the file's
version natively and has the key refuses it" (README "Limits"), and the oracle test re-runs the
binaries to confirm the recorded behaviour.
"""
from __future__ import annotations

import importlib.util
import json
import re
import pytest
from click.testing import CliRunner

import migrator
from migrator.cli import commands as cli
from tests import oracle
from migrator.core.errors import ConfigError
from migrator.lint import lint

from .helpers import REPO

TABLE = json.loads((REPO / "tests" / "data" / "type_refusals.json").read_text(encoding="utf-8"))
CASES = {c["id"]: c for c in TABLE["cases"]}
# the release lines that read each config version natively (facts §1.1)
NATIVE = {1: ("1.6", "1.7"), 2: ("1.6", "1.7"), 3: ("2.0", "2.1", "2.2"), 4: ("2.3",)}


def reading(case: dict) -> list[str]:
    """The native lines of the case's config version (its id starts vN) that have the key."""
    return [line for line in NATIVE[int(case["id"][1])] if line not in case.get("ignored_by", ())]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES)
def test_the_table_follows_the_policy(case: dict) -> None:
    """`expect` is "refused" exactly when every native release that has the key refused."""
    releases = case["releases"]
    assert set(releases) == set(oracle.LINES)
    refused = all(releases[line]["refused"] for line in reading(case))
    assert case["expect"] == ("refused" if refused else "carried"), case
    for line in case.get("ignored_by", ()):  # a release without the key ignores the value
        assert not releases[line]["refused"] and case.get("why")
    if case["expect"] == "carried" and any(releases[line]["refused"] for line in reading(case)):
        pytest.fail(f"{case['id']}: some native releases refuse it")


def test_the_table_covers_the_issue() -> None:
    assert len(CASES) >= 60
    kinds = {c["expect"] for c in CASES.values()}
    assert kinds == {"refused", "carried"}
    assert {c["id"][:2] for c in CASES.values()} == {"v1", "v2", "v3", "v4"}


def _experiment():
    spec = importlib.util.spec_from_file_location("type_experiment",
                                                  REPO / "scripts" / "type_experiment.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_docs_show_the_table() -> None:
    experiment = _experiment()
    assert [c["id"] for c in TABLE["cases"]] == [c["id"] for c in experiment.CASES]
    for case, spec in zip(TABLE["cases"], experiment.CASES):
        assert {k: v for k, v in case.items() if k != "releases"} == spec
    doc = (REPO / "docs" / "types.md").read_text(encoding="utf-8")
    assert f"{experiment.BEGIN}\n{experiment.markdown(TABLE)}\n{experiment.END}" in doc


@pytest.mark.parametrize("case", CASES.values(), ids=CASES)
def test_migration_refuses_or_carries(case: dict) -> None:
    for to in (1, 2, 3, 4):
        if case["expect"] == "refused":
            with pytest.raises(ConfigError) as err:
                migrator.migrate(case["text"], to=to, file="config.toml")
            assert type(err.value) is ConfigError
            assert err.value.line is not None and "\n" not in str(err.value), str(err.value)
            assert "refuse" in err.value.message or err.value.message == "plugins must be a table"
        else:
            try:
                migrator.migrate(case["text"], to=to, allow_loss=True)
            except ConfigError as exc:  # a downgrade that cannot say it: never a crash
                assert "\n" not in str(exc) and "refuse to start" not in exc.message, str(exc)


def _run(*args: str, input: bytes):
    return CliRunner().invoke(cli.main, list(args), input=input, catch_exceptions=False)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES)
def test_command_line(case: dict) -> None:
    r = _run("-", "--to", "3", input=case["text"].encode())
    if case["expect"] == "refused":
        assert r.exit_code == 2 and r.stdout_bytes == b""
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and re.match(r"^<stdin>:\d+:\d+: \S", lines[0]), r.stderr
    else:
        assert r.exit_code == 0, r.stderr
        assert "internal error" not in r.stderr


@pytest.mark.parametrize("case", [c for c in CASES.values() if c["expect"] == "refused"
                                  and c["id"] not in ("v2-plugins-integer",
                                                      "v3-plugins-array-of-tables")],
                         ids=lambda c: c["id"])
def test_set_refuses_too(case: dict) -> None:
    """Editing a file does not carry the broken value either."""
    r = _run("-", "--set", "state=/run/x", input=case["text"].encode())
    assert r.exit_code == 2 and r.stdout_bytes == b"", r.stderr
    assert re.match(r"^<stdin>:\d+:\d+: \S", r.stderr), r.stderr


@pytest.mark.parametrize("case", [c for c in CASES.values() if c["expect"] == "refused"],
                         ids=lambda c: c["id"])
def test_lint_reports_an_error(case: dict) -> None:
    try:
        result = lint(case["text"], file="config.toml")
    except ConfigError:  # plugins = 5: not a config lint can read, one line like migration
        assert case["id"] in ("v2-plugins-integer", "v3-plugins-array-of-tables")
        return
    assert any(f.severity == "error" for f in result.findings), result.findings


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES.values(), ids=CASES)
def test_the_binaries_still_agree(case: dict) -> None:
    for line in oracle.LINES:
        oracle.require_containerd(line)
    observed = _experiment().observe(case["text"])
    assert {k: v["refused"] for k, v in observed.items()} == \
        {k: v["refused"] for k, v in case["releases"].items()}


@pytest.mark.parametrize("value,text", [(5_000_000_000, '"5s"'), (90_000_000_000, '"1m30s"'),
                                        (1500, '"1500ns"'), (2_000_000, '"2ms"'), (0, "0"),
                                        ('"2s"', '"2s"')])
def test_nri_nanoseconds_become_a_go_duration(value, text) -> None:
    """Case v2-nri-timeout-nanoseconds: 1.7 reads the integer as nanoseconds, 2.x refuses it;
    version 3 gets the duration 1.7 meant (its dump prints 5000000000 as "5s")."""
    src = f'version = 2\n[plugins."io.containerd.nri.v1.nri"]\nplugin_request_timeout = {value}\n'
    out = migrator.migrate(src, to=3).text
    assert f"plugin_request_timeout = {text}\n" in out
    assert migrator.migrate(out, to=2).text.endswith(f"plugin_request_timeout = {text}\n")

"""The two guards after the emitter catch what they exist for: verify (the output, parsed
again, is the planned tree) and the accounting (every input value is in the output where the
rules put it, or in the report). Each is shown a correct output, then one that is wrong in
one way; nan, which never equals itself, must not read as a difference."""
from __future__ import annotations

import copy
import math

import pytest

from migrator.checks import accounting, verify
from migrator.core import engine
from migrator.core.errors import InternalError
from migrator.pipeline.migration import Migration

V2 = """version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"
  systemd_cgroup = false
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      SystemdCgroup = true
      BinaryName = "/usr/bin/runc"
[plugins."io.containerd.internal.v1.opt"]
  path = "/opt/containerd"
[x]
  ratio = nan
  list = [1.5, nan]
"""
RUNC = ("plugins", "io.containerd.cri.v1.runtime", "containerd", "runtimes", "runc",
        "options")


def _migrated() -> Migration:
    m = Migration(V2, to=3)
    m.load()
    m.plan()
    m.emit()
    m.verify()
    m.account()  # the changes the report gives; it runs the accounting once itself
    return m


def _unaccounted(m: Migration, output: dict) -> list[str]:
    return accounting.unaccounted(m.loaded.tree, output, m.engine_plan, m.result.changes)


def test_a_correct_output_is_accounted_for_nan_included() -> None:
    m = _migrated()
    assert math.isnan(m.output_tree["x"]["ratio"])
    assert m.output_tree["x"]["ratio"] is not m.loaded.tree["x"]["ratio"]  # two parses
    assert _unaccounted(m, m.output_tree) == []


@pytest.mark.parametrize("damage", ["missing", "changed", "nan-replaced", "table-instead"])
def test_a_value_not_where_the_rules_put_it_is_found(damage: str) -> None:
    m = _migrated()
    out = copy.deepcopy(m.output_tree)
    runc = out
    for k in RUNC:
        runc = runc[k]
    if damage == "missing":
        del runc["BinaryName"]
    elif damage == "changed":
        runc["SystemdCgroup"] = False
    elif damage == "nan-replaced":
        out["x"]["ratio"] = 0.0
    else:
        runc["BinaryName"] = {"path": "/usr/bin/runc"}
    problems = _unaccounted(m, out)
    assert len(problems) == 1 and problems[0].startswith("values not found where the rules")
    assert ("ratio" if damage == "nan-replaced" else "BinaryName" if damage != "changed"
            else "SystemdCgroup") in problems[0]


def test_a_dropped_value_missing_from_the_report_is_found() -> None:
    m = _migrated()
    dropped = {c.from_path for c in m.result.changes if c.kind == "dropped"}
    assert 'plugins."io.containerd.grpc.v1.cri".systemd_cgroup' in dropped  # removed in 2.0
    kept = [c for c in m.result.changes if c.kind != "dropped"]
    problems = accounting.unaccounted(m.loaded.tree, m.output_tree, m.engine_plan, kept)
    assert problems and all("was dropped but is not in the report" in p for p in problems)


def test_verify_takes_the_plan_and_refuses_anything_else() -> None:
    m = _migrated()
    expected = dict(m.engine_plan.expected)
    expected["version"] = 3
    for table in m.kept_tables:
        engine.ensure_table(expected, table)
    got = verify.verify(m.result.text, expected, "f.toml")   # nan == nan here
    assert math.isnan(got["x"]["list"][1])
    wrong = copy.deepcopy(expected)
    wrong["x"]["list"] = [1.5]
    with pytest.raises(InternalError, match="f.toml: emitted TOML differs from the plan"):
        verify.verify(m.result.text, wrong, "f.toml")
    with pytest.raises(InternalError, match="does not parse"):
        verify.verify(m.result.text + "\n[x\n", expected, "f.toml")

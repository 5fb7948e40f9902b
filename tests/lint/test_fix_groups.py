"""Fixes judged and applied together (issue 17: lint linear in the file), with the same
verdicts and the same fixed text as one fix at a time."""
from __future__ import annotations

import tomllib

from migrator.lint import fix as fixer
from migrator.lint import lint
from migrator.lint.base import Fix

CRI = 'plugins."io.containerd.grpc.v1.cri"'


def option_level(n: int) -> str:
    return "version = 2\n\n" + "".join(
        f"[{CRI}.containerd.runtimes.r{i}]\n  runtime_type = \"io.containerd.runc.v2\"\n"
        f"  SystemdCgroup = true  # r{i}\n\n" for i in range(n))


def test_every_finding_of_a_large_file_is_fixed():
    """100 runtimes with SystemdCgroup one table too high: all 100 move into options (one
    fix per round stopped after 64 rounds and left the rest)."""
    result = lint(option_level(100), file="c.toml")
    assert [f.id for f in result.findings] == ["CM001"] * 100
    assert all(f.fixable for f in result.findings)
    fixed = tomllib.loads(result.fixed_text)
    runtimes = fixed["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]
    assert len(runtimes) == 100
    for name, rt in runtimes.items():
        assert rt == {"runtime_type": "io.containerd.runc.v2",
                      "options": {"SystemdCgroup": True}}, name
    assert "  options.SystemdCgroup = true  # r99\n" in result.fixed_text  # comments go along
    assert len(result.fixed) == 100
    assert lint(result.fixed_text, file="c.toml").findings == []


def test_group_verdicts_equal_one_at_a_time():
    """A fix that fails, one that changes nothing and good ones, in one list: the group
    judgement halves around the bad ones and agrees with apply() fix by fix."""
    text = ('version = 2\nroot = "/var/lib/containerd"\nstate = "/run/containerd"\n'
            'disabled_plugins = ["a", "b"]\n[x]\n  y = 1\n')
    fixes = [
        Fix("drop x.y", drops=(("x", "y"),)),
        Fix("move state under a scalar", moves=((("state",), ("root", "state")),)),
        Fix("drop what is not there", drops=(("nothing",),)),
        Fix("rename an entry", entries=(("a", ("c",)),)),
        Fix("move disabled_plugins", moves=((("disabled_plugins",), ("x", "d")),)),
        Fix("remove an entry that is not there", entries=(("zz", ()),)),
    ]
    alone = [fixer.applies(text, f) for f in fixes]
    assert alone == [True, False, False, True, True, False]  # the cases are what they say
    assert fixer.applicable(text, fixes) == alone
    assert fixer.applicable(text, fixes[::-1]) == alone[::-1]


def test_merged_fixes_refuse_contradictions():
    a = Fix("a", entries=(("x", ("y",)),), version=2)
    b = Fix("b", entries=(("x", ("z",)),))
    c = Fix("c", version=3)
    for pair in ((a, b), (a, c)):
        try:
            fixer.merge(list(pair))
        except fixer.FixError:
            continue
        raise AssertionError(f"{pair} merged")
    merged = fixer.merge([a, Fix("d", drops=(("k",),), strip_bom=True)])
    assert merged.entries == (("x", ("y",)),) and merged.version == 2
    assert merged.drops == (("k",),) and merged.strip_bom


def test_an_import_that_is_a_directory_is_reported_once(tmp_path):
    """imports naming a directory: CM011 says so once, and the rules that read the imported
    files (CM006) do not stop on it (they named variables they did not have)."""
    (tmp_path / "conf.d").mkdir()
    config = tmp_path / "config.toml"
    config.write_text('version = 2\nimports = ["conf.d"]\n'
                      f'[{CRI}.containerd]\n  default_runtime_name = "crun"\n')
    result = lint(config.read_text(), file=str(config))
    cm011 = [f for f in result.findings if f.id == "CM011"]
    assert len(cm011) == 1 and "not a regular file" in cm011[0].message
    assert (cm011[0].line, cm011[0].col) == (2, 12)

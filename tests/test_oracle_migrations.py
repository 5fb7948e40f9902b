"""containerd itself judges our output: its `config dump` of the original and of ours must agree.

- v2 input -> v3: containerd 2.1 dumps both (it migrates the v2 original in memory).
- v1 input -> v2: containerd 1.7 dumps both (2.0-2.2 lose a v1 file's CRI settings, facts B3);
  our v3 output is then judged by 2.1 against our v2 output.
- The target's native release (1.7 for v2, 2.1 for v3) must load our output with no new warning.

The only differences allowed are the ones tests/data/oracle_expected_differences.toml lists for
the file, each citing the facts entry or experiment that shows containerd's own migration wrong
there (facts §8) or the setting the target cannot hold (which containerd keeps as an inert raw
table, and which our report must list as dropped).
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import migrator
from .helpers import REPO, shared_path
from .judging import judge

oracle = pytest.importorskip("tests.oracle")
pytestmark = pytest.mark.oracle

CORPUS = shared_path("corpus", "real")
GOLDEN = REPO / "golden"


def inputs() -> list[Path]:
    files = sorted(GOLDEN.glob("*/input.toml"))
    if CORPUS is not None:
        files += sorted(CORPUS.glob("*.toml"))
    out = []
    for path in files:
        data = path.read_bytes().decode("utf-8").lstrip("\ufeff")
        if tomllib.loads(data).get("version", 1) in (1, 2):   # an empty file too
            out.append(path)
    return out


def _label(path: Path) -> str:
    return path.parent.name if path.name == "input.toml" else path.name


@pytest.mark.parametrize("path", inputs(), ids=_label)
def test_containerd_reads_our_output_as_it_read_the_original(path: Path) -> None:
    text = path.read_bytes().decode("utf-8").lstrip("\ufeff")
    v3 = migrator.migrate(text, to=3, file=path.name)
    if v3.source_version == 1:
        v2 = migrator.migrate(text, to=2, file=path.name)
        judge("1.7", text, v2.text, "up", result=v2)
        judge("2.1", v2.text, v3.text, "up", result=migrator.migrate(v2.text, to=3))
    else:
        judge("2.1", text, v3.text, "up", result=v3)

def test_declared_exceptions_really_differ() -> None:
    """The B1 exception is real: containerd 2.1 alone never writes runtime_platforms."""
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata]\n'
            '  runtime_type = "io.containerd.kata.v2"\n  snapshotter = "devmapper"\n')
    oracle.require_containerd("2.1")
    theirs = oracle.dump("2.1", text).config
    ours = oracle.dump("2.1", migrator.migrate(text, to=3).text).config
    images = "io.containerd.cri.v1.images"
    assert "kata" not in theirs["plugins"][images].get("runtime_platforms", {})
    assert ours["plugins"][images]["runtime_platforms"]["kata"]["snapshotter"] == "devmapper"


WRONG = {  # what a broken rule would write instead, in golden/15's version 3 output
    "bin_dir-into-conf_dir": ('      bin_dirs = ["/opt/cni/bin"]\n      conf_dir = "/etc/cni/net.mk"\n',
                              '      conf_dir = "/opt/cni/bin"\n'),
    "sandbox_image-elsewhere": ('    sandbox = "registry.k8s.io/pause:3.9"',
                                '    pause = "registry.k8s.io/pause:3.9"'),
    "setting-lost": ('      conf_dir = "/etc/cni/net.mk"\n', ""),
}


@pytest.mark.parametrize("wrong", WRONG)
def test_the_judge_fails_a_wrong_output(wrong: str) -> None:
    """The expected differences are narrow enough that a wrong destination or a lost setting
    fails, including where a `differs` rule acts (cni bin_dir)."""
    text = (GOLDEN / "15-v2-minikube-like" / "input.toml").read_text()
    ours = migrator.migrate(text, to=3)
    old, new = WRONG[wrong]
    assert old in ours.text
    judge("2.1", text, ours.text, "up", result=ours)
    with pytest.raises(AssertionError):
        judge("2.1", text, ours.text.replace(old, new), "up", result=ours)


def test_the_judge_fails_a_drop_the_report_does_not_list() -> None:
    text = (GOLDEN / "24-v2-legacy-removed-keys" / "input.toml").read_text()
    ours = migrator.migrate(text, to=3)
    judge("2.1", text, ours.text, "up", result=ours)
    ours.changes[:] = [c for c in ours.changes if c.kind != "dropped"]
    with pytest.raises(AssertionError, match="not reported as dropped"):
        judge("2.1", text, ours.text, "up", result=ours)

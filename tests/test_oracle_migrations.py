"""containerd itself judges our output: its `config dump` of the original and of ours must agree.

- v2 input -> v3: containerd 2.1 dumps both (it migrates the v2 original in memory).
- v1 input -> v2: containerd 1.7 dumps both (2.0-2.2 lose a v1 file's CRI settings, facts B3);
  our v3 output is then judged by 2.1 against our v2 output.
- The target's native release (1.7 for v2, 2.1 for v3) must load our output with no new warning.

The only differences allowed are the ones the report declares: changes made by rules marked
`differs` (containerd's own migration is wrong there, facts §8) and settings the report lists as
dropped, which containerd keeps as inert raw tables or unknown keys.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import migrator
from migrator import rules

from .helpers import REPO, shared_path
from .judging import allowed_differences, declared_renames, judge

oracle = pytest.importorskip("migrator.oracle")
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
        judge("1.7", text, v2.text, allowed_differences(v2, rules.chain(1, 2)),
              declared_renames(v2))
        judge("2.1", v2.text, v3.text, allowed_differences(
            migrator.migrate(v2.text, to=3), rules.chain(2, 3)))
    else:
        judge("2.1", text, v3.text, allowed_differences(v3, rules.chain(2, 3)))


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

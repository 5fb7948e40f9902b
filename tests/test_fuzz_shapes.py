"""No input ever gives an internal error: real configs with values of other shapes.

A bounded run of tests/fuzz_shapes.py with a fixed seed (a few hundred mutants of the corpus, each
migrated to versions 1-4, edited with a set, and linted); `python -m tests.fuzz_shapes
--mutants 5000` is the bigger run by hand (README "Limits" has its figures).
"""
from __future__ import annotations

import random

import pytest

import migrator
from migrator.core.errors import ConfigError

from . import fuzz_shapes


def test_mutants_of_real_configs_never_crash() -> None:
    if not fuzz_shapes.corpus():
        pytest.skip("../shared/corpus/real is not present")
    counts, crashed = fuzz_shapes.run(300, seed=15)
    assert counts["mutants"] == 300
    assert crashed == [], "\n\n".join(f"{error}\n{mutant[:2000]}" for mutant, error in crashed[:3])


def test_the_mutations_change_shapes() -> None:
    """The mutator does what it says: over a small file, it produces arrays, tables, arrays of
    tables, empty ones and scalars where the file had something else, and some of them are
    refused as values containerd refuses to start with."""
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "p"\n'
            '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n'
            '  runtime_type = "io.containerd.runc.v2"\n')
    rng = random.Random(0)
    mutants = {m for m in (fuzz_shapes.mutate(text, rng) for _ in range(200)) if m}
    assert len(mutants) > 30
    assert any("[[" in m for m in mutants) and any("= {}" in m for m in mutants)
    assert any("= []" in m for m in mutants) and any("= [{" in m for m in mutants)
    refused = 0
    for m in mutants:
        try:
            migrator.migrate(m, to=3)
        except ConfigError as exc:
            refused += "refuse" in exc.message
    assert refused > 5


def test_check_reports_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """The oracle of the fuzzer itself: an exception that is not a ConfigError is a crash."""
    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(migrator, "migrate", broken)
    assert any("KeyError" in e for e in fuzz_shapes.check("version = 2\n"))
    monkeypatch.undo()
    assert fuzz_shapes.check("version = 2\n") == []

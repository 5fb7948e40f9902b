"""containerd judges downgrades, release targeting and version 4 (marker `oracle`).

- v3 -> v2: containerd 2.1 reads the original and our output the same; 1.7 loads our output.
- v2 -> v1: containerd 1.7 reads both the same; 1.6 loads our output with no warning but its own
  notice that version 1 is deprecated.
- --containerd X.Y: release X.Y loads our output with no error and no warning it did not already
  give for the original.
- v1/v2/v3 -> v4: containerd 2.3 reads both the same; v4 -> v3: what our v3 file sets, 2.2 reads
  with the values 2.3 read from the original at the same place in version 4 (facts §4.2).
- v2 -> v3 -> v2: containerd 1.7 reads the round trip as it read the original.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

import migrator
from tests import oracle
from migrator.core import rules
from migrator.core.engine import leaves

from .helpers import REPO, shared_path
from .judging import carried, flagged_keys, judge, v4_place

pytestmark = pytest.mark.oracle

CORPUS = shared_path("corpus", "real")
V1_NOTICE = "containerd config version `1` has been deprecated"


def _inputs() -> list[tuple[Path, int]]:
    files = sorted((REPO / "golden").glob("*/input.toml"))
    if CORPUS is not None:
        files += sorted(CORPUS.glob("*.toml"))
    out = []
    for path in files:
        text = path.read_bytes().decode("utf-8").lstrip("\ufeff")
        if text.strip():
            out.append((path, tomllib.loads(text).get("version", 1)))
    return out


def _text(path: Path) -> str:
    text = path.read_bytes().decode("utf-8").lstrip("\ufeff")
    for target in tomllib.loads(text).get("imports", []):
        if "*" not in target and not (path.parent / target).exists():
            pytest.skip(f"imports {target}, which this machine does not have")
    return text


INPUTS = _inputs()


def of_version(*versions: int) -> list[Path]:
    return [p for p, v in INPUTS if v in versions]


def _id(value: Any) -> str:
    if isinstance(value, Path):
        return value.parent.name if value.name == "input.toml" else value.name
    return str(value)


@pytest.mark.parametrize("path", of_version(3), ids=_id)
def test_v3_down_to_v2(path: Path) -> None:
    text = _text(path)
    result = migrator.migrate(text, to=2, allow_loss=True)
    judge("2.1", text, result.text, "down", result=result)
    oracle.require_containerd("1.7")
    loaded = oracle.dump("1.7", result.text)
    assert loaded.returncode == 0 and not loaded.errors and not loaded.warnings, loaded.stderr


@pytest.mark.parametrize("path", of_version(2), ids=_id)
def test_v2_down_to_v1(path: Path) -> None:
    text = _text(path)
    result = migrator.migrate(text, to=1, allow_loss=True)
    judge("1.7", text, result.text, "down", result=result, expected=V1_NOTICE)
    oracle.require_containerd("1.6")
    loaded = oracle.dump("1.6", result.text)
    assert loaded.returncode == 0 and not loaded.errors, loaded.stderr
    assert all(V1_NOTICE in w for w in loaded.warnings), loaded.warnings


@pytest.mark.parametrize("line", list(rules.release_lines()))
@pytest.mark.parametrize("path", [p for p, _ in INPUTS], ids=_id)
def test_release_loads_our_output_cleanly(path: Path, line: str) -> None:
    text = _text(path)
    result = migrator.migrate(text, containerd=line, allow_loss=True)
    oracle.require_containerd(line)
    before = oracle.dump(line, text)
    after = oracle.dump(line, result.text)
    assert after.returncode == 0 and not after.errors, after.stderr
    keys = flagged_keys(result)
    if before.returncode == 0:
        assert [w for w in oracle.new_warnings(before, after) if not carried(w, keys)] == []
    else:  # the release refused the original (e.g. version 3 on 1.7): ours must be spotless
        assert [w for w in after.warnings if not carried(w, keys)] == []


@pytest.mark.parametrize("path", of_version(1, 2, 3), ids=_id)
def test_up_to_v4(path: Path) -> None:
    text = _text(path)
    result = migrator.migrate(text, to=4)
    judge("2.3", text, result.text, "up", result=result)


@pytest.mark.parametrize("path", of_version(4), ids=_id)
def test_v4_down_to_v3(path: Path) -> None:
    text = _text(path)
    result = migrator.migrate(text, to=3, allow_loss=True)
    oracle.require_containerd("2.2")
    oracle.require_containerd("2.3")
    ours = oracle.dump("2.2", result.text)
    theirs = oracle.dump("2.3", text)
    keys = flagged_keys(result)
    assert ours.returncode == 0 and not ours.errors, ours.stderr
    assert [w for w in ours.warnings if not carried(w, keys)] == []
    written = tomllib.loads(result.text)
    for key, _ in leaves(written):
        if key == ("version",):
            continue
        there = v4_place(key)  # facts §4.2, from tests/data: never from the rules under test
        assert _unset(_get(ours.config, key)) == _unset(_get(theirs.config, there)), key


@pytest.mark.parametrize("path", of_version(2), ids=_id)
def test_round_trip_v2_v3_v2(path: Path) -> None:
    text = _text(path)
    up = migrator.migrate(text, to=3)
    down = migrator.migrate(up.text, to=2, allow_loss=True)
    judge("1.7", text, down.text, "round-trip", result=up)


def _unset(value: Any) -> Any:
    """containerd treats a zero value and an absent key alike."""
    return "<absent>" if value in ("", 0, False, [], {}) and not isinstance(value, float) \
        else value


def _get(tree: dict, path: tuple) -> Any:
    cur: Any = tree
    for k in path:
        if not isinstance(cur, dict) or k not in cur:
            return "<absent>"
        cur = cur[k]
    return cur


@pytest.mark.parametrize("path", of_version(1), ids=_id)
def test_round_trip_v1_v3_v1(path: Path) -> None:
    text = _text(path)
    up = migrator.migrate(text, to=3)
    down = migrator.migrate(up.text, to=1, allow_loss=True)
    judge("1.7", text, down.text, "round-trip", result=up, expected=V1_NOTICE)


@pytest.mark.parametrize("path", of_version(3), ids=_id)
def test_round_trip_v3_v4_v3(path: Path) -> None:
    text = _text(path)
    up = migrator.migrate(text, to=4)
    down = migrator.migrate(up.text, to=3, allow_loss=True)
    judge("2.2", text, down.text, "round-trip", result=up, flagged=flagged_keys(up))

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
from migrator.engine import Mapper
from migrator.report import MigrationResult, parse_dotted
from migrator.rules import PLUGIN_LISTS, RuleSet

from .helpers import REPO, shared_path

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
        if data.strip() and tomllib.loads(data).get("version", 1) in (1, 2):
            out.append(path)
    return out


def _label(path: Path) -> str:
    return path.parent.name if path.name == "input.toml" else path.name


def allowed_differences(result: MigrationResult, chain: list[RuleSet]) -> set[tuple]:
    """Key paths where containerd's reading may differ, each declared by the report."""
    allowed: set[tuple] = set()
    without_drops = Mapper([RuleSet(s.from_version, s.to_version, s.title,
                                    tuple(r for r in s.rules if r.kind != "drop"))
                            for s in chain])
    differs = {r.id for step in chain for r in step.rules if r.differs}
    for finding in result.findings:
        if finding.code in differs and finding.path:
            allowed.add(parse_dotted(finding.path))
    for change in result.changes:
        if change.kind == "dropped" and change.from_path:
            path = parse_dotted(change.from_path)
            allowed.add(path)
            would_be = without_drops.target(path).path
            if would_be is not None:
                allowed.add(would_be)
            if path[:1] == ("plugins",):  # containerd prints an emptied table as {}
                allowed.add(path[:-1] if len(path) > 2 else path)
        if not change.differs:
            continue
        if change.from_path and change.from_path.split(" ")[0] in PLUGIN_LISTS:
            allowed.update((name,) for name in PLUGIN_LISTS)
            for name in (change.to_path or "").split(" ", 1)[1].split(", "):
                allowed.add(("plugins", name.strip('"')))
            old = change.from_path.split(" ", 1)[1].strip('"')
            allowed.add(("plugins", old))
            continue
        for text in (change.from_path, change.to_path):
            if text:
                path = parse_dotted(text)
                allowed.add(path)
                if change.kind == "copied":
                    allowed.add(path[:-1])  # the new table brings its defaults along
    return allowed


def declared_renames(result: MigrationResult) -> dict[str, list[str]]:
    """disabled_plugins / required_plugins entries the report says were renamed."""
    out: dict[str, list[str]] = {}
    for c in result.changes:
        if c.kind == "renamed" and c.from_path and c.from_path.split(" ")[0] in PLUGIN_LISTS:
            old = c.from_path.split(" ", 1)[1].strip('"')
            out[old] = [n.strip('"') for n in (c.to_path or "").split(" ", 1)[1].split(", ")]
    return out


def judge(line: str, before_text: str, after_text: str, allowed: set[tuple],
          renames: dict[str, list[str]] | None = None) -> None:
    oracle.require_containerd(line)
    before = oracle.dump(line, before_text)
    after = oracle.dump(line, after_text)
    assert after.returncode == 0, after.stderr
    assert before.returncode == 0, before.stderr
    if renames:  # a 1.x dump of a version 1 file prints the short names as written (facts B15)
        for name in PLUGIN_LISTS:
            if isinstance(before.config.get(name), list):
                before.config[name] = [n for e in before.config[name]
                                       for n in renames.get(e, [e])]
    assert oracle.compare(before.config, after.config, allowed=allowed) == []
    assert oracle.new_warnings(before, after) == []


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

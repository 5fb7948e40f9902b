"""Every rule has a stable id written in its file (issue 17): reports name a rule
`group/id`, and inserting a rule never renames another (they were numbered by position).

tests/data/rule_ids.tsv is the register of ids, like Ruff's rule codes: an id added, removed
or pointed at another key shows up there in review. Reversed (downgrade) steps reuse the ids.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from lark import Tree

from migrator.core import rules
from migrator.core.resources import package_path

from .helpers import REPO

REGISTER = REPO / "tests" / "data" / "rule_ids.tsv"
FILES = sorted(package_path("rules").glob("*.rules"))
KINDS = {"move", "keep", "convert", "copy", "drop", "plugin", "entry", "check", "spell"}


def register() -> list[tuple[str, ...]]:
    return [tuple(line.split("\t")) for line in REGISTER.read_text().splitlines()
            if line and not line.startswith("#")]


def shipped() -> list[tuple[str, ...]]:
    out = []
    for (a, b), rs in sorted(rules.rule_sets().items(), key=lambda kv: (kv[1].file, kv[0])):
        if a > b:
            continue
        for r in rs.rules:
            src = ".".join(r.src.segments) if r.src is not None else ""
            dst = ".".join(r.dst.segments) if r.dst is not None else ""
            out.append((rs.file, r.id, r.kind, src, dst))
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_rule_writes_its_id(path: Path) -> None:
    from migrator.core import rules_parser
    tree = rules_parser._parser().parse(path.read_text())
    missing = []
    for group in tree.find_data("group"):
        name = str(group.children[0])
        for node in group.children[1:]:
            if isinstance(node, Tree) and node.data in KINDS and not any(
                    isinstance(m, Tree) and m.data == "rule_id" for m in node.children):
                missing.append(f"{path.name}: group {name}: a {node.data} rule without `id`")
    assert missing == []


def test_ids_are_unique_in_each_file() -> None:
    counts = Counter((file, rule_id) for file, rule_id, *_ in shipped())
    assert [k for k, n in counts.items() if n > 1] == []


def test_the_register_lists_every_id_with_what_it_moves() -> None:
    assert shipped() == register()


def test_reversed_steps_keep_the_ids() -> None:
    """A downgrade names a rule as the upgrade does (drops have no reverse, so fewer)."""
    sets = rules.rule_sets()
    for (a, b), rs in sets.items():
        if a < b and (b, a) in sets:
            back = {r.id for r in sets[(b, a)].rules}
            assert back and back <= {r.id for r in rs.rules}


def test_an_id_names_the_rule_in_the_report() -> None:
    import migrator
    result = migrator.migrate('version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n'
                              '  sandbox_image = "registry.k8s.io/pause:3.10"\n', to=3)
    assert "cri-images/sandbox_image" in {c.rule for c in result.changes}

"""The oracle's expected differences (tests/data/oracle_expected_differences.toml) are evidence,
not exceptions picked to make tests pass: each cites the facts file or the key inventory, and a
setting listed as dropped for a 2.x release really is a key that release does not read."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from migrator.core import catalog
from migrator.core.paths import parse_dotted

from .helpers import shared_path
from .judging import _find, data, v1_guess, v1_uri

ENTRIES = data()["difference"]
CHECKS = {"up", "down", "round-trip"}
LINES = set(catalog.lines())


def _label(entry: dict) -> str:
    return entry["cite"].split(":")[0]


@pytest.mark.parametrize("entry", ENTRIES, ids=_label)
def test_entry_is_complete_and_cited(entry: dict) -> None:
    assert re.search(r"facts §|keys/|\bE\d+\b|\bB\d+\b", entry["cite"]), entry["cite"]
    assert set(entry["release"]) <= LINES and entry["release"]
    assert set(entry["reads"]) <= {1, 2, 3, 4} and entry["reads"]
    assert set(entry.get("checks", CHECKS)) <= CHECKS
    assert entry["when"] and entry["paths"]
    for text in entry["when"] + entry["paths"] + entry.get("unless", []) + entry.get("also", []):
        assert parse_dotted(text)  # well-formed


def _reads(fields: dict, path: tuple) -> bool:
    """Whether a key inventory's table (KEY: FIELD) has `path`."""
    field: Any = {"type": "table", "fields": fields}
    for key in path:
        tables = [field.get("fields", {})] + [v.get("fields", {})  # runtime options: any variant
                                               for v in field.get("variants", {}).values()]
        known = [t[key] for t in tables if key in t]
        if known:
            field = known[0]
        elif "values" in field:
            field = field["values"]
        elif "items" in field:
            field = field["items"]
        else:
            return False
    return True


def _inventory(line: str) -> dict:
    base = shared_path("spec", "keys", f"containerd-{line}.json")
    if base is None:
        pytest.skip("../shared/spec/keys is not present")
    return json.loads(base.read_text())


DROPPED_2X = [(e, e.get("unread_by", [line])[0]) for e in ENTRIES if e.get("dropped")
              for line in e["release"] if line.startswith("2.")]


@pytest.mark.parametrize("entry,line", DROPPED_2X,
                         ids=lambda x: x if isinstance(x, str) else _label(x))
def test_a_dropped_setting_is_a_key_the_release_does_not_read(entry: dict, line: str) -> None:
    """`line`: the dumping release, or for a downgrade the release the target version is for
    (`unread_by`)."""
    inv = _inventory(line)
    for text in entry.get("unread", entry["paths"]):
        path = tuple("x" if "*" in str(s) else s for s in parse_dotted(text))
        if path[0] == "plugins":
            plugin = inv["plugins"].get(path[1])
            assert plugin is None or not _reads(plugin, path[2:]), (line, text)
        else:
            assert not _reads(inv["top_level"], path), (line, text)


def test_the_round_trip_drops_are_keys_1_7_reads() -> None:
    """Otherwise 1.7's dump could not show them, and the entry would allow nothing real."""
    inv = _inventory("1.7")
    for entry in ENTRIES:
        if entry.get("dropped") and "1.7" in entry["release"]:
            for text in entry["paths"]:
                path = tuple("x" if "*" in str(s) else s for s in parse_dotted(text))
                assert path[1] in inv["plugins"], text
                assert _reads(inv["plugins"][path[1]], path[2:]) or len(path) == 2 or \
                    path[-1] == "x", text


def test_v1_names_follow_the_facts_tables() -> None:
    assert v1_guess("cri") == v1_uri("cri") == "io.containerd.grpc.v1.cri"
    assert v1_guess("nri") == "io.containerd.grpc.v1.nri"  # 2.x's wrong guess (§2.3)
    assert v1_uri("nri") == "io.containerd.nri.v1.nri"
    assert v1_guess("introspection-service") == "io.containerd.service.v1.introspection-service"
    assert v1_guess("io.containerd.x.v1.y") == "io.containerd.x.v1.y"


def test_patterns_bind_what_they_matched() -> None:
    tree = {"plugins": {"a.b": {"k": 1}, "short": {}, "c.d": {"runtimes": {"r1": {"s": 1}}}}}
    got = sorted(p for p, _ in _find(tree, parse_dotted('plugins."!*.*"')))
    assert got == [("plugins", "short")]
    [(path, took)] = _find(tree, parse_dotted('plugins."c.d".runtimes."*".s'))
    assert path == ("plugins", "c.d", "runtimes", "r1", "s") and took == {"*": "r1"}

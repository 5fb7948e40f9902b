"""The speed code (migrator/speed) gives the answers of the slow code it stands in for.

* the schema walker finds exactly the errors jsonschema's Draft202012Validator finds (keyword,
  value, instance, subschema, path, "below propertyNames", message), on every schema of
  schemas/ and the trees of the corpus, the golden files and the examples, seeded mutations of
  them and hostile shapes; and validate() reports the same problems through either;
* the compiled cache gives back what a fresh build gives (the rule sets, the catalog, the
  schemas), and its key follows the content of the inputs, not where they are installed.
"""
from __future__ import annotations

import copy
import json
import marshal
import random
import shutil
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from migrator.checks import validate as V
from migrator.core import catalog, rules
from migrator.core.resources import data_path, package_path
from migrator.speed import cache, schema_walker

from .helpers import REPO, shared_path

SCHEMAS = sorted({*V.VERSION_FILES.values(), *V.LINE_FILES.values()})


def _trees() -> list[tuple[str, dict]]:
    roots = [REPO / "golden", REPO / "examples"]
    real = shared_path("corpus", "real")
    if real is not None:
        roots.append(real)
    out = []
    for root in roots:
        for path in sorted(root.rglob("*.toml")):
            try:
                out.append((str(path.relative_to(root.parent)),
                            tomllib.loads(path.read_text(encoding="utf-8-sig"))))
            except (UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue  # the bad-input golden cases
    return out


ODD = [True, False, 0, 1, -1, 2, 3, 1.0, 2.5, -0.0, float("inf"), 2**63 - 1, "", "x", "10s",
       "1m30s", "10", "io.containerd.x", "cri", [], ["a"], [1], [True, "a"], [{}], {}, {"k": 1},
       None]


def _mutate(tree: dict, rng: random.Random) -> dict:
    """Wrong types, unknown and misspelt keys, odd versions, bools for ints, lists for tables."""
    tree = copy.deepcopy(tree)
    for _ in range(rng.randint(1, 4)):
        tables: list[dict] = [tree]
        stack = [tree]
        while stack:
            for v in stack.pop().values():
                if isinstance(v, dict):
                    tables.append(v)
                    stack.append(v)
        table = rng.choice(tables)
        keys = list(table)
        op = rng.random()
        if op < 0.4 and keys:
            value = rng.choice(ODD)
            table[rng.choice(keys)] = copy.deepcopy(value) if value is not None else {}
        elif op < 0.6:
            table[rng.choice(["bogus", "SystemdCgroups", "systemdcgroup", "sandbox_image",
                              "bin_dir", "cri", "propertyNames", "1"])] = rng.choice(ODD[:-1])
        elif op < 0.7:
            tree["version"] = rng.choice([0, 1, 2, 3, 4, 5, True, 2.0, "2"])
        elif op < 0.8 and keys:
            del table[rng.choice(keys)]
        elif op < 0.9:
            entries = tree.get("disabled_plugins")
            if isinstance(entries, list):
                entries.append(rng.choice(["cri", "io.x.y", 3, "aufs"]))
        elif isinstance(tree.get("plugins", {}), dict):
            tree.setdefault("plugins", {})[rng.choice(["cri", "bogus", "io.containerd.x.v1.y"])] \
                = {"a": rng.choice(ODD[:-1])}
    return tree


def _hostile() -> list[tuple[str, Any]]:
    deep: dict = {}
    node = deep
    for i in range(60):
        node[f"k{i}"] = {}
        node = node[f"k{i}"]
    runc = {"runtime_type": "io.containerd.runc.v2",
            "options": {"SystemdCgroups": True, "systemdCgroup": 1, "BinaryName": ["x"]}}
    return [
        ("not a table", ["version", 2]), ("a string", "version = 2"), ("nothing", {}),
        ("none", None), ("version true", {"version": True}), ("version 2.0", {"version": 2.0}),
        ("version -0.0", {"version": -0.0}), ("version huge", {"version": 2**70}),
        ("deep", {"version": 2, "plugins": deep}), ("deep top", deep),
        ("lists for tables", {"version": 2, "plugins": [], "grpc": [{"address": 1}]}),
        ("tables for lists", {"version": 2, "disabled_plugins": {"cri": True},
                              "required_plugins": "cri"}),
        ("every odd value", {"version": 2, "grpc": {f"k{i}": v for i, v in enumerate(ODD)}}),
        ("durations", {"version": 2, "timeouts": {"a": 10, "b": "10", "c": "1h2m3.5s", "d": 0,
                                                  "e": True, "f": -1.5}}),
        ("plugin names", {"version": 2, "plugins": {"cri": {}, "": {}, "io.x": 1, "a b": {}},
                          "disabled_plugins": ["cri", "", 1, None]}),
        ("runc options", {"version": 2, "plugins": {"io.containerd.grpc.v1.cri": {"containerd": {
            "runtimes": {"runc": runc, "kata": {**runc, "runtime_type": 1}}}}}}),
        ("runc options v3", {"version": 3, "plugins": {"io.containerd.cri.v1.runtime": {
            "containerd": {"runtimes": {"runc": runc}}}}}),
    ]


def _cases() -> list[tuple[str, Any]]:
    rng = random.Random(17)
    base = _trees()
    return base + [(f"{label} (mutation)", _mutate(tree, rng)) for label, tree in base
                   if isinstance(tree, dict)] + _hostile()


CASES = _cases()


def _sig(e: Any) -> tuple:
    return (e.validator, repr(e.validator_value), repr(e.instance), id(e.schema),
            tuple(e.absolute_path), "propertyNames" in list(e.relative_schema_path), e.message)


def test_there_are_trees_to_compare() -> None:
    assert len(CASES) > 500


def test_every_generated_schema_is_walked() -> None:
    """Else validate() silently falls back to jsonschema for it (correct, but slow)."""
    assert all(schema_walker.supported(V._load(name)) for name in SCHEMAS)
    assert all(V._fast(name) for name in SCHEMAS)


@pytest.mark.parametrize("name", SCHEMAS)
def test_the_walker_finds_what_jsonschema_finds(name: str) -> None:
    schema = V._load(name)
    slow = Draft202012Validator(schema)
    for label, tree in CASES:
        fast = Counter(_sig(e) for e in schema_walker.iter_errors(schema, tree))
        want = Counter(_sig(e) for e in slow.iter_errors(tree))
        assert fast == want, (f"{label} against {name}:\n  walker only: {fast - want}\n"
                              f"  jsonschema only: {want - fast}")


@pytest.mark.parametrize("name", SCHEMAS)
def test_validate_reports_the_same_problems_through_jsonschema(name: str) -> None:
    schema = V._load(name)
    slow = Draft202012Validator(schema)
    for label, tree in CASES[::7]:
        fast = [p for err in schema_walker.iter_errors(schema, tree)
                for p in V._convert(err, schema)]
        want = [p for err in slow.iter_errors(tree) for p in V._convert(err, schema)]
        key = (lambda p: (tuple(str(x) for x in p.path), p.message))
        assert sorted(fast, key=key) == sorted(want, key=key), f"{label} against {name}"


def test_a_schema_with_other_keywords_goes_to_jsonschema() -> None:
    for schema in ({"anyOf": [{"type": "string"}]}, {"properties": {"a": True}},
                   {"type": "decimal"}, {"properties": {"a": {"pattern": 1}}},
                   {"items": {"uniqueItems": True}}):
        assert not schema_walker.supported(schema), schema
    assert schema_walker.supported({"properties": {"a": {"type": ["string", "null"]}},
                                    "x-containerd-note": {"anyOf": "not a keyword here"}})


# -- the compiled cache -----------------------------------------------------------------------


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(cache.NO_CACHE_ENV, raising=False)
    return tmp_path / "cache" / "compiled"


def _fresh_rule_sets(monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv(cache.NO_CACHE_ENV, "1")
    fresh = rules.rule_sets.__wrapped__()
    monkeypatch.delenv(cache.NO_CACHE_ENV)
    return fresh


def test_cached_rules_equal_freshly_parsed_rules(cache_home: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = _fresh_rule_sets(monkeypatch)
    built = rules.rule_sets.__wrapped__()        # a miss: parsed and stored
    assert len(list(cache_home.glob("rules-*.marshal"))) == 1

    def no_parsing(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the cache was not used")
    from migrator.core import rules_parser
    monkeypatch.setattr(rules_parser, "parse_rules", no_parsing)
    read = rules.rule_sets.__wrapped__()          # a hit: nothing parsed
    assert built == fresh and read == fresh
    assert list(read) == list(fresh)
    for step, rs in fresh.items():
        for a, b in zip(rs.rules, read[step].rules, strict=True):
            assert a == b and a.rank() == b.rank() and a.src.match(a.src.segments) \
                == b.src.match(b.src.segments)


def test_cached_catalog_and_schemas_equal_fresh_ones(cache_home: Path) -> None:
    want = {p.name: tomllib.loads(p.read_text()) for p in sorted(catalog.DATA.glob("*.toml"))}
    assert catalog._documents.__wrapped__() == want     # built
    assert catalog._documents.__wrapped__() == want     # read back
    name = SCHEMAS[0]
    schema = json.loads((V.schemas_dir() / name).read_text())
    for _ in range(2):
        assert V._compiled.__wrapped__(name) == (schema, True)
    assert {p.name.split("-")[0] for p in cache_home.iterdir()} == {"catalog", "schema"}


def test_the_key_follows_the_content_not_the_install_path(tmp_path: Path,
                                                          cache_home: Path) -> None:
    one, two = tmp_path / "one" / "rules", tmp_path / "two" / "site-packages" / "rules"
    shutil.copytree(package_path("rules"), one)
    shutil.copytree(package_path("rules"), two)
    grammar = data_path("grammar") / "rules.lark"

    def inputs(folder: Path) -> list[Path]:
        return [grammar, *sorted(folder.glob("*.rules"))]
    assert cache.key_of("rules", inputs(one)) == cache.key_of("rules", inputs(two))
    assert cache.entry_path("rules", cache.key_of("rules", inputs(one))) == \
        cache.entry_path("rules", cache.key_of("rules", inputs(two)))
    assert cache.compiled("rules", inputs(one), lambda: {"n": 1}) == {"n": 1}

    def rebuilt() -> Any:
        raise AssertionError("a second install with the same files missed the cache")
    assert cache.compiled("rules", inputs(two), rebuilt) == {"n": 1}

    step = two / "v2-v3.rules"
    step.write_text(step.read_text() + "\n# an edit\n")
    assert cache.key_of("rules", inputs(one)) != cache.key_of("rules", inputs(two))
    assert cache.compiled("rules", inputs(two), lambda: {"n": 2}) == {"n": 2}
    assert cache.compiled("rules", inputs(one), rebuilt) == {"n": 1}  # both stay
    assert len(list(cache_home.glob("rules-*.marshal"))) == 2


def test_stale_entries_go_and_foreign_entries_are_misses(tmp_path: Path,
                                                         cache_home: Path) -> None:
    source = tmp_path / "input.txt"
    for i in range(cache.KEEP + 3):
        source.write_text(f"content {i}")
        assert cache.compiled("thing", [source], lambda: i) == i
    assert len(list(cache_home.glob("thing-*.marshal"))) == cache.KEEP
    entry = cache.entry_path("thing", cache.key_of("thing", [source]))
    entry.write_bytes(marshal.dumps((("someone", "else's"), "data")))
    assert cache.compiled("thing", [source], lambda: "built") == "built"
    entry.write_bytes(b"not marshal at all")
    assert cache.compiled("thing", [source], lambda: "again") == "again"


def test_what_cannot_be_cached_is_built_every_time(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "input.txt"
    source.write_text("x")
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    monkeypatch.setenv(cache.CACHE_ENV, str(blocked))
    calls = []
    for _ in range(2):
        assert cache.compiled("thing", [source], lambda: calls.append(1) or "v") == "v"
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    marshal_cannot = object()
    for _ in range(2):
        assert cache.compiled("odd", [source], lambda: calls.append(1) or marshal_cannot) \
            is marshal_cannot
    assert len(calls) == 4

#!/usr/bin/env python3
"""Differential check: migrator.checks.validate's own schema walker against jsonschema itself.

    python bench/check_validator.py [--seed N] [--mutations N]

validate() checks trees with `_errors` (the schemas' subset of draft 2020-12, no jsonschema
import); this script feeds the same trees to jsonschema's Draft202012Validator and requires the
same errors (keyword, value, instance, subschema, path, "below propertyNames", message) and the
same SchemaProblems, for every schema (1-4 and every release line). Trees: the real-world corpus,
the golden files, the examples, and random mutations of them (wrong types, unknown keys, odd
versions, bools for ints, floats, lists for tables). Exits 1 on the first difference.
"""
from __future__ import annotations

import argparse
import copy
import random
import sys
import tomllib
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

try:
    from migrator.checks import validate as V
except ImportError:  # not installed: run from the checkout
    sys.path.append(str(REPO))
    from migrator.checks import validate as V


def trees() -> list[tuple[str, dict]]:
    out = []
    globs = [REPO.parent / "shared" / "corpus" / "real", REPO / "golden", REPO / "examples"]
    for root in globs:
        for path in sorted(root.rglob("*.toml")):
            try:
                out.append((str(path), tomllib.loads(path.read_text(encoding="utf-8-sig"))))
            except (UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
    return out


ODD = [True, False, 0, 1, -1, 2, 3, 1.0, 2.5, -0.0, "", "x", "10s", "1m30s", "io.containerd.x",
       "cri", [], ["a"], [1], {}, {"k": 1}, None]


def mutate(tree: dict, rng: random.Random) -> dict:
    tree = copy.deepcopy(tree)
    for _ in range(rng.randint(1, 4)):
        tables = [([], tree)]
        stack = [([], tree)]
        while stack:
            path, t = stack.pop()
            for k, v in t.items():
                if isinstance(v, dict):
                    tables.append((path + [k], v))
                    stack.append((path + [k], v))
        _, table = rng.choice(tables)
        op = rng.random()
        keys = list(table)
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
            tree.setdefault("plugins", {})[rng.choice(["cri", "bogus", "io.containerd.x.v1.y"])] = \
                {"a": rng.choice(ODD[:-1])}
    return tree


def fast(name: str, tree: dict) -> Counter:
    out: list = []
    V._errors(V._load(name), tree, (), False, out)
    return Counter(_sig(e) for e in out)


def slow(name: str, tree: dict) -> Counter:
    return Counter(_sig(e) for e in V._validator(name).iter_errors(tree))


def _sig(e) -> tuple:
    return (e.validator, repr(e.validator_value), repr(e.instance), id(e.schema),
            tuple(e.absolute_path), "propertyNames" in list(e.relative_schema_path), e.message)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mutations", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    names = sorted(set(V.VERSION_FILES.values()) | set(V.LINE_FILES.values()))
    assert all(V._fast(n) for n in names), "a schema uses keywords the walker does not know"
    base = trees()
    cases = list(base)
    for label, tree in base:
        cases += [(f"{label} (mutation {i})", mutate(tree, rng)) for i in range(args.mutations)]
    checked = 0
    for label, tree in cases:
        for name in names:
            a, b = fast(name, tree), slow(name, tree)
            if a != b:
                print(f"DIFFERENT: {label} against {name}:\n  walker only: {a - b}\n"
                      f"  jsonschema only: {b - a}")
                sys.exit(1)
            checked += 1
    # and the problems validate() reports, through both paths
    for label, tree in cases[:: max(1, len(cases) // 300)]:
        for name in names:
            got = V.validate(tree, name.removeprefix("containerd-").removesuffix(".json")
                             .removeprefix("config-v"))
            problems = []
            for err in V._validator(name).iter_errors(tree):
                problems.extend(V._convert(err, V._load(name)))
            want = sorted({(p.path, p.message): p for p in problems}.values(),
                          key=lambda p: (tuple(str(x) for x in p.path), p.message))
            got_core = [p for p in got if p in want]
            if got_core != want:
                print(f"DIFFERENT problems: {label} against {name}")
                sys.exit(1)
    print(f"same errors for {checked} (tree, schema) pairs ({len(base)} files, "
          f"{len(cases) - len(base)} mutations)")


if __name__ == "__main__":
    main()

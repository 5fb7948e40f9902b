"""Mutants of real configs whose values have another shape, and what the tool does with them.

    python -m tests.fuzz_shapes --mutants 5000 --seed 1     # the big run by hand; prints figures

A mutant is a corpus file (../shared/corpus/real) with one change: a value replaced by a value of
another shape (scalar, array, table, array of tables, empty [] and {}), a table header turned into
an array-of-tables header or the other way, or a table replaced by a scalar. Each mutant goes
through migration to versions 1-4 (to 1 with --allow-loss, and for containerd 2.0), the
registry move to hosts.toml files (`--hosts-dir`, planned only), an edit (`--set`), and lint. Anything but a result or a
ConfigError (LossError included) is a crash: an internal error is always a bug.
"""
from __future__ import annotations

import argparse
import random
import sys
import tomllib
import traceback
from collections import Counter
from pathlib import Path

import tomlkit

REPO = Path(__file__).resolve().parent.parent

VALUES = ['5', '0', '"x"', '""', 'true', '1.5', 'nan', '1979-05-27T07:32:00Z', '[]', '["a"]',
          '[1, "a"]', '[[]]', '[["a"]]', '{}', '{a = 1}', '{a = {b = "c"}}', '[{}]',
          '[{a = 1}]', '[{runtime_type = "io.containerd.runc.v2"}]']
HOSTS_DIR = "/nonexistent/containerd-migrate-fuzz/certs.d"  # planned only: nothing is written
TREE_VALUES = [5, "x", True, [], ["a"], {}, {"a": 1}, [{"a": 1}], [[1]], {"a": [{"b": 1}]}]


def corpus() -> list[Path]:
    sys.path.insert(0, str(REPO))
    from tests.helpers import shared_path
    base = shared_path("corpus", "real")
    return sorted(base.glob("*.toml")) if base else []


def mutate(text: str, rng: random.Random) -> str | None:
    """One mutation of `text`, or None when this text offers none of the kind drawn."""
    from migrator.core import source
    try:
        doc = source.parse(text)
    except Exception:
        return None
    kind = rng.choice(["value", "value", "value", "header", "tree"])
    if kind == "value":
        pairs = [st for st in doc.statements if st.kind == "keyvalue" and st.value_end]
        if not pairs:
            return None
        st = rng.choice(pairs)
        return text[:st.value_start] + rng.choice(VALUES) + text[st.value_end:]
    if kind == "header":
        heads = [st for st in doc.statements if st.kind in ("table", "array_table")]
        if not heads:
            return None
        st = rng.choice(heads)
        line = text[st.start:st.end]
        if st.kind == "table":
            new = line.replace("[", "[[", 1).replace("]", "]]", 1) \
                if line.rstrip().endswith("]") else line
        else:
            new = line.replace("[[", "[", 1).replace("]]", "]", 1)
        return text[:st.start] + new + text[st.end:]
    try:
        tree = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    paths: list[tuple] = []

    def walk(node: dict, prefix: tuple) -> None:
        for k, v in node.items():
            paths.append(prefix + (k,))
            if isinstance(v, dict):
                walk(v, prefix + (k,))
    walk(tree, ())
    if not paths:
        return None
    path = rng.choice(paths)
    node = tree
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = rng.choice(TREE_VALUES)
    return tomlkit.dumps(tree)


def check(text: str) -> list[str]:
    """The crashes of one mutant: [] when every operation gave a result or a ConfigError."""
    import migrator
    from migrator.features import hosts
    from migrator.core.errors import ConfigError
    from migrator.lint import lint
    crashes = []
    ops = [(f"--to {to}", lambda to=to: migrator.migrate(text, to=to)) for to in (1, 2, 3, 4)]
    ops.append(("--to 1 --allow-loss", lambda: migrator.migrate(text, to=1, allow_loss=True)))
    ops.append(("--containerd 2.0", lambda: migrator.migrate(text, containerd="2.0")))
    ops.append(("--hosts-dir", lambda: hosts.migrate_registry(text, to=3, hosts_dir=HOSTS_DIR)))
    ops.append(("--set", lambda: _set(text)))
    ops.append(("--lint", lambda: lint(text, file="config.toml")))
    for name, op in ops:
        try:
            op()
        except ConfigError as exc:
            if "\n" in str(exc):
                crashes.append(f"{name}: a ConfigError of more than one line: {exc!r}")
        except Exception as exc:  # noqa: BLE001 - any other exception is the bug we look for
            crashes.append(f"{name}: {type(exc).__name__}: {str(exc)[:300]}")
    return crashes


def _set(text: str) -> None:
    import migrator
    cfg = migrator.load(text)
    cfg.sandbox_image = "registry.k8s.io/pause:3.10"
    cfg.runtime("runc").options["SystemdCgroup"] = True
    cfg.dump()


def run(mutants: int, seed: int, verbose: bool = False) -> tuple[Counter, list[tuple[str, str]]]:
    """Counts (mutants, refused, migrated, crashed) and the crashing mutants with their errors."""
    rng = random.Random(seed)
    files = [(p.name, p.read_text(encoding="utf-8", errors="replace")) for p in corpus()]
    files = [(n, t) for n, t in files if t.strip()]
    counts: Counter = Counter()
    crashed: list[tuple[str, str]] = []
    while counts["mutants"] < mutants and files:
        name, text = rng.choice(files)
        mutant = mutate(text, rng)
        if mutant is None or mutant == text:
            continue
        counts["mutants"] += 1
        errors = check(mutant)
        if errors:
            counts["crashed"] += 1
            crashed.append((mutant, "; ".join(errors)))
            if verbose:
                print(f"--- {name}\n{errors}", file=sys.stderr)
    return counts, crashed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mutants", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--save", type=Path, help="write each crashing mutant here (a directory)")
    args = ap.parse_args()
    counts, crashed = run(args.mutants, args.seed, verbose=True)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for i, (mutant, error) in enumerate(crashed):
            (args.save / f"crash-{i:04d}.toml").write_text(f"# {error[:500]}\n" + mutant)
    kinds = Counter(e.split(":")[1].strip() if ":" in e else e for _, e in crashed)
    print(f"{counts['mutants']} mutants (seed {args.seed}), {counts['crashed']} crashed: "
          f"{dict(kinds)}")
    return 1 if crashed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        traceback.print_exc()
        sys.exit(130)

"""How the oracle tests judge: containerd's dumps of the original and of our output must agree,
except at the paths tests/data/oracle_expected_differences.toml lists for that file, each with
its evidence. Nothing here reads the rules or the report to decide what may differ; the report
is only checked (a setting the target cannot hold must be listed as dropped)."""
from __future__ import annotations

import fnmatch
import tomllib
from functools import cache
from typing import Any, Iterator

from tests import oracle
from migrator.core.paths import parse_dotted
from migrator.core.results import MigrationResult

from .helpers import REPO

DATA = REPO / "tests" / "data" / "oracle_expected_differences.toml"
PLUGIN_LISTS = ("disabled_plugins", "required_plugins")


@cache
def data() -> dict[str, Any]:
    with open(DATA, "rb") as fh:
        return tomllib.load(fh)


def _segment(pattern: str, key: Any) -> bool:
    """A shell pattern for one key; `!pattern` is its negation."""
    if pattern.startswith("!"):
        return not fnmatch.fnmatchcase(str(key), pattern[1:])
    return fnmatch.fnmatchcase(str(key), pattern)


def _find(tree: Any, pattern: tuple) -> Iterator[tuple[tuple, dict]]:
    """Every key path of `tree` that `pattern` matches, with what its pattern segments took."""
    if not pattern:
        yield (), {}
        return
    if not isinstance(tree, dict):
        return
    head = pattern[0]
    for key in tree:
        if _segment(head, key):
            for rest, took in _find(tree[key], pattern[1:]):
                yield (key,) + rest, ({**took, head: key} if head != key else took)


def _get(tree: Any, path: tuple) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def _version(tree: dict) -> int:
    return tree.get("version", 1)


def _as_read(tree: dict, line: str) -> dict:
    """A version 1 file with its plugin names as release `line` reads them: 1.x by the plugin's
    own ID, 2.x by its guess (facts §2.1-§2.3); lists renamed the same way."""
    if _version(tree) != 1:
        return tree
    name = v1_uri if line.startswith("1.") else v1_guess
    out = dict(tree)
    if isinstance(tree.get("plugins"), dict):
        out["plugins"] = {}
        for key, value in tree["plugins"].items():
            if line.startswith("1.") and "." in key:
                continue  # 1.x ignores a full URI in a version 1 file (E16)
            out["plugins"][name(key)] = value
    for key in PLUGIN_LISTS:
        if isinstance(tree.get(key), list):
            out[key] = [name(n) if isinstance(n, str) else n for n in tree[key]]
    return out


def _fires(entry: dict, tree: dict, line: str) -> list[tuple[tuple, dict]]:
    if _version(tree) not in entry["reads"]:
        return []
    tree = tree if entry.get("raw") else _as_read(tree, line)
    if any(True for p in entry.get("unless", []) for _ in _find(tree, parse_dotted(p))):
        return []
    if not all(any(True for _ in _find(tree, parse_dotted(p))) for p in entry.get("also", [])):
        return []
    hits = [hit for p in entry["when"] for hit in _find(tree, parse_dotted(p))]
    if "contains" in entry:
        hits = [h for h in hits if entry["contains"] in (_get(tree, h[0]) or [])]
    return hits


def expected_differences(line: str, check: str, *texts: str) -> tuple[set[tuple], list]:
    """The dump paths where release `line` may read `texts` differently (check "up", "down" or
    "round-trip"), and the entries that fired on the first text with the keys they matched."""
    allowed: set[tuple] = set()
    fired: list[tuple[dict, tuple]] = []
    for n, text in enumerate(texts):
        tree = tomllib.loads(text)
        for entry in data()["difference"]:
            if line not in entry["release"] or check not in entry.get("checks", [check]):
                continue
            for path, took in _fires(entry, tree, line):
                if n == 0:
                    fired.append((entry, path))
                for p in entry["paths"]:
                    allowed.add(tuple(took.get(s, s) for s in parse_dotted(p)))
    return allowed, fired


def v1_guess(name: str) -> str:
    """The plugin containerd 2.x takes a version 1 name for (facts §2.1, §2.2)."""
    ids = data()["v1_plugin_ids"]
    if name in ids or "." in name:
        return ids.get(name, name)
    if name.endswith("-service"):
        return "io.containerd.service.v1." + name
    if name in ("windows", "windows-lcow"):
        return "io.containerd.snapshotter.v1." + name
    return "io.containerd.grpc.v1." + name


def v1_uri(name: str) -> str:
    """The plugin a version 1 name meant to containerd 1.x: its own ID, including the IDs the
    2.x table gets wrong (facts §2.3, E17)."""
    return data()["v1_plugin_ids_1_7"].get(name) or v1_guess(name)


def v4_place(key: tuple) -> tuple:
    """Where version 4 keeps a version 3 key path (facts §4.2); other keys stay."""
    table = {parse_dotted(k): parse_dotted(v) for k, v in data()["v3_to_v4"].items()}
    return table.get(key, key)


def assert_drops_reported(fired: list, result: MigrationResult | None) -> None:
    """Each expected difference marked `dropped` must be a drop the report lists."""
    if result is None:
        return
    dropped = []
    for c in result.changes:
        if c.kind == "dropped" and c.from_path:
            path = parse_dotted(c.from_path)
            if result.source_version == 1 and path[:1] == ("plugins",) and len(path) > 1:
                path = ("plugins", v1_uri(path[1])) + path[2:]
            dropped.append(path)
    for entry, path in fired:
        if entry.get("dropped"):
            assert any(d[:len(path)] == path or path[:len(d)] == d for d in dropped), \
                (f"not reported as dropped: {path}", entry["cite"])


def flagged_keys(result: MigrationResult) -> set[str]:
    """Last key names of the input problems the report flagged (unknown keys carried along)."""
    return {parse_dotted(f.path)[-1] for f in result.findings
            if f.code == "schema" and f.path}


def carried(warning: str, keys: set[str]) -> bool:
    """containerd's unknown-key warning for a key the report already flagged in the input."""
    if "Ignoring unknown key" not in warning or "key=" not in warning:
        return False
    key = warning.split("key=", 1)[1].split(" plugin=")[0].strip('"').split(" ")[-1]
    return key in keys


def _fold_runtime_options(tree: Any, path: tuple = ()) -> None:
    """Runtime `options` as the shim reads them: CRI re-encodes the map (keys in Go's sorted
    order) and decodes it into the shim's options type by field name, case-insensitively in 2.x
    (keys/README.md, "Runtime `options` are a free-form map"). The dump shows the map as written,
    and in 2.x next to the default's own spelling, so `systemdCgroup = true` sits beside
    `SystemdCgroup = false` and wins (it sorts later). In 1.x a variant other than the four
    go-toml v1 spellings is dropped without a word; the migration writes the field name, so
    there the key takes effect, as its author meant."""
    if not isinstance(tree, dict):
        return
    for key, value in list(tree.items()):
        here = path + (key,)
        if key == "options" and len(here) >= 3 and here[-3] == "runtimes" and \
                isinstance(value, dict):
            folded: dict = {}
            for k in sorted(value):
                folded[str(k).lower()] = value[k]
            tree[key] = folded
        else:
            _fold_runtime_options(value, here)


def _folded_path(path: tuple) -> tuple:
    """An allowed path as it reads after _fold_runtime_options."""
    return tuple(str(k).lower() if n >= 3 and path[n - 1] == "options" and
                 path[n - 3] == "runtimes" else k for n, k in enumerate(path))


def judge(line: str, before_text: str, after_text: str, check: str, *,
          result: MigrationResult | None = None, expected: str | None = None,
          flagged: set[str] = frozenset()) -> None:
    """`result`: the migration that produced `after_text` from `before_text`, whose report must
    list the expected drops. `expected`: a warning the output may add (containerd's own notice
    for version 1)."""
    oracle.require_containerd(line)
    before = oracle.dump(line, before_text)
    after = oracle.dump(line, after_text)
    assert after.returncode == 0, after.stderr
    assert before.returncode == 0, before.stderr
    # a 1.x dump of a version 1 file prints the short names as written (facts B15)
    for dump, text in ((before, before_text), (after, after_text)):
        if line.startswith("1.") and _version(tomllib.loads(text)) == 1:
            for name in PLUGIN_LISTS:
                if isinstance(dump.config.get(name), list):
                    dump.config[name] = [v1_uri(n) for n in dump.config[name]]
    for dump in (before, after):
        _fold_runtime_options(dump.config)
    allowed, fired = expected_differences(line, check, before_text, after_text)
    allowed |= {_folded_path(p) for p in allowed}
    differences = oracle.compare(before.config, after.config, allowed=allowed)
    assert differences == [], differences
    assert_drops_reported(fired, result)
    new = [w for w in oracle.new_warnings(before, after)
           if not (expected and expected in w) and not carried(w, set(flagged))]
    assert new == [], new

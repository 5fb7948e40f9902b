"""Nothing lost: every leaf of the input is in the output at its mapped path, or in the report.

The check is independent of the emitter: it walks the input tree, asks the rules where each
value goes, and looks it up in the parsed output. Anything unaccounted for is a bug, and the
migration stops before writing. DeepDiff explains a failure in readable terms.
"""
from __future__ import annotations

from typing import Any

from migrator.engine import Plan, leaves
from migrator.report import Change, dotted


def unaccounted(input_tree: dict, output_tree: dict, plan: Plan,
                changes: list[Change]) -> list[str]:
    reported = [c.from_path for c in changes if c.kind == "dropped" and c.from_path]
    out_leaves = dict(leaves(output_tree))
    expected: dict[str, Any] = {}
    got: dict[str, Any] = {}
    problems: list[str] = []
    for path, value in leaves(input_tree):
        if path == ("version",):
            continue
        for t in plan.mapper.targets(path):
            new = plan.values.get((path, t.path)) if t.path is not None else None
            if t.path is None or new is None:
                if t.copy:
                    continue
                if not _covered(dotted(path), reported):
                    problems.append(f"{dotted(path)} was dropped but is not in the report")
                continue
            key = dotted(t.path)
            new = plan.overrides.get(t.path, new)
            if new == {} and isinstance(_get(output_tree, t.path), dict):
                continue  # an empty table: the output has it, maybe with more inside
            have = out_leaves.get(t.path, _MISSING)
            if isinstance(new, list) and isinstance(have, list) and all(v in have for v in new):
                continue  # merged into a list that holds more (e.g. a shim env)
            if have != new and any(d.path == path for d in plan.dropped):
                continue  # lost a conflict: reported as dropped with the winner named
            expected[key], got[key] = new, have
    if expected != got:
        from deepdiff import DeepDiff
        diff = DeepDiff(expected, got, verbose_level=2)
        problems.append(f"values not found where the rules put them: {diff.to_json()}")
    return problems


def _get(tree: dict, path: tuple) -> Any:
    cur: Any = tree
    for k in path:
        if not isinstance(cur, dict) or k not in cur:
            return _MISSING
        cur = cur[k]
    return cur


def _covered(path: str, reported: list[str]) -> bool:
    return any(path == r or path.startswith(r + ".") for r in reported)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()

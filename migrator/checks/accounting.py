"""Nothing lost: every leaf of the input is in the output at its mapped path, or in the report.

The check is independent of the emitter: it walks the input tree, asks the rules where each
value goes, and looks it up in the parsed output. Anything unaccounted for is a bug, and the
migration stops before writing. DeepDiff explains a failure in readable terms.
"""
from __future__ import annotations

from typing import Any

from migrator.core.engine import Plan, leaves
from migrator.core.paths import dotted
from migrator.core.results import Change


def unaccounted(input_tree: dict, output_tree: dict, plan: Plan,
                changes: list[Change]) -> list[str]:
    reported = {c.from_path for c in changes if c.kind == "dropped" and c.from_path}
    dropped = {d.path for d in plan.dropped}
    # target path -> (expected, found) for each value that is not where the rules put it;
    # nothing is copied or collected for the values that are (the output is looked up in place)
    wrong: dict[tuple, tuple[Any, Any]] = {}
    problems: list[str] = []
    for path, value in leaves(input_tree):
        if path == ("version",):
            continue
        for t in plan.mapper.targets(path):
            new = plan.values.get((path, t.path)) if t.path is not None else None
            if t.path is None or new is None:
                if t.copy or (path, t.path) in plan.empty:  # the split's other part has it
                    continue
                if not _covered(dotted(path), reported):
                    problems.append(f"{dotted(path)} was dropped but is not in the report")
                continue
            new = plan.overrides.get(t.path, new)
            have = _get(output_tree, t.path)
            if new == {} and isinstance(have, dict):
                continue  # an empty table: the output has it, maybe with more inside
            if isinstance(have, dict) and have:
                have = _MISSING  # a table with keys is no leaf: the value is not there
            if isinstance(new, list) and isinstance(have, list) and _all_in(new, have):
                continue  # merged into a list that holds more (e.g. a shim env)
            if have != new and path in dropped:
                continue  # lost a conflict: reported as dropped with the winner named
            if have != new and nan_safe(have) != nan_safe(new):
                wrong[t.path] = (new, have)
    if wrong:
        from deepdiff import DeepDiff
        # a value that is not there is shown as such (every deepdiff can write a string)
        diff = DeepDiff({dotted(k): v for k, (v, _) in wrong.items()},
                        {dotted(k): "<missing>" if v is _MISSING else v
                         for k, (_, v) in wrong.items()}, verbose_level=2)
        problems.append(f"values not found where the rules put them: {diff.to_json()}")
    return problems


def _all_in(values: list, have: list) -> bool:
    """all(v in have for v in values), with a set when the items allow one (long lists)."""
    if values == have:
        return True
    try:
        pool = set(have)
    except TypeError:  # tables inside: compare one by one
        return all(v in have for v in values)
    try:
        return all(v in pool for v in values)
    except TypeError:
        return all(v in have for v in values)


def _get(tree: dict, path: tuple) -> Any:
    cur: Any = tree
    for k in path:
        if not isinstance(cur, dict) or k not in cur:
            return _MISSING
        cur = cur[k]
    return cur


def _covered(path: str, reported: set[str] | list[str]) -> bool:
    """path is a reported path or lies below one (`r.` starts it): a lookup per dot."""
    if path in reported:
        return True
    reported = reported if isinstance(reported, (set, frozenset)) else set(reported)
    return any(path[:i] in reported for i, c in enumerate(path) if c == ".")


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def nan_safe(value: Any) -> Any:
    """nan never equals itself; when comparing a value with its copy it must."""
    if isinstance(value, float) and value != value:
        return "<nan>"
    if isinstance(value, dict):
        return {k: nan_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nan_safe(v) for v in value]
    return value

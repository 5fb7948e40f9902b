"""Apply a chain of rule sets to a config: where every key path goes, and the tree that results.

The engine works on paths only; it knows nothing of text. `Mapper.target(path)` answers for any
path (a leaf, a table header, a key written with an inline table), so the emitter and the
accounting ask the same question and get the same answer.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

from migrator.core import transforms
from migrator.core.errors import ConfigError
from migrator.core.mapper import _CHECK, Mapper, Target, _position, _splits, _target  # noqa: F401
from migrator.core.paths import dotted, dotted_path, has_prefix_in, leaves, under  # noqa: F401
from migrator.core.results import Finding
from migrator.core.rules import PLUGIN_LISTS, Rule, RuleSet
from migrator.core.secrets import redact


@dataclass(slots=True)  # one per placed value
class Placed:
    value: Any
    rank: tuple
    source: tuple
    merge: bool = False


@dataclass
class Dropped:
    path: tuple
    value: Any
    rule: Rule | None
    reason: str
    loss: bool = False      # the target cannot express it (downgrades)


@dataclass
class Plan:
    mapper: Mapper
    expected: dict
    placed: dict[tuple, Placed]
    dropped: list[Dropped] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    values: dict[tuple, Any] = field(default_factory=dict)   # new value per (source, target)
    overrides: dict[tuple, Any] = field(default_factory=dict)  # target path -> value set
    added: dict[tuple, Any] = field(default_factory=dict)      # new keys (target paths)
    empty: set[tuple] = field(default_factory=set)  # (source, target): a split part with nothing
    problems: dict[int | str, list] = field(default_factory=dict)  # of `expected`, by target


def convert(target: Target, value: Any, parts: bool = False) -> Any:
    """The value at the target; with `parts`, a split (read backwards) gives each of its targets
    its own part, and None where that part holds nothing. Without, a value that would split has
    no form (Unrepresentable), as for a caller that writes one key only."""
    for rule in target.converts:
        assert rule.transform is not None
        name, args = rule.transform
        if parts and _splits(rule):
            part = transforms.split(name, args, value)
            value = part.rest if rule in target.stays else part.value
            if value is None:
                return None
        else:
            value = transforms.apply(name, args, value, reverse=rule.reverse)
        if isinstance(value, transforms.Drop):
            return value
    return value


def plan(tree: dict, chain: list[RuleSet], drops: dict[tuple, str] | None = None,
         kept_copies: set[tuple] | None = None, sets: dict[tuple, Any] | None = None,
         spelling: Callable[[tuple, str], str | None] | None = None,
         strays: dict[tuple, list[RuleSet]] | None = None,
         lost_parts: dict[tuple, str] | None = None) -> Plan:
    """Where every input leaf goes; `sets` (in target coordinates) override or add values;
    `spelling` gives the target's names for the keys of `spell` tables; `strays` maps keys
    (and what lies below them) through chains of their own; `lost_parts` drops only what a
    split leaves at an input path (its other part goes on)."""
    mapper = Mapper(chain, drops, tree, spelling)
    mapper.strays = dict(strays or {})
    mapper.kept_copies = set(kept_copies or ())
    mapper.lost_parts = dict(lost_parts or {})
    placed: dict[tuple, Placed] = {}
    result = Plan(mapper, {}, placed)
    warned: dict[tuple[str, str], None] = {}   # (code, path) of every finding so far
    # the steps up to the last one with `check` rules, each with a mapper of its own
    last = max((i for i, step in enumerate(chain) if any(r.kind == "check" for r in step.rules)),
               default=-1)
    steppers = [(step, Mapper([step])) for step in chain[:last + 1]]
    for path, value in leaves(tree):
        if len(path) == 1 and path[0] in PLUGIN_LISTS and isinstance(value, list):
            value = _map_entries(mapper, value)
        for t in mapper.targets(path):
            if t.copy and value == "":
                continue  # an empty value is the default: a copy of it says nothing
            _warn(result, t, path, warned)
            if t.path is None:
                result.dropped.append(Dropped(path, value, t.rule, t.drop_reason or "removed"))
                continue
            try:
                new = convert(t, value, parts=True)
            except transforms.Unrepresentable as exc:
                result.dropped.append(Dropped(path, value, t.converts[-1], str(exc), loss=True))
                continue
            if new is None:  # the other part of a split holds all of it
                result.empty.add((path, t.path))
                continue
            if isinstance(new, transforms.Drop):
                result.dropped.append(Dropped(path, value, t.converts[-1], new.reason))
                continue
            result.values[(path, t.path)] = new
            merge = not t.stays and any(transforms.TRANSFORMS[r.transform[0]].merge_lists
                                        for r in t.converts if r.transform)
            _place(result, Placed(new, t.rank(), path, merge), t.path)
        if steppers:
            _checks(result, steppers, path, value, warned)
    kept = _copies_that_differ(result, chain)
    if kept:
        return plan(tree, chain, drops, mapper.kept_copies | kept, sets, spelling, strays,
                    lost_parts)
    for path, value in (sets or {}).items():
        _apply_set(result, path, value)
    _refuse_shape_conflicts(placed)
    for path, p in placed.items():
        _set(result.expected, path, p.value)
    return result


class ShapeConflict(ConfigError):
    """A value that is not a table lands where other settings need a table (`source`: the input
    path of that value; the caller turns it into a position)."""

    def __init__(self, message: str, source: tuple) -> None:
        super().__init__(message)
        self.source = source


def _refuse_shape_conflicts(placed: dict[tuple, Placed]) -> None:
    """e.g. a version 3 `plugins."io.containerd.cri.v1.runtime" = [...]` (2.x ignores it) going
    down to 2, where the images plugin's keys go into the same CRI table."""
    for path, p in placed.items():
        for n in range(len(path) - 1, 0, -1):
            holder = placed.get(path[:n])
            if holder is not None and not isinstance(holder.value, dict):
                raise ShapeConflict(
                    f"{dotted(holder.source)} is not a table, but {dotted(p.source)} goes into "
                    f"it ({dotted(path[:n])} in the migrated file): give it a table, or remove "
                    f"it", holder.source)


def _apply_set(result: Plan, path: tuple, value: Any) -> None:
    old = result.placed.get(path)
    if old is not None:
        if old.value != value:
            result.overrides[path] = value
            result.placed[path] = Placed(value, old.rank, old.source, old.merge)
        return
    inside = [p for p in result.placed if p[:len(path)] == path and len(p) > len(path)]
    above = [p for p in result.placed if path[:len(p)] == p]
    for p in [p for p in above if result.placed[p].value == {}]:
        del result.placed[p]   # an empty table (`[a]` with nothing below) takes the new key
        above.remove(p)
    if inside or above:
        # e.g. `runtime_type = [{}]`: a list of tables holds the key; the caller names the file
        raise ConfigError(f"cannot set {dotted(path)}: the file has a table there, or a value "
                          f"that holds it")
    result.added[path] = value
    result.placed[path] = Placed(value, (99, ()), ())


def _copies_that_differ(result: Plan, chain: list[RuleSet]) -> set[tuple]:
    """Read backwards, a copy goes away only while it still equals what the copy makes."""
    differ: set[tuple] = set()
    last = len(chain) - 1
    for d in result.dropped:
        rule = d.rule
        if rule is None or rule.copy_of is None or d.path in result.mapper.kept_copies:
            continue
        at = result.mapper.target(d.path).at or d.path
        caps = rule.src.match(at)
        if caps is None or chain.index(next(s for s in chain if rule in s.rules)) != last:
            continue
        origin = rule.copy_of.fill(caps) + at[len(rule.src.segments):]
        placed = result.placed.get(origin)
        expect = placed.value if placed is not None else None
        if expect is not None and rule.transform is not None:
            name, args = rule.transform
            try:
                expect = transforms.apply(name, args, expect)
            except transforms.Unrepresentable:
                expect = None
        if expect != d.value:
            differ.add(d.path)
    return differ


def _warn(result: Plan, t: Target, path: tuple, warned: dict[tuple[str, str], None]) -> None:
    """One finding per rule and matched key (`warned` holds the (code, path) of every finding
    the plan has, so the check is a lookup, not a scan of the findings)."""
    for rule in t.rules:
        if rule.differs:
            prefix = dotted_path(path[:len(rule.src.segments)])
            # a key of its own: the rule's `warn` (below) is another finding at the same path
            if (rule.id + " differs", prefix) not in warned:
                warned[(rule.id + " differs", prefix)] = None
                result.findings.append(Finding(
                    "info", rule.id, f"containerd's own migration differs here: {rule.differs}",
                    prefix))
        if rule.warn:
            prefix = dotted_path(path[:len(rule.src.segments)])
            if (rule.id, prefix) not in warned:
                warned[(rule.id, prefix)] = None
                result.findings.append(Finding("warning", rule.id, rule.warn, prefix))


def _map_entries(mapper: Mapper, value: list) -> list:
    return [n for _, written, _ in map_entries(mapper, value) for n in written]


def map_entries(mapper: Mapper, value: list) -> list[tuple[Any, list, list[Rule]]]:
    """(item, the names written in its place, the rules used) for each item of a
    disabled_plugins / required_plugins list.

    An entry the rules leave alone stays as written. A renamed entry writes only the names that
    no other entry writes: read backwards, the split CRI entries merge into one. A duplicate
    entry maps as its first occurrence did, so the list keeps its duplicates (containerd
    tolerates them) and maps item by item."""
    mapped = [(item, *mapper.entry(item)) if isinstance(item, str) else (item, [item], [])
              for item in value]
    by: dict[str, set] = {}   # name -> the input entries that write it
    for item, names, _ in mapped:
        if isinstance(item, str) and names == [item]:
            by.setdefault(item, set()).add(item)
    out: list[tuple[Any, list, list[Rule]]] = []
    for item, names, used in mapped:
        if names != [item]:
            names = [n for n in dict.fromkeys(names) if by.get(n, {item}) == {item}]
        for n in names:
            if isinstance(n, str):
                by.setdefault(n, set()).add(item)
        out.append((item, names, used))
    return out


def _place(result: Plan, new: Placed, path: tuple) -> None:
    old = result.placed.get(path)
    if old is None:
        result.placed[path] = new
        return
    if (new.merge or old.merge) and isinstance(old.value, list) and isinstance(new.value, list):
        base, extra = (new, old) if old.merge else (old, new)
        merged = base.value + [v for v in extra.value if v not in base.value]
        # the plain list's statement carries the merged value; the converted one goes away
        result.placed[path] = Placed(merged, max(old.rank, new.rank), base.source, True)
        return
    if (old.value == "") != (new.value == ""):
        win, lose = (old, new) if new.value == "" else (new, old)  # "" means unset
    else:
        win, lose = (new, old) if new.rank > old.rank else (old, new)
    result.placed[path] = win
    result.dropped.append(Dropped(
        lose.source, lose.value, None,
        f"{dotted(win.source)} sets {dotted(path)} too and is the one containerd of the "
        "source version read"))


def _checks(result: Plan, steppers: list[tuple[RuleSet, Mapper]], path: tuple, value: Any,
            warned: dict[tuple[str, str], None]) -> None:
    current: tuple | None = path
    for step, stepper in steppers:
        if current is None:
            return
        for _, rule in sorted(step.candidates(current, _CHECK), key=_position):
            if rule.src.match(current) is not None and \
                    len(current) == len(rule.src.segments) and \
                    (rule.value is None or rule.value == value):
                msg = rule.reason or ""
                if rule.use:
                    msg += f" (use {rule.use})"
                where = dotted(path)
                warned[(rule.id, where)] = None
                result.findings.append(Finding("warning", rule.id, msg, where))
        if stepper is not steppers[-1][1]:  # where it stands for the next step's checks
            current = stepper.target(current).path


def _set(tree: dict, path: tuple, value: Any) -> None:
    cur = tree
    for k in path[:-1]:
        nxt = cur.setdefault(k, {})
        if not isinstance(nxt, dict):
            raise ValueError(f"{dotted(path)} would be a table inside a value")
        cur = nxt
    if isinstance(value, dict) and not value and isinstance(cur.get(path[-1]), dict):
        return
    # never share objects with the input tree (deepcopy returns immutable scalars as they are)
    cur[path[-1]] = value if type(value) in _IMMUTABLE else copy.deepcopy(value)


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


def ensure_table(tree: dict, path: tuple) -> bool:
    """Whether the table had to be added."""
    cur, added = tree, False
    for k in path:
        if not isinstance(cur, dict):
            return added
        if k not in cur:
            cur[k], added = {}, True
        cur = cur[k]
    return added


def describe_value(path: tuple, value: Any) -> str:
    return repr(redact(path, value))

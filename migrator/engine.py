"""Apply a chain of rule sets to a config: where every key path goes, and the tree that results.

The engine works on paths only; it knows nothing of text. `Mapper.target(path)` answers for any
path (a leaf, a table header, a key written with an inline table), so the emitter and the
accounting ask the same question and get the same answer.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from migrator import transforms
from migrator.report import Finding, dotted, redact
from migrator.rules import PLUGIN_LISTS, Rule, RuleSet


@dataclass(frozen=True)
class Target:
    path: tuple | None                      # None: dropped
    rules: tuple[Rule, ...] = ()            # the rules that moved it, one per step at most
    converts: tuple[Rule, ...] = ()         # convert rules whose transform applies to the value
    copy: bool = False
    drop_reason: str | None = None
    at: tuple | None = None                 # where it stood when a rule dropped it

    @property
    def rule(self) -> Rule | None:
        return self.rules[-1] if self.rules else None

    def rank(self) -> tuple:
        return max((r.rank() for r in self.rules), default=(-1, ()))


def _best(rules: tuple[Rule, ...], path: tuple, kinds: set[str],
          holds=lambda rule: True) -> tuple[Rule, list[str]] | None:
    best: tuple[Rule, list[str]] | None = None
    for rule in rules:
        if rule.kind not in kinds or not holds(rule):
            continue
        caps = rule.src.match(path)
        if caps is None:
            continue
        if best is None or rule.rank() > best[0].rank():
            best = (rule, caps)
    return best


_MOVES = {"move", "keep", "convert", "drop", "plugin"}


class Mapper:
    def __init__(self, chain: list[RuleSet], drops: dict[tuple, str] | None = None,
                 tree: dict | None = None) -> None:
        self.chain = chain
        self.drops = drops or {}      # input paths dropped on purpose (allowed losses)
        self.tree = tree or {}        # for `when` / `unless` conditions
        self._cache: dict[tuple, list[Target]] = {}
        self._stages: dict[int, set[tuple]] = {}
        self.kept_copies: set[tuple] = set()   # input paths whose reversed copy must not drop

    def targets(self, path: tuple) -> list[Target]:
        """Primary target first, then copies."""
        hit = self._cache.get(path)
        if hit is None:
            hit = self._cache[path] = self._map(path)
        return hit

    def present(self, step: int) -> set[tuple]:
        """Every key path (and its tables) set in the file as it stands before a step."""
        if step not in self._stages:
            paths: set[tuple] = set()
            for leaf, value in leaves(self.tree):
                if value in ("", 0, False, [], {}) and not isinstance(value, float):
                    continue  # Go's zero value: containerd treats the key as not set
                for t in self._map(leaf, step):
                    if t.path is not None:
                        paths.update(t.path[:n] for n in range(1, len(t.path) + 1))
            self._stages[step] = paths
        return self._stages[step]

    def holds(self, rule: Rule, step: int) -> bool:
        if not rule.when and not rule.unless:
            return True
        have = self.present(step)
        return all(p.segments in have for p in rule.when) and \
            not any(p.segments in have for p in rule.unless)

    def target(self, path: tuple) -> Target:
        return self.targets(path)[0]

    def _map(self, path: tuple, upto: int | None = None) -> list[Target]:
        for n in range(len(path), 0, -1):
            if path[:n] in self.drops:
                return [Target(None, drop_reason=self.drops[path[:n]])]
        current = [Target(path)]
        for i, step in enumerate(self.chain[:upto]):
            nxt: list[Target] = []
            for t in current:
                if t.path is None:
                    nxt.append(t)
                    continue
                keep = path in self.kept_copies
                nxt.append(self._step(step, t, lambda rule: self.holds(rule, i) and not (
                    keep and rule.copy_of is not None)))
                for rule in step.rules:
                    if rule.kind == "copy" and rule.dst is not None and self.holds(rule, i):
                        caps = rule.src.match(t.path)
                        if caps is not None:
                            new = rule.dst.fill(caps) + t.path[len(rule.src.segments):]
                            via = (rule,) if rule.transform else ()
                            nxt.append(Target(new, t.rules + (rule,), t.converts + via,
                                              copy=True))
            current = nxt
        return current

    @staticmethod
    def _step(step: RuleSet, t: Target, holds=lambda rule: True) -> Target:
        assert t.path is not None
        found = _best(step.rules, t.path, _MOVES, holds)
        if found is None:
            return t
        rule, caps = found
        if rule.kind == "drop":
            return Target(None, t.rules + (rule,), t.converts, t.copy, rule.reason, t.path)
        assert rule.dst is not None
        new = rule.dst.fill(caps) + t.path[len(rule.src.segments):]
        exact = len(t.path) == len(rule.src.segments)
        converts = t.converts + ((rule,) if rule.kind == "convert" and exact else ())
        if rule.kind == "keep" or (new == t.path and not converts and not rule.warn
                                   and not rule.differs):
            return Target(new, t.rules, converts, t.copy)
        return Target(new, t.rules + (rule,), converts, t.copy)

    def entry(self, name: str) -> tuple[list[str], list[Rule]]:
        """New names of a disabled_plugins / required_plugins entry."""
        names, used = [name], []
        for step in self.chain:
            out: list[str] = []
            for n in names:
                found = _best(step.rules, (n,), {"entry"})
                if found is not None:
                    out.extend(found[0].entries)
                    used.append(found[0])
                    continue
                found = _best(step.rules, ("plugins", n), {"plugin"})
                if found is not None and found[0].dst is not None:
                    new = found[0].dst.fill(found[1])[1]
                    if new != n:
                        used.append(found[0])
                    out.append(new)
                    continue
                out.append(n)
            names = out
        return names, used


def leaves(tree: dict, prefix: tuple = ()) -> list[tuple[tuple, Any]]:
    """Every value that is not a table, plus empty tables (they are settings too)."""
    out: list[tuple[tuple, Any]] = []
    for k, v in tree.items():
        path = prefix + (k,)
        if isinstance(v, dict) and v:
            out.extend(leaves(v, path))
        else:
            out.append((path, v))
    return out


@dataclass
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


def convert(target: Target, value: Any) -> Any:
    for rule in target.converts:
        assert rule.transform is not None
        name, args = rule.transform
        value = transforms.apply(name, args, value, reverse=rule.reverse)
        if isinstance(value, transforms.Drop):
            return value
    return value


def plan(tree: dict, chain: list[RuleSet], drops: dict[tuple, str] | None = None,
         kept_copies: set[tuple] | None = None, sets: dict[tuple, Any] | None = None) -> Plan:
    """Where every input leaf goes; `sets` (in target coordinates) override or add values."""
    mapper = Mapper(chain, drops, tree)
    mapper.kept_copies = set(kept_copies or ())
    placed: dict[tuple, Placed] = {}
    result = Plan(mapper, {}, placed)
    for path, value in leaves(tree):
        if len(path) == 1 and path[0] in PLUGIN_LISTS and isinstance(value, list):
            value = _map_entries(mapper, value)
        for t in mapper.targets(path):
            if t.copy and value == "":
                continue  # an empty value is the default: a copy of it says nothing
            _warn(result, t, path)
            if t.path is None:
                result.dropped.append(Dropped(path, value, t.rule, t.drop_reason or "removed"))
                continue
            try:
                new = convert(t, value)
            except transforms.Unrepresentable as exc:
                result.dropped.append(Dropped(path, value, t.converts[-1], str(exc), loss=True))
                continue
            if isinstance(new, transforms.Drop):
                result.dropped.append(Dropped(path, value, t.converts[-1], new.reason))
                continue
            result.values[(path, t.path)] = new
            merge = any(transforms.TRANSFORMS[r.transform[0]].merge_lists
                        for r in t.converts if r.transform)
            _place(result, Placed(new, t.rank(), path, merge), t.path)
        _checks(result, chain, path, value)
    kept = _copies_that_differ(result, chain)
    if kept:
        return plan(tree, chain, drops, mapper.kept_copies | kept, sets)
    for path, value in (sets or {}).items():
        _apply_set(result, path, value)
    for path, p in placed.items():
        _set(result.expected, path, p.value)
    return result


def _apply_set(result: Plan, path: tuple, value: Any) -> None:
    old = result.placed.get(path)
    if old is not None:
        if old.value != value:
            result.overrides[path] = value
            result.placed[path] = Placed(value, old.rank, old.source, old.merge)
        return
    inside = [p for p in result.placed if p[:len(path)] == path and len(p) > len(path)]
    above = [p for p in result.placed if path[:len(p)] == p]
    if inside or above:
        raise ValueError(f"{dotted(path)} is a table here, or inside a value; cannot set it")
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


def _warn(result: Plan, t: Target, path: tuple) -> None:
    for rule in t.rules:
        if rule.differs:
            prefix = dotted(path[:len(rule.src.segments)])
            if not any(f.code == rule.id and f.path == prefix for f in result.findings):
                result.findings.append(Finding(
                    "info", rule.id, f"containerd's own migration differs here: {rule.differs}",
                    prefix))
        if rule.warn:
            prefix = dotted(path[:len(rule.src.segments)])
            if not any(f.code == rule.id and f.path == prefix for f in result.findings):
                result.findings.append(Finding("warning", rule.id, rule.warn, prefix))


def _map_entries(mapper: Mapper, value: list) -> list:
    out: list = []
    for item in value:
        names = mapper.entry(item)[0] if isinstance(item, str) else [item]
        # read backwards, a split entry collapses: several names become the same one
        out.extend(n for n in names if not (out and n == out[-1] and n != item))
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


def _checks(result: Plan, chain: list[RuleSet], path: tuple, value: Any) -> None:
    current: tuple | None = path
    for step in chain:
        if current is None:
            return
        for rule in step.rules:
            if rule.kind == "check" and rule.src.match(current) is not None and \
                    len(current) == len(rule.src.segments) and \
                    (rule.value is None or rule.value == value):
                msg = rule.reason or ""
                if rule.use:
                    msg += f" (use {rule.use})"
                result.findings.append(Finding("warning", rule.id, msg, dotted(path)))
        current = Mapper([step]).target(current).path


def _set(tree: dict, path: tuple, value: Any) -> None:
    cur = tree
    for k in path[:-1]:
        nxt = cur.setdefault(k, {})
        if not isinstance(nxt, dict):
            raise ValueError(f"{dotted(path)} would be a table inside a value")
        cur = nxt
    if isinstance(value, dict) and not value and isinstance(cur.get(path[-1]), dict):
        return
    cur[path[-1]] = copy.deepcopy(value)  # never share objects with the input tree


def ensure_table(tree: dict, path: tuple) -> None:
    cur = tree
    for k in path:
        if not isinstance(cur, dict):
            return
        cur = cur.setdefault(k, {})


def describe_value(path: tuple, value: Any) -> str:
    return repr(redact(path, value))

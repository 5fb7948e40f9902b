"""Apply a chain of rule sets to a config: where every key path goes, and the tree that results.

The engine works on paths only; it knows nothing of text. `Mapper.target(path)` answers for any
path (a leaf, a table header, a key written with an inline table), so the emitter and the
accounting ask the same question and get the same answer.
"""
from __future__ import annotations

import copy
import functools
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


def _target(path: tuple | None, rules: tuple[Rule, ...] = (), converts: tuple[Rule, ...] = (),
            copy: bool = False) -> Target:
    """Target(path, rules, converts, copy): the same object, filled in directly (as unpickling
    does) rather than field by field through the frozen dataclass's __init__, which is most of
    the cost of mapping a path."""
    t = object.__new__(Target)
    t.__dict__.update(path=path, rules=rules, converts=converts, copy=copy, drop_reason=None,
                      at=None)
    return t


def _best(step: RuleSet | tuple[Rule, ...], path: tuple, kinds: frozenset[str] | set[str],
          holds=lambda rule: True) -> tuple[Rule, list[str]] | None:
    """The most specific matching rule; ties go to the rule written first.

    Given a RuleSet, only the rules its index says can match are tried; given a plain tuple
    of rules, all of them."""
    best: tuple[Rule, list[str]] | None = None
    best_key: tuple | None = None
    if isinstance(step, RuleSet):
        candidates = step.candidates(path, frozenset(kinds))
    else:
        candidates = [(i, r) for i, r in enumerate(step) if r.kind in kinds]
    for pos, rule in candidates:
        caps = rule.src.match(path)
        if caps is None:
            continue
        key = (rule.rank(), -pos)
        if (best_key is None or key > best_key) and holds(rule):
            best, best_key = (rule, caps), key
    return best


_MOVES = frozenset({"move", "keep", "convert", "drop", "plugin"})
_COPY = frozenset({"copy"})
_CHECK = frozenset({"check"})
_ENTRY = frozenset({"entry"})
_PLUGIN = frozenset({"plugin"})


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
        for n in range(len(path), 0, -1) if self.drops else ():
            if path[:n] in self.drops:
                return [Target(None, drop_reason=self.drops[path[:n]])]
        current = [_target(path)]
        for i, step in enumerate(self.chain[:upto]):
            nxt: list[Target] = []
            for t in current:
                if t.path is None:
                    nxt.append(t)
                    continue
                entries = step.lookup(t.path)   # the rules that can match, of all kinds
                keep = path in self.kept_copies
                nxt.append(self._step(t, self._move(entries, t.path, i, keep)))
                copies = [e for e in entries if e[1].kind == "copy"]
                copies.sort(key=_written_first)
                for _, rule in copies:
                    if rule.dst is not None and self.holds(rule, i):
                        caps = rule.src.match(t.path)
                        if caps is not None:
                            new = rule.dst.fill(caps) + t.path[len(rule.src.segments):]
                            via = (rule,) if rule.transform else ()
                            nxt.append(_target(new, t.rules + (rule,), t.converts + via,
                                               copy=True))
            current = nxt
        return current

    def _move(self, entries: list[tuple[tuple, Rule]], path: tuple, step: int,
              keep: bool) -> tuple[Rule, list[str]] | None:
        """The move, keep, convert, drop or plugin rule that wins for path (`_best`)."""
        best: tuple[Rule, list[str]] | None = None
        best_key: tuple | None = None
        for key, rule in entries:
            if rule.kind not in _MOVES or (best_key is not None and key <= best_key):
                continue
            caps = rule.src.match(path)
            if caps is None:
                continue
            if (rule.when or rule.unless or keep) and not (
                    self.holds(rule, step) and not (keep and rule.copy_of is not None)):
                continue
            best, best_key = (rule, caps), key
        return best

    @staticmethod
    def _step(t: Target, found: tuple[Rule, list[str]] | None) -> Target:
        assert t.path is not None
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
            return _target(new, t.rules, converts, t.copy)
        return _target(new, t.rules + (rule,), converts, t.copy)

    def entry(self, name: str) -> tuple[list[str], list[Rule]]:
        """New names of a disabled_plugins / required_plugins entry."""
        names, used = [name], []
        for step in self.chain:
            out: list[str] = []
            for n in names:
                found = _best(step, (n,), _ENTRY)
                if found is not None:
                    out.extend(found[0].entries)
                    used.append(found[0])
                    continue
                found = _best(step, ("plugins", n), _PLUGIN)
                if found is not None and found[0].dst is not None:
                    new = found[0].dst.fill(found[1])[1]
                    if new != n:
                        used.append(found[0])
                    out.append(new)
                    continue
                out.append(n)
            names = out
        return names, used


def _position(candidate: tuple[int, Rule]) -> int:
    return candidate[0]


def _written_first(entry: tuple[tuple, Rule]) -> int:
    return -entry[0][1]


@functools.lru_cache(maxsize=8192, typed=True)
def _dotted_part(part: Any) -> str:
    return dotted((part,))


def dotted_path(path: tuple) -> str:
    """report.dotted(path), the same string, with each part's rendering remembered (the same
    table names recur in every path of a file)."""
    out = [_dotted_part(part) for part in path]
    for i in range(1, len(out)):
        if not isinstance(path[i], int):
            out[i] = "." + out[i]
    return "".join(out)


def has_prefix_in(path: tuple, prefixes: set[tuple] | frozenset[tuple]) -> bool:
    """Whether some element of `prefixes` is a prefix of path (or path itself)."""
    return any(path[:n] in prefixes for n in range(len(path) + 1))


def under(prefixes: set[tuple], items: Any) -> dict[tuple, list]:
    """For each of the prefixes, the values of the (path, value) items whose path starts with
    it, in the items' order: one pass over the items instead of one per prefix."""
    lengths = sorted({len(p) for p in prefixes})
    out: dict[tuple, list] = {}
    for path, value in items:
        for n in lengths:
            if n > len(path):
                break
            key = path[:n]
            if key in prefixes:
                out.setdefault(key, []).append(value)
    return out


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
                new = convert(t, value)
            except transforms.Unrepresentable as exc:
                result.dropped.append(Dropped(path, value, t.converts[-1], str(exc), loss=True))
                continue
            if isinstance(new, transforms.Drop):
                result.dropped.append(Dropped(path, value, t.converts[-1], new.reason))
                continue
            result.values[(path, t.path)] = new
            merge = bool(t.converts) and any(transforms.TRANSFORMS[r.transform[0]].merge_lists
                                             for r in t.converts if r.transform)
            _place(result, Placed(new, t.rank(), path, merge), t.path)
        if steppers:
            _checks(result, steppers, path, value, warned)
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
    for p in [p for p in above if result.placed[p].value == {}]:
        del result.placed[p]   # an empty table (`[a]` with nothing below) takes the new key
        above.remove(p)
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


def _warn(result: Plan, t: Target, path: tuple, warned: dict[tuple[str, str], None]) -> None:
    """One finding per rule and matched key (`warned` holds the (code, path) of every finding
    the plan has, so the check is a lookup, not a scan of the findings)."""
    for rule in t.rules:
        if rule.differs:
            prefix = dotted_path(path[:len(rule.src.segments)])
            if (rule.id, prefix) not in warned:
                warned[(rule.id, prefix)] = None
                result.findings.append(Finding(
                    "info", rule.id, f"containerd's own migration differs here: {rule.differs}",
                    prefix))
        if rule.warn:
            prefix = dotted_path(path[:len(rule.src.segments)])
            if (rule.id, prefix) not in warned:
                warned[(rule.id, prefix)] = None
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


def ensure_table(tree: dict, path: tuple) -> None:
    cur = tree
    for k in path:
        if not isinstance(cur, dict):
            return
        cur = cur.setdefault(k, {})


def describe_value(path: tuple, value: Any) -> str:
    return repr(redact(path, value))

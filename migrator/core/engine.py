"""Apply a chain of rule sets to a config: where every key path goes, and the tree that results.

The engine works on paths only; it knows nothing of text. `Mapper.target(path)` answers for any
path (a leaf, a table header, a key written with an inline table), so the emitter and the
accounting ask the same question and get the same answer.
"""
from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from typing import Any, Callable

from migrator.core import transforms
from migrator.core.errors import ConfigError
from migrator.core.paths import dotted
from migrator.core.results import Finding
from migrator.core.rules import PLUGIN_LISTS, Rule, RuleSet
from migrator.core.secrets import redact


@dataclass(frozen=True)
class Target:
    path: tuple | None                      # None: dropped
    rules: tuple[Rule, ...] = ()            # the rules that moved it, one per step at most
    converts: tuple[Rule, ...] = ()         # convert rules whose transform applies to the value
    copy: bool = False
    drop_reason: str | None = None
    at: tuple | None = None                 # where it stood when a rule dropped it
    stays: tuple[Rule, ...] = ()            # splits whose remainder this is (transforms.Split)

    @property
    def rule(self) -> Rule | None:
        return self.rules[-1] if self.rules else None

    def rank(self) -> tuple:
        # a key respelled by a `spell` rule loses to the key written with the listed name:
        # containerd 1.x tries the exact name first (go-toml v1 `keysToTry`)
        best = max((r.rank() for r in self.rules if r.kind != "spell"), default=(-1, ()))
        return best + (0 if any(r.kind == "spell" for r in self.rules) else 1,)


def _target(path: tuple | None, rules: tuple[Rule, ...] = (), converts: tuple[Rule, ...] = (),
            copy: bool = False, stays: tuple[Rule, ...] = ()) -> Target:
    """Target(path, rules, converts, copy): the same object, filled in directly (as unpickling
    does) rather than field by field through the frozen dataclass's __init__, which is most of
    the cost of mapping a path."""
    t = object.__new__(Target)
    t.__dict__.update(path=path, rules=rules, converts=converts, copy=copy, drop_reason=None,
                      at=None, stays=stays)
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
_SPELL = frozenset({"spell"})


class Mapper:
    def __init__(self, chain: list[RuleSet], drops: dict[tuple, str] | None = None,
                 tree: dict | None = None,
                 spelling: Callable[[tuple, str], str | None] | None = None) -> None:
        self.chain = chain
        self.spelling = spelling      # (table, key) -> the target's spelling of key, for `spell`
        self.strays: dict[tuple, list[RuleSet]] = {}  # key path -> the chain that maps it
        self.drops = drops or {}      # input paths dropped on purpose (allowed losses)
        self.tree = tree or {}        # for `when` / `unless` conditions
        self._cache: dict[tuple, list[Target]] = {}
        self._stages: dict[int, set[tuple]] = {}
        self.kept_copies: set[tuple] = set()   # input paths whose reversed copy must not drop
        self.lost_parts: dict[tuple, str] = {}  # input paths whose split remainder is a loss

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
        chain = self.chain_for(path) if self.strays else self.chain
        for i, step in enumerate(chain[:upto]):
            nxt: list[Target] = []
            for t in current:
                if t.path is None:
                    nxt.append(t)
                    continue
                entries = step.lookup(t.path)   # the rules that can match, of all kinds
                keep = path in self.kept_copies
                found = self._move(entries, t.path, i, keep)
                moved = self._step(t, found)
                if self.spelling is not None and moved.path is not None:
                    moved = self._spell(step, moved, path)
                nxt.append(moved)
                if found is not None and _splits(found[0]) and moved.converts[-1:] == found[:1]:
                    nxt.append(self._remainder(t, found[0], path))
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

    def _remainder(self, t: Target, rule: Rule, origin: tuple) -> Target:
        """What a split leaves where the key stood before the rule (read backwards, a shim
        env's entries other than SCHED_CORE=1); it takes the later steps like any key."""
        assert t.path is not None
        why = self.lost_parts.get(origin)
        if why is not None:
            return Target(None, t.rules, t.converts + (rule,), t.copy, why, t.path,
                          t.stays + (rule,))
        return _target(t.path, t.rules, t.converts + (rule,), t.copy, t.stays + (rule,))

    def chain_for(self, path: tuple) -> list[RuleSet]:
        """The steps a key path takes: a key of the file's previous version (a stray) takes
        the steps from that version."""
        for n in range(1, len(path) + 1):
            hit = self.strays.get(path[:n])
            if hit is not None:
                return hit
        return self.chain

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

    def _spell(self, step: RuleSet, t: Target, origin: tuple) -> Target:
        """A key of a `spell` table written in another case than the target release's name for
        it takes that name. When its table also has the key so spelled, the two meet at one
        path and the listed spelling wins (`rank`); read backwards, where the newer release's
        choice between them is unknown, both stay."""
        assert t.path is not None and self.spelling is not None
        for _, rule in step.candidates(t.path, _SPELL):
            n = len(rule.src.segments)
            if len(t.path) <= n or rule.src.match(t.path) is None:
                continue
            name = self.spelling(t.path[:n], t.path[n])
            k = len(t.path) - n          # the key and what lies below it, in the input too
            if name is None or name == t.path[n] or len(origin) < k or (
                    rule.reverse and name in _get_table(self.tree, origin[:-k])):
                continue
            return _target(t.path[:n] + (name,) + t.path[n + 1:], t.rules + (rule,),
                           t.converts, t.copy)
        return t

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


def _splits(rule: Rule) -> bool:
    return rule.kind == "convert" and rule.reverse and rule.transform is not None and \
        transforms.splits(rule.transform[0])


def _get_table(tree: dict, path: tuple) -> dict:
    cur: Any = tree
    for k in path:
        cur = cur.get(k) if isinstance(cur, dict) else None
    return cur if isinstance(cur, dict) else {}


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


def ensure_table(tree: dict, path: tuple) -> None:
    cur = tree
    for k in path:
        if not isinstance(cur, dict):
            return
        cur = cur.setdefault(k, {})


def describe_value(path: tuple, value: Any) -> str:
    return repr(redact(path, value))

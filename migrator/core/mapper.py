"""Where a key path goes through a chain of rule sets: `Mapper.target(path)` answers for any path
(a leaf, a table header, a key written with an inline table), so the engine, the emitter and
the accounting ask the same question and get the same answer."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from migrator.core import transforms
from migrator.core.paths import leaves
from migrator.core.rules import Rule, RuleSet


@dataclass(frozen=True, slots=True)  # one per key of the file, some per copy: no __dict__ each
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
    """Target(path, rules, converts, copy): the same object, its slots filled in directly
    rather than through the frozen dataclass's __init__ and its keyword handling, which is
    most of the cost of mapping a path."""
    t = _new(Target)
    _set(t, "path", path)
    _set(t, "rules", rules)
    _set(t, "converts", converts)
    _set(t, "copy", copy)
    _set(t, "drop_reason", None)
    _set(t, "at", None)
    _set(t, "stays", stays)
    return t


_new, _set = object.__new__, object.__setattr__


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

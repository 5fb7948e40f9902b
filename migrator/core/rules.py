"""Rule sets: the knowledge of what moved between config versions, read from migrator/rules/*.rules.

Each file covers one version step and is parsed with the lark grammar in grammar/rules.lark.
A rule matches a key path by prefix (`*` in a segment is a glob whose matches are reused in the
destination); the most specific matching rule wins, ties going to the earlier rule.
Read backwards (`RuleSet.reversed()`), the same rules describe the downgrade.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Literal

from migrator.core.resources import data_path, package_path
from migrator.speed.cache import compiled

RuleKind = Literal["move", "keep", "convert", "copy", "drop", "plugin", "entry", "check",
                   "spell"]
PLUGIN_LISTS = ("disabled_plugins", "required_plugins")


@dataclass(frozen=True)
class Pattern:
    segments: tuple[str, ...]

    def __post_init__(self) -> None:
        # derived once per pattern (not dataclass fields: equality and hashing are unchanged);
        # the regexes of the globs are compiled when a match first needs them
        object.__setattr__(self, "_literal", not any("*" in s for s in self.segments))
        object.__setattr__(self, "_spec", (len(self.segments), tuple(
            2 if "*" not in s else (1 if s != "*" else 0) for s in self.segments)))

    @property
    def regexes(self) -> tuple[re.Pattern[str] | None, ...]:
        return _compile(self.segments)

    def match(self, path: tuple) -> list[str] | None:
        """Captures of the globs when the pattern matches a prefix of path, else None."""
        n = len(self.segments)
        if len(path) < n:
            return None
        if self._literal:  # type: ignore[attr-defined]
            return [] if path[:n] == self.segments else None
        captures: list[str] = []
        for seg, rx, part in zip(self.segments, _compile(self.segments), path):
            if rx is None:
                if part != seg:
                    return None
                continue
            if not isinstance(part, str):
                return None
            m = rx.fullmatch(part)
            if m is None:
                return None
            captures.extend(m.groups())
        return captures

    def fill(self, captures: list[str]) -> tuple[str, ...]:
        if self._literal:  # type: ignore[attr-defined]
            return self.segments
        it = iter(captures)
        return tuple(s if "*" not in s else next(it) if s == "*" else
                     re.sub(r"\*", lambda _: next(it), s) for s in self.segments)

    def specificity(self) -> tuple[int, tuple[int, ...]]:
        return self._spec  # type: ignore[attr-defined]

    def __str__(self) -> str:
        from migrator.core.paths import dotted
        return dotted(self.segments)


@cache
def _compile(segments: tuple[str, ...]) -> tuple[re.Pattern[str] | None, ...]:
    return tuple(
        re.compile("(.*)".join(re.escape(p) for p in s.split("*"))) if "*" in s else None
        for s in segments)


@dataclass(frozen=True)
class Rule:
    kind: RuleKind
    id: str
    src: Pattern
    dst: Pattern | None = None
    transform: tuple[str, tuple[str, ...]] | None = None   # (name, args) for convert
    reason: str | None = None                              # drop "because", check "warn"
    use: str | None = None                                  # what to use instead
    value: str | None = None                                # check "is"
    entries: tuple[str, ...] = ()                           # entry: the new names
    release: str | None = None
    source: str | None = None
    differs: str | None = None
    warn: str | None = None
    when: tuple[Pattern, ...] = ()                          # only if these keys are set
    unless: tuple[Pattern, ...] = ()                        # only if these keys are not set
    copy_of: Pattern | None = None                          # read backwards: the copy's source
    since: str | None = None                                # only for target releases >= since
    before: str | None = None                               # only for target releases < before
    reverse: bool = False                                   # read backwards

    def applies_to(self, release: str | None) -> bool:
        if release is None:
            return True
        r = release_key(release)
        return (self.since is None or r >= release_key(self.since)) and \
            (self.before is None or r < release_key(self.before))

    def rank(self) -> tuple[int, tuple[int, ...]]:
        return self.src.specificity()


@dataclass(frozen=True)
class RuleSet:
    from_version: int
    to_version: int
    title: str
    rules: tuple[Rule, ...]
    file: str = ""
    releases: tuple[str, ...] = ()      # containerd release lines that read to_version natively
    native: str = ""                    # the release whose spellings a plain `--to` uses

    def reversed(self) -> "RuleSet":
        return _reverse(self)

    def for_release(self, release: str | None) -> "RuleSet":
        """Only the rules that hold for a target release (release-specific spellings)."""
        return replace(self, rules=tuple(r for r in self.rules if r.applies_to(release)))

    def lookup(self, path: tuple) -> list[tuple[tuple, Rule]]:
        """((rank, -position), rule) for the rules whose pattern can match path: the ones
        whose literal segments and bare `*`s fit it, up to any partial glob (`foo*`).
        Which of them matches is still `rule.src.match`'s answer; this index only saves asking
        the others. The key orders them as `_best` does: the most specific wins, ties going to
        the rule written first."""
        trie = self.__dict__.get("_trie")
        if trie is None:
            trie = _trie(((r.rank(), -i), r) for i, r in enumerate(self.rules))
            object.__setattr__(self, "_trie", trie)
        return _walk(trie, path)

    def candidates(self, path: tuple, kinds: frozenset[str]) -> list[tuple[int, Rule]]:
        """(position in `rules`, rule) for the `lookup` rules of these kinds (an index of
        their own, so that asking for a rare kind costs little)."""
        tries = self.__dict__.get("_tries")
        if tries is None:
            tries = {}
            object.__setattr__(self, "_tries", tries)
        trie = tries.get(kinds)
        if trie is None:
            trie = tries[kinds] = _trie(((r.rank(), -i), r) for i, r in enumerate(self.rules)
                                        if r.kind in kinds)
        return [(-key[1], rule) for key, rule in _walk(trie, path)]


def _walk(trie: list, path: tuple) -> list[tuple[tuple, Rule]]:
    out = list(trie[2])
    nodes = [trie]
    for part in path:
        nxt = []
        for node in nodes:
            child = node[0].get(part)
            if child is not None:
                nxt.append(child)
            if node[1] is not None and isinstance(part, str):
                nxt.append(node[1])
        if not nxt:
            break
        for node in nxt:
            out.extend(node[2])
        nodes = nxt
    return out


def _trie(rules) -> list:
    """Nodes are [literal children, the child for a bare `*`, rules that end here]; a rule
    with a partial glob (`foo*`) ends where that segment starts."""
    root: list = [{}, None, []]
    for key, rule in rules:
        node = root
        for seg in rule.src.segments:
            if seg == "*":
                if node[1] is None:
                    node[1] = [{}, None, []]
                node = node[1]
            elif "*" in seg:
                break
            else:
                node = node[0].setdefault(seg, [{}, None, []])
        node[2].append((key, rule))
    return root


def release_key(release: str) -> tuple[int, ...]:
    from migrator.core.catalog import (
        release_key as key,  # pre-releases ("2.4.0-beta.0") too
    )
    return key(release)


def _forward(rs: RuleSet, pattern: Pattern) -> Pattern:
    """Where a key of the step's source version lives after the step (for conditions)."""
    best: tuple[Rule, list[str]] | None = None
    for rule in rs.rules:
        if rule.kind in ("move", "plugin", "convert", "keep") and rule.dst is not None:
            caps = rule.src.match(pattern.segments)
            if caps is not None and (best is None or rule.rank() > best[0].rank()):
                best = (rule, caps)
    if best is None or best[0].dst is None:
        return pattern
    rule, caps = best
    return Pattern(rule.dst.fill(caps) + pattern.segments[len(rule.src.segments):])


def _reverse(rs: RuleSet) -> RuleSet:
    out: list[Rule] = []
    uncopies: list[Rule] = []   # first: on a tie, a value that is still a copy goes away
    for r in rs.rules:
        r = replace(r, when=tuple(_forward(rs, p) for p in r.when),
                    unless=tuple(_forward(rs, p) for p in r.unless))
        if r.kind in ("move", "plugin", "convert") and r.dst is not None:
            out.append(replace(r, src=r.dst, dst=r.src, reverse=True))
        elif r.kind in ("keep", "spell"):
            out.append(replace(r, reverse=True))
        elif r.kind == "copy" and r.dst is not None:
            # the copy's target has no home below the step: it goes away with the downgrade,
            # as long as it still equals what the copy would make of its source
            uncopies.append(replace(r, kind="drop", src=r.dst, dst=None, reverse=True,
                                    copy_of=r.src, when=(), unless=(),
                                    reason=f"only a copy of {r.src}, which keeps the setting"))
        elif r.kind == "entry":
            for name in r.entries:
                out.append(replace(r, src=Pattern((name,)), entries=(r.src.segments[0],),
                                   reverse=True))
    return RuleSet(rs.to_version, rs.from_version, rs.title + " (read backwards)",
                   tuple(uncopies + out),
                   rs.file)  # releases: see release_lines(), which reads the upward steps


@cache
def rule_sets() -> dict[tuple[int, int], RuleSet]:
    """Every step the rules directory knows, upward ones as written and their reversals.

    Parsing needs lark and the grammar (~0.2 s, most of a one-file run); the parsed rules are
    kept in the compiled cache (migrator.speed.cache), keyed by the contents of the rules files,
    the grammar and this module, so any edit to them is a miss and a new parse."""
    files = sorted(package_path("rules").glob("*.rules"))
    parsed: dict[tuple[int, int], RuleSet] = {}

    from migrator.core import rules_codec, rules_parser

    def parse() -> tuple:
        for path in files:
            rs = rules_parser.parse_rules(path.read_text(), path.name)
            parsed[(rs.from_version, rs.to_version)] = rs
            if rs.from_version == rs.to_version:
                continue  # spellings of one version for some releases: nothing to reverse
            back = rs.reversed()
            parsed[(back.from_version, back.to_version)] = back
        return rules_codec.encode_rule_sets(parsed)

    here = Path(__file__).parent
    data = compiled("rules", [Path(__file__), here / "rules_parser.py", here / "rules_codec.py",
                              data_path("grammar") / "rules.lark", *files], parse)
    if parsed:  # parsed just now
        return parsed
    decoded = rules_codec.decode_rule_sets(data)
    if decoded is None:  # a cache entry that is not ours: parse after all
        parse()
        return parsed
    return decoded


def chain(source: int, target: int, release: str | None = None) -> list[RuleSet]:
    """The steps from source to target; an upward chain ends with the target release's spellings."""
    return list(_chain(source, target, release))


@cache
def _chain(source: int, target: int, release: str | None) -> tuple[RuleSet, ...]:
    # the same RuleSet objects every time, so their rule indexes (RuleSet.candidates) are built
    # once per process
    steps = rule_sets()
    out, v = [], source
    while v != target:
        nxt = v + 1 if target > v else v - 1
        out.append(steps[(v, nxt)])
        v = nxt
    if out and target > source:
        out[-1] = out[-1].for_release(release or native_release(target))
    # vN-vN.rules: what some releases of the target version spell differently (2.4 dropped
    # keys that 2.3 still reads); the step applies after the chain, also to a file that is
    # already at the target version
    own = steps.get((target, target))
    if own is not None and release is not None:
        own = own.for_release(release)
        if any(r.since or r.before for r in own.rules):
            out.append(own)
    return tuple(out)


def release_lines() -> dict[str, int]:
    """Each containerd release line and the config version it reads natively."""
    return dict(_release_lines())


@cache
def _release_lines() -> dict[str, int]:
    from migrator.core import (
        catalog,  # the release lines are catalog data (migrator/releases/)
    )
    return {name: entry.config_version for name, entry in catalog.lines().items()}


def native_release(version: int) -> str | None:
    """The release whose spellings a plain `--to VERSION` writes."""
    for (a, b), rs in rule_sets().items():
        if b == version and b > a and a == b - 1:
            return rs.native
    return None


@cache
def known_versions() -> tuple[int, ...]:
    versions = {v for step in rule_sets() for v in step}
    return tuple(sorted(versions))


def parse_rules(text: str, file: str = "<rules>") -> RuleSet:
    """A rules file's text as a RuleSet (rules_parser.py; lark is imported only here)."""
    from migrator.core.rules_parser import parse_rules as parse
    return parse(text, file)

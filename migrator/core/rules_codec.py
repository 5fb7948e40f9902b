"""The rule sets as plain data for the compiled cache (migrator.speed.cache): marshal holds
them, nothing in them is ever executed, and decoding fills the frozen objects directly."""
from __future__ import annotations

from dataclasses import fields
from typing import Any

from migrator.core.rules import Pattern, Rule, RuleSet

_PATTERN_FIELDS = frozenset({"src", "dst", "copy_of"})
_PATTERNS_FIELDS = frozenset({"when", "unless"})


def _encode_rule(rule: Rule) -> tuple:
    out = []
    for f in fields(Rule):
        v = getattr(rule, f.name)
        if f.name in _PATTERN_FIELDS:
            v = None if v is None else v.segments
        elif f.name in _PATTERNS_FIELDS:
            v = tuple(p.segments for p in v)
        out.append(v)
    return tuple(out)


def encode_rule_sets(steps: dict[tuple[int, int], RuleSet]) -> tuple:
    return (tuple(f.name for f in fields(Rule)),
            tuple((rs.from_version, rs.to_version, rs.title,
                   tuple(_encode_rule(r) for r in rs.rules), rs.file, rs.releases, rs.native)
                  for rs in steps.values()))


def _pattern(segments: tuple[str, ...], memo: dict) -> Pattern:
    hit = memo.get(segments)
    if hit is None:
        hit = memo[segments] = Pattern(segments)
    return hit


def decode_rule_sets(data: Any) -> dict[tuple[int, int], RuleSet] | None:
    """The rule sets again; the frozen objects are filled in directly (as unpickling does),
    which is what makes reading the cache cheap."""
    try:
        names, encoded = data
        if tuple(names) != tuple(f.name for f in fields(Rule)):
            return None
        memo: dict[tuple, Pattern] = {}
        steps: dict[tuple[int, int], RuleSet] = {}
        for (a, b, title, rules_, file, releases, native) in encoded:
            out = []
            for values in rules_:
                kw = dict(zip(names, values, strict=True))
                for name in _PATTERN_FIELDS:
                    if kw[name] is not None:
                        kw[name] = _pattern(tuple(kw[name]), memo)
                for name in _PATTERNS_FIELDS:
                    kw[name] = tuple(_pattern(tuple(p), memo) for p in kw[name])
                rule = Rule.__new__(Rule)
                rule.__dict__.update(kw)
                out.append(rule)
            steps[(a, b)] = RuleSet(a, b, title, tuple(out), file, tuple(releases), native)
        return steps
    except Exception:
        return None

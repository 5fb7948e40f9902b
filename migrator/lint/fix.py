"""Apply a lint `Fix` with the migration machinery: engine plan, emitter, re-parse and compare.

A fix is turned into a one-step rule set from the file's version to itself (literal `move`,
`convert` and `entry` rules), plus drops and sets, and run through the same `Emitter` that
migrations use. Everything the fix does not name stays byte for byte; moved keys take their
comments along (docs/emitting.md). The output is parsed again and must equal, value for value,
the tree the plan computed; a fix that would drop anything it did not ask to drop (a conflict)
is refused. Either way, a failed fix raises FixError and the text is left as it was.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

from migrator.core import catalog, engine, source
from migrator.core.errors import ConfigError
from migrator.core.paths import dotted
from migrator.core.rules import Pattern, Rule, RuleSet
from migrator.emit.emitter import Emitter
from migrator.lint.base import Fix, schema


class FixError(Exception):
    """The fix cannot be applied safely; nothing changes."""


@dataclass(frozen=True)
class LiteralPattern(Pattern):
    """A key path matched literally: `*` in a key (registry mirror "*") is not a glob."""

    @property
    def regexes(self) -> tuple[None, ...]:  # type: ignore[override]
        return (None,) * len(self.segments)

    def fill(self, captures: list[str]) -> tuple[str, ...]:
        return self.segments

    def specificity(self) -> tuple[int, tuple[int, ...]]:
        return len(self.segments), (2,) * len(self.segments)


def _version_of(tree: dict) -> int:
    v = tree.get("version")
    return v if isinstance(v, int) and not isinstance(v, bool) and \
        1 <= v <= max(catalog.versions()) else 2


def apply(text: str, fix: Fix) -> str:
    """The text with `fix` applied (a BOM-less str), or FixError."""
    try:
        tree = tomllib.loads(text)
        doc = source.parse(text)
    except (tomllib.TOMLDecodeError, AssertionError, IndexError, ValueError) as exc:
        raise FixError(f"cannot read the file: {exc}") from None
    version = _version_of(tree)
    made: list[Rule] = []
    for i, (src, dst) in enumerate(fix.moves):
        made.append(Rule("move", f"lint/{i}", LiteralPattern(tuple(src)),
                         LiteralPattern(tuple(dst)), reason=fix.description))
    for i, (src, dst, name, args, reverse) in enumerate(fix.converts):
        made.append(Rule("convert", f"lint/c{i}", LiteralPattern(tuple(src)),
                         LiteralPattern(tuple(dst)), transform=(name, tuple(args)),
                         reason=fix.description, reverse=reverse))
    if fix.entries:
        text, tree, doc = _edit_entries(text, tree, doc, dict(fix.entries))
    if not (made or fix.drops or fix.sets or fix.version is not None):
        return text
    chain = [RuleSet(version, version, "lint fixes", tuple(made))] if made else []
    drops = {tuple(p): "removed by a lint fix" for p in fix.drops}
    sets = {tuple(p): v for p, v in fix.sets}
    try:
        plan = engine.plan(tree, chain, drops or None, sets=sets or None)
    except (ConfigError, ValueError, KeyError, TypeError) as exc:  # a shape conflict among them
        raise FixError(str(exc)) from None
    for d in plan.dropped:
        if not any(d.path[:len(p)] == p for p in drops):
            raise FixError(f"{dotted(d.path)} would be lost ({d.reason})")
    target_version = fix.version
    try:
        emitter = Emitter(doc, plan, tree, target_version, schema(target_version or version))
        out = emitter.run()
    except (AssertionError, KeyError, IndexError, ValueError, TypeError) as exc:
        raise FixError(f"cannot edit the file: {exc}") from None
    expected = dict(plan.expected)
    for table in emitter.kept_tables():
        engine.ensure_table(expected, table)
    if target_version is not None:
        expected["version"] = target_version
    try:
        got = tomllib.loads(out)
    except tomllib.TOMLDecodeError as exc:
        raise FixError(f"the edited text does not parse ({exc})") from None
    if got != expected:
        raise FixError("the edited text does not mean what the fix says")
    return out


LISTS = ("disabled_plugins", "required_plugins")


def _edit_entries(text: str, tree: dict, doc: source.Document,
                  entries: dict[str, tuple[str, ...]]) -> tuple[str, dict, source.Document]:
    """Rename or remove entries of disabled_plugins / required_plugins token by token: the
    rest of the array, comments included, stays as written (a removed entry takes only its
    own comma along)."""
    edits: list[tuple[int, int, str]] = []
    expected = dict(tree)
    for st in doc.statements:
        if st.kind != "keyvalue" or st.path not in tuple((k,) for k in LISTS) or \
                st.value_kind != "array" or not isinstance(tree.get(st.path[0]), list):
            continue
        expected[st.path[0]] = [n for v in tree[st.path[0]]
                                for n in (entries.get(v, (v,)) if isinstance(v, str) else (v,))]
        elements = st.elements
        for i, (a, b) in enumerate(elements):
            raw = text[a:b]
            try:
                name = tomllib.loads("v = " + raw)["v"]
            except tomllib.TOMLDecodeError:
                continue
            if not isinstance(name, str) or name not in entries:
                continue
            new = entries[name]
            if new:
                quote = raw[0] if raw[:1] in ("'", '"') and all(raw[0] not in n for n in new) \
                    else '"'
                edits.append((a, b, ", ".join(_quoted(n, quote) for n in new)))
                continue
            j = _skip_blanks(text, b)
            if j < len(text) and text[j] == ",":     # the entry's own comma and the spaces after
                j = _skip_blanks(text, j + 1)
            elif i > 0 and text[elements[i - 1][1]:a].replace(",", "", 1).strip(" \t") == "":
                a = elements[i - 1][1]   # last on its line: drop ", x"
            # (otherwise the previous comma stays: a trailing comma is valid TOML)
            start = text.rfind("\n", 0, a) + 1
            if not text[start:a].strip(" \t") and text[j:j + 1] in ("\n", "\r"):
                a, j = start, text.find("\n", j) + 1   # the entry had the line to itself
            edits.append((a, j, ""))
    for a, b, new in sorted(edits, reverse=True):
        text = text[:a] + new + text[b:]
    try:
        got = tomllib.loads(text)
        doc = source.parse(text)
    except (tomllib.TOMLDecodeError, AssertionError, IndexError, ValueError) as exc:
        raise FixError(f"the edited list does not parse ({exc})") from None
    if got != expected:
        raise FixError("the edited list does not mean what the fix says")
    return text, got, doc


def _skip_blanks(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


def _quoted(name: str, quote: str) -> str:
    if quote == "'":
        return f"'{name}'"
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def merge(fixes: list[Fix]) -> Fix:
    """One fix that does what all of `fixes` do, in the same coordinates (FixError when two
    want different things of the same entry or version)."""
    versions = {f.version for f in fixes if f.version is not None}
    entries: dict[str, tuple[str, ...]] = {}
    for f in fixes:
        for name, new in f.entries:
            if entries.setdefault(name, new) != new:
                raise FixError(f"two fixes rename the entry {name!r} differently")
    if len(versions) > 1:
        raise FixError("two fixes write different versions")
    return Fix("; ".join(dict.fromkeys(f.description for f in fixes)),
               moves=tuple(m for f in fixes for m in f.moves),
               converts=tuple(c for f in fixes for c in f.converts),
               drops=tuple(d for f in fixes for d in f.drops),
               sets=tuple(s for f in fixes for s in f.sets),
               entries=tuple(entries.items()), version=versions.pop() if versions else None,
               strip_bom=any(f.strip_bom for f in fixes))


def applicable(text: str, fixes: list[Fix]) -> list[bool]:
    """Which of `fixes` apply to `text` (apply() succeeds and changes something). Fixes that can
    be applied together are judged in one pass; a group that fails is halved, so the cost is
    linear in the file when the fixes agree, which is the rule, not one pass per fix. A fix
    that applies only beside another counts, as --fix applies them together too."""
    verdict = [False] * len(fixes)
    tree: dict | None = None

    def judge(group: list[int]) -> None:
        nonlocal tree
        if len(group) == 1:
            verdict[group[0]] = applies(text, fixes[group[0]])
            return
        try:
            ok = apply(text, merge([fixes[i] for i in group])) != text
        except FixError:
            ok = False
        if ok:
            tree = tomllib.loads(text) if tree is None else tree
            for i in group:  # together they change the text: each that names something does
                verdict[i] = _touches(tree, fixes[i])
            return
        half = len(group) // 2
        judge(group[:half])
        judge(group[half:])

    if fixes:
        judge(list(range(len(fixes))))
    return verdict


def _touches(tree: dict, fix: Fix) -> bool:
    """Whether a fix names something the file has (a fix of nothing changes nothing)."""
    if fix.sets or fix.strip_bom or (fix.version is not None and tree.get("version") != fix.version):
        return True
    if any(_has(tree, tuple(src)) for src, _ in fix.moves) or \
            any(_has(tree, tuple(c[0])) for c in fix.converts) or \
            any(_has(tree, tuple(d)) for d in fix.drops):
        return True
    names = {v for k in LISTS for v in (tree.get(k) or ()) if isinstance(v, str)} \
        if isinstance(tree, dict) else set()
    return any(name in names for name, _ in fix.entries)


def _has(tree: Any, path: tuple) -> bool:
    for k in path:
        if not isinstance(tree, dict) or k not in tree:
            return False
        tree = tree[k]
    return True


def applies(text: str, fix: Fix) -> bool:
    if fix.strip_bom and not (fix.moves or fix.converts or fix.drops or fix.sets or fix.entries
                              or fix.version is not None):
        return True
    try:
        return apply(text, fix) != text
    except FixError:
        return False


def describe(value: Any) -> str:
    from migrator.emit.emitter import render_value
    return render_value(value)

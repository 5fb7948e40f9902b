"""The rules language read with the lark grammar in grammar/rules.lark (docs/rules-language.md):
a rules file becomes a RuleSet. Needed only when the compiled cache misses."""
from __future__ import annotations

import re
from functools import cache
from typing import Any

from migrator.core.resources import data_path
from migrator.core.rules import Pattern, Rule, RuleSet


def _text(tok: Any) -> str:
    s = str(tok)
    if s[:1] == '"':
        return _unescape(s[1:-1])
    if s[:1] == "'":
        return s[1:-1]
    return s


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s)


@cache
def _parser():
    from lark import Lark
    grammar = (data_path("grammar") / "rules.lark").read_text()
    return Lark(grammar, parser="lalr", propagate_positions=False)


def parse_rules(text: str, file: str = "<rules>") -> RuleSet:
    from lark import Token, Tree
    from lark.exceptions import LarkError

    try:
        tree = _parser().parse(text)
    except LarkError as exc:
        raise ValueError(f"{file}: {exc}") from None
    step = tree.children[0]
    a, b, title = (_text(t) for t in step.children[:3])
    lines = [_text(t) for t in step.children[3].children]
    releases, native = tuple(lines[:-1]), lines[-1]
    rules: list[Rule] = []
    for group in tree.children[1:]:
        name = str(group.children[0])
        gmeta = {str(m.data): _text(m.children[0]) for m in group.children[1:]
                 if isinstance(m, Tree) and m.data in _META}
        n = 0
        for node in group.children[1:]:
            if not isinstance(node, Tree) or node.data in _META or node.data in ("when", "unless"):
                continue
            n += 1
            paths = [c for c in node.children if isinstance(c, Tree) and c.data == "path"]
            # paths inside when/unless clauses are not the rule's own
            metas = {str(m.data): _text(m.children[0]) for m in node.children
                     if isinstance(m, Tree) and m.data in _META}
            conds = {kind: tuple(Pattern(tuple(_text(s) for s in m.children[0].children))
                                 for m in list(group.children[1:]) + list(node.children)
                                 if isinstance(m, Tree) and m.data == kind)
                     for kind in ("when", "unless")}
            uses = [m for m in node.children if isinstance(m, Tree) and m.data == "use"]
            strings = [c for c in node.children if isinstance(c, Token)]
            meta = {**gmeta, **metas}
            kind = str(node.data)
            kw: dict[str, Any] = dict(
                kind=kind, id=f"{name}/{meta.pop('rule_id', n)}",
                release=meta.get("release"), source=meta.get("source"),
                differs=meta.get("differs"), warn=meta.get("warn"),
                since=meta.get("since"), before=meta.get("before"),
                when=conds["when"], unless=conds["unless"],
                use=_text(uses[0].children[0]) if uses else None)
            pats = [Pattern(tuple(_text(s) for s in p.children)) for p in paths]
            if kind in ("move", "copy"):
                kw.update(src=pats[0], dst=pats[1])
                if strings:  # copy ... via NAME(args)
                    args = [c for c in node.children if isinstance(c, Tree) and c.data == "args"]
                    kw.update(transform=(str(strings[0]), tuple(
                        _text(t) for t in args[0].children) if args else ()))
            elif kind == "keep":
                kw.update(src=pats[0], dst=pats[0])
            elif kind == "convert":
                args = [c for c in node.children if isinstance(c, Tree) and c.data == "args"]
                kw.update(src=pats[0], dst=pats[1], transform=(
                    str(strings[0]), tuple(_text(t) for t in args[0].children) if args else ()))
            elif kind in ("drop", "spell"):
                kw.update(src=pats[0], reason=_text(strings[0]))
            elif kind == "plugin":
                segs = [_text(c) for c in node.children if isinstance(c, Token)]
                kw.update(src=Pattern(("plugins", segs[0])), dst=Pattern(("plugins", segs[1])))
            elif kind == "entry":
                names = [_text(s) for s in strings]
                kw.update(src=Pattern((names[0],)), entries=tuple(names[1:]))
            elif kind == "check":
                texts = [_text(s) for s in strings]
                kw.update(src=pats[0], value=texts[0] if len(texts) == 2 else None,
                          reason=texts[-1])
            rules.append(Rule(**kw))
    return RuleSet(int(a), int(b), title, tuple(rules), file, releases, native)


_META = {"release", "source", "differs", "warn", "rule_id", "since", "before"}

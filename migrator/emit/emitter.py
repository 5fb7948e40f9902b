"""Rewrite the text of a config so it means what the plan says, touching only what must change.

The conventions (where moved keys land, which header a block keeps, what happens to comments)
are documented in docs/emitting.md; this module implements them statement by statement.
"""
from __future__ import annotations

from collections import Counter

from migrator.core import source
from migrator.core.engine import Mapper, Plan, dotted_path, leaves
from migrator.core.results import Change
from migrator.core.rules import Rule
from migrator.core.source import Document, Statement
from migrator.emit.blocks import (
    Block,
    _get,
    _reason,
)
from migrator.emit.entries import EntryEdits
from migrator.emit.placing import Placing
from migrator.emit.values import render_inline, render_key, render_value

__all__ = ["Emitter", "Block", "render_value", "render_inline", "render_key"]


class Emitter(Placing, EntryEdits):
    def __init__(self, doc: Document, plan: Plan, tree: dict, version: int | None,
                 order: dict | None = None) -> None:
        self.version = version
        self.order_schema = order or {}   # the target's schema: containerd's key order
        # a last line without its line ending: edit a terminated copy, so every statement
        # ends in one and text appended after it starts on a line of its own (stripped in run)
        self.unterminated = bool(doc.text) and not doc.text.endswith("\n")
        if self.unterminated:
            doc = source.parse(doc.text + doc.newline)
        self.doc = doc
        self.text = doc.text
        self.plan = plan
        self.mapper: Mapper = plan.mapper
        self.tree = tree
        self.nl = doc.newline
        self.changes: list[Change] = []
        self.blocks: list[Block] = []
        self.owners: dict[tuple, Block] = {}
        self.dotted: dict[tuple, Block] = {}     # tables defined by dotted keys, and where
        self._uniform: dict[int, bool] = {}      # id(inline statement) -> _is_uniform
        self._placed_prefixes: set[tuple] | None = None   # every prefix of a planned path

    # -- decisions ---------------------------------------------------------------------------
    def _blocks(self) -> None:
        root = Block(None)
        self.blocks.append(root)
        for st in self.doc.statements:
            if st.kind == "keyvalue":
                self.blocks[-1].kvs.append(st)
            else:
                self.blocks.append(Block(st))

    def _is_uniform(self, st: Statement) -> bool:
        """An inline table moves as one piece when every key inside follows it unchanged."""
        if st.value_kind != "inline":
            return True
        hit = self._uniform.get(id(st))
        if hit is None:
            hit = self._uniform[id(st)] = self._inline_is_uniform(st)
        return hit

    def _inline_is_uniform(self, st: Statement) -> bool:
        t = self.mapper.targets(st.path)
        value = _get(self.tree, st.path)
        if not isinstance(value, dict):
            return True
        if t[0].path is not None and self._shares_table(st.path, t[0].path):
            # a key set inside it, or another table merged into it: written key by key
            return False
        for path, _ in leaves(value, st.path):
            ts = self.mapper.targets(path)
            if len(ts) == 1 and ts[0].path is None:
                continue  # a dropped key: the inline table is written again without it
            if len(ts) != 1 or ts[0].converts or t[0].path is None:
                return False
            if ts[0].path != t[0].path + path[len(st.path):]:
                return False
        return len(t) == 1

    def _shares_table(self, src: tuple, table: tuple) -> bool:
        n, m = len(table), len(src)
        return any(p[:n] == table and len(p) > n and pl.source[:m] != src
                   for p, pl in self.plan.placed.items()) or \
            any(p[:n] == table for p in self.plan.overrides)

    def _gains_keys(self, table: tuple) -> bool:
        return any(p[:len(table)] == table and len(p) > len(table) for p in self.plan.added)

    def _only_dropped(self, path: tuple) -> bool:
        """A table that only holds settings that are all dropped goes away with them."""
        value = _get(self.tree, path)
        if not isinstance(value, dict) or not value:
            return False
        return all(self.mapper.target(p).path is None for p, _ in leaves(value, path))

    def kept_tables(self) -> list[tuple]:
        """Tables the output declares with a header: the plan must know they exist."""
        return [b.final for b in self.blocks if b.header is not None and b.final is not None
                and b.header.kind == "table"] + [b.final for b in self.owners.values()
                                                 if b.new_header is not None and b.final]

    def _decide(self) -> None:
        for b in self.blocks:
            if b.header is None:
                b.final = ()
                continue
            own = self.mapper.target(b.header.path).path
            if b.header.kind == "array_table":
                b.final = own
                continue
            live = [t for t in (self._line_target(st).path for st in b.kvs
                                if self._is_uniform(st)) if t is not None]
            if not live:
                b.final = None if b.kvs or self._only_dropped(b.header.path) else own
                continue
            # the table most keys go to; ties go to the first key's (docs/emitting.md)
            candidates = [t[:-1] for t in live] + ([own] if own is not None else [])
            unique = list(dict.fromkeys(candidates))
            if len(unique) == 1:
                b.final = unique[0]
                continue
            lengths = {len(c) for c in unique}
            # keys below each candidate table, counted in one pass over the keys
            below = Counter(t[:n] for t in live for n in lengths if n < len(t))
            b.final = max(unique, key=lambda c: below[c])
        for b in self.blocks:
            if b.final is not None and b.header is not None and b.final == b.header.path \
                    and b.header.kind == "table":
                self.owners.setdefault(b.final, b)
        self.owners.setdefault((), self.blocks[0])
        for b in self.blocks:
            if b.header is None or b.header.kind != "table" or b.final is None:
                continue
            if self.owners.setdefault(b.final, b) is not b:
                b.merged_into = b.final
                b.final = None  # dissolved: its keys join the block that has this header

    # -- output ------------------------------------------------------------------------------
    def run(self) -> str:
        self._blocks()
        self._decide()
        placed: dict[int, tuple[str, str]] = {}     # id(stmt) -> ("stay"|"moved"|"drop", text)
        for b in self.blocks:
            for st in b.kvs:
                placed[id(st)] = self._place(b, st)
        for path, value in self.plan.added.items():
            self._add(path, value)
        out: list[str] = []
        pos = 0
        if not self.doc.statements:   # only comments or blank lines: they stay on top
            out.append(self.text)
            pos = len(self.text)
        for b in self.blocks:
            if b.header is not None:
                gap = self.text[pos:b.header.leading]
                header = self._header_text(b)
                gone = not header and all(not placed[id(st)][1] for st in b.kvs)
                end = b.kvs[-1].end if b.kvs else b.header.end
                after = self.text[end:end + 2].lstrip(" \t")
                # a vanished last table whose keys get a new header: that brings its blank line
                last = bool(b.created) and not self.text[end:].strip()
                if not (gone and not gap.strip() and (after[:1] in ("\n", "\r") or last)):
                    out.append(gap)  # a vanished table between blank lines takes one along
                out.append(header)
                pos = b.header.end
            pending = self._in_order(b, placed)
            k = 0  # pending[k:] are still to be written
            for st in b.kvs:
                out.append(self.text[pos:st.leading])
                kind, txt = placed[id(st)]
                if kind == "stay" and b.order is not None:
                    while k < len(pending) and pending[k][0] is not None and \
                            pending[k][0] < self._rank(b.final, st, b):  # type: ignore[operator]
                        out.append(self._ensure_nl(pending[k][1]))
                        k += 1
                out.append(txt)
                pos = st.end
            if pending[k:] or b.created:
                self._end_line(out)  # the file's last line may have no line ending
            out.extend(self._ensure_nl(u) for _, u in pending[k:])
            for nb in b.created:
                out.append(self._new_block_text(b, nb))
        out.append(self.text[pos:])
        result = self._version_header("".join(out))
        if self.unterminated and result.endswith(self.nl):
            result = result[: -len(self.nl)]
        return result

    def _version_header(self, text: str) -> str:
        """Insert `version = N` when the file has none (an existing one was edited in place)."""
        if self.version is None or any(st.path == ("version",) for st in self.doc.statements):
            return text
        self._change("header", None, ("version",), ("version",), 1)
        nl = self.nl
        line = f"version = {self.version}{nl}"
        first = self.doc.statements[0] if self.doc.statements else None
        if first is not None and first.kind != "keyvalue":
            line += nl
        # after leading comment paragraphs (a banner), before the comments of the first setting;
        # everything before the first statement is untouched text, so the offset still holds
        at = first.leading if first is not None else len(self.text)
        while text.startswith("#:schema", at):  # editors read the directive only above all keys
            at = text.find("\n", at) + 1 or len(text)
        if at and not text[:at].endswith("\n"):
            line = nl + line
        return text[:at] + line + text[at:]

    def _order(self, table: tuple | None) -> list[str]:
        from migrator.core.paths import node_at
        node = node_at(self.order_schema, table) if table is not None else None
        return node.get("x-containerd-order", []) if node else []

    def _rank(self, table: tuple | None, st: Statement, b: Block) -> object:
        return self._key_rank(b, self._written_key(st, b))

    def _written_key(self, st: Statement, b: Block) -> str:
        """The name a staying key has in its block after the migration (renames applied)."""
        target = self._line_target(st).path
        if target is not None and b.final is not None and len(target) > len(b.final):
            return str(target[len(b.final)])
        return str(st.path[len(b.header.path)] if b.header is not None else st.path[0])

    def _key_rank(self, b: Block, key: str) -> object:
        order = b.order if b.order is not None else []
        if order == "alphabetical":
            return key
        return order.index(key) if key in order else None

    def _in_order(self, b: Block, placed: dict) -> list[tuple[object, str]]:
        """Keys moved into this block, each with its place in the order the block's own keys
        follow: containerd 2.x's struct order, or 1.x's alphabetical one (go-toml v1 sorts).
        A block in neither order gets them at its end."""
        keys = [self._written_key(st, b) for st in b.kvs if placed[id(st)][0] == "stay"]
        struct = self._order(b.final)
        if len(keys) < 2:  # one key follows any order: no evidence, so append
            b.order = None
            return [(None, u) for u, _ in b.appended]
        in_struct = bool(struct) and all(k in struct for k in keys) and \
            [struct.index(k) for k in keys] == sorted(struct.index(k) for k in keys)
        alphabetical = bool(keys) and keys == sorted(keys)
        old_style = self.version is None or self.version <= 2  # written by 1.x: sorted keys
        if alphabetical and (old_style or not in_struct):
            b.order = "alphabetical"
        elif in_struct:
            b.order = struct
        else:
            b.order = None
            return [(None, u) for u, _ in b.appended]
        ranked = [(self._key_rank(b, k), u) for u, k in b.appended]
        known = sorted((r for r in ranked if r[0] is not None), key=lambda r: r[0])
        return known + [r for r in ranked if r[0] is None]

    def _end_line(self, out: list[str]) -> None:
        last = next((piece for piece in reversed(out) if piece), "\n")
        if not last.endswith("\n"):
            out.append(self.nl)

    def _ensure_nl(self, unit: str) -> str:
        return unit if unit.endswith("\n") else unit + self.nl

    def _indent(self, st: Statement) -> str:
        line = self.text[st.start:st.key_start]
        return line[: len(line) - len(line.lstrip(" \t"))]

    def _header_text(self, b: Block) -> str:
        st = b.header
        assert st is not None
        if b.final is None:
            if b.merged_into is not None:
                self._change("moved", self._rule_into(b, b.merged_into), st.path,
                             b.merged_into, st.line)
            return self._comments_only(st)
        if b.final == st.path:
            return self.text[st.leading:st.end]
        quote = "'" if st.quote == "'" else '"'
        # a header names no indexes: `[[a.b]]` and a nested `[[a.b.c]]` (path a.b[0].c[0])
        names = tuple(p for p in b.final if not isinstance(p, int))
        new_key = source.render_key(names, quote)
        target = self.mapper.target(st.path)
        rule = target.rule if target.path == b.final else self._rule_into(b)
        kind = "renamed" if rule is not None and rule.kind == "plugin" else "moved"
        self._change(kind, rule, st.path, b.final, st.line)
        return self.text[st.leading:st.key_start] + new_key + \
            self.text[st.key_end:st.end]

    def _rule_into(self, b: Block, table: tuple | None = None) -> Rule | None:
        table = table if table is not None else b.final
        for st in b.kvs:
            t = self.mapper.target(st.path)
            if t.path is not None and table is not None and t.path[:len(table)] == table:
                return t.rule
        return None

    def _comments_only(self, st: Statement) -> str:
        keep = self.text[st.leading:st.start]
        if st.comment_start is not None:
            end = self.text.find("\n", st.comment_start)
            end = len(self.text) if end < 0 else end
            comment = self.text[st.comment_start:end].rstrip("\r")
            keep += self._indent(st) + comment + self.nl
        return keep

    def _change(self, kind: str, rule: Rule | None, src: tuple, dst: tuple | None,
                line: int) -> None:
        self.changes.append(Change(
            kind=kind, rule=rule.id if rule else kind,  # type: ignore[arg-type]
            reason=_reason(kind, rule), from_path=dotted_path(src), from_line=line,
            to_path=dotted_path(dst) if dst is not None else None, from_key=src, to_key=dst,
            release=rule.release if rule else None, source=rule.source if rule else None,
            differs=rule.differs if rule else None))

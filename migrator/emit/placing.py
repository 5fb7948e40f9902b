"""Where each statement of a block goes: kept, moved to another block, converted, copied, split
or exploded into keys (docs/emitting.md), as a part of the Emitter."""
from __future__ import annotations

from typing import Any

from migrator.core import source, transforms
from migrator.core.engine import Target, leaves
from migrator.core.rules import PLUGIN_LISTS
from migrator.core.source import Statement
from migrator.emit.blocks import (
    _MISSING,
    Block,
    _get,
    _without_dropped,
)
from migrator.emit.values import render_inline, render_value


class Placing:
    """The Emitter's placing of statements (mixed into emitter.Emitter, whose state it uses)."""

    def _place(self, b: Block, st: Statement) -> tuple[str, str]:
        """Where a statement goes; its copies are placed after it (its own move comes first)."""
        placed = self._place_primary(b, st)
        if self._is_uniform(st):
            for copy in self.mapper.targets(st.path)[1:]:
                if copy.path is not None and not copy.stays and \
                        (st.path, copy.path) in self.plan.values:
                    self._copy(b, st, copy)
        return placed

    def _prefixes_of_placed(self) -> set[tuple]:
        """Every path the plan places something at or below (built once, when first asked)."""
        if self._placed_prefixes is None:
            self._placed_prefixes = {p[:n] for p in self.plan.placed
                                     for n in range(1, len(p) + 1)}
        return self._placed_prefixes

    def _line_target(self, st: Statement) -> Target:
        """The target the statement's own line follows: what a split leaves at the key, when
        something is left (the split-off part gets a line of its own), else the primary."""
        targets = self.mapper.targets(st.path)
        for t in targets[1:]:
            if t.stays and t.path is not None and (st.path, t.path) in self.plan.values:
                return t
        return targets[0]

    def _place_primary(self, b: Block, st: Statement) -> tuple[str, str]:
        primary = self._line_target(st)
        if primary is not self.mapper.targets(st.path)[0] and self._is_uniform(st):
            self._split_off(b, st, self.mapper.targets(st.path)[0])
        if st.path == ("version",) and self.version is not None:
            if self.text[st.value_start:st.value_end] != str(self.version):
                self._change("header", None, st.path, st.path, st.line)
            return "stay", self._unit(st, st.key, str(self.version))
        if not self._is_uniform(st):
            self._explode(b, st)
            return "moved", self._comments_only(st)
        if primary.path is None:
            return "drop", self._comments_only(st)
        if st.value_kind == "inline":
            value = _get(self.tree, st.path)
            if value and _without_dropped(self.mapper, value, st.path) == {} and \
                    primary.path not in self._prefixes_of_placed():
                return "drop", self._comments_only(st)  # every key inside was dropped
        won = self.plan.placed.get(primary.path)
        if won is not None and not won.merge and won.source != st.path:
            return "drop", self._comments_only(st)  # lost a conflict; the report says so
        new_value = self._value_text(st, primary)
        if new_value is None:  # converted to nothing, or merged into another statement's list
            if (st.path, primary.path) in self.plan.values:
                self._change("converted", primary.converts[-1] if primary.converts else
                             primary.rule, st.path, primary.path, st.line)
            return "drop", self._comments_only(st)
        final = b.final
        stays = final is not None and len(primary.path) > len(final) and \
            primary.path[:len(final)] == final and not any(
                primary.path[:n] in self.owners for n in range(len(final) + 1, len(primary.path)))
        if stays:
            rel = primary.path[len(final):]
            for n in range(1, len(rel)):  # dotted keys define these tables: no header for them
                self.dotted[final + rel[:n]] = b
            unit = self._unit(st, rel, new_value)
            implied = b.header is not None and final != b.header.path and \
                rel == st.path[len(b.header.path):]
            if primary.path != st.path and not implied:
                # renamed: only the key's last name changed where it is written (a header's own
                # move is reported with the header)
                kind = "converted" if self._converts(st, primary) else (
                    "renamed" if rel[:-1] == st.key[:-1] else "moved")
                self._change(kind, primary.rule, st.path, primary.path, st.line)
            elif self._converts(st, primary):
                self._change("converted", primary.converts[-1], st.path, primary.path, st.line)
            return "stay", unit
        dest = self._dest(b, primary.path[:-1])
        rel = primary.path[len(dest.final if dest.final is not None else dest.new_header):]
        dest.appended.append((self._unit(st, rel, new_value), str(rel[0])))
        if primary.path != st.path:
            self._change("converted" if self._converts(st, primary) else "moved", primary.rule,
                         st.path, primary.path, st.line)
        return "moved", ""

    def _converts(self, st, primary) -> bool:
        """A conversion that leaves the value as it was (a duration already written as text)
        is no change to report, nor is what a split leaves (its other part is reported)."""
        if not primary.converts or primary.stays:
            return False
        new = self.plan.values.get((st.path, primary.path), _MISSING)
        return new is _MISSING or new != _get(self.tree, st.path)

    def _dest(self, b: Block, table: tuple) -> Block:
        """The block a displaced key joins: the table's owner, or a new header after b."""
        owner = self.owners.get(table)
        if owner is None and table in self.dotted:
            return self.dotted[table]  # dotted keys of that block already define the table
        if owner is None:
            owner = self.owners[table] = Block(None, final=table, new_header=table)
            b.created.append(owner)
        return owner

    def _new_block_text(self, anchor: Block, nb: Block) -> str:
        ref = anchor.header
        indent = self._indent(ref) if ref is not None else ""
        blank = ""
        if ref is not None:
            before = self.text[:ref.leading]
            if before.endswith("\n\n") or before.endswith("\r\n\r\n"):
                blank = self.nl
        quote = "'" if ref is not None and ref.quote == "'" else '"'
        assert nb.final is not None
        head = f"{blank}{indent}[{source.render_key(nb.final, quote)}]{self.nl}"
        order = self._order(nb.final)
        units = sorted(nb.appended, key=lambda u: order.index(u[1]) if u[1] in order
                       else len(order))
        return head + "".join(self._ensure_nl(u) for u, _ in units)

    def _unit(self, st: Statement, rel: tuple, value_text: str | None) -> str:
        t = self.text
        unit_start = st.leading
        pieces = [t[unit_start:st.key_start]]
        if rel == st.key:
            pieces.append(t[st.key_start:st.key_end])
        else:
            quote = "'" if st.quote == "'" else '"'
            pieces.append(source.render_key(rel, quote))
        if value_text is None or value_text == t[st.value_start:st.value_end]:
            pieces.append(t[st.key_end:st.end])
        else:
            pieces.append(t[st.key_end:st.value_start] + value_text + t[st.value_end:st.end])
        return "".join(pieces)

    def _value_text(self, st: Statement, target: Target) -> str | None:
        original = self.text[st.value_start:st.value_end]
        value = self.plan.values.get((st.path, target.path))
        if target.path in self.plan.overrides:
            return render_value(self.plan.overrides[target.path])
        if len(st.path) == 1 and st.path[0] in PLUGIN_LISTS and st.value_kind == "array":
            return self._entries_text(st)
        placed = self.plan.placed.get(target.path)
        if placed is not None and placed.merge:
            if placed.source != st.path:
                return None  # merged into the list another statement writes
            if placed.value != value:
                return render_value(placed.value)
        if target.path in self.plan.overrides:
            return render_value(self.plan.overrides[target.path])
        if st.value_kind == "inline" and not target.converts:
            kept = _without_dropped(self.mapper, _get(self.tree, st.path), st.path)
            if kept == _get(self.tree, st.path):
                return original
            new = render_inline(kept)
            if original.startswith("{ ") and new.startswith("{") and len(new) > 2:
                new = "{ " + new[1:-1].strip() + " }"  # keep the file's spacing style
            return new
        if not target.converts:
            return original
        if value is None:
            return None
        if target.stays:
            return self._entries_left(st, value)
        name, args = target.converts[-1].transform or ("", ())
        literal = transforms.TRANSFORMS[name].literal(original, *args)
        return literal if literal is not None and not target.converts[-1].reverse \
            else render_value(value)

    def _split_off(self, b: Block, st: Statement, part: Target) -> None:
        """The part of a split value that goes to another key: a line of its own there, like a
        moved key's, while the statement's line keeps what stays (docs/emitting.md rule 4)."""
        if part.path is None or (st.path, part.path) not in self.plan.values:
            return
        won = self.plan.placed.get(part.path)
        if won is not None and won.source != st.path:
            return  # lost a conflict; the report says so
        dest = self._dest(b, part.path[:-1])
        base = dest.final if dest.final is not None else dest.new_header
        rel = part.path[len(base):]
        value = render_value(self.plan.overrides.get(part.path,
                                                     self.plan.values[(st.path, part.path)]))
        dest.appended.append((f"{self._indent(st)}{source.render_key(rel)} = {value}{self.nl}",
                              str(rel[0])))
        self._change("converted", part.converts[-1], st.path, part.path, st.line)

    def _add(self, path: tuple, value: Any) -> None:
        """A key the caller sets that the file does not have: into its table's block, or under
        a new header after the block of its closest relative."""
        def kinship(b: Block) -> int:
            f = b.final if b.final is not None else ()
            n = 0
            while n < min(len(f), len(path)) and f[n] == path[n]:
                n += 1
            return n
        live = [b for b in self.blocks if b.final is not None and b.header is not None] or \
            [self.blocks[0]]
        anchor = max(reversed(live), key=kinship)  # the last of the closest
        dest = self._dest(anchor, path[:-1])
        base = dest.final if dest.final is not None else dest.new_header
        ref = dest if (dest.kvs or dest.header is not None) else anchor  # the block it joins
        indent = ""
        if dest is self.blocks[0]:
            pass  # the root table: keys start at the margin
        elif ref.kvs:
            indent = self._indent(ref.kvs[0])
        elif ref.header is not None:
            indent = self._indent(ref.header) + "  "
        line = f"{indent}{source.render_key(path[len(base):])} = {render_value(value)}{self.nl}"
        dest.appended.append((line, str(path[len(base)])))
        self._change("added", None, path, path, 0)

    def _copy(self, b: Block, st: Statement, copy: Target) -> None:
        assert copy.path is not None
        dest = self._dest(b, copy.path[:-1])
        base = dest.final if dest.final is not None else dest.new_header
        rel = copy.path[len(base):]
        value = self.text[st.value_start:st.value_end]
        if copy.path in self.plan.overrides:
            value = render_value(self.plan.overrides[copy.path])
        elif copy.converts:
            value = render_value(self.plan.values[(st.path, copy.path)])
        self_indent = self._indent(st)
        dest.appended.append((f"{self_indent}{source.render_key(rel)} = {value}{self.nl}",
                              str(rel[0])))
        self._change("copied", copy.rule, st.path, copy.path, st.line)

    def _explode(self, b: Block, st: Statement) -> None:
        value = _get(self.tree, st.path)
        for path, leaf in leaves(value, st.path):
            for i, t in enumerate(self.mapper.targets(path)):
                if t.path is None:
                    continue
                if (path, t.path) in self.plan.empty:
                    continue  # the split's other part holds it all
                new = self.plan.overrides.get(t.path, self.plan.values.get((path, t.path), leaf))
                if isinstance(new, transforms.Drop):
                    continue
                if new == {} and self._gains_keys(t.path):
                    if path != t.path:
                        self._change("copied" if i else "moved", t.rule, path, t.path, st.line)
                    continue   # the key set inside declares the table
                dest = self._dest(b, t.path[:-1])
                base = dest.final if dest.final is not None else dest.new_header
                rel = t.path[len(base):]
                dest.appended.append((
                    f"{self._indent(st)}{source.render_key(rel)} = {render_value(new)}{self.nl}",
                    str(rel[0])))
                if t.stays and t.path == path:
                    continue  # what a split leaves in place: the other part is reported
                self._change("copied" if i and not t.stays else "moved", t.rule, path, t.path,
                             st.line)

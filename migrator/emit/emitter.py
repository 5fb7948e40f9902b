"""Rewrite the text of a config so it means what the plan says, touching only what must change.

The conventions (where moved keys land, which header a block keeps, what happens to comments)
are documented in docs/emitting.md; this module implements them statement by statement.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from migrator.core import source, transforms
from migrator.core.engine import Mapper, Plan, Target, dotted_path, leaves, map_entries
from migrator.core.paths import toml_string
from migrator.core.results import Change
from migrator.core.rules import PLUGIN_LISTS, Rule
from migrator.core.source import Document, Statement


@dataclass
class Block:
    header: Statement | None                 # None: the root table
    kvs: list[Statement] = field(default_factory=list)
    final: tuple | None = ()                 # the header path it ends with; None: header removed
    appended: list[tuple[str, str]] = field(default_factory=list)   # (unit text, first key)
    created: list["Block"] = field(default_factory=list)
    new_header: tuple | None = None          # for blocks the emitter creates
    order: object = None                     # the key order moved keys follow in this block
    merged_into: tuple | None = None         # the header it gave up for an existing one

    @property
    def path(self) -> tuple:
        return self.header.path if self.header else ()


def render_value(value: Any) -> str:
    """A value as TOML writes it inline, as tomlkit lays it out (tests/test_emit_values.py):
    strings, booleans, integers and arrays of them directly, the rest through tomlkit."""
    kind = type(value)
    if kind is str:
        return toml_string(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is list and all(type(v) in (str, bool, int, list) for v in value):
        return "[" + ", ".join(map(render_value, value)) + "]"
    import tomlkit
    if isinstance(value, dict):
        return render_inline(value)   # tomlkit.item makes a dict a table, which renders as ''
    if isinstance(value, list):  # tomlkit.item would make a list of tables an [[array]]
        array = tomlkit.array()
        array.extend(value)
        array.multiline(False)
        return array.as_string()
    return tomlkit.item(value).as_string()


def render_inline(value: dict) -> str:
    # by hand: tomlkit writes a nested inline table's second key without the space after ","
    return "{" + ", ".join(f"{render_key(k)} = {render_value(v)}" for k, v in value.items()) \
        + "}"


def render_key(name: str) -> str:
    bare = source.render_key_part(name)
    return bare if bare == name else render_value(name)  # tomlkit escapes control characters


def _without_dropped(mapper: Mapper, value: Any, path: tuple) -> Any:
    """An inline table less its dropped keys; a table the drops emptied goes too, as a header
    whose keys were all dropped does (an empty table written as such stays)."""
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        if mapper.target(path + (k,)).path is None:
            continue
        kept = _without_dropped(mapper, v, path + (k,))
        if isinstance(v, dict) and v and kept == {}:
            continue
        out[k] = kept
    return out


class Emitter:
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
        quote = "'" if any(p.quote == "'" for p in st.parts) else '"'
        # a header names no indexes: `[[a.b]]` and a nested `[[a.b.c]]` (path a.b[0].c[0])
        names = tuple(p for p in b.final if not isinstance(p, int))
        new_key = source.render_key(names, quote)
        target = self.mapper.target(st.path)
        rule = target.rule if target.path == b.final else self._rule_into(b)
        kind = "renamed" if rule is not None and rule.kind == "plugin" else "moved"
        self._change(kind, rule, st.path, b.final, st.line)
        return self.text[st.leading:st.parts[0].start] + new_key + \
            self.text[st.parts[-1].end:st.end]

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
        quote = "'" if ref is not None and any(p.quote == "'" for p in ref.parts) else '"'
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
            quote = "'" if any(p.quote == "'" for p in st.parts) else '"'
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

    def _entries_left(self, st: Statement, value: object) -> str:
        """What a split leaves of an array: the original text without the entries that went,
        layout, quoting and comments kept (rule 7); another value is written anew."""
        have = _get(self.tree, st.path)
        if st.value_kind != "array" or not isinstance(value, list) or \
                len(st.elements) != len(have):
            return render_value(value)
        keep, n = [], 0
        for item in have:
            hit = n < len(value) and item == value[n]
            keep.append(hit)
            n += hit
        if n != len(value) or not value:
            return render_value(value)
        t, spans = self.text, st.elements
        lines = [self._own_line(a, b_) for (a, b_), k in zip(spans, keep) if not k]
        cuts = [c for c in lines if c is not None]
        if len(cuts) < len(lines):  # on a shared line: with the separator after it (or before)
            last = max(i for i, k in enumerate(keep) if k)
            cuts = [(a, spans[i + 1][0]) for i, (a, _) in enumerate(spans)
                    if not keep[i] and i < last]
            if last < len(spans) - 1:
                cuts.append((spans[last][1], spans[-1][1]))
        out, pos = [], st.value_start
        for a, b_ in cuts:
            out.append(t[pos:a])
            pos = b_
        return "".join(out) + t[pos:st.value_end]

    def _own_line(self, a: int, b: int) -> tuple[int, int] | None:
        """The span of the whole line(s) an array entry has to itself (with its comma and
        trailing comment), or None when it shares its line."""
        t = self.text
        start = t.rfind("\n", 0, a) + 1
        end = t.find("\n", b)
        after = t[b:end].strip(" \t\r").removeprefix(",").strip(" \t") if end >= 0 else "x"
        if t[start:a].strip(" \t") or after[:1] not in ("", "#"):
            return None
        return start, end + 1

    def _entries_text(self, st: Statement) -> str:
        """Rename list entries token by token; entries that collapse into their neighbour go."""
        t = self.text
        pieces: list[tuple[int, int, str | None]] = []   # element span, new text (None: gone)
        entries = map_entries(self.mapper, _get(self.tree, st.path))
        for (a, b_), (name, new, rules) in zip(st.elements, entries, strict=True):
            raw = t[a:b_]
            if not isinstance(name, str) or new == [name]:
                pieces.append((a, b_, raw))
                continue
            self._entry_change(rules[-1] if rules else None, st, name, new,
                               self.mapper.entry(name)[0])
            quote = raw[0] if raw[0] in "\"'" else '"'
            pieces.append((a, b_, ", ".join(_quote(n, quote) for n in new) if new else None))
        if all(p[2] is not None for p in pieces):
            out, pos = [], st.value_start
            for a, b_, new_text in pieces:
                out.append(t[pos:a] + str(new_text))
                pos = b_
            return "".join(out) + t[pos:st.value_end]
        # some entries collapse away: keep the separators between kept entries only
        kept = [i for i, p in enumerate(pieces) if p[2] is not None]
        out = [t[st.value_start:pieces[0][0]]]
        for n, i in enumerate(kept):
            out.append(str(pieces[i][2]))
            if n + 1 < len(kept):
                out.append(t[pieces[i][1]:pieces[i + 1][0]] if kept[n + 1] == i + 1
                           else t[pieces[i][1]:pieces[i][1]] + ", ")
        tail = t[pieces[-1][1]:st.value_end]
        out.append(tail if kept else tail.lstrip(" \t").removeprefix(","))
        return "".join(out)

    def _entry_change(self, rule: Rule | None, st: Statement, old: str, new: list[str],
                      names: list[str]) -> None:
        merged = [n for n in names if n not in new]
        reason = _reason("renamed", rule) + (
            f"; {', '.join(_quote(n, chr(34)) for n in merged)} already listed" if merged else "")
        self.changes.append(Change(
            kind="renamed", rule=rule.id if rule else "entry",
            reason=reason, from_path=f"{st.path[0]} {_quote(old, chr(34))}",
            from_line=st.line, to_path=f"{st.path[0]} " + ", ".join(_quote(n, '"') for n in names),
            release=rule.release if rule else None, source=rule.source if rule else None,
            differs=rule.differs if rule else None))

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

    def _change(self, kind: str, rule: Rule | None, src: tuple, dst: tuple | None,
                line: int) -> None:
        self.changes.append(Change(
            kind=kind, rule=rule.id if rule else kind,  # type: ignore[arg-type]
            reason=_reason(kind, rule), from_path=dotted_path(src), from_line=line,
            to_path=dotted_path(dst) if dst is not None else None,
            release=rule.release if rule else None, source=rule.source if rule else None,
            differs=rule.differs if rule else None))


def _reason(kind: str, rule: Rule | None) -> str:
    if kind == "header":
        return "version header set to the target version"
    if kind == "added":
        return "set on request"
    if rule is None:
        return kind
    if kind == "copied":
        return "containerd 2.x reads this setting here as well"
    if rule.kind == "spell" and rule.reason:
        return rule.reason
    if rule.reverse:  # a downgrade: the release named is the one that moved it away
        return (f"where the older config version has it (containerd {rule.release} moved it)"
                if rule.release else "where the older config version has it")
    return f"containerd {rule.release} reads it here" if rule.release else kind


def _quote(name: str, quote: str) -> str:
    if quote == "'" and "'" not in name:
        return f"'{name}'"
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


_MISSING = object()


def _get(tree: dict, path: tuple) -> Any:
    cur: Any = tree
    for k in path:
        cur = cur[k]
    return cur

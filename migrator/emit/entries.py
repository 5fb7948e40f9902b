"""Plugin lists (disabled_plugins, required_plugins) edited entry by entry, as a part of the
Emitter: the rest of the array, comments included, stays as written."""
from __future__ import annotations

from migrator.core.engine import map_entries
from migrator.core.results import Change
from migrator.core.rules import Rule
from migrator.core.source import Statement
from migrator.emit.blocks import (
    _get,
    _quote,
    _reason,
)
from migrator.emit.values import render_value


class EntryEdits:
    """The Emitter's edits of list entries (mixed into emitter.Emitter)."""

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

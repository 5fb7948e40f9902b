"""Source map of a TOML document: every statement with its absolute path and byte-exact spans.

tomllib tells us what a document means; this module tells us where each piece is written, so the
emitter can edit those spans and leave every other character alone. It assumes the text already
parsed with tomllib (validity is not re-checked here).
"""
from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass
from sys import intern
from typing import Literal

Path = tuple  # tuple[str | int, ...]: table keys, with array-of-tables indexes as ints

_BARE = re.compile(r"[A-Za-z0-9_-]+")
# a key of bare names and quoted ones without escapes (nearly every key): one match, no parts
_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\\\r\n]*"|'[^'\r\n]*')"""
_SIMPLE_KEY = re.compile(_PART + r"(?:[ \t]*\.[ \t]*" + _PART + ")*")
_PARTS = re.compile(r"""[A-Za-z0-9_-]+|"([^"\\\r\n]*)"|'([^'\r\n]*)'""")
_WS = " \t"
_SCALAR = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})?)?"
    r"|\d{2}:\d{2}:\d{2}(?:\.\d+)?"
    r"|[^\s,\]\}#]+"
)
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


@dataclass(slots=True)  # one per key part of every statement: no __dict__ each
class KeyPart:
    name: str
    start: int
    end: int
    quote: str  # '' for bare keys, '"' or "'"


@dataclass(slots=True)
class Statement:
    kind: Literal["table", "array_table", "keyvalue"]
    text: str                     # the document's text (shared): the key parts are read from it
    path: Path                    # absolute path of the table, or of the pair
    table: Path                   # for pairs: the table they are written in; for headers: their own path
    start: int                    # first character of the statement's line (indentation included)
    end: int                      # just past the statement's line ending (or end of text)
    leading: int                  # start of the comment lines directly above (== start if none)
    key_start: int = 0
    key_end: int = 0
    value_start: int = 0
    value_end: int = 0
    value_kind: str = ""          # string | array | inline | scalar
    elements: tuple[tuple[int, int], ...] | list[tuple[int, int]] = ()  # top-level array items
    comment_start: int | None = None
    line: int = 0
    col: int = 0
    quote: str = ""               # "'" if a part of the key is single-quoted, else '"' or ''

    @property
    def key(self) -> tuple[str, ...]:
        """The key as written: the header's names, or the pair's dotted key."""
        if self.kind == "keyvalue":
            return self.path[len(self.table):]
        return tuple(p for p in self.path if type(p) is str)

    @property
    def parts(self) -> list[KeyPart]:
        """The key's parts with their spans, scanned again from the text: a document keeps
        only the key's span, since most statements never need their parts."""
        stop = "=" if self.kind == "keyvalue" else "]"
        return _Scanner(self.text).key_parts(self.key_start, stop)[0]


@dataclass
class Document:
    text: str
    statements: list[Statement]
    newline: str
    line_starts: list[int]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def at(self, path: tuple) -> Statement | None:
        """The first statement that writes exactly `path`."""
        return self._index[0].get(path)

    def inside(self, path: tuple) -> Statement | None:
        """The first statement below the table `path`."""
        return self._index[1].get(path)

    def enclosing(self, path: tuple) -> Statement | None:
        """The statement at `path`, else at the closest table above it."""
        own = self._index[0]
        return next((own[path[:i]] for i in range(len(path), 0, -1) if path[:i] in own), None)

    @functools.cached_property
    def _index(self) -> tuple[dict[tuple, Statement], dict[tuple, Statement]]:
        # built once per document: a lookup per key, not a scan of every statement
        own: dict[tuple, Statement] = {}
        inside: dict[tuple, Statement] = {}
        for st in self.statements:
            own.setdefault(st.path, st)
            for i in range(1, len(st.path)):
                inside.setdefault(st.path[:i], st)
        return own, inside


def _decode_basic(raw: str) -> str:
    out, i = [], 0
    while i < len(raw):
        c = raw[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = raw[i + 1]
        if n in _ESCAPES:
            out.append(_ESCAPES[n])
            i += 2
        elif n in "uU":
            width = 4 if n == "u" else 8
            out.append(chr(int(raw[i + 2:i + 2 + width], 16)))
            i += 2 + width
        else:  # only in multi-line strings; keys never have them
            out.append(n)
            i += 2
    return "".join(out)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.t = text
        self.n = len(text)

    def ws(self, i: int) -> int:
        while i < self.n and self.t[i] in _WS:
            i += 1
        return i

    def ws_nl_comments(self, i: int) -> int:
        while i < self.n:
            c = self.t[i]
            if c in " \t\r\n":
                i += 1
            elif c == "#":
                i = self.eol(i)
            else:
                break
        return i

    def eol(self, i: int) -> int:
        j = self.t.find("\n", i)
        return self.n if j < 0 else j

    def past_eol(self, i: int) -> int:
        j = self.t.find("\n", i)
        return self.n if j < 0 else j + 1

    def key(self, i: int, stop: str) -> tuple[tuple[str, ...], str, int, int]:
        """(names, quote, key start, the index of `stop`); names are interned: thousands of
        statements repeat the same few (runtimes, options)."""
        i = self.ws(i)
        m = _SIMPLE_KEY.match(self.t, i)
        if m is not None:
            j = self.ws(m.end())
            if self.t.startswith(stop, j):
                raw = m.group()
                if '"' not in raw and "'" not in raw:
                    names = (intern(raw),) if "." not in raw else \
                        tuple(intern(n.strip(_WS)) for n in raw.split("."))
                    return names, "", i, j
                names, quote = [], '"'
                for p in _PARTS.finditer(raw):
                    double, single = p.groups()
                    if single is not None:
                        quote = "'"
                    names.append(intern(double if double is not None else
                                        single if single is not None else p.group()))
                return tuple(names), quote, i, j
        parts, j = self.key_parts(i, stop)
        quotes = {p.quote for p in parts}
        quote = "'" if "'" in quotes else '"' if '"' in quotes else ""
        return tuple(p.name for p in parts), quote, parts[0].start, j

    def key_parts(self, i: int, stop: str) -> tuple[list[KeyPart], int]:
        parts: list[KeyPart] = []
        while True:
            i = self.ws(i)
            c = self.t[i]
            if c == '"':
                j = i + 1
                while self.t[j] != '"':
                    j += 2 if self.t[j] == "\\" else 1
                parts.append(KeyPart(intern(_decode_basic(self.t[i + 1:j])), i, j + 1, '"'))
                i = j + 1
            elif c == "'":
                j = self.t.index("'", i + 1)
                parts.append(KeyPart(intern(self.t[i + 1:j]), i, j + 1, "'"))
                i = j + 1
            else:
                m = _BARE.match(self.t, i)
                assert m, f"key expected at {i}"
                parts.append(KeyPart(intern(m.group()), i, m.end(), ""))
                i = m.end()
            i = self.ws(i)
            if self.t[i] == ".":
                i += 1
                continue
            assert self.t.startswith(stop, i), f"{stop!r} expected at {i}"
            return parts, i

    def string(self, i: int) -> int:
        t = self.t
        for q in ('"""', "'''"):
            if t.startswith(q, i):
                j = i + 3
                while True:
                    if q == '"""' and t[j] == "\\":
                        j += 2
                        continue
                    if t.startswith(q, j):
                        j += 3
                        extra = 0
                        while extra < 2 and j < self.n and t[j] == q[0]:
                            j += 1
                            extra += 1
                        return j
                    j += 1
        if t[i] == '"':
            j = i + 1
            while t[j] != '"':
                j += 2 if t[j] == "\\" else 1
            return j + 1
        return t.index("'", i + 1) + 1

    def value(self, i: int) -> tuple[int, str, list[tuple[int, int]]]:
        c = self.t[i]
        if c in "\"'":
            return self.string(i), "string", []
        if c == "[":
            elements = []
            i = self.ws_nl_comments(i + 1)
            while self.t[i] != "]":
                end, _, _ = self.value(i)
                elements.append((i, end))
                i = self.ws_nl_comments(end)
                if self.t[i] == ",":
                    i = self.ws_nl_comments(i + 1)
            return i + 1, "array", elements
        if c == "{":
            i = self.ws(i + 1)
            while self.t[i] != "}":
                i = self.key(i, "=")[3]
                i = self.ws(i + 1)
                i, _, _ = self.value(i)
                i = self.ws(i)
                if self.t[i] == ",":
                    i = self.ws(i + 1)
            return i + 1, "inline", []
        m = _SCALAR.match(self.t, i)
        assert m, f"value expected at {i}"
        return m.end(), "scalar", []


def parse(text: str) -> Document:
    """Map a valid TOML text; raises AssertionError only on text tomllib would reject."""
    s = _Scanner(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    doc = Document(text, [], newline, line_starts)
    table: Path = ()
    aot_count: dict[tuple[str, ...], int] = {}
    comment_block: int | None = None  # start of the comment lines directly above
    i = 0
    while i < s.n:
        line_start = i
        j = s.ws(i)
        if j >= s.n or text[j] in "\r\n":
            comment_block = None
            i = s.past_eol(j)
            continue
        if text[j] == "#":
            if comment_block is None:
                comment_block = line_start
            i = s.past_eol(j)
            continue
        leading = comment_block if comment_block is not None else line_start
        comment_block = None
        if text[j] == "[":
            is_aot = text.startswith("[[", j)
            names, quote, key_start, k = s.key(j + (2 if is_aot else 1), "]]" if is_aot else "]")
            key_end = _key_end(text, key_start, k)
            k += 2 if is_aot else 1
            path = _resolve(names, aot_count)
            if is_aot:
                for key in [key for key in aot_count if key[:len(names)] == names and key != names]:
                    del aot_count[key]
                aot_count[names] = aot_count.get(names, 0) + 1
                path = _resolve(names, aot_count)
            table = path
            st = Statement("array_table" if is_aot else "table", text, path, path, line_start,
                           0, leading, key_start, key_end, quote=quote)
        else:
            names, quote, key_start, k = s.key(j, "=")
            v0 = s.ws(k + 1)
            v1, kind, elements = s.value(v0)
            st = Statement("keyvalue", text, table + names, table, line_start, 0, leading,
                           key_start, _key_end(text, key_start, k), v0, v1, kind,
                           elements or (), quote=quote)
            k = v1
        k = s.ws(k)
        if k < s.n and text[k] == "#":
            st.comment_start = k
        st.end = s.past_eol(k)
        st.line, st.col = doc.position(st.key_start)
        doc.statements.append(st)
        i = st.end
    return doc


def _key_end(text: str, start: int, stop: int) -> int:
    """Just past the key's last part: the key runs from start to stop, less trailing blanks."""
    while stop > start and text[stop - 1] in _WS:
        stop -= 1
    return stop


def _resolve(names: tuple[str, ...], aot_count: dict[tuple[str, ...], int]) -> Path:
    path: list[str | int] = []
    for n in range(1, len(names) + 1):
        path.append(names[n - 1])
        if names[:n] in aot_count:
            path.append(aot_count[names[:n]] - 1)
    return tuple(path)


def render_key_part(name: str, quote: str = '"') -> str:
    if _BARE.fullmatch(name):
        return name
    if quote == "'" and "'" not in name and "\n" not in name:
        return f"'{name}'"
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def render_key(names: Path, quote: str = '"') -> str:
    return ".".join(render_key_part(str(n), quote) for n in names)

"""Read a config: bytes to text, TOML to a tree, and the schema version it declares.

Limits (README "Limits"): at most `MAX_BYTES` (16 MiB) of input, refused before it is decoded;
values nested at most `MAX_DEPTH` (100) levels deep, counting every table, array and inline table
on the way down (containerd's deepest settings are 7 levels down). Deeper nesting is refused as
one error at the place it goes too deep, instead of a RecursionError from tomllib or the pipeline.
A single key of more than `MAX_DEPTH` parts (`a.b.c...`, in a header or before `=`) is refused
before tomllib sees it: tomllib's time and memory grow with the square of a key's length
(10,000 parts, 20 KB: 400 MiB and 2 s), so it is found by a scan of the text.

`read_regular` reads files that the user did not name (imports, hosts.toml files): regular files
only, so that a FIFO matched by a glob cannot block a run for ever.
"""
from __future__ import annotations

import errno
import os
import re
import stat
import tomllib
from dataclasses import dataclass

from migrator.core import source
from migrator.core.errors import ConfigError

BOM = "\ufeff"
MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 100
_POSITION = re.compile(r"^(.*) \(at line (\d+), column (\d+)\)$")
_END = re.compile(r"^(.*) \(at end of document\)$")


@dataclass
class Loaded:
    text: str              # without a BOM
    tree: dict
    doc: source.Document
    version: int
    had_bom: bool


def decode(data: bytes | str, file: str) -> tuple[str, bool]:
    if isinstance(data, str):
        if len(data) > MAX_BYTES // 4 and len(data.encode("utf-8", "surrogatepass")) > MAX_BYTES:
            raise _too_large(file)
        text = data
    else:
        if len(data) > MAX_BYTES:
            raise _too_large(file)
        if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
            raise ConfigError("file is UTF-32; containerd reads UTF-8 only", file=file,
                              line=1, col=1)
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise ConfigError("file is UTF-16; containerd reads UTF-8 only", file=file,
                              line=1, col=1)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            line_start = data.rfind(b"\n", 0, exc.start) + 1  # columns count characters
            col = len(data[line_start:exc.start].decode("utf-8", "replace")) + 1
            raise ConfigError("file is not valid UTF-8", file=file, line=line,
                              col=col) from None
    had_bom = text.startswith(BOM)
    return (text[1:] if had_bom else text), had_bom


def _too_large(file: str) -> ConfigError:
    return ConfigError(f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB; refusing to "
                       "read it", file=file)


class NotRegularFile(OSError):
    """A FIFO, a device, a socket or a directory where a file was expected."""


def read_regular(path: str | os.PathLike[str]) -> bytes:
    """At most MAX_BYTES + 1 bytes of a regular file; NotRegularFile (an OSError) for anything
    else, which is not even opened (opening a FIFO is felt by its writer). Opened without
    blocking and checked again, so a FIFO put in place meanwhile cannot block either."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise NotRegularFile(errno.EINVAL, "not a regular file", os.fspath(path))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file", os.fspath(path))
        with os.fdopen(fd, "rb") as f:
            fd = -1
            return f.read(MAX_BYTES + 1)
    finally:
        if fd >= 0:
            os.close(fd)


def parse_toml(text: str, file: str) -> dict:
    offset = long_key(text)
    if offset is not None:
        raise _too_deep(text, file, offset)
    try:
        tree = tomllib.loads(text)
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise _too_deep(text, file, _bracket_offset(text, MAX_DEPTH)) from None
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _POSITION.match(msg)
        if m:
            raise ConfigError(f"invalid TOML: {_lower(m.group(1))}", file=file,
                              line=int(m.group(2)), col=int(m.group(3))) from None
        m = _END.match(msg)
        lines = text.count("\n") + 1
        last = text.rsplit("\n", 1)[-1]
        raise ConfigError(f"invalid TOML: {_lower(m.group(1) if m else msg)}", file=file,
                          line=lines, col=len(last) + 1) from None
    except ValueError:  # not a TOMLDecodeError: int() refuses more than 4300 decimal digits
        offset = _long_integer(text)
        if offset is None:
            raise ConfigError("invalid TOML: a value cannot be read", file=file) from None
        raise ConfigError(f"invalid TOML: an integer has more than {_INT_DIGITS} digits",
                          file=file, **_position(text, offset)) from None
    return tree


# Skips strings and comments, so that only the brackets of arrays, inline tables and headers count.
_TOKEN = re.compile(r'"""(?:\\.|[^\\])*?"""|\'\'\'.*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'[^\'\n]*\'|#[^\n]*'
                    r"|[\[\]{}]", re.S)


# A key of more than MAX_DEPTH parts. Keys never span lines, so a line with fewer dots cannot
# hold one (the cheap first pass). The text is then searched with the blanks around dots taken
# out, so that a search never starts again inside a dotted run (it stays linear), and a run found
# inside a string or a comment is no key.
_DOTS_LINE = re.compile(r"(?:[^.\n]*+\.){%d}" % MAX_DEPTH)          # the first line (match)
_MANY_DOTS = re.compile(r"\n(?:[^.\n]*+\.){%d}" % MAX_DEPTH)        # any other (search)
_DOT = re.compile(r"[ \t]+\.[ \t]*|\.[ \t]+")
_PART = r"""(?:[A-Za-z0-9_-]++|"(?:[^"\\\n]|\\.)*+"|'[^'\n]*+')"""
_LONG_KEY = re.compile(r"(?<![A-Za-z0-9_\-.\"'])%s(?:\.%s){%d}" % (_PART, _PART, MAX_DEPTH))
_NOT_KEYS = re.compile(r'"""(?:\\.|[^\\])*?"{3,5}|\'\'\'.*?\'{3,5}'  # multi-line strings (with
                       r'|"(?:\\.|[^"\\\n])*"|\'[^\'\n]*\'|#[^\n]*', re.S)  # 1-2 quotes inside)


def long_key(text: str) -> int | None:
    """Where the first key of more than MAX_DEPTH parts starts, if there is one."""
    if _DOTS_LINE.match(text) is None and _MANY_DOTS.search(text) is None:
        return None
    tight = _DOT.sub(".", text)
    skips = _NOT_KEYS.finditer(tight)  # strings and comments, in order
    skip = next(skips, None)
    pos = 0
    while (m := _LONG_KEY.search(tight, pos)) is not None:
        while skip is not None and skip.end() <= m.start():
            skip = next(skips, None)
        if skip is None or m.start() <= skip.start():  # a quoted first part starts the key
            return _untighten(text, tight, m.start())
        pos = skip.end()  # inside a string or a comment: not a key
    return None


def _untighten(text: str, tight: str, offset: int) -> int:
    """The offset in `text` of `offset` in `_DOT.sub(".", text)` (lines are the same)."""
    line = tight.count("\n", 0, offset)
    start = tight.rfind("\n", 0, offset) + 1
    at = 0 if line == 0 else re.compile(r"(?:[^\n]*\n){%d}" % line).match(text).end()
    col, shrink = offset - start, 0
    for m in _DOT.finditer(text, at, text.find("\n", at) % (len(text) + 1)):
        if m.start() - at - shrink >= col:
            break
        shrink += len(m.group()) - 1
    return at + col + shrink


_INT_DIGITS = 4300  # sys.int_info.default_max_str_digits
_LONG_INT = re.compile(_TOKEN.pattern.rsplit("|", 1)[0] + r"|(?<![\w.])[+-]?[0-9][0-9_]{%d,}"
                       % _INT_DIGITS, re.S)


def _long_integer(text: str) -> int | None:
    """Where the first decimal integer too long for int() is, outside strings and comments."""
    for m in _LONG_INT.finditer(text):
        if m.group()[:1] in "+-0123456789":
            return m.start()
    return None


def _position(text: str, offset: int) -> dict:
    line_start = text.rfind("\n", 0, offset) + 1
    return dict(line=text.count("\n", 0, offset) + 1, col=offset - line_start + 1)


def _bracket_offset(text: str, limit: int) -> int | None:
    """Where brackets (arrays, inline tables) first nest deeper than `limit`, if they do."""
    depth = 0
    for m in _TOKEN.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > limit:
                return m.start()
        elif c in "]}":
            depth = max(depth - 1, 0)
    return None


def _too_deep(text: str, file: str, offset: int | None) -> ConfigError:
    pos = {} if offset is None else _position(text, offset)
    return ConfigError(f"values nest more than {MAX_DEPTH} levels deep (tables, arrays and "
                       "inline tables); refusing to read it", file=file, **pos)


def _deepest(tree: dict, limit: int) -> tuple | None:
    """The first key path longer than `limit` (iteratively: no recursion on hostile input)."""
    stack: list[tuple[object, tuple]] = [(tree, ())]
    while stack:
        node, path = stack.pop()
        if len(path) > limit:
            return path
        if isinstance(node, dict):
            stack.extend((v, path + (k,)) for k, v in node.items() if isinstance(v, (dict, list))
                         or len(path) >= limit)
        elif isinstance(node, list):
            stack.extend((v, path + (i,)) for i, v in enumerate(node)
                         if isinstance(v, (dict, list)) or len(path) >= limit)
    return None


def _lower(s: str) -> str:
    return s[:1].lower() + s[1:]


def detect_version(tree: dict, doc: source.Document, file: str, known: tuple[int, ...]) -> int:
    if "version" not in tree:
        return 1
    value = tree["version"]
    where = next((st for st in doc.statements if st.path == ("version",)), None)
    pos = dict(line=where.line, col=where.col) if where else {}
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"version must be an integer, not {type(value).__name__} "
                          f"{value!r}", file=file, **pos)
    if value not in known:
        raise ConfigError(f"unsupported config version {value} (this tool knows "
                          f"{', '.join(map(str, known))})", file=file, **pos)
    return value


def _map(text: str, file: str) -> source.Document:
    try:
        return source.parse(text)
    except RecursionError:
        raise _too_deep(text, file, _bracket_offset(text, MAX_DEPTH)) from None
    except (AssertionError, IndexError, ValueError) as exc:  # tomllib accepted what we cannot map
        raise ConfigError(f"cannot map this TOML for editing ({exc})", file=file) from None


def load(data: bytes | str, file: str, known: tuple[int, ...]) -> Loaded:
    text, had_bom = decode(data, file)
    tree = parse_toml(text, file)
    deep = _deepest(tree, MAX_DEPTH)
    if deep is not None:
        offset = _bracket_offset(text, MAX_DEPTH)
        if offset is None:  # deep through dotted keys or headers: the statement that goes there
            try:
                st = _statement_at(source.parse(text), deep)
            except (RecursionError, AssertionError, IndexError, ValueError):
                st = None
            if st is not None:
                raise ConfigError(_too_deep(text, file, None).message, file=file, line=st.line,
                                  col=st.col)
        raise _too_deep(text, file, offset)
    doc = _map(text, file)
    for name, kind in (("plugins", dict),):
        if name in tree and not isinstance(tree[name], kind):
            st = next((s for s in doc.statements if s.path[:1] == (name,)), None)
            raise ConfigError(f"{name} must be a table", file=file,
                              line=st.line if st else None, col=st.col if st else None)
    return Loaded(text, tree, doc, detect_version(tree, doc, file, known), had_bom)


def _statement_at(doc: source.Document, path: tuple) -> source.Statement | None:
    """The first statement that writes at or below `path`, else its nearest ancestor."""
    best = None
    for st in doc.statements:
        if st.path[:len(path)] == path:
            return st
        if path[:len(st.path)] == st.path and (best is None or len(st.path) > len(best.path)):
            best = st
    return best

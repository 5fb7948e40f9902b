"""Read a config: bytes to text, TOML to a tree, and the schema version it declares."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from migrator import source
from migrator.errors import ConfigError

BOM = "\ufeff"
MAX_BYTES = 16 * 1024 * 1024
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
        text = data
    else:
        if len(data) > MAX_BYTES:
            raise ConfigError(f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB; "
                              "refusing to read it", file=file)
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise ConfigError("file is UTF-16; containerd reads UTF-8 only", file=file,
                              line=1, col=1)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            raise ConfigError("file is not valid UTF-8", file=file, line=line,
                              col=col) from None
    had_bom = text.startswith(BOM)
    return (text[1:] if had_bom else text), had_bom


def parse_toml(text: str, file: str) -> dict:
    if not text.strip():
        raise ConfigError("file is empty", file=file)
    try:
        return tomllib.loads(text)
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


def load(data: bytes | str, file: str, known: tuple[int, ...]) -> Loaded:
    text, had_bom = decode(data, file)
    tree = parse_toml(text, file)
    try:
        doc = source.parse(text)
    except (AssertionError, IndexError, ValueError) as exc:  # tomllib accepted what we cannot map
        raise ConfigError(f"cannot map this TOML for editing ({exc})", file=file) from None
    for name, kind in (("plugins", dict),):
        if name in tree and not isinstance(tree[name], kind):
            st = next((s for s in doc.statements if s.path == (name,)), None)
            raise ConfigError(f"{name} must be a table", file=file,
                              line=st.line if st else None, col=st.col if st else None)
    return Loaded(text, tree, doc, detect_version(tree, doc, file, known), had_bom)

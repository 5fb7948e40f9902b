"""What a migration did, as data: every change with its rule, and every warning.

Secret values (registry passwords, auth strings, identity tokens, and the user information of a
URL, `https://user:password@host`) never enter a report: `redact` is applied to every value that
is rendered, and `redact_urls` to the rendered text.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ChangeKind = Literal["moved", "renamed", "dropped", "converted", "copied", "header", "encoding",
                     "added", "set"]

SECRET_KEYS = frozenset({"password", "auth", "identitytoken", "token", "identity_token"})


def is_secret(path: tuple[Any, ...] | list[Any]) -> bool:
    return bool(path) and str(path[-1]).lower() in SECRET_KEYS


def redact(path: tuple[Any, ...] | list[Any], value: Any) -> Any:
    return "<redacted>" if is_secret(path) else _redact_urls_in(value)


#: The user information of a URL (`scheme://user:password@host`), up to the last `@` before the
#: host, as Go's url.Parse reads it: redacted whole (a lone name can be a token).
_USERINFO = re.compile(r"(?i)(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*://)([^/?#\s\"'<>`]*)@")
REDACTED = "<redacted>"


def redact_urls(text: str) -> str:
    """`text` with the user information of every URL in it replaced by <redacted>."""
    return _USERINFO.sub(r"\1<redacted>@", text) if "://" in text else text


def _redact_urls_in(value: Any) -> Any:
    if isinstance(value, str):
        return redact_urls(value)
    if isinstance(value, list):
        return [_redact_urls_in(v) for v in value]
    if isinstance(value, dict):
        return {redact_urls(k) if isinstance(k, str) else k: _redact_urls_in(v)
                for k, v in value.items()}
    return value


def _userinfo(text: str) -> set[str]:
    """The user information of each URL in `text`, and its password part, for `scrub`."""
    found = {m.group(2) for m in _USERINFO.finditer(text)}
    for rest in text.split("://")[1:]:  # a password holding '/' too (Go refuses such a URL)
        word = rest.split(None, 1)[0] if rest.strip() else ""
        if "@" in word:
            found.add(word.rsplit("@", 1)[0])
    return {part for info in found for part in (info, info.partition(":")[2])
            if part and part != REDACTED}


SHOWN = 200          # characters of a value (quoted, or any run without blanks) a message shows
MAX_MESSAGE = 2000   # characters of a lint message
_LONG = re.compile(r"""'(?:[^'\\\n]|\\.){%d,}'|"(?:[^"\\\n]|\\.){%d,}"|\S{%d,}"""
                   % (SHOWN, SHOWN, SHOWN))


def cut(text: str, limit: int | None = MAX_MESSAGE) -> str:
    """A message with every quoted value or unbroken run longer than SHOWN characters cut to
    SHOWN, and the whole cut to `limit`: a 10 MB value must not make a 10 MB line."""
    if len(text) <= SHOWN:
        return text
    text = _LONG.sub(lambda m: m.group()[:SHOWN - 4] + "..." + (
        m.group()[-1] if m.group()[0] in "'\"" else ""), text)
    return text if limit is None or len(text) <= limit else text[:limit - 3] + "..."


#: Request headers whose values are credentials (registry.headers.<name>, hosts.toml [header]).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key",
                            "x-auth-token", "x-registry-auth"})
SCRUB_MIN = 4  # shorter values are not scrubbed from free text (they would mangle it)
_SECRET_LINE = None


def secret_values(tree: Any, path: tuple = ()) -> set[str]:
    """Every scalar held at a secret key (or a credential header) anywhere in `tree`, as text,
    for `scrub`: the last line of defence for messages that might quote an input value."""
    out: set[str] = set()
    stack: list[tuple[Any, tuple, bool]] = [(tree, path, False)]
    while stack:
        node, where, secret = stack.pop()
        secret = secret or is_secret(where) or (
            len(where) >= 2 and str(where[-2]).lower() in ("headers", "header")
            and str(where[-1]).lower() in SECRET_HEADERS)
        if isinstance(node, dict):  # a registry `auth` table holds a username too: its keys
            keep = secret and (str(where[-1]).lower() != "auth"  # decide (but not in auth.auth)
                               or len(where) > 1 and str(where[-2]).lower() == "auth")
            stack.extend((v, where + (k,), keep) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, where + (i,), secret) for i, v in enumerate(node))
        elif secret:
            out.add(node if isinstance(node, str) else json.dumps(node, default=str))
        if isinstance(node, str) and "://" in node:
            out |= _userinfo(node)
        if isinstance(node, dict):
            for k in node:
                if isinstance(k, str) and "://" in k:
                    out |= _userinfo(k)
    return out


def secret_values_in_text(text: str) -> set[str]:
    """The values of secret-looking `key = value` lines of a text that may not parse as TOML,
    and the user information of its URLs."""
    global _SECRET_LINE
    if _SECRET_LINE is None:
        names = "|".join(sorted(SECRET_KEYS | SECRET_HEADERS, key=len, reverse=True))
        _SECRET_LINE = re.compile(
            r"""(?im)(?:^|[\s{,.])["']?(?:%s)["']?[ \t]*=[ \t]*(.*)$""" % names)
    out: set[str] = set()
    for m in _SECRET_LINE.finditer(text):
        raw = m.group(1).strip()
        out.add(raw)
        for inner in re.findall(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'', raw):
            out.update(x for x in inner if x)
        bare = re.match(r"[^\s,}\]#]+", raw)
        if bare:
            out.add(bare.group())
    for line in text.splitlines() if "://" in text else ():
        if "://" in line and "@" in line:
            out |= _userinfo(line)
    return out


def scrub(text: str, secrets: set[str] | list[str]) -> str:
    """`text` with every occurrence of a secret value (and of its JSON spelling) redacted, and
    the user information of its URLs."""
    text = redact_urls(text)
    for value in sorted(secrets, key=len, reverse=True):
        if len(value) < SCRUB_MIN:
            continue
        for form in {value, json.dumps(value, ensure_ascii=False)[1:-1],
                     json.dumps(value)[1:-1], repr(value)[1:-1]}:
            if len(form) >= SCRUB_MIN and form in text:
                text = text.replace(form, "<redacted>")
    return text


def dotted(path: tuple[Any, ...] | list[Any]) -> str:
    """Render a key path the way TOML would write it (quoting what needs it)."""
    out = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
            continue
        text = str(part)
        bare = text and all(c.isalnum() or c in "-_" for c in text) and text.isascii()
        out.append(("." if out else "") + (text if bare else json.dumps(text)))
    return "".join(out)


@dataclass(frozen=True)
class Change:
    """One thing the migration did to one key: moved, renamed, converted, copied, dropped...

    `from_path`/`to_path` are dotted TOML key paths (`dotted`), `from_line` the input line;
    `rule` names the rule in migrator/rules/, `release` and `source` the containerd release
    and source file it follows. `format()` gives the one line the CLI prints."""
    kind: ChangeKind
    rule: str                      # rule id from the rules file, e.g. "cri-split/sandbox-image"
    reason: str                    # one sentence for people
    from_path: str | None = None
    from_line: int | None = None
    to_path: str | None = None
    release: str | None = None     # containerd release the rule follows, e.g. 2.0
    source: str | None = None      # path@tag in containerd's repository
    differs: str | None = None     # why containerd's own migration reads the original differently

    def format(self) -> str:
        where = f"line {self.from_line}: " if self.from_line else ""
        if self.kind in ("moved", "renamed", "converted", "copied"):
            what = f"{self.from_path} -> {self.to_path}"
        elif self.kind == "dropped":
            what = f"{self.from_path}"
        else:
            what = self.to_path or self.from_path or ""
        tail = f" [{self.rule}" + (f", containerd {self.release}" if self.release else "") + "]"
        return f"{where}{self.kind} {what}: {self.reason}{tail}"


@dataclass(frozen=True)
class Finding:
    """A warning or error about the input or output that is not itself a change."""
    severity: Literal["info", "warning", "error"]
    code: str
    message: str
    path: str | None = None
    line: int | None = None
    col: int | None = None

    def format(self, file: str = "<string>") -> str:
        where = f"{file}:{self.line}:{self.col or 1}: " if self.line else f"{file}: "
        return f"{where}{self.severity}: {self.message} [{self.code}]"


@dataclass
class MigrationResult:
    """What `migrate()` (or `Config.dump()`) produced: the new `text`, the versions, every
    `changes` entry and every `findings` warning. `changed` says whether the text differs from
    the input; `to_json()` is the --report-json document; secrets are never in it."""
    text: str
    source_version: int
    target_version: int
    input_text: str = ""
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    file: str = "<string>"

    @property
    def changed(self) -> bool:
        return self.text != self.input_text

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity != "info"]

    def to_json(self) -> dict[str, Any]:
        return _redact_urls_in({
            "file": self.file,
            "source_version": self.source_version,
            "target_version": self.target_version,
            "changed": self.changed,
            "changes": [asdict(c) for c in self.changes],
            "findings": [asdict(f) for f in self.findings],
        })

    def format_text(self) -> str:
        head = f"{self.file}: version {self.source_version} -> {self.target_version}"
        if not self.changes:
            head += " (no changes)"
        lines = [head]
        lines += ["  " + c.format() for c in self.changes]
        lines += ["  " + f.format(self.file) for f in self.findings]
        return redact_urls("\n".join(lines) + "\n")


def parse_dotted(text: str) -> tuple:
    """Inverse of `dotted`: TOML key segments, with `[N]` array indexes as ints."""
    import re

    from migrator import source
    out: list = []
    for piece in re.split(r"(\[\d+\])", text):
        if re.fullmatch(r"\[\d+\]", piece):
            out.append(int(piece[1:-1]))
        elif piece.strip("."):
            doc = source.parse(f"[{piece.strip('.')}]\n")
            out.extend(p.name for p in doc.statements[0].parts)
    return tuple(out)

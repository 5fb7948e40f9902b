"""What a migration did, as data: every change with its rule, and every warning.

Secret values (registry passwords, auth strings, identity tokens) never enter a report:
`redact` is applied to every value that is rendered.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ChangeKind = Literal["moved", "renamed", "dropped", "converted", "copied", "header", "encoding",
                     "added", "set"]

SECRET_KEYS = frozenset({"password", "auth", "identitytoken", "token", "identity_token"})


def is_secret(path: tuple[Any, ...] | list[Any]) -> bool:
    return bool(path) and str(path[-1]).lower() in SECRET_KEYS


def redact(path: tuple[Any, ...] | list[Any], value: Any) -> Any:
    return "<redacted>" if is_secret(path) else value


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
    kind: ChangeKind
    rule: str                      # rule id from the rules file, e.g. "cri-split/sandbox-image"
    reason: str                    # one sentence for people
    from_path: str | None = None
    from_line: int | None = None
    to_path: str | None = None
    release: str | None = None     # containerd release the rule follows, e.g. "2.0"
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
        return {
            "file": self.file,
            "source_version": self.source_version,
            "target_version": self.target_version,
            "changed": self.changed,
            "changes": [asdict(c) for c in self.changes],
            "findings": [asdict(f) for f in self.findings],
        }

    def format_text(self) -> str:
        head = f"{self.file}: version {self.source_version} -> {self.target_version}"
        if not self.changes:
            head += " (no changes)"
        lines = [head]
        lines += ["  " + c.format() for c in self.changes]
        lines += ["  " + f.format(self.file) for f in self.findings]
        return "\n".join(lines) + "\n"


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

"""What a migration did, as data: every change with its rule, and every warning."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

from migrator.core.secrets import _redact_urls_in, redact_urls

ChangeKind = Literal["moved", "renamed", "dropped", "converted", "copied", "header", "encoding",
                     "added", "set"]


@dataclass(frozen=True)
class Change:
    """One thing the migration did to one key: moved, renamed, converted, copied, dropped...

    `from_path`/`to_path` are dotted TOML key paths (`dotted`) for people, `from_key`/`to_key`
    the same paths as tuples for code (never parsed back from the text; not in the report),
    `from_line` the input line;
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
    from_key: tuple | None = field(default=None, compare=False, repr=False)
    to_key: tuple | None = field(default=None, compare=False, repr=False)

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
    # the input's secret values, for the last-line scrub of every message (None: not known)
    secrets: frozenset[str] | None = field(default=None, repr=False, compare=False)

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
            "changes": [_as_dict(c, _CHANGE_FIELDS) for c in self.changes],
            "findings": [_as_dict(f, _FINDING_FIELDS) for f in self.findings],
        })

    def format_text(self) -> str:
        head = f"{self.file}: version {self.source_version} -> {self.target_version}"
        if not self.changes:
            head += " (no changes)"
        lines = [head]
        lines += ["  " + c.format() for c in self.changes]
        lines += ["  " + f.format(self.file) for f in self.findings]
        return redact_urls("\n".join(lines) + "\n")


# dataclasses.asdict deep-copies every value; these hold only strings, numbers and None
_CHANGE_FIELDS = tuple(f.name for f in fields(Change) if f.compare)  # the keys are for code
_FINDING_FIELDS = tuple(f.name for f in fields(Finding))


def _as_dict(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}

"""The lint golden cases: golden/lint/<ID>-<name>/{bad,good,fixed}[-<variant>].toml.

Each file says in its own header comments how it is linted and what must happen:

    # lint: --containerd 2.1 [--kubernetes] [--kubelet-config kubelet.yaml]
    # expect: CM001 error 16:5          (bad files: every finding of the rule, exactly)
    # expect-after: CM004 warning 3:1   (findings of the rule the fix leaves, if any)
    # oracle 2.1: <key path> = <TOML value>      (containerd 2.1 reads the fixed file so)
    # oracle-bad 2.1: <key path> = <TOML value>  (... and the bad one so)
    # oracle-allow: <key path>          (another path the fix may change in the dump)

fixed[-<variant>].toml is the exact text `--fix` makes of bad[-<variant>].toml (the headers come
along, since fixes keep comments). Other files in a case directory (drop-ins, kubelet configs)
are data for the case.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from migrator.core.paths import parse_dotted

from ..helpers import REPO

GOLDEN = REPO / "golden" / "lint"
_CASE_FILE = re.compile(r"^(bad|good|fixed)(-[\w.-]+)?\.toml$")


@dataclass
class Case:
    rule: str                     # "CM001"
    dir: Path
    kind: str                     # bad | good
    path: Path
    options: dict = field(default_factory=dict)
    expect: list[tuple[str, str, int, int]] = field(default_factory=list)
    expect_after: list[tuple[str, str, int, int]] = field(default_factory=list)
    oracle: list[tuple[str, tuple, object]] = field(default_factory=list)
    oracle_bad: list[tuple[str, tuple, object]] = field(default_factory=list)
    oracle_allow: list[tuple] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.dir.name}/{self.path.name}"

    @property
    def fixed(self) -> Path | None:
        p = self.dir / self.path.name.replace("bad", "fixed", 1)
        return p if self.kind == "bad" and p.is_file() else None

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()


def _expect(text: str) -> tuple[str, str, int, int]:
    rule, severity, where = text.split()
    line, col = where.split(":")
    return rule, severity, int(line), int(col)


def _assertion(text: str) -> tuple[tuple, object]:
    path, _, value = text.partition(" = ")
    return parse_dotted(path.strip()), tomllib.loads("v = " + value.strip())["v"]


def parse(path: Path, rule: str, kind: str) -> Case:
    case = Case(rule, path.parent, kind, path)
    text = path.read_bytes().decode("utf-8").lstrip("\ufeff")
    args: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            continue
        body = line[1:].strip()
        head, _, rest = body.partition(":")
        rest = rest.strip()
        if head == "lint":
            args += rest.split()
        elif head == "expect":
            case.expect.append(_expect(rest))
        elif head == "expect-after":
            case.expect_after.append(_expect(rest))
        elif head.startswith("oracle-bad "):
            case.oracle_bad.append((head.split()[1], *_assertion(rest)))
        elif head.startswith("oracle "):
            case.oracle.append((head.split()[1], *_assertion(rest)))
        elif head == "oracle-allow":
            case.oracle_allow.append(parse_dotted(rest))
    opts: dict = {}
    if "--containerd" in args:
        opts["containerd"] = args[args.index("--containerd") + 1]
    if "--kubernetes" in args:
        opts["kubernetes"] = True
    if "--kubelet-config" in args:
        opts["kubelet_config"] = str(path.parent / args[args.index("--kubelet-config") + 1])
    case.options = opts
    return case


def rule_dirs() -> list[Path]:
    return sorted(p for p in GOLDEN.iterdir() if p.is_dir()) if GOLDEN.is_dir() else []


def cases(kind: str | None = None) -> list[Case]:
    out = []
    for d in rule_dirs():
        rule = d.name.split("-")[0]
        for p in sorted(d.iterdir()):
            m = _CASE_FILE.match(p.name)
            if m and m.group(1) != "fixed" and (kind is None or m.group(1) == kind):
                out.append(parse(p, rule, m.group(1)))
    return out


def comments(text: str) -> list[str]:
    """The comments of a TOML text (outside strings), stripped, in order."""
    out = []
    for line in text.splitlines():
        quote = None
        i = 0
        while i < len(line):
            c = line[i]
            if quote:
                if c == "\\" and quote == '"':
                    i += 2
                    continue
                if c == quote:
                    quote = None
            elif c in "\"'":
                quote = c
            elif c == "#":
                out.append(line[i:].strip())
                break
            i += 1
    return out

"""`containerd-migrate --lint FILE...`: lint files, optionally fix them, print text/JSON/SARIF.

    lint_main(paths, containerd=line, kubelet_config=None, kubernetes=False, fix=False,
              fmt="text", with_imports=False, stdout=sys.stdout, stderr=sys.stderr) -> int

Output: findings on stdout, one per line in text (`file:line:col: ID severity message
(suggestion)`), or one JSON / SARIF 2.1.0 document for all files; problems with the input on
stderr as one line each (`file:line:col: message`), never a traceback.

Exit codes: 0 no error-level finding left, 1 an error-level finding is left (after --fix), 2 bad
input (a file that cannot be read or parsed, an unknown --containerd release, an unreadable
kubelet config, an unknown format); with several files the worst wins (2 > 1 > 0), and the other
files are still linted.

--fix rewrites each file that has safe fixes, atomically (migrator.emit.write.write_atomic: temporary
file in the same directory, fsync, rename; a symlink's target is rewritten), and reports what is
left. A file whose fixes are all unsafe is never touched. stdin ('-') is linted but not fixed.
With with_imports, files named by `imports` (that exist here) are linted too, once each.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from migrator.core.errors import ConfigError

EXIT_OK, EXIT_ERRORS, EXIT_BAD = 0, 1, 2
FORMATS = ("text", "json", "sarif")
STDIN = "-"
DEBUG_ENV = "CONTAINERD_MIGRATE_DEBUG"


@dataclass
class _FileOutcome:
    name: str
    code: int = EXIT_OK
    findings: list = field(default_factory=list)
    fixed: list = field(default_factory=list)
    error: str | None = None
    version: int | None = None
    containerd: str | None = None


def lint_main(paths: list[str] | tuple[str, ...], *, containerd: str | None = None,
              kubelet_config: str | None = None, kubernetes: bool = False, fix: bool = False,
              fmt: str = "text", with_imports: bool = False, stdout: IO[str] | None = None,
              stderr: IO[str] | None = None) -> int:
    from migrator.lint import _lint, _Options
    from migrator.lint import kubelet as kubelet_mod
    from migrator.lint.target import parse_target
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    if fmt not in FORMATS:
        print(f"containerd-migrate: unknown --format {fmt!r} (use {', '.join(FORMATS)})",
              file=err, flush=True)
        return EXIT_BAD
    try:
        if containerd is not None:
            parse_target(containerd, None)
        kubelet = kubelet_mod.read(kubelet_config) if kubelet_config else None
    except ConfigError as exc:
        print(_one_line(exc), file=err, flush=True)
        return EXIT_BAD
    queue = list(paths)
    named = len(queue)  # the files given; the rest of the queue is imports (regular files only)
    seen: set[str] = set()
    outcomes: list[_FileOutcome] = []
    while queue:
        named -= 1
        name = queue.pop(0)
        key = name if name == STDIN else os.path.realpath(name)
        if key in seen:
            continue
        seen.add(key)
        display = "<stdin>" if name == STDIN else name
        outcome = _FileOutcome(display)
        outcomes.append(outcome)
        try:
            data = _read(name, imported=named < 0)
        except OSError as exc:
            _fail(outcome, f"{display}: {exc.strerror or exc}", err)
            continue
        opts = _Options(display, containerd, kubelet, kubernetes)
        try:
            result = _lint(data, opts)
            if with_imports and name != STDIN:
                queue.extend(_imports_of(name, data))
            findings = result.findings
            if fix and result.fixed_text is not None:
                if name == STDIN:
                    _fail(outcome, f"{display}: --fix cannot rewrite stdin; nothing written", err)
                else:
                    from migrator.emit.write import write_atomic
                    try:
                        write_atomic(name, result.fixed_text.encode("utf-8"))
                    except OSError as exc:
                        _fail(outcome, f"{display}: cannot write: {exc.strerror or exc}", err)
                    else:
                        outcome.fixed = result.fixed
                        findings = _lint(result.fixed_text, opts).findings
            outcome.findings = findings
            outcome.version = result.version
            outcome.containerd = result.target.label if result.target else None
        except ConfigError as exc:
            _fail(outcome, _one_line(exc), err)
            continue
        except Exception as exc:  # a bug: one line, the traceback on request
            if os.environ.get(DEBUG_ENV) == "1":
                import traceback
                traceback.print_exception(exc, file=err)
            from migrator.cli import bug_notice
            _fail(outcome, f"containerd-migrate: internal error: {display}: "
                           f"{type(exc).__name__}: {_one_line(exc)}; {bug_notice()} (set "
                           f"{DEBUG_ENV}=1 for the traceback)", err)
            continue
        if any(f.severity == "error" for f in outcome.findings):
            outcome.code = max(outcome.code, EXIT_ERRORS)
        if fmt == "text":
            for f in outcome.findings:
                print(f.format(display), file=out)
            if outcome.fixed:
                n = len(outcome.fixed)
                print(f"{display}: fixed {n} problem{'s' if n != 1 else ''}", file=err, flush=True)
    if fmt == "json":
        print(json.dumps([_json(o) for o in outcomes], indent=2, ensure_ascii=False), file=out)
    elif fmt == "sarif":
        print(json.dumps(sarif(outcomes), indent=2, ensure_ascii=False), file=out)
    return max((o.code for o in outcomes), default=EXIT_OK)


def _read(name: str, imported: bool = False) -> bytes:
    from migrator.core.loading import MAX_BYTES, read_regular
    if name == STDIN:
        return sys.stdin.buffer.read(MAX_BYTES + 1)
    if imported:
        return read_regular(name)
    with open(name, "rb") as f:  # a FILE given may be a FIFO: `--lint <(cmd)`
        return f.read(MAX_BYTES + 1)


def _imports_of(name: str, data: bytes) -> list[str]:
    import glob
    import tomllib

    from migrator.core.loading import long_key
    try:
        text = data.decode("utf-8").lstrip("\ufeff")
        tree = tomllib.loads(text) if long_key(text) is None else {}
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError, ValueError):
        return []
    value = tree.get("imports")
    if not isinstance(value, list):
        return []
    base = Path(os.path.abspath(name)).parent
    out = []
    for raw in value:
        if not isinstance(raw, str) or not raw:
            continue
        path = raw if os.path.isabs(raw) else str(base / raw)
        if "*" in raw:  # CM011 reports what is not a regular file
            out.extend(p for p in sorted(glob.glob(path)) if os.path.isfile(p))
        elif os.path.isfile(path):
            out.append(path)
    return out


def _fail(outcome: _FileOutcome, message: str, err: IO[str]) -> None:
    outcome.code = EXIT_BAD
    outcome.error = message
    print(message, file=err, flush=True)


def _one_line(message: object) -> str:
    from migrator.core.secrets import cut, redact_urls
    return cut(redact_urls(" ".join(str(message).split("\n")).replace("\r", " ")))


def _json(o: _FileOutcome) -> dict[str, Any]:
    data: dict[str, Any] = {"file": o.name, "version": o.version, "containerd": o.containerd,
                            "findings": [f.to_json() for f in o.findings]}
    if o.fixed:
        data["fixed"] = [f.to_json() for f in o.fixed]
    if o.error:
        data["error"] = o.error
    return data


_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _tool_version() -> str:
    try:
        from importlib.metadata import version
        return version("containerd-migrate")
    except Exception:
        return "0"


def sarif(outcomes: list[_FileOutcome]) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: the rules, one result per finding."""
    from migrator.lint.registry import RULES
    ids = list(RULES)
    rules = [{"id": r.id, "name": r.name, "shortDescription": {"text": r.summary},
              "fullDescription": {"text": r.doc.split("\n\n")[0].replace("\n", " ")}}
             for r in RULES.values()]
    results = []
    for o in outcomes:
        uri = quote(o.name.replace(os.sep, "/"), safe="/:._-~")
        for f in o.findings:
            text = f.message + (f" ({f.suggestion})" if f.suggestion else "")
            location: dict[str, Any] = {"artifactLocation": {"uri": uri}}
            if f.line:
                location["region"] = {"startLine": f.line, "startColumn": f.col or 1}
            results.append({"ruleId": f.id, "ruleIndex": ids.index(f.id),
                            "level": _LEVELS[f.severity], "message": {"text": text},
                            "locations": [{"physicalLocation": location}]})
    notifications = [{"level": "error", "message": {"text": o.error}}
                     for o in outcomes if o.error]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "containerd-migrate", "version": _tool_version(),
                            "rules": rules}},
        "results": results,
        "invocations": [{"executionSuccessful": not notifications,
                         **({"toolExecutionNotifications": notifications}
                            if notifications else {})}],
    }
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [run]}

"""Lint containerd config.toml files for the misconfigurations that take clusters down.

    from migrator.lint import lint
    result = lint(text, file="config.toml", containerd=line, kubernetes=True)
    for f in result.findings:          # id, name, severity, message, suggestion, line, col, fixable
        print(f.format(result.file))
    result.fixed_text                  # every safe fix applied (None: nothing to fix)

One module per rule (`migrator/lint/cm0NN_*.py`; the module docstring names the containerd
release or issue the rule comes from and what it applies to), collected by
`migrator/lint/registry.py`. The rules are documented in docs/rules.md.

Which containerd the file is checked for: `containerd="X.Y"` (or "X.Y.Z" for patch-specific
advisories); without it, the release that reads the file's config version natively (1.7 for
versions 1 and 2, 2.1 for 3, 2.3 for 4).

A fix never changes what containerd reads except the misconfiguration itself; fixes are applied
with the migration engine and emitter (comments, order, quoting and line endings stay) and
checked by parsing the result again (migrator/lint/fix.py). Findings whose fix is not safe are
reported with `fixable = False` and left alone.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.core import catalog
from migrator.core.errors import ConfigError
from migrator.lint import fix as fixer
from migrator.lint.base import Context, Finding, Fix
from migrator.lint.registry import RULES, rules
from migrator.lint.target import Target, parse_target

__all__ = ["lint", "LintResult", "Finding", "Fix", "RULES", "rules"]

_NOT_FILES = ("<string>", "<stdin>", "-")
_MAX_ROUNDS = 64


@dataclass
class LintResult:
    file: str
    findings: list[Finding]
    fixed_text: str | None
    version: int | None = None
    target: Target | None = None
    text: str = ""
    fixed: list[Finding] = field(default_factory=list)   # findings --fix resolved

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "version": self.version,
                "containerd": self.target.label if self.target else None,
                "findings": [f.to_json() for f in self.findings],
                "fixable": sum(f.fixable for f in self.findings)}


@dataclass(frozen=True)
class _Options:
    file: str
    containerd: str | None
    kubelet: dict | None
    kubernetes: bool


def lint(text: str | bytes, *, file: str = "<string>", containerd: str | None = None,
         kubelet_config: str | None = None, kubernetes: bool = False) -> LintResult:
    """Lint one config. Bad input (not UTF-8, not TOML, an unknown --containerd release, an
    unreadable kubelet config) raises ConfigError."""
    from migrator.lint import kubelet as kubelet_mod
    kubelet = kubelet_mod.read(kubelet_config) if kubelet_config else None
    return _lint(text, _Options(file, containerd, kubelet, kubernetes))


def _lint(data: str | bytes, opts: _Options) -> LintResult:
    ctx = _run(data, opts)
    findings = ctx.findings
    original = ("\ufeff" if ctx.had_bom else "") + ctx.text
    fixes = list({repr(f.fix): f.fix for f in findings if f.fix is not None}.items())
    verdicts = dict(zip((k for k, _ in fixes), fixer.applicable(ctx.text, [x for _, x in fixes])))
    strip_bom = False
    for f in findings:
        if f.fix is not None:
            f.fixable = verdicts[repr(f.fix)]
            strip_bom = strip_bom or (f.fixable and f.fix.strip_bom)
    fixed_text = None
    resolved: list[Finding] = []
    if any(f.fixable for f in findings):
        text, refused = _fix_loop(ctx, opts)
        for f in findings:
            if f.fixable and _key(f) in refused:
                f.fixable = False   # its fix would add errors on the target release
        out = ("" if strip_bom or not ctx.had_bom else "\ufeff") + text
        if out != original:
            fixed_text = out
            after = _run(text, opts)
            left = {_key(f) for f in after.findings}
            resolved = [f for f in findings if f.fixable and _key(f) not in left
                        and not (f.fix is not None and f.fix.strip_bom and not strip_bom)]
    return LintResult(opts.file, findings, fixed_text, ctx.version, ctx.target, original,
                      resolved)


def _key(f: Finding) -> tuple:
    return (f.id, f.path, f.message)


def _order(f: Finding) -> tuple:
    ids = list(RULES)
    return (ids.index(f.id) if f.id in ids else len(ids), f.line or 0, f.col or 0)


def _fix_loop(ctx: Context, opts: _Options) -> tuple[str, set[tuple]]:
    """Apply the fixes round by round, re-linting in between, so that every fix is computed in
    the coordinates of the text it edits. A round applies all pending fixes at once; when that
    fails (a fix raises, changes nothing or adds errors), it tries the first half, and so on
    down to one fix, which is then skipped. Linear in the file when the fixes agree."""
    current = ctx.text
    findings = ctx.findings
    bad: set[tuple] = set()
    refused: set[tuple] = set()
    applied: set[tuple] = set()
    for _ in range(_MAX_ROUNDS):
        todo = sorted((f for f in findings if f.fix is not None and not _bom_only(f.fix)
                       and _key(f) not in bad), key=_order)
        again = {_key(f) for f in todo if _key(f) in applied}  # fixed once and back: leave it
        bad |= again
        todo = [f for f in todo if _key(f) not in again]
        if not todo:
            break
        while todo:
            new, after, worse = _try(current, findings, todo, opts)
            if new is not None:
                applied.update(_key(f) for f in todo)
                current, findings = new, after
                break
            if len(todo) == 1:
                bad.add(_key(todo[0]))
                if worse:
                    # judged by the release it targets, the fix makes things worse (e.g. CRI
                    # settings written into a versionless file that 2.0-2.2 then lose, facts B3)
                    refused.add(_key(todo[0]))
                break
            todo = todo[:len(todo) // 2]
    return current, refused


def _try(current: str, findings: list[Finding], todo: list[Finding],
         opts: _Options) -> tuple[str | None, list[Finding], bool]:
    """(the new text and its findings, or None; whether it was refused for adding errors)."""
    try:
        new = fixer.apply(current, fixer.merge([f.fix for f in todo if f.fix is not None]))
    except fixer.FixError:
        return None, findings, False
    if new == current:
        return None, findings, False
    after = _run(new, opts).findings
    if _new_errors(findings, after):
        return None, findings, True
    return new, after, False


def _new_errors(before: list[Finding], after: list[Finding]) -> bool:
    """Whether some rule has more error-level findings in `after` than in `before` (counted
    per rule: paths, positions and wording shift with the edit)."""
    from collections import Counter
    had = Counter(f.id for f in before if f.severity == "error")
    has = Counter(f.id for f in after if f.severity == "error")
    return any(n > had[rule] for rule, n in has.items())


def _bom_only(fix: Fix) -> bool:
    return fix.strip_bom and not (fix.moves or fix.converts or fix.drops or fix.sets
                                  or fix.entries or fix.version is not None)


def _coerce_version(raw: Any) -> int | None:
    """The config version containerd would use, or None when none can read the file."""
    if raw is None:
        return 1
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if not isinstance(raw, int):
        return None
    if raw <= 1:
        return 1
    return raw if raw <= max(catalog.versions()) else None


def _run(data: str | bytes, opts: _Options) -> Context:
    from migrator.core import loading, source
    text, had_bom = loading.decode(data, opts.file)
    if not text.strip():
        tree: dict = {}
    else:
        tree = loading.parse_toml(text, opts.file)
    try:
        doc = source.parse(text)
    except (AssertionError, IndexError, ValueError) as exc:
        raise ConfigError(f"cannot map this TOML for editing ({exc})", file=opts.file) from None
    raw = tree.get("version")
    version = _coerce_version(raw)
    try:
        target = parse_target(opts.containerd, version)
    except ConfigError as exc:
        raise exc.with_file(opts.file) from None
    base_dir = None
    if opts.file not in _NOT_FILES and os.path.isfile(opts.file):
        base_dir = Path(os.path.abspath(opts.file)).parent
    ctx = Context(opts.file, text, had_bom, tree, doc, raw, version, target,
                  opts.kubernetes, opts.kubelet, base_dir)
    for r in rules():
        ctx.current = r
        r.check(ctx)
    ctx.current = None
    ctx.findings.sort(key=lambda f: (f.line or 0, f.col or 0, f.id))
    return ctx

"""Edits by name applied with migrate() in one verified pass: the text to edit, the edits
resolved (resolve.py) and contributed to the plan, and the report of what they did."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from migrator.core import engine, rules
from migrator.core.errors import ConfigError
from migrator.core.loading import decode as _decode
from migrator.core.loading import load as _load_file
from migrator.core.loading import parse_toml as _parse_toml
from migrator.core.paths import dotted
from migrator.core.results import Change, Finding, MigrationResult
from migrator.features.settings.names import parse_name
from migrator.features.settings.resolve import Edit, resolve
from migrator.features.settings.values import parse_assignment
from migrator.pipeline import UNSET, migrate, resolve_target, supported_versions


@dataclass
class _Source:
    """The text to edit; a versionless file read as another version gets a header for the
    duration of the edit."""
    text: str
    version_line: str | None        # the header inserted (removed again from the output)
    bom: str
    drop_in: bool = False           # a file without a version line, read as `version`


def _prepare(text: str | bytes, version: int | None, file: str) -> _Source:
    s, had_bom = _decode(text, file)
    bom = "\ufeff" if had_bom else ""
    if version is None:
        return _Source(bom + s, None, "")
    tree = _parse_toml(s, file)
    if "version" in tree:
        return _Source(bom + s, None, "")   # the file says which version it is
    if version == 1:
        return _Source(bom + s, None, "", True)
    if version not in supported_versions():
        raise ConfigError(f"unsupported config version {version}", file=file)
    nl = "\r\n" if "\r\n" in s.split("\n", 1)[0] + "\n" else "\n"
    line = f"version = {version}{nl}"
    return _Source(bom + line + s, line, bom, True)


def _finish(src: _Source, result: MigrationResult, original: str | bytes) -> MigrationResult:
    if src.version_line is None:
        return result
    text = result.text
    m = re.match(r"version = \d+\r?\n", text)
    if m is None:  # pragma: no cover - the emitter edits an existing header in place
        raise RuntimeError("the version header of a versionless drop-in went missing")
    result.text = text[m.end():]
    result.input_text = original.decode("utf-8", "replace") if isinstance(original, bytes) \
        else original
    if src.bom and result.text.startswith(src.bom):
        result.text = result.text[len(src.bom):]
    result.changes = [replace(c, from_line=c.from_line - 1 if c.from_line else c.from_line)
                      for c in result.changes if c.kind != "header"]
    result.findings = [replace(f, line=f.line - 1 if f.line else f.line)
                       for f in result.findings if f.path != "version"]
    return result


def _current(loaded: Any, to: int, release: str | None) -> dict:
    if loaded.version == to:
        return loaded.tree
    return engine.plan(loaded.tree, rules.chain(loaded.version, to, release)).expected


def edit_text(text: str | bytes, edits: dict[str, Any], *, to: int | None = None,
              containerd: str | None = None, file: str = "<string>",
              version: int | None = None, allow_loss: bool = False) -> MigrationResult:
    """Apply named edits (values typed; UNSET removes) and migrate to `to` (or to what the
    containerd release line reads) in one verified pass.

    Without `to` and `containerd` the file keeps its version. `version` says which version a
    file without a `version` key (a drop-in) is read as; it stays without one."""
    return _edit(text, edits, to=to, containerd=containerd, file=file, version=version,
                 allow_loss=allow_loss)


def _edit(text: str | bytes, edits: dict[str, Any], *, to: int | None, containerd: str | None,
          file: str, version: int | None, judge: str | None = None,
          allow_loss: bool = False) -> MigrationResult:
    """`judge`: a release whose schema checks the edits without changing the target."""
    try:
        src = _prepare(text, version, file)
        loaded = _load_file(src.text, file, supported_versions())
        if to is None and containerd is None:
            target, chain_release, release = loaded.version, None, judge
        else:
            target, chain_release = resolve_target(to, containerd)
            release = containerd
        current = _current(loaded, target, chain_release)
        edit = resolve(edits, current, target, release)
    except ConfigError as exc:
        raise exc.with_file(file) from None
    result = migrate(src.text, to=target if containerd is None else to, containerd=containerd,
                     allow_loss=allow_loss, file=file, sets=edit.sets, loaded=loaded)
    explain(result, edit)
    if src.drop_in and target <= 2:
        result.findings.extend(_replaced_tables(edit, current))
    return _finish(src, result, text)


def _replaced_tables(edit: Edit, current: dict) -> list[Finding]:
    """containerd 1.x merges an imported file plugin by plugin: a drop-in's plugin table
    replaces the root config's table of that plugin as a whole."""
    have = current.get("plugins") if isinstance(current.get("plugins"), dict) else {}
    new = sorted({p[:2] for p, v in edit.sets.items()
                  if v is not UNSET and len(p) > 2 and p[0] == "plugins" and p[1] not in have})
    return [Finding("warning", "settings", f"containerd 1.x replaces the root config's whole "
                    f"{dotted(t)} table with a drop-in's: the settings the root file has there "
                    "are lost unless this file repeats them", dotted(t)) for t in new]


def _explain(change: Change, edit: Edit) -> Change:
    if change.kind not in ("added", "set", "dropped") or not edit.notes:
        return change
    path = change.to_key or change.from_key
    if not path:
        return change
    why = edit.notes.get(path)
    return replace(change, reason=why) if why else change


def parse_edits(assignments: Iterable[str | tuple[str, Any]], file: str) -> dict[str, Any]:
    """`NAME=VALUE` assignments (or (name, value) pairs) as edits by canonical name."""
    edits: dict[str, Any] = {}
    try:
        for a in assignments:
            name, value = parse_assignment(a) if isinstance(a, str) else a
            key = parse_name(name)
            canon = key if isinstance(key, str) else key.name
            if canon in edits and edits[canon] != value:
                raise ConfigError(f"{canon} is set twice, to {edits[canon]!r} and {value!r}")
            edits[canon] = value
    except ConfigError as exc:
        raise exc.with_file(file) from None
    return edits


def plan_edits(assignments: Iterable[str | tuple[str, Any]], loaded: Any, target: int,
               chain_release: str | None, release: str | None, file: str) -> Edit:
    """--set's contribution to a migration another feature runs (--hosts-dir,
    --with-imports): the edits resolved to key paths of the target version, against the file
    as it will be after the migration. The feature adds `sets` to its own and passes the
    result to `explain`."""
    try:
        current = _current(loaded, target, chain_release)
        return resolve(parse_edits(assignments, file), current, target, release)
    except ConfigError as exc:
        raise exc.with_file(file) from None


def explain(result: MigrationResult, edit: Edit) -> None:
    """Name the edits in a migration's report: their changes say why, their findings join."""
    result.changes = [_explain(c, edit) for c in result.changes]
    result.findings.extend(edit.findings)


def apply_sets(text: str | bytes, assignments: Iterable[str | tuple[str, Any]], *,
               to: int | None = None, containerd: str | None = None,
               file: str = "<string>", version: int | None = None,
               allow_loss: bool = False) -> MigrationResult:
    """The `--set NAME=VALUE` entry point: parse every assignment, then edit (and migrate to
    `to` / what `containerd` reads) in one verified pass. Without `to` and `containerd` the
    file keeps its version; `version` is what a file without a version line is read as.
    Raises ConfigError (exit 2) for a bad or inexpressible edit, LossError (exit 3) only when
    the migration itself loses a setting."""
    edits = parse_edits(assignments, file)
    return edit_text(text, edits, to=to, containerd=containerd, file=file, version=version,
                     allow_loss=allow_loss)

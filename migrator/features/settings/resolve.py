"""Edits by name resolved into key paths of the file's version: what each name means there,
the runtime tables and defaults an edit needs to hold, and the schema's verdict on the result
(edits.py applies them to the text)."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from migrator.core import engine, rules, transforms
from migrator.core.errors import ConfigError
from migrator.core.paths import dotted
from migrator.core.results import Finding
from migrator.features.settings.names import (
    RUNC,
    RUNC_TYPE,
    Key,
    Spelling,
    parse_name,
    runtime_key,
    spellings,
)
from migrator.features.settings.values import (
    _MISSING,
    _check_type,
    _get,
    plugin_entries,
    read,
)
from migrator.pipeline import UNSET


@dataclass
class Edit:
    """What a set of named edits becomes in one version: paths, values and notes."""
    sets: dict[tuple, Any]
    notes: dict[tuple, str]            # target path -> why it was added beyond the request
    findings: list[Finding]


def _default_runtime(edits: dict, current: dict, version: int, release: str | None) -> str:
    key = parse_name("default_runtime")
    assert isinstance(key, Key)
    value = edits.get(key.name, _MISSING)
    if value is _MISSING:
        value = read(current, key, version, release)
    return value if isinstance(value, str) and value and value is not UNSET else RUNC


def _expand(edits: dict[str, Any], current: dict, version: int,
            release: str | None) -> dict[Key, Any]:
    out: dict[Key, Any] = {}
    origin: dict[Key, str] = {}
    for name, value in edits.items():
        key = parse_name(name)
        if isinstance(key, str):   # systemd_cgroup
            key = runtime_key(_default_runtime(edits, current, version, release), "options",
                              "SystemdCgroup")
        value = _check_type(key, value)
        if key in out and out[key] != value:
            raise ConfigError(f"{name} and {origin[key]} both set {key.name}, differently")
        out[key] = value
        origin[key] = name
    return out


def _cannot(key: Key, version: int, release: str | None, why: str) -> ConfigError:
    what = f"containerd {release}" if release else f"config version {version}"
    return ConfigError(f"{what} cannot express {key.name}: {why}")


def _place(key: Key, value: Any, current: dict, version: int, release: str | None,
           edit: Edit) -> None:
    cands = spellings(key, version, release)
    if all(sp.path is None for sp in cands):
        t = cands[0].primary
        rule = t.rule
        why = t.drop_reason or "the rules drop it"
        if rule is not None and rule.use:
            why += f"; use {rule.use} instead"
        raise _cannot(key, version, release, why)
    present = [sp for sp in cands if sp.path is not None and
               _get(current, sp.path) is not _MISSING]
    if value is UNSET:
        for sp in present:
            edit.sets[sp.path] = UNSET
            for c in sp.copies:
                if _still_copy(c, sp, current):
                    edit.sets[c.path] = UNSET
        return
    if key.setting.name == "disabled_plugins":
        value = plugin_entries(value, version)
    order = present + [sp for sp in cands if sp not in present and sp.path is not None]
    problems = []
    for sp in order:
        try:
            new = engine.convert(sp.primary, value)
        except transforms.Unrepresentable as exc:
            problems.append(f"{dotted(sp.path)}: {exc}")
            continue
        if isinstance(new, transforms.Drop):
            problems.append(f"{dotted(sp.path)}: {new.reason}")
            continue
        break
    else:
        raise _cannot(key, version, release, "; ".join(problems))
    assert sp.path is not None
    unchanged = _get(current, sp.path) == new
    edit.sets[sp.path] = new
    for other in present:
        if other is not sp:
            edit.sets[other.path] = UNSET
            edit.notes[other.path] = (f"another spelling of {key.name}; {dotted(sp.path)} "
                                      "holds it now")
    for c in sp.copies if not unchanged else ():  # a value already there changes nothing
        assert c.path is not None
        try:
            made = engine.convert(c, value)
        except transforms.Unrepresentable:
            continue
        if _get(current, c.path) is not _MISSING and not _still_copy(c, sp, current):
            edit.findings.append(Finding(
                "info", "settings", f"{dotted(c.path)} is set on its own, so it is left as it "
                f"is; the rules would give it {made!r} with {key.name}", dotted(c.path)))
            continue
        if made == "" or isinstance(made, transforms.Drop):
            if _get(current, c.path) is not _MISSING:
                edit.sets[c.path] = UNSET
            continue
        edit.sets[c.path] = made
        edit.notes[c.path] = (f"set with {key.name}: the rules carry it here too "
                              f"({c.rules[-1].id})")


def _still_copy(c: engine.Target, sp: Spelling, current: dict) -> bool:
    """The copy's target holds what the copy makes of the primary's current value."""
    assert sp.path is not None and c.path is not None
    have = _get(current, c.path)
    if have is _MISSING:
        return True
    primary = _get(current, sp.path)
    if primary is _MISSING or sp.primary.converts:
        return False
    try:
        return engine.convert(c, primary) == have
    except transforms.Unrepresentable:
        return False


def _runtime_table(name: str, version: int, release: str | None) -> tuple:
    sp = spellings(runtime_key(name, "runtime_type"), version, release)[0]
    assert sp.path is not None
    return sp.path[:-1]


def _complete_runtimes(keys: dict[Key, Any], current: dict, version: int,
                       release: str | None) -> dict[Key, tuple[Any, str]]:
    """Keys to add so that every runtime the edit creates is complete."""
    extra: dict[Key, tuple[Any, str]] = {}
    new = []
    for key, value in keys.items():
        name = key.runtime
        if name is None or value is UNSET or name in new:
            continue
        if _get(current, _runtime_table(name, version, release)) is _MISSING:
            new.append(name)
    # containerd 1.x replaces its built-in runtimes table with the file's: a file that gets its
    # first runtime loses runc, which the default default_runtime_name names.
    runtimes = _runtime_table(RUNC, version, release)[:-1]
    have = _get(current, runtimes)
    if new and RUNC not in new and version <= 2 and (have is _MISSING or not have):
        extra[runtime_key(RUNC, "runtime_type")] = (
            RUNC_TYPE, "containerd 1.x drops its built-in runc runtime once the file defines "
            "any runtime; it is written out so that runc stays")
    for name in new:
        rt = runtime_key(name, "runtime_type")
        if rt not in keys:
            extra[rt] = (RUNC_TYPE, f"runtime {name} is new and needs a runtime_type; "
                         f"{RUNC_TYPE} (runc) is assumed, set runtime.{name}.runtime_type to "
                         "choose another shim")
    return extra


def _check_default_runtime(keys: dict[Key, Any], sets: dict[tuple, Any], current: dict,
                           version: int, release: str | None) -> None:
    drn = parse_name("default_runtime")
    assert isinstance(drn, Key)
    name = keys.get(drn)
    if not isinstance(name, str) or not name:
        return
    runtimes = _runtime_table(RUNC, version, release)[:-1]
    have = _get(current, runtimes)
    defined = set(have) if isinstance(have, dict) else set()
    defined |= {p[len(runtimes)] for p, v in sets.items()
                if v is not UNSET and len(p) > len(runtimes) and p[:len(runtimes)] == runtimes}
    if name in defined or (name == RUNC and (version >= 3 or not defined)):
        return
    raise ConfigError(f"default_runtime {name!r} names no runtime of this file (it has "
                      f"{', '.join(sorted(defined)) or 'only the built-in runc'}); set "
                      f"runtime.{name}.runtime_type too")


def resolve(edits: dict[str, Any], current: dict, version: int,
            release: str | None = None) -> Edit:
    """Named edits -> key paths of `version` with their values (UNSET removes), checked
    against the schema of `version` (or of `release`)."""
    keys = _expand(edits, current, version, release)
    edit = Edit({}, {}, [])
    for key, (value, why) in _complete_runtimes(keys, current, version, release).items():
        _place(key, value, current, version, release, edit)
        sp = spellings(key, version, release)[0]
        edit.notes[sp.path] = why
    # a runtime's own keys before its options: its table is then written before its subtable
    ordered = sorted(keys.items(), key=lambda kv: kv[0].setting.name.endswith(".options.<key>"))
    for key, value in ordered:
        _place(key, value, current, version, release, edit)
    _check_default_runtime(keys, edit.sets, current, version, release)
    _validate(edit.sets, current, version, release, keys)
    return edit


def _apply(tree: dict, sets: dict[tuple, Any]) -> dict:
    out = copy.deepcopy(tree)
    for path, value in sets.items():
        cur = out
        for i, k in enumerate(path[:-1]):
            nxt = cur.setdefault(k, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"cannot set {dotted(path)}: {dotted(path[:i + 1])} is a "
                                  "value, not a table")
            cur = nxt
        if value is UNSET:
            cur.pop(path[-1], None)
        else:
            if isinstance(cur.get(path[-1]), dict):
                raise ConfigError(f"cannot set {dotted(path)}: it is a table in this file")
            cur[path[-1]] = copy.deepcopy(value)
    return out


def _validate(sets: dict[tuple, Any], current: dict, version: int, release: str | None,
              keys: dict[Key, Any]) -> None:
    from migrator.checks import validate
    after = _apply(current, sets)
    before = current
    schema: int | str = release or version
    if version == 1 and release is not None:
        # a release schema is spelled in version 2: judge both trees there
        chain = rules.chain(1, 2)
        before = engine.plan(before, chain).expected
        after = engine.plan(after, chain).expected
    old = {(p.path, p.message) for p in validate.validate(before, schema)}
    new = [p for p in validate.validate(after, schema) if (p.path, p.message) not in old]
    if not new:
        return
    by_path = {}
    for key in keys:
        for sp in spellings(key, version, release):
            if sp.path is not None:
                by_path[sp.path] = key.name
    msgs = []
    for p in new:
        name = next((n for path, n in by_path.items()
                     if path[:len(p.path)] == p.path or p.path[:len(path)] == path), None)
        msgs.append(f"{name}: {p.message}" if name else p.message)
    what = f"containerd {release}" if release else f"config version {version}"
    raise ConfigError(f"{what} cannot take this edit: " + "; ".join(msgs))

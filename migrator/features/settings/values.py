"""Values typed against the schema of the version that holds them, plugin entries, and reading a
setting from a tree."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from migrator.core import engine, rules, transforms
from migrator.core.errors import ConfigError
from migrator.core.paths import dotted, node_at
from migrator.features.settings.names import (
    RUNC,
    Key,
    parse_name,
    runtime_key,
    spellings,
)
from migrator.pipeline import UNSET, supported_versions

# ---------------------------------------------------------------------------------------------
# values


@cache
def _schema(version: int | str) -> dict:
    from migrator.checks import validate
    return validate.load_schema(version)


def value_schema(key: Key) -> dict | None:
    """The schema of the value (in the name's own version; None: free-form)."""
    node = node_at(_schema(key.setting.version), key.home)
    if node is None and key.setting.version != 2:
        node = node_at(_schema(2), key.home)
    return node


def _kind(node: dict | None) -> str | None:
    if not node:
        return None
    t = node.get("type")
    return t if isinstance(t, str) else None


_TYPE_NAMES = {"string": "a string", "boolean": "a boolean (true or false)",
               "integer": "an integer", "array": "a list"}


def _check_type(key: Key, value: Any) -> Any:
    if value is UNSET:
        return value
    node = value_schema(key)
    kind = _kind(node)
    ok = {"string": lambda v: isinstance(v, str),
          "boolean": lambda v: isinstance(v, bool),
          "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
          "array": lambda v: isinstance(v, (list, tuple))}.get(kind or "")
    if kind is None:
        if not isinstance(value, (str, bool, int, float, list, tuple)):
            raise ConfigError(f"{key.name}: unsupported value {value!r}")
    elif ok is not None and not ok(value):
        raise ConfigError(f"{key.name} must be {_TYPE_NAMES[kind]}, not {value!r}")
    if isinstance(value, tuple):
        value = list(value)
    if kind == "array" and node is not None:
        item = _kind(node.get("items"))
        for v in value:
            if item == "string" and not isinstance(v, str):
                raise ConfigError(f"{key.name} must be a list of strings, not {value!r}")
    return value


def parse_value(key: Key | str, text: str) -> Any:
    """A command-line value, typed by the schema: booleans, integers, strings, and lists as
    JSON (`["a","b"]`) or comma-separated (`a,b`; empty: `[]`)."""
    if isinstance(key, str):
        key = runtime_key(RUNC, "options", "SystemdCgroup")  # the shorthand's type
    node = value_schema(key)
    kind = _kind(node)
    raw = text.strip()
    if kind == "boolean" or (kind is None and raw.lower() in ("true", "false")):
        if raw.lower() not in ("true", "false"):
            raise ConfigError(f"{key.name} takes true or false, not {text!r}")
        return raw.lower() == "true"
    if kind == "integer" or (kind is None and re.fullmatch(r"[+-]?\d+", raw)):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{key.name} takes an integer, not {text!r}") from None
    if kind == "array" or (kind is None and raw.startswith("[")):
        if raw.startswith("["):
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{key.name}: not a JSON list ({exc.msg})") from None
            if not isinstance(value, list):
                raise ConfigError(f"{key.name} takes a list, not {text!r}")
            return value
        return [p.strip() for p in raw.split(",") if p.strip()]
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            pass
    return text


def parse_assignment(text: str) -> tuple[str, Any]:
    """`NAME=VALUE` (as given to --set) -> (canonical name, typed value)."""
    if "=" not in text:
        raise ConfigError(f"--set takes NAME=VALUE, not {text!r}")
    name, value = text.split("=", 1)
    key = parse_name(name)
    if isinstance(key, str):
        return key, parse_value(key, value)
    return key.name, _check_type(key, parse_value(key, value))


# ---------------------------------------------------------------------------------------------
# disabled_plugins entries are plugin names: the rules rename them too


def _plugins(version: int) -> frozenset[str]:
    from migrator.checks import losses
    return losses.plugins_read(version)


def _entry_source(entry: str, version: int) -> int:
    """Which version's spelling a disabled_plugins entry is in."""
    if "." not in entry:
        return 1                      # a short plugin ID: version 1's spelling
    if version == 1:
        others = [v for v in supported_versions() if v > 1]
    elif entry in _plugins(version):
        return version
    else:
        others = [v for v in supported_versions() if v > 1 and v != version]
    known = [v for v in others if entry in _plugins(v)]
    if known:
        return min(known, key=lambda v: (abs(v - version), v))
    return 2 if version == 1 else version


def plugin_entries(values: Iterable[str], version: int) -> list[str]:
    """Entries translated into `version`'s spelling by the rules' plugin and entry rules:
    `cri` is io.containerd.grpc.v1.cri in version 2 and the four CRI plugins in version 3."""
    out: list[str] = []
    for entry in values:
        src = _entry_source(entry, version)
        got = [entry] if src == version else \
            engine.Mapper(rules.chain(src, version)).entry(entry)[0]
        out.extend(n for n in got if n not in out)
    return out


# ---------------------------------------------------------------------------------------------
# reading


_MISSING = object()


def _get(tree: Any, path: tuple) -> Any:
    cur = tree
    for k in path:
        if not isinstance(cur, dict) or k not in cur:
            return _MISSING
        cur = cur[k]
    return cur


def _invert(target: engine.Target, value: Any) -> Any:
    for rule in reversed(target.converts):
        assert rule.transform is not None
        name, args = rule.transform
        value = transforms.apply(name, args, value, reverse=not rule.reverse)
    return value


def read(tree: dict, key: Key, version: int, release: str | None = None) -> Any:
    """The value of `key` in a tree of `version` (None: not set), in the name's own shape."""
    for sp in spellings(key, version, release):
        if sp.path is None:
            continue
        value = _get(tree, sp.path)
        if value is _MISSING:
            continue
        try:
            return _invert(sp.primary, value)
        except transforms.Unrepresentable as exc:
            raise ConfigError(f"{key.name}: the file holds {dotted(sp.path)} = {value!r}, "
                              f"which {key.name} cannot show ({exc})") from None
    return None

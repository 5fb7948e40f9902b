"""The emitter's units: a block of statements under one header, and small helpers its parts
share."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from migrator.core.engine import Mapper
from migrator.core.rules import Rule
from migrator.core.source import Statement


@dataclass
class Block:
    header: Statement | None                 # None: the root table
    kvs: list[Statement] = field(default_factory=list)
    final: tuple | None = ()                 # the header path it ends with; None: header removed
    appended: list[tuple[str, str]] = field(default_factory=list)   # (unit text, first key)
    created: list["Block"] = field(default_factory=list)
    new_header: tuple | None = None          # for blocks the emitter creates
    order: object = None                     # the key order moved keys follow in this block
    merged_into: tuple | None = None         # the header it gave up for an existing one

    @property
    def path(self) -> tuple:
        return self.header.path if self.header else ()


def _without_dropped(mapper: Mapper, value: Any, path: tuple) -> Any:
    """An inline table less its dropped keys; a table the drops emptied goes too, as a header
    whose keys were all dropped does (an empty table written as such stays)."""
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        if mapper.target(path + (k,)).path is None:
            continue
        kept = _without_dropped(mapper, v, path + (k,))
        if isinstance(v, dict) and v and kept == {}:
            continue
        out[k] = kept
    return out


def _reason(kind: str, rule: Rule | None) -> str:
    if kind == "header":
        return "version header set to the target version"
    if kind == "added":
        return "set on request"
    if rule is None:
        return kind
    if kind == "copied":
        return "containerd 2.x reads this setting here as well"
    if rule.kind == "spell" and rule.reason:
        return rule.reason
    if rule.reverse:  # a downgrade: the release named is the one that moved it away
        return (f"where the older config version has it (containerd {rule.release} moved it)"
                if rule.release else "where the older config version has it")
    return f"containerd {rule.release} reads it here" if rule.release else kind


def _quote(name: str, quote: str) -> str:
    if quote == "'" and "'" not in name:
        return f"'{name}'"
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


_MISSING = object()


def _get(tree: dict, path: tuple) -> Any:
    cur: Any = tree
    for k in path:
        cur = cur[k]
    return cur

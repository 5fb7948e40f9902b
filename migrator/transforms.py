"""Value transforms named by `convert ... via NAME(args)` rules, each with its inverse.

A transform gets the value and returns the new value, or DROP with a reason when the setting
has nothing to say in the target (e.g. `sched_core = false`, the default). `literal` rebuilds the
TOML text from the original literal where it can, so quoting survives the conversion.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


class Unrepresentable(Exception):
    """The value has no form in the target version (a downgrade that would lose it)."""


@dataclass(frozen=True)
class Drop:
    reason: str


@dataclass(frozen=True)
class Transform:
    forward: Callable[..., Any]
    backward: Callable[..., Any]
    literal: Callable[..., str | None]          # (original literal text, args) -> new text
    merge_lists: bool = False                   # merge into an existing list at the target


def _wrap(value: Any) -> Any:
    return [value]


def _unwrap(value: Any) -> Any:
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    raise Unrepresentable(f"a list of {len(value)} entries has no single-value form")


def _flag_on(value: Any, flag: str) -> Any:
    if value is True:
        return [flag]
    return Drop(f"{value!r} is the default: nothing to carry over")


def _flag_off(value: Any, flag: str) -> Any:
    if value == []:
        return Drop("an empty list is the default: nothing to carry over")
    if isinstance(value, list) and flag in value:
        rest = [v for v in value if v != flag]
        if rest:
            raise Unrepresentable(f"entries other than {flag} have no form in the target")
        return True
    raise Unrepresentable(f"no {flag} entry")


def _suffix(value: Any, suffix: str) -> Any:
    return f"{value}{suffix}"


def _unsuffix(value: Any, suffix: str) -> Any:
    if isinstance(value, str) and value.endswith(suffix):
        return value[: -len(suffix)]
    raise Unrepresentable(f"{value!r} does not end in {suffix!r}")


TRANSFORMS: dict[str, Transform] = {
    "suffix": Transform(_suffix, _unsuffix, lambda text, *a: None),
    "wrap_list": Transform(_wrap, _unwrap, lambda text, *a: f"[{text}]"),
    "flag_in_list": Transform(_flag_on, _flag_off, lambda text, *a: None, merge_lists=True),
}


def apply(name: str, args: tuple[str, ...], value: Any, *, reverse: bool = False) -> Any:
    t = TRANSFORMS[name]
    return (t.backward if reverse else t.forward)(value, *args)

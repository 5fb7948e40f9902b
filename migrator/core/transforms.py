"""Value transforms named by `convert ... via NAME(args)` rules, each with its inverse.

A transform gets the value and returns the new value, or DROP with a reason when the setting
has nothing to say in the target (e.g. `sched_core = false`, the default). `literal` rebuilds the
TOML text from the original literal where it can, so quoting survives the conversion. Read
backwards, a transform with `split` may leave part of a value where it was (`Split`): a shim
env's `SCHED_CORE=1` becomes `sched_core = true`, its other entries stay in the env.
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
class Split:
    """A value read backwards in two parts: `value` for the target key, `rest` to stay at the
    source key; None where a part holds nothing (never both)."""
    value: Any
    rest: Any


@dataclass(frozen=True)
class Transform:
    forward: Callable[..., Any]
    backward: Callable[..., Any]
    literal: Callable[..., str | None]          # (original literal text, args) -> new text
    merge_lists: bool = False                   # merge into an existing list at the target
    split: Callable[..., Split] | None = None    # backward, leaving what has no target form


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


def _flag_split(value: Any, flag: str) -> Split:
    """The flag goes to the target, the other entries stay; without the flag the list stays
    as it is (an empty one too: it is a setting of the source key, which the losses judge)."""
    if not isinstance(value, list):
        raise Unrepresentable(f"{value!r} is not a list")
    rest = [v for v in value if v != flag]
    if len(rest) == len(value):
        return Split(None, value)
    return Split(True, rest or None)


def _suffix(value: Any, suffix: str) -> Any:
    return f"{value}{suffix}"


def _unsuffix(value: Any, suffix: str) -> Any:
    if isinstance(value, str) and value.endswith(suffix):
        return value[: -len(suffix)]
    raise Unrepresentable(f"{value!r} does not end in {suffix!r}")


def _nanoseconds(value: Any) -> Any:
    """An integer as go-toml v1 reads it into a time.Duration (nanoseconds), as the Go duration
    text go-toml v2 wants; anything else stays (a string already is one, 0 is valid)."""
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        return value
    sign, n = ("-" if value < 0 else ""), abs(value)
    for unit, size in (("s", 10**9), ("ms", 10**6), ("us", 10**3)):
        if n % size == 0:
            n //= size
            break
    else:
        return f"{sign}{n}ns"
    if unit != "s":
        return f"{sign}{n}{unit}"
    h, rest = divmod(n, 3600)
    m, sec = divmod(rest, 60)
    text = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{sec}s" if sec else "")
    return sign + text


def _same(value: Any) -> Any:
    return value


TRANSFORMS: dict[str, Transform] = {
    "nanoseconds": Transform(_nanoseconds, _same, lambda text, *a: None),
    "suffix": Transform(_suffix, _unsuffix, lambda text, *a: None),
    "wrap_list": Transform(_wrap, _unwrap, lambda text, *a: f"[{text}]"),
    "flag_in_list": Transform(_flag_on, _flag_off, lambda text, *a: None, merge_lists=True,
                              split=_flag_split),
}


def apply(name: str, args: tuple[str, ...], value: Any, *, reverse: bool = False) -> Any:
    t = TRANSFORMS[name]
    return (t.backward if reverse else t.forward)(value, *args)


def splits(name: str) -> bool:
    return TRANSFORMS[name].split is not None


def split(name: str, args: tuple[str, ...], value: Any) -> Split:
    """Backwards, in two parts (a transform without `split` leaves nothing behind)."""
    t = TRANSFORMS[name]
    if t.split is None:
        return Split(t.backward(value, *args), None)
    return t.split(value, *args)

"""Verify: the emitted text, parsed again, must equal the planned tree value for value; otherwise
it is a bug and nothing is written."""
from __future__ import annotations

import tomllib

from migrator.checks import accounting
from migrator.core.errors import InternalError


def verify(text: str, expected: dict, file: str) -> dict:
    try:
        got = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InternalError(f"{file}: emitted TOML does not parse ({exc}); nothing written")
    # nan never equals itself: only a tree that differs is compared again with nan made equal
    if got != expected and accounting.nan_safe(got) != accounting.nan_safe(expected):
        from deepdiff import DeepDiff
        diff = DeepDiff(expected, got, verbose_level=1)
        raise InternalError(f"{file}: emitted TOML differs from the plan: {diff}")
    return got

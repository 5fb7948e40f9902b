"""Progress of a batch on a terminal: one stderr line, `[i/n] file`, rewritten in place and
erased before anything else is written to stderr, so reports and errors read as without it.

Only on a terminal (not under pre-commit, CI or a pipe), only for more than a few files, and
never with TERM=dumb. No colour is used; if some ever is, NO_COLOR must turn it off.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

FEW = 4       # up to this many files the reports themselves show the progress
ERASE = "\r\x1b[K"


def wanted(total: int, quiet: bool, stream: TextIO) -> bool:
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream is no terminal
        tty = False
    return tty and total > FEW and not quiet and os.environ.get("TERM") != "dumb"


class _Line:
    """Stands in for sys.stderr while the batch runs: any real write erases the line first."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self._stream, self._total, self._shown = stream, total, False

    def step(self, i: int, name: str) -> None:
        shown = "".join(c if c.isprintable() else "?" for c in name)
        self._stream.write(f"{ERASE}[{i}/{self._total}] {shown}")
        self._stream.flush()
        self._shown = True

    def erase(self) -> None:
        if self._shown:
            self._stream.write(ERASE)
            self._stream.flush()
            self._shown = False

    def write(self, text: Any) -> int:
        if text:
            self.erase()
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def progress(total: int, quiet: bool = False) -> Iterator[Callable[[int, str], None]]:
    """`with progress(n) as step: step(i, name)` before each of the n files."""
    if not wanted(total, quiet, sys.stderr):
        yield lambda i, name: None
        return
    line = _Line(sys.stderr, total)
    sys.stderr = line
    try:
        yield line.step
    finally:
        sys.stderr = line._stream
        line.erase()

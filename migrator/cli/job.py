"""A run of the command line: its options (`_Job`), each file's outcome, the exit codes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXIT_OK, EXIT_CHECK, EXIT_ERROR, EXIT_LOSS = 0, 1, 2, 3
STDIN = "-"
STDIN_NAME = "<stdin>"
DEBUG_ENV = "CONTAINERD_MIGRATE_DEBUG"

MAX_MESSAGE = 2000  # an internal error's text is cut here (a diff of two trees can be huge)



class _StdoutClosed(Exception):
    """stdout went away (`| head`): stop quietly."""


@dataclass
class _Outcome:
    name: str
    code: int = EXIT_OK
    changed: bool = False
    entry: dict[str, Any] = field(default_factory=dict)  # this file's --report-json entry


@dataclass
class _Job:
    to: int | None
    containerd: str | None
    allow_loss: bool
    mode: str                 # "stdout", "output", "in-place", "check" (with or without diff)
    diff: bool
    check: bool
    output: str | None
    backup: str | None
    quiet: bool
    hosts_dir: str | None = None
    overwrite_hosts: bool = False
    with_imports: bool = False
    sets: tuple = ()
    read_as: int | None = None
    report: str | None = None       # --report-json, a file: written last, so checked first
    report_refused: bool = False    # it turned out to be a file this run reads or writes
    wants_report: bool = False      # --report-json, to a file or stdout

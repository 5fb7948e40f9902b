"""Reading inputs and writing outputs: regular files only, stdout kept for TOML, the
--report-json file checked before anything is written."""
from __future__ import annotations

import io
import os
import sys
from typing import Any, BinaryIO

import click

from migrator.cli import PROG
from migrator.cli.job import EXIT_ERROR, EXIT_OK, STDIN, _Job, _StdoutClosed
from migrator.cli.output import _strerror


def _binary_stdout() -> BinaryIO:
    return sys.stdout.buffer


def _binary_stdin() -> BinaryIO:
    return sys.stdin.buffer


def _special(st: os.stat_result) -> bool:
    import stat
    return not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode)


def _read(name: str) -> bytes:
    """The file's bytes, at most one more than the library accepts (it then says so), so that
    `/dev/zero` or a huge file cannot eat the memory. A FILE the user names may be a FIFO
    (`containerd-migrate <(cmd) --to 3`) or a device; files found by the run (imports, hosts.toml
    files) are read only when regular (loading.read_regular)."""
    from migrator.core.loading import MAX_BYTES

    if name == STDIN:
        return _binary_stdin().read(MAX_BYTES + 1)
    with open(name, "rb") as f:
        return f.read(MAX_BYTES + 1)


def _write_file(path: str, data: bytes) -> None:
    """Atomically to a regular file; straight into a device or FIFO (`-o /dev/stdout`)."""
    import stat

    from migrator.emit.write import write_atomic

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        with open(path, "wb") as f:
            f.write(data)
        return
    write_atomic(path, data)


def _report_problem(path: str, files: tuple[str, ...], job: _Job) -> str | None:
    """Why --report-json PATH cannot be written, checked before anything is: PATH must not be a
    file this run reads or writes (an input, its backup, the -o output, where stdout goes), and
    its directory must exist and be writable."""
    import stat

    taken = [(f, "an input file") for f in files if f != STDIN]
    if job.output is not None:
        taken.append((job.output, "the -o output"))
    if job.backup:
        taken += [(os.path.realpath(f) + job.backup, "a backup") for f in files if f != STDIN]
    clash = None
    for other, what in taken:
        if _same_file(path, other):
            clash = f"--report-json {path} is {what}: give the report another path"
            break
    if clash is None and job.mode in ("stdout", "check") and _is_stdout(path) and \
            (job.mode == "stdout" or job.diff):
        clash = f"--report-json {path} is where stdout goes, which carries the TOML or the diff"
    if clash is not None:
        return f"{PROG}: {clash}; nothing written"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        return f"{path}: cannot write: {_strerror(exc)}"
    if mode is not None and stat.S_ISDIR(mode):
        return f"{path}: cannot write: Is a directory"
    if mode is not None and not stat.S_ISREG(mode):  # a device or FIFO is written into
        return None if os.access(path, os.W_OK) else f"{path}: cannot write: Permission denied"
    directory = os.path.dirname(os.path.realpath(path))
    if not os.path.isdir(directory):
        return f"{path}: cannot write: No such file or directory"
    if not os.access(directory, os.W_OK | os.X_OK):  # the temporary file goes there
        return f"{path}: cannot write: Permission denied"
    return None


def _report_clash(job: _Job, paths: list[Any], what: str, backups: bool = False) -> str | None:
    """A message when --report-json names one of `paths` (found during the run: hosts.toml
    files, imported files); the report is then not written at all."""
    if job.report is None:
        return None
    for p in paths:
        others = [(str(p), what)] + ([(os.path.realpath(p) + job.backup, f"the backup of a file "
                                      f"{what}")] if backups and job.backup else [])
        for other, is_what in others:
            if _same_file(job.report, other):
                job.report_refused = True
                return (f"{PROG}: --report-json {job.report} is {is_what} ({other}): give the "
                        "report another path; nothing written")
    return None


def _same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links
    except OSError:
        return False


def _is_stdout(path: str) -> bool:
    """Whether `path` is the file or pipe stdout goes to (a terminal or /dev/null can take
    both: nothing is overwritten there)."""
    import stat
    try:
        here, out = os.stat(path), os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False
    return (here.st_dev, here.st_ino) == (out.st_dev, out.st_ino) and \
        (stat.S_ISREG(here.st_mode) or stat.S_ISFIFO(here.st_mode))


def _write_report(path: str, data: Any, stdout: BinaryIO) -> int:
    import json

    text = (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if path == STDIN:
        _to_stdout(stdout, text)
        return EXIT_OK
    try:
        _write_file(path, text)
    except OSError as exc:
        click.echo(f"{path}: cannot write: {_strerror(exc)}", err=True)
        return EXIT_ERROR
    return EXIT_OK


def _to_stdout(stdout: BinaryIO, data: bytes) -> None:
    try:
        stdout.write(data)
        stdout.flush()
    except BrokenPipeError:
        raise _StdoutClosed() from None


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass

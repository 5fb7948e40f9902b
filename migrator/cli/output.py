"""What a run prints: diffs, the summary, one-line errors; secrets scrubbed from all of it."""
from __future__ import annotations

import os
import sys
from typing import Any

import click

from migrator.cli import PROG, bug_notice
from migrator.cli.job import (
    DEBUG_ENV,
    EXIT_CHECK,
    EXIT_ERROR,
    EXIT_LOSS,
    EXIT_OK,
    MAX_MESSAGE,
    _Job,
    _Outcome,
)


def unified_diff(before: str, after: str, name: str, *, new: bool = False) -> str:
    """`diff -u` between two texts, line endings kept: labelled a/<name> and b/<name>, or the
    path itself when it is absolute (`a//etc/...` is no path); a `new` file is /dev/null before."""
    import difflib

    old_label, new_label = (name, name) if os.path.isabs(name) else (f"a/{name}", f"b/{name}")
    out = []
    for line in difflib.unified_diff(_lines(before), _lines(after),
                                     "/dev/null" if new else old_label, new_label):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(text: str) -> list[str]:
    """Split after each '\\n' only (str.splitlines also splits at U+2028 and friends, which a
    TOML string may hold)."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


# click.get_binary_stream is deprecated from click 8.5 on; the standard streams' buffers are what
# it returned, and they exist under click's CliRunner too.


def _fail(display: str, message: str, code: int = EXIT_ERROR,
          secrets: set[str] | None = None) -> _Outcome:
    from migrator.core.secrets import cut
    message = cut(_scrub(_one_line(message), secrets), None)  # a 10 MB value: not a 10 MB line
    click.echo(message, err=True)
    return _Outcome(display, code, entry={"file": display, "error": message})


# -- secrets: the report and the errors are redacted where they are made; this is the last line
# of defence, so that no message (an internal error quoting a value, say) can carry the value of
# a password, auth string, identity token, credential header or URL user information of the
# input.

def _secrets_of(data: bytes | str) -> set[str]:
    import tomllib

    from migrator.core.loading import long_key
    from migrator.core.secrets import secret_values, secret_values_in_text
    try:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        if long_key(text) is None:  # such a key costs tomllib seconds and gigabytes
            try:
                return secret_values(tomllib.loads(text.removeprefix("\ufeff")))
            except (tomllib.TOMLDecodeError, RecursionError, ValueError):
                pass
        return secret_values_in_text(text)
    except Exception:  # never let the safety net itself fail the run
        return set()


def _secrets_of_file(path: str | None) -> set[str]:
    from migrator.core.loading import read_regular
    if not path or path.startswith("<"):
        return set()
    try:
        return _secrets_of(read_regular(path))
    except OSError:
        return set()


def _scrub(text: str, secrets: set[str] | None) -> str:
    from migrator.core.secrets import scrub
    return scrub(text, secrets or ())


def _scrub_data(data: Any, secrets: set[str]) -> Any:
    if isinstance(data, str):
        return _scrub(data, secrets)
    if isinstance(data, dict):
        return {k: _scrub_data(v, secrets) for k, v in data.items()}
    if isinstance(data, list):
        return [_scrub_data(v, secrets) for v in data]
    return data


def _target(job: _Job) -> str:
    what = f"at version {job.to}" if job.to is not None else "as asked"
    return what + (f" for containerd {job.containerd}" if job.containerd else "")


def _summary(outcomes: list[_Outcome], job: _Job) -> str:
    done = [o for o in outcomes if o.code in (EXIT_OK, EXIT_CHECK)]
    verb = "rewritten" if job.mode == "in-place" else "to migrate"
    target = f"at version {job.to}" if job.to is not None else "as asked"
    parts = [f"{sum(o.changed for o in done)} {verb}",
             f"{sum(not o.changed for o in done)} already {target}"]
    failed = sum(o.code == EXIT_ERROR for o in outcomes)
    lossy = sum(o.code == EXIT_LOSS for o in outcomes)
    if failed:
        parts.append(f"{failed} failed")
    if lossy:
        parts.append(f"{lossy} cannot be expressed {target.replace('at ', 'in ')}")
    return f"{PROG}: {len(outcomes)} files: " + ", ".join(parts)


def _strerror(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _one_line(message: object) -> str:
    return " ".join(str(message).split("\n")).replace("\r", " ")


def _internal_error(exc: BaseException, file: str | None = None,
                    secrets: set[str] | None = None) -> int:
    if os.environ.get(DEBUG_ENV) == "1":  # on request only: a traceback may quote values
        import traceback
        traceback.print_exception(exc, file=sys.stderr)
    text = _scrub(_one_line(exc), secrets)[:MAX_MESSAGE]
    if type(exc).__name__ != "InternalError":
        text = f"{type(exc).__name__}: {text}"
    if file is not None and not text.startswith(f"{file}: "):
        text = f"{file}: {text}"
    click.echo(f"{PROG}: internal error: {text}; {bug_notice()} (set {DEBUG_ENV}=1 for the "
               f"traceback)", err=True)
    return EXIT_ERROR

"""The one command line: migrate, check, lint, set and schema modes (`commands.py`)."""
from __future__ import annotations

import sys

PROG = "containerd-migrate"


def main() -> None:
    """The `containerd-migrate` entry point: `--version` answers before click and the
    migration library are imported (what click's version option prints, in a fifth of the
    time); everything else is the click command of migrator.cli.commands."""
    if sys.argv[1:] == ["--version"]:
        from migrator._version import __version__
        sys.stdout.write(f"{PROG} {__version__}\n")
        sys.stdout.flush()
        return
    # a short-lived process over bounded input (16 MiB at most): the cyclic collector's passes
    # over ever more live objects made large files superlinear (10,000 runtimes: 6.2 s with
    # it, 4.5 s without); the few cycles there are go at exit
    import gc
    gc.disable()
    from migrator.cli.commands import main as command
    command()


def bug_notice() -> str:
    """What to do about an internal error: always a bug, never the input's fault."""
    from migrator._version import __version__
    return (f"this is a bug in {PROG} {__version__}, please report it with the input file "
            f"(secrets redacted)")


__all__ = ["main", "bug_notice", "PROG"]

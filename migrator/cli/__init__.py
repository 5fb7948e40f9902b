"""The one command line: migrate, check, lint, set and schema modes."""
from __future__ import annotations

import sys


def main() -> None:
    """The `containerd-migrate` entry point: `--version` answers before click and the
    migration library are imported (what click's version option prints, in a fifth of the
    time); everything else is the click command of migrator.cli.commands."""
    if sys.argv[1:] == ["--version"]:
        from migrator import __version__
        sys.stdout.write(f"containerd-migrate {__version__}\n")
        sys.stdout.flush()
        return
    from migrator.cli.commands import main as command
    command()


__all__ = ["main"]

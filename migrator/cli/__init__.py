"""The one command line: migrate, check, lint, set and schema modes (`commands.py`)."""
from __future__ import annotations

import sys

PROG = "containerd-migrate"


def main() -> None:
    """The console script. `--version` answers before click and the library are imported."""
    if sys.argv[1:] == ["--version"]:
        from migrator import __version__
        sys.stdout.write(f"{PROG} {__version__}\n")
        return
    from migrator.cli.commands import main as command
    command()

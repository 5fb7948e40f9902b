"""The one command line: migrate, check, lint, set and schema modes."""
from migrator.cli.commands import main

__all__ = ["main"]

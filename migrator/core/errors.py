"""Errors that reach the user as one line: `file:line:col: message`."""
from __future__ import annotations

from migrator.core.secrets import redact_urls


class ConfigError(Exception):
    """Bad input: the CLI prints it as one line and exits 2; nothing is written."""

    def __init__(self, message: str, *, file: str = "<string>", line: int | None = None,
                 col: int | None = None) -> None:
        message = redact_urls(message)  # URL user information is a secret in any message
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.col = col

    def with_file(self, file: str) -> "ConfigError":
        self.file = file
        return self

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.col or 1}"
        return f"{where}: {self.message}"


class LossError(ConfigError):
    """The target version cannot express some settings (exit 3 unless loss is allowed)."""

    def __init__(self, message: str, losses: list, **kw) -> None:
        super().__init__(message, **kw)
        self.losses = losses


class InternalError(RuntimeError):
    """The emitted text does not mean what the rules computed: a bug, never written out."""

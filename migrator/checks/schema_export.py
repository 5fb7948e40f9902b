"""The committed JSON Schemas as text, for `containerd-migrate schema`.

    schema_text(version=3)           # schemas/containerd-config-v3.json
    schema_text(containerd=LINE)     # schemas/containerd-<LINE>.json (also "vX.Y", "X.Y.Z")

The text is the file exactly as committed (same bytes once encoded as UTF-8, trailing newline
included), so `containerd-migrate schema --version 3 > containerd-config-v3.json` reproduces it.
The files are read from migrator/_data/schemas in a wheel and from <repo>/schemas in a checkout.
"""
from __future__ import annotations

from pathlib import Path

from migrator.checks.validate import LINE_FILES, VERSION_FILES, schemas_dir
from migrator.core import catalog

VERSIONS: tuple[int, ...] = tuple(sorted(VERSION_FILES))
LINES: tuple[str, ...] = tuple(LINE_FILES)


def schema_file_name(version: int | str | None = None, containerd: str | None = None) -> str:
    """File name of the schema for a config version or a release line (catalog.lines())."""
    if (version is None) == (containerd is None):
        raise ValueError("give exactly one of a config version or a containerd release line")
    if version is not None:
        number = version
        if isinstance(version, str) and version.strip().lower().removeprefix("v").isdigit():
            number = int(version.strip().lower().removeprefix("v"))
        if isinstance(number, bool) or not isinstance(number, int) or number not in VERSION_FILES:
            raise ValueError(f"unknown config version {version!r} "
                             f"(known: {', '.join(map(str, VERSIONS))})")
        return VERSION_FILES[number]
    try:
        return LINE_FILES[catalog.parse_release(str(containerd))[0]]
    except ValueError:
        raise ValueError(f"unknown containerd release line {containerd!r} "
                         f"(known: {', '.join(LINES)})") from None


def schema_file(version: int | str | None = None, containerd: str | None = None) -> Path:
    return schemas_dir() / schema_file_name(version, containerd)


def schema_text(version: int | None = None, containerd: str | None = None) -> str:
    """The schema JSON for a config version or a release line, exactly as committed."""
    data = schema_file(version, containerd).read_bytes()
    return data.decode("utf-8")

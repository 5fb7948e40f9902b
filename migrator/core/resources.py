"""Where the data files are: inside the wheel (migrator/_data) or in the source tree."""
from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent.parent  # migrator/


def package_path(name: str) -> Path:
    """rules/ or releases/: the knowledge files inside the package."""
    return _PKG / name


def data_path(name: str) -> Path:
    """grammar/ or schemas/: the wheel copies them to migrator/_data, a checkout has them at the top."""
    installed = _PKG / "_data" / name
    return installed if installed.is_dir() else _PKG.parent / name

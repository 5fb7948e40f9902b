"""Shared test helpers: where ../shared is, and small readers."""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def shared_dir() -> Path | None:
    env = os.environ.get("CONTAINERD_SHARED")
    base = Path(env) if env else REPO.parent / "shared"
    return base if base.is_dir() else None


def shared_path(*parts: str) -> Path | None:
    base = shared_dir()
    if base is None:
        return None
    p = base.joinpath(*parts)
    return p if p.exists() else None

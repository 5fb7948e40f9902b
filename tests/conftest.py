"""Test-wide fixtures: the containerd oracle and the shared directory.

The ``oracle`` marker is declared in pyproject.toml. Oracle tests call
``oracle.require_containerd("2.1")`` (or use the ``require_containerd`` fixture): it returns the
binary, or skips with the reason and the cure ("run scripts/fetch-containerd.sh"); with
``CONTAINERD_MIGRATE_REQUIRE_ORACLE=1`` (set by .ci/run) a missing binary fails the test instead.
tests.oracle is imported lazily so that a broken package fails its own tests, not collection.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _stderr_apart_on_click_8_1() -> None:
    """The tests read CliRunner's stdout and stderr apart, which click 8.2+ always does. click
    8.1 (the lowest release pyproject.toml allows) mixes them unless told not to."""
    import inspect

    from click.testing import CliRunner

    if "mix_stderr" not in inspect.signature(CliRunner.__init__).parameters:
        return
    original = CliRunner.__init__

    def init(self, *args, mix_stderr: bool = False, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, mix_stderr=mix_stderr, **kwargs)

    CliRunner.__init__ = init  # type: ignore[method-assign]


_stderr_apart_on_click_8_1()


def shared_dir_or_skip() -> Path:
    """The shared directory (``$CONTAINERD_SHARED``, else ``<repo>/../shared``), or skip."""
    env = os.environ.get("CONTAINERD_SHARED")
    base = Path(env) if env else REPO.parent / "shared"
    if not base.is_dir():
        how = "CONTAINERD_SHARED" if env else "the repository's parent directory"
        pytest.skip(f"shared directory {base} not found (from {how}); set CONTAINERD_SHARED")
    return base.resolve()


@pytest.fixture
def shared_dir() -> Path:
    """The shared directory as a Path; the test skips cleanly when it is absent."""
    return shared_dir_or_skip()


@pytest.fixture
def require_containerd() -> Callable[[str], Path]:
    """``require_containerd("2.1")`` -> the binary's Path, or skip (fail under CI) when absent."""
    from tests import oracle

    return oracle.require_containerd


def pytest_report_header(config: pytest.Config) -> list[str]:
    try:
        from tests import oracle
    except Exception as exc:  # a broken package is reported by the tests themselves
        return [f"containerd oracle: unavailable ({type(exc).__name__})"]
    upstream = ", ".join(f"{k}={v.name}" for k, v in oracle.available().items()) or "none"
    distro = ", ".join(f"{k}={v.name}" for k, v in oracle.debian().items()) or "none"
    required = os.environ.get("CONTAINERD_MIGRATE_REQUIRE_ORACLE") == "1"
    return [f"containerd oracle ({oracle.cache_dir() / 'bin'}): {upstream}; debian: {distro}"
            + ("; required" if required else "")]

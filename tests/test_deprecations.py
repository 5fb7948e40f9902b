"""The command line under ``-W error::DeprecationWarning``: a deprecation in click, tomlkit, lark,
jsonschema or deepdiff fails here, not in a user's pipeline (issue 15; click 8.5 deprecated
``get_binary_stream`` and every run printed the warning on stderr)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "config-v2.toml"

MODES = {
    "migrate": [str(EXAMPLE), "--to", "3"],
    "diff": [str(EXAMPLE), "--to", "3", "--diff"],
    "check": [str(EXAMPLE), "--to", "3", "--check"],
    "down": [str(EXAMPLE), "--to", "1", "--allow-loss"],
    "to-4": [str(EXAMPLE), "--to", "4"],
    "set": [str(EXAMPLE), "--set", "sandbox_image=registry.k8s.io/pause:3.10"],
    "lint": ["--lint", str(EXAMPLE)],
    "lint-sarif": ["--lint", str(EXAMPLE), "--format", "sarif"],
    "schema": ["schema", "--version", "3"],
    "version": ["--version"],
    "help": ["--help"],
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_no_deprecation_warning(mode: str) -> None:
    proc = subprocess.run([sys.executable, "-W", "error::DeprecationWarning",
                           "-W", "error::PendingDeprecationWarning", "-m", "migrator.cli",
                           *MODES[mode]], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


def test_without_the_compiled_cache() -> None:
    """The compiled cache keeps lark and jsonschema out of a normal run; without it they load."""
    env = {**os.environ, "CONTAINERD_MIGRATE_NO_CACHE": "1"}
    proc = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-m",
                           "migrator.cli", *MODES["migrate"]], capture_output=True, text=True,
                          cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr


def test_dependencies_import_without_deprecations() -> None:
    code = "import click, deepdiff, jsonschema, lark, lark.utils, tomlkit"
    proc = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", code],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_stdin_under_deprecations_as_errors() -> None:
    proc = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-m",
                           "migrator.cli", "-", "--to", "3"], input=EXAMPLE.read_bytes(),
                          capture_output=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(b"version = 3") or b"\nversion = 3" in proc.stdout
    assert b"Warning" not in proc.stderr

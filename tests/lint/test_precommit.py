"""The pre-commit hooks of .pre-commit-hooks.yaml, run by the real `pre-commit try-repo`
against a temporary git repository holding a good and a bad containerd config.

The hook repository is a copy of this checkout's package files committed into a temporary git
repository (try-repo would otherwise leave out files git does not track yet). pre-commit
installs it with pip into its own virtualenv, so the tests need pre-commit (the `test` extra)
and access to the package index; they skip with the reason when either is missing.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..helpers import REPO

pytest.importorskip("pre_commit", reason="pre-commit is not installed (pip install '.[test]')")

COPY = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "migrator", "grammar", "schemas")
GOOD = """version = 3

[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
  SystemdCgroup = true
"""
BAD = """version = 3

[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  SystemdCgroup = true
"""
V2 = 'version = 2\n\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "registry.k8s.io/pause:3.9"\n'
TIMEOUT = 600


def _git(cwd: Path, *args: str) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def _cli_has_lint(project: Path) -> bool:
    """Whether `containerd-migrate --lint FILE` is wired to migrator.lint.lint_main."""
    from click.testing import CliRunner

    from migrator.cli.commands import main
    result = CliRunner().invoke(main, ["--lint", str(project / "etc/containerd/good.toml")])
    return "No such option" not in result.output and result.exit_code == 0


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    dest = tmp_path_factory.mktemp("hook-repo")
    for name in COPY:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__",
                                                                             "*.pyc", "_data"))
        else:
            shutil.copy2(src, dest / name)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "hooks")
    return dest


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    (root / "etc" / "containerd").mkdir(parents=True)
    (root / "etc" / "containerd" / "good.toml").write_text(GOOD)
    (root / "etc" / "containerd" / "bad.toml").write_text(BAD)
    (root / "etc" / "containerd" / "old.toml").write_text(V2)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    return root


def try_repo(hook_repo: Path, project: Path, hook: str, *files: str,
             home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    env.pop("VIRTUAL_ENV", None)
    try:
        proc = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo),
                               hook, "--verbose", "--files", *files], cwd=project, env=env,
                              text=True, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.skip(f"pre-commit try-repo took more than {TIMEOUT} s (installing the hook "
                    f"environment without a reachable package index?)")
    if "An unexpected error has occurred" in proc.stdout + proc.stderr and \
            ("pip" in proc.stdout + proc.stderr or "virtualenv" in proc.stdout + proc.stderr):
        pytest.skip("pre-commit could not install the hook environment (no package index?): "
                    + (proc.stdout + proc.stderr).strip().splitlines()[-1])
    return proc


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def test_lint_hook_passes_good_and_fails_bad(hook_repo: Path, project: Path, home: Path) -> None:
    if not _cli_has_lint(project):
        pytest.skip("containerd-migrate has no --lint option yet (migrator/cli.py must call "
                    "migrator.lint.lint_main)")
    good = try_repo(hook_repo, project, "containerd-config-lint", "etc/containerd/good.toml",
                    home=home)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout and "good.toml" not in good.stdout
    bad = try_repo(hook_repo, project, "containerd-config-lint", "etc/containerd/good.toml",
                   "etc/containerd/bad.toml", home=home)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "etc/containerd/bad.toml:5:3: CM001 error" in bad.stdout
    assert "good.toml:" not in bad.stdout


def test_migrate_hook_checks_the_version(hook_repo: Path, project: Path, home: Path) -> None:
    good = try_repo(hook_repo, project, "containerd-config-migrate", "etc/containerd/good.toml",
                    home=home)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "good.toml" not in good.stdout          # quiet unless it fails (--verbose shows all)
    old = try_repo(hook_repo, project, "containerd-config-migrate", "etc/containerd/old.toml",
                   home=home)
    assert old.returncode == 1, old.stdout + old.stderr
    assert "Failed" in old.stdout
    assert "etc/containerd/old.toml: not at version 3 (see the change with --diff)" in old.stdout
    assert "header version" not in old.stdout     # the report itself stays out of the way


def test_hooks_file_names_both_hooks() -> None:
    text = (REPO / ".pre-commit-hooks.yaml").read_text()
    for line in ("- id: containerd-config-lint", "entry: containerd-migrate --lint",
                 "- id: containerd-config-migrate", "entry: containerd-migrate --quiet\n",
                 "language: python", "files: "):
        assert line in text

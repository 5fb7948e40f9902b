"""scripts/fetch-containerd.sh outside this repository's CI: without ../shared/bin it downloads
containerd's release tarballs and checks them against the pinned sums. The network is out of
reach here, so the tarballs are served from a file:// URL; the pinned sums file is checked for
form (one per release line of the oracle)."""
from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests import oracle

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "fetch-containerd.sh"
SUMS = ROOT / "scripts" / "containerd-releases.sha256"
pytestmark = pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None,
                                reason="the script needs bash and curl")


def _tarball(path: Path, body: bytes) -> str:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in (("bin/containerd", body), ("bin/ctr", b"#!/bin/sh\n")):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(tmp_path: Path, sums: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "sums").write_text(sums)
    env = dict(os.environ, CONTAINERD_SHARED=str(tmp_path / "no-shared"),
               CONTAINERD_MIGRATE_CACHE=str(tmp_path / "cache"),
               CONTAINERD_RELEASES_URL=f"file://{tmp_path}/releases",
               CONTAINERD_RELEASE_SUMS=str(tmp_path / "sums"))
    env.pop("CI", None)
    return subprocess.run(["bash", str(SCRIPT), "--no-debian"], env=env, capture_output=True,
                          text=True, timeout=120)


def test_downloads_and_checks_release_tarballs(tmp_path: Path) -> None:
    good, bad = tmp_path / "releases/v2.1.9", tmp_path / "releases/v1.7.34"
    good.mkdir(parents=True), bad.mkdir(parents=True)
    body = b"#!/bin/sh\necho containerd github.com/containerd/containerd v2.1.9 fake\n"
    sum_good = _tarball(good / "containerd-2.1.9-linux-amd64.tar.gz", body)
    _tarball(bad / "containerd-1.7.34-linux-amd64.tar.gz", b"#!/bin/sh\necho tampered\n")
    proc = _run(tmp_path, f"# comment\n{sum_good}  containerd-2.1.9-linux-amd64.tar.gz\n"
                          f"{'0' * 64}  containerd-1.7.34-linux-amd64.tar.gz\n"
                          f"{'1' * 64}  containerd-2.0.11-linux-amd64.tar.gz\n")
    assert proc.returncode == 0, proc.stderr              # best effort outside CI
    installed = tmp_path / "cache/bin/containerd-2.1.9"
    assert installed.read_bytes() == body and os.access(installed, os.X_OK)
    assert "downloaded containerd-2.1.9 (sha256 ok)" in proc.stdout
    assert "containerd-1.7.34-linux-amd64.tar.gz: sha256 " in proc.stderr
    assert "does not match the pinned 000" in proc.stderr
    assert "containerd-2.0.11-linux-amd64.tar.gz: download failed" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "cache/bin").iterdir()) == ["containerd-2.1.9"]
    again = _run(tmp_path, f"{sum_good}  containerd-2.1.9-linux-amd64.tar.gz\n")
    assert again.returncode == 0 and "downloaded" not in again.stdout   # already there


def test_pinned_sums_cover_every_release_line() -> None:
    lines = [ln for ln in SUMS.read_text().splitlines() if ln and not ln.startswith("#")]
    versions = []
    for line in lines:
        m = re.fullmatch(r"([0-9a-f]{64})  containerd-(\d+\.\d+\.\d+)-linux-amd64\.tar\.gz", line)
        assert m, line
        versions.append(m.group(2))
    # a line whose oracle build is a pre-release has no published sum pinned here (the sums file
    # says so); every other line must have one
    from migrator.core import catalog
    released = [name for name, line in catalog.lines().items()
                if line.binary not in line.pre_releases]
    assert sorted({".".join(v.split(".")[:2]) for v in versions}) == sorted(released)
    assert set(released) <= set(oracle.LINES)

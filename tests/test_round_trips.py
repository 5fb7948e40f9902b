"""Up and back down gives the original bytes for files whose tables map one to one (the oracle
tier checks every other file for containerd-equivalence: tests/test_oracle_releases.py)."""
from __future__ import annotations

import tomllib

import pytest

import migrator

from .helpers import REPO

BYTE_IDENTICAL = [
    "02-v1-version-1-plugins-supertable", "05-v1-nri-transfer-unpack-config",
    "18-v2-dotted-under-plugins", "21-v2-kata-gvisor-sandboxer-snapshotter",
    "25-v2-unrelated-plugins-only", "26-v3-already-at-target",
    "30-v2-image-keys-without-runtimes", "32-v2-crlf-dotted-options",
    "40-v3-grpc-socket-and-derived-ttrpc", "44-v2-straight-to-v4",
]


@pytest.mark.parametrize("name", BYTE_IDENTICAL)
def test_up_and_down_gives_back_the_bytes(name: str) -> None:
    text = (REPO / "golden" / name / "input.toml").read_bytes().decode("utf-8")
    version = tomllib.loads(text).get("version", 1)
    up = migrator.migrate(text, to=4 if version == 3 else 3)
    assert up.text != text or version == 3
    assert migrator.migrate(up.text, to=version).text == text

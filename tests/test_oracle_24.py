"""containerd 2.4 judges `--containerd 2.4` (marker `oracle`).

Every version 2, 3 and 4 input (golden inputs and the real-world corpus), migrated with
`--containerd 2.4`, must mean on the 2.4 build what the original means there (`config dump` of
both agree) and load with no warning the original did not get. The differences allowed are the
test data of tests/data/oracle_expected_differences.toml for release 2.4: containerd's own
migration bugs (those of 2.3, facts §10), and the keys the v2.4.0 release notes remove, which
2.4.0-beta.0, the only 2.4 build here, still reads (facts §10.1, E43).
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import migrator
from tests import oracle

from .helpers import REPO, shared_path
from .judging import flagged_keys, judge

pytestmark = pytest.mark.oracle

CORPUS = shared_path("corpus", "real")
RT = ("plugins", "io.containerd.cri.v1.runtime")
OTLP = ("plugins", "io.containerd.tracing.processor.v1.otlp")


def _inputs() -> list[tuple[Path, int]]:
    files = sorted((REPO / "golden").glob("*/input.toml"))
    if CORPUS is not None:
        files += sorted(CORPUS.glob("*.toml"))
    out = []
    for path in files:
        text = path.read_bytes().decode("utf-8").lstrip("\ufeff")
        if text.strip():
            version = tomllib.loads(text).get("version", 1)
            if version in (2, 3, 4):
                out.append((path, version))
    return out


def _id(value: object) -> str:
    if isinstance(value, Path):
        return value.parent.name if value.name == "input.toml" else value.name
    return str(value)


@pytest.mark.parametrize("path,version", _inputs(), ids=_id)
def test_2_4_reads_our_output_as_it_read_the_original(path: Path, version: int) -> None:
    text = path.read_bytes().decode("utf-8").lstrip("\ufeff")
    for target in tomllib.loads(text).get("imports", []):
        if "*" not in target and not (path.parent / target).exists():
            pytest.skip(f"imports {target}, which this machine does not have")
    result = migrator.migrate(text, containerd="2.4", allow_loss=True)
    assert tomllib.loads(result.text)["version"] == 4
    judge("2.4", text, result.text, "up", result=result, flagged=flagged_keys(result))


def test_the_2_4_build_is_the_beta_and_reads_version_4() -> None:
    """facts §10, E42: the 2.4 build here is v2.4.0-beta.0; its dump still says version 4."""
    exe = oracle.require_containerd("2.4")
    assert exe.name == "containerd-2.4.0-beta.0"
    assert oracle.dump("2.4", "version = 4\n").config["version"] == 4


def test_2_4_removals_as_the_beta_sees_them() -> None:
    """facts §10.2 E43: beta.0 drops enable_experimental_restore_via_create with a warning and
    reads the release-notes removals back; our 2.4 output has none of them and loads cleanly."""
    text = (
        'version = 4\n'
        '[plugins."io.containerd.cri.v1.runtime"]\n'
        '  enable_experimental_restore_via_create = true\n'
        '  enable_cdi = true\n'
        '  [plugins."io.containerd.cri.v1.runtime".cni]\n'
        '    bin_dir = "/x/bin"\n'
        '  [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]\n'
        '    disable_pause_image_pull = true\n'
        '[plugins."io.containerd.tracing.processor.v1.otlp"]\n'
        '  endpoint = "http://127.0.0.1:4318"\n')
    oracle.require_containerd("2.4")
    before = oracle.dump("2.4", text)
    assert any("enable_experimental_restore_via_create" in w for w in before.warnings)
    assert before.config["plugins"][OTLP[1]]["endpoint"] == "http://127.0.0.1:4318"
    assert before.config["plugins"][RT[1]]["cni"]["bin_dir"] == "/x/bin"
    result = migrator.migrate(text, containerd="2.4")
    after = oracle.dump("2.4", result.text)
    assert after.returncode == 0 and after.warnings == [] and after.errors == []
    rt = after.config["plugins"][RT[1]]
    assert rt["cni"]["bin_dirs"] == ["/x/bin"] and not rt["cni"].get("bin_dir")
    assert rt["containerd"]["runtimes"]["runc"]["disable_pause_image_pull"] is True
    assert "endpoint" not in after.config["plugins"].get(OTLP[1], {})
    report = "\n".join(c.format() for c in result.changes)
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in report


@pytest.mark.parametrize("line", ["2.3", "2.4"])
def test_drop_in_refusal_advisory_matches_the_binaries(line: str) -> None:
    """facts §1.2, E15, E45: the catalog's advisory names the builds here (2.3.4, 2.4.0-beta.0)
    as refusing a drop-in whose version is above the root's."""
    from migrator.core import catalog
    oracle.require_containerd(line)
    build = catalog.line(line).binary
    d = oracle.dump(line, 'version = 2\nimports = ["d.toml"]\n', files={"d.toml": "version = 3\n"})
    refused = d.returncode != 0 and any("higher than root config version" in e for e in d.errors)
    assert refused is catalog.affected("dropin-version-above-root", line, build)

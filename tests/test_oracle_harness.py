"""The oracle harness itself, against real containerd binaries (facts §1, §9, E1, E2).

These tests pin what the rest of the oracle tier relies on: that ``dump`` reports containerd's
reading, its warnings and its refusals, and that ``compare``/``new_warnings`` see real
differences and nothing else. They need no part of the migrator besides ``tests.oracle``.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import oracle

pytestmark = pytest.mark.oracle

CRI = "io.containerd.grpc.v1.cri"
IMAGES = "io.containerd.cri.v1.images"
RUNTIME = "io.containerd.cri.v1.runtime"

V2_SYSTEMD = f"""version = 2
[plugins."{CRI}".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."{CRI}".containerd.runtimes.runc.options]
  SystemdCgroup = true
"""

# facts E1: a schema-1 file (no version) with CRI settings
V1_CRI = """disabled_plugins = ["aufs", "zfs"]
[plugins.cri]
  sandbox_image = "example.com/pause:3.9"
[plugins.cri.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins.cri.containerd.runtimes.runc.options]
  SystemdCgroup = true
[plugins.cri.cni]
  bin_dir = "/opt/x/bin"
  conf_dir = "/etc/x/net.d"
[plugins.cri.registry.mirrors."docker.io"]
  endpoint = ["https://mirror.example.com"]
"""
MIRRORS = {"docker.io": {"endpoint": ["https://mirror.example.com"]}}


def test_v2_systemd_cgroup_true_on_1_7() -> None:
    oracle.require_containerd("1.7")
    d = oracle.dump("1.7", V2_SYSTEMD)
    assert d.returncode == 0, d.stderr
    runc = d.config["plugins"][CRI]["containerd"]["runtimes"]["runc"]
    assert runc["options"]["SystemdCgroup"] is True
    assert runc["runtime_type"] == "io.containerd.runc.v2"
    assert d.config["version"] == 2
    assert d.warnings == [] and d.errors == []
    # and the default really is false, so the dump above is the file's doing
    default = oracle.dump("1.7", "version = 2\n").config
    assert default["plugins"][CRI]["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is False


@pytest.mark.parametrize("line", ["1.6", "1.7"])
def test_v1_cri_settings_kept_by_1x(line: str) -> None:
    oracle.require_containerd(line)
    d = oracle.dump(line, V1_CRI)
    assert d.returncode == 0, d.stderr
    cri = d.config["plugins"][CRI]
    assert cri["sandbox_image"] == "example.com/pause:3.9"
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True
    assert cri["cni"]["bin_dir"] == "/opt/x/bin"
    assert cri["cni"]["conf_dir"] == "/etc/x/net.d"
    assert cri["registry"]["mirrors"] == MIRRORS
    # B15: a 1.x dump says version 2 but keeps the short names
    assert d.config["version"] == 2
    assert d.config["disabled_plugins"] == ["aufs", "zfs"]
    assert any("version `1` has been deprecated" in w for w in d.warnings)


@pytest.mark.parametrize("line", ["2.0", "2.1", "2.2"])
def test_v1_cri_settings_lost_by_2_0_to_2_2(line: str) -> None:
    """facts E1 / B3: the version is forced to 3 before any CRI migration."""
    oracle.require_containerd(line)
    d = oracle.dump(line, V1_CRI)
    assert d.returncode == 0, d.stderr
    images, runtime = d.config["plugins"][IMAGES], d.config["plugins"][RUNTIME]
    assert images["pinned_images"]["sandbox"] != "example.com/pause:3.9"
    assert runtime["containerd"]["runtimes"]["runc"]["options"].get("SystemdCgroup") is not True
    assert "/opt/x/bin" not in runtime["cni"].get("bin_dirs", [runtime["cni"].get("bin_dir")])
    assert runtime["cni"]["conf_dir"] != "/etc/x/net.d"
    assert not images["registry"].get("mirrors")
    assert d.config["disabled_plugins"] == ["io.containerd.snapshotter.v1.aufs",
                                            "io.containerd.snapshotter.v1.zfs"]
    assert f"Ignoring unknown key in TOML for plugin key=sandbox_image plugin={CRI}" in d.warnings
    assert not any(w.startswith("Configuration migrated") for w in d.warnings)
    # the same loss seen through compare(): 2.1 reads the v1 file like an empty one
    empty = oracle.dump(line, "").config
    assert oracle.compare(empty, d.config, allowed=[("disabled_plugins",)]) == []


def test_v1_cri_settings_kept_by_2_3() -> None:
    oracle.require_containerd("2.3")
    d = oracle.dump("2.3", V1_CRI)
    assert d.returncode == 0, d.stderr
    images, runtime = d.config["plugins"][IMAGES], d.config["plugins"][RUNTIME]
    assert images["pinned_images"]["sandbox"] == "example.com/pause:3.9"
    assert runtime["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True
    assert runtime["cni"]["bin_dirs"] == ["/opt/x/bin"]
    assert runtime["cni"]["conf_dir"] == "/etc/x/net.d"
    assert images["registry"]["mirrors"] == MIRRORS
    assert d.config["version"] == 4
    assert "Configuration migrated from version 0, use `containerd config migrate` to avoid " \
           "migration" in d.warnings


def test_compare_reports_a_real_difference_and_honours_allowed() -> None:
    oracle.require_containerd("2.1")
    a = oracle.dump("2.1", "version = 3\n").config
    b = oracle.dump("2.1", f'version = 3\n[plugins."{IMAGES}"]\n  snapshotter = "native"\n'
                           f'[plugins."{RUNTIME}".cni]\n  bin_dirs = ["/a", "/b"]\n').config
    assert oracle.compare(a, a) == []
    diff = oracle.compare(a, b)
    assert f"changed plugins.\"{IMAGES}\".snapshotter: 'overlayfs' -> 'native'" in diff
    assert any(f'plugins."{RUNTIME}".cni.bin_dirs' in d for d in diff), diff
    assert len(diff) == 3  # the snapshotter, bin_dirs[0] changed, bin_dirs[1] added
    snap = ("plugins", IMAGES, "snapshotter")
    cni = ("plugins", RUNTIME, "cni")
    rest = [d for d in diff if "snapshotter" not in d]
    # a difference at the allowed path, below it, or above it is not reported
    assert oracle.compare(a, b, allowed=[snap]) == rest
    assert oracle.compare(a, b, allowed=[snap, cni]) == []
    assert oracle.compare(a, b, allowed=[snap + ("deeper",)]) == rest
    assert oracle.compare(a, b, allowed=[snap, cni + ("bin_dirs", 1)]) == [
        f"changed plugins.\"{RUNTIME}\".cni.bin_dirs[0]: '/opt/cni/bin' -> '/a'"]
    # unrelated allowed paths change nothing, a sibling with a common prefix does not match
    assert oracle.compare(a, b, allowed=[("plugins", IMAGES, "snapshot")]) == diff
    # a removed key reads as removed
    assert oracle.compare(b, a, allowed=[cni]) == [
        f"changed plugins.\"{IMAGES}\".snapshotter: 'native' -> 'overlayfs'"]
    bigger = oracle.dump("2.1", 'version = 3\n[plugins."io.containerd.x.v1.y"]\n  k = 1\n').config
    assert oracle.compare(bigger, a) == ['removed plugins."io.containerd.x.v1.y" (was {\'k\': 1})']


def test_normalize_drops_only_input_unrelated_lines() -> None:
    oracle.require_containerd("2.3")
    d = oracle.dump("2.3", "version = 3\n").config
    n = oracle.normalize(d)
    assert "version" not in n and "imports" not in n
    assert d["imports"] == ["/etc/containerd/conf.d/*.toml"]  # 2.2+ default, facts §1.5
    grpc = d["plugins"]["io.containerd.server.v1.grpc"]
    assert (grpc["uid"], grpc["gid"]) == (os.geteuid(), os.getegid())  # facts E33
    assert "uid" not in n["plugins"]["io.containerd.server.v1.grpc"]
    assert "gid" not in n["plugins"]["io.containerd.server.v1.ttrpc"]
    assert n["plugins"]["io.containerd.server.v1.grpc"]["address"] == grpc["address"]
    assert n["root"] == d["root"]
    assert "version" in d  # the input is not modified
    # a uid the file sets to someone else is kept, so its loss would show
    other = os.geteuid() + 1234
    e = oracle.dump("2.3", f'version = 4\n[plugins."io.containerd.server.v1.grpc"]\n'
                           f'  uid = {other}\n').config
    assert oracle.normalize(e)["plugins"]["io.containerd.server.v1.grpc"]["uid"] == other
    assert oracle.compare(d, e) == [
        f'added plugins."io.containerd.server.v1.grpc".uid = {other}']


def test_new_warnings_catches_a_typo_on_2_1() -> None:
    oracle.require_containerd("2.1")
    good = oracle.dump("2.1", f'version = 2\n[plugins."{CRI}"]\n  sandbox_image = "x/p:1"\n')
    typo = oracle.dump("2.1", f'version = 2\n[plugins."{CRI}"]\n  sandbox_imag = "x/p:1"\n')
    assert good.returncode == typo.returncode == 0
    assert good.warnings == []
    assert oracle.new_warnings(good, typo) == [
        f"Ignoring unknown key in TOML for plugin key=sandbox_imag plugin={RUNTIME}"]
    assert oracle.new_warnings(typo, good) == []
    assert oracle.new_warnings(typo, typo) == []  # same text again, new timestamps
    # a top-level typo: file/row/column are left out of the text
    top = oracle.dump("2.1", "version = 2\nroot_dir = '/x'\n")
    assert top.warnings == ["Ignoring unknown key in TOML key=root_dir"]


def test_new_warnings_ignores_the_version_number_of_2_3_migration_warnings() -> None:
    oracle.require_containerd("2.3")
    v2 = oracle.dump("2.3", "version = 2\n")
    v3 = oracle.dump("2.3", "version = 3\n")
    v4 = oracle.dump("2.3", "version = 4\n")
    assert v2.warnings[0].startswith("Configuration migrated from version 2")
    assert v3.warnings[0].startswith("Configuration migrated from version 3")
    assert v4.warnings == []
    assert oracle.new_warnings(v2, v3) == []
    assert oracle.new_warnings(v4, v3) == v3.warnings


@pytest.mark.parametrize("line", ["1.6", "1.7"])
def test_version_3_refused_by_1x(line: str) -> None:
    oracle.require_containerd(line)
    d = oracle.dump(line, f'version = 3\n[plugins."{IMAGES}"]\n  snapshotter = "native"\n')
    assert d.returncode != 0
    assert d.config == {}
    assert d.errors == [
        "containerd config version `3` is not supported, the max version is `2`, use `containerd "
        "config default` to generate a new config or manually revert to version `2`",
        "containerd: failed to load TOML from config.toml: unsupported config version `3`",
    ]
    assert oracle.new_warnings(oracle.dump(line, "version = 2\n"), d) == d.errors


def test_version_4_refused_by_2_1_accepted_by_2_3() -> None:
    oracle.require_containerd("2.1")
    oracle.require_containerd("2.3")
    d = oracle.dump("2.1", "version = 4\n")
    assert d.returncode != 0
    assert d.errors == ["containerd: failed to load TOML from config.toml: expected containerd "
                        "config version equal to or less than `3`, got `4`"]
    assert oracle.dump("2.3", "version = 4\n").returncode == 0


def test_type_error_is_captured_not_raised() -> None:
    oracle.require_containerd("2.1")
    d = oracle.dump("2.1", f'version = 3\n[plugins."{IMAGES}"]\n  stats_collect_period = "10s"\n')
    assert d.returncode != 0 and d.config == {}
    assert len(d.errors) == 1 and "StatsCollectPeriod of type int" in d.errors[0]


def test_imports_are_written_beside_config_toml() -> None:
    oracle.require_containerd("2.1")
    root = 'version = 3\nimports = ["conf.d/*.toml"]\n'
    drop = f'version = 3\n[plugins."{IMAGES}"]\n  snapshotter = "native"\n'
    d = oracle.dump("2.1", root, files={"conf.d/10-snap.toml": drop})
    assert d.returncode == 0, d.stderr
    assert d.config["plugins"][IMAGES]["snapshotter"] == "native"
    assert oracle.dump("2.1", root).config["plugins"][IMAGES]["snapshotter"] == "overlayfs"
    with pytest.raises(ValueError):
        oracle.dump("2.1", root, files={"../escape.toml": drop})


def test_bom_bytes_are_passed_through() -> None:
    """facts B5: 1.x accept a UTF-8 BOM, 2.x refuse the file."""
    oracle.require_containerd("1.7")
    oracle.require_containerd("2.1")
    text = b"\xef\xbb\xbfversion = 2\n"
    assert oracle.dump("1.7", text).returncode == 0
    d = oracle.dump("2.1", text)
    assert d.returncode != 0 and d.errors


def test_binary_lookup_and_cache_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = oracle.available()
    for line, path in found.items():
        assert path.name.startswith(f"containerd-{line}.")
        assert oracle.binary(line) == path
    for line, path in oracle.debian().items():
        assert path.name.startswith(f"containerd-debian-{line}.")
        assert oracle.binary(f"debian-{line}") == path
    (tmp_path / "bin").mkdir()
    for name in ("containerd-2.1.1", "containerd-2.1.10", "containerd-2.1.9", "containerd-debian-1.7.24",
                 "containerd-2.1.x", "containerd-notes.txt"):
        (tmp_path / "bin" / name).write_text("#!/bin/sh\n")
        (tmp_path / "bin" / name).chmod(0o755)
    monkeypatch.setenv("CONTAINERD_MIGRATE_CACHE", str(tmp_path))
    assert oracle.available() == {"2.1": tmp_path / "bin" / "containerd-2.1.10"}
    assert oracle.debian() == {"1.7": tmp_path / "bin" / "containerd-debian-1.7.24"}
    assert oracle.binary("2.3") is None
    with pytest.raises(FileNotFoundError, match="fetch-containerd.sh"):
        oracle.dump("2.3", "version = 3\n")


def test_require_containerd_skips_or_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTAINERD_MIGRATE_CACHE", str(tmp_path))
    monkeypatch.delenv("CONTAINERD_MIGRATE_REQUIRE_ORACLE", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        oracle.require_containerd("2.1")
    assert str(skipped.value) == (f"containerd 2.1 binary not found in {tmp_path / 'bin'}; "
                                  "run scripts/fetch-containerd.sh")
    monkeypatch.setenv("CONTAINERD_MIGRATE_REQUIRE_ORACLE", "1")
    with pytest.raises(pytest.fail.Exception, match="containerd 2.1 binary not found"):
        oracle.require_containerd("2.1")
    with pytest.raises(pytest.skip.Exception, match="Debian containerd 1.7"):
        oracle.require_containerd("debian-1.7")  # Debian builds stay best-effort


def test_fixtures(require_containerd: Callable[[str], Path], shared_dir: Path) -> None:
    assert (shared_dir / "bin" / "SHA256SUMS").is_file()
    assert require_containerd("1.7") == oracle.binary("1.7")


# ---------------------------------------------------------------- Debian builds (best-effort)

def test_debian_1_7_cni_patch_and_1_6_20_accepts_version_3() -> None:
    """facts §0.2 and E2: Debian's 1.7 default CNI dir; 1.6.20 predates the version check."""
    oracle.require_containerd("debian-1.7")
    oracle.require_containerd("debian-1.6")
    d = oracle.dump("debian-1.7", "version = 2\n")
    assert d.config["plugins"][CRI]["cni"]["bin_dir"] == "/usr/lib/cni"
    old = oracle.dump("debian-1.6", f'version = 3\n[plugins."{IMAGES}"]\n  snapshotter = "native"\n')
    assert old.returncode == 0 and old.errors == []
    assert old.config["version"] == 2
    assert IMAGES not in old.config["plugins"]
    assert old.config["plugins"][CRI]["containerd"]["snapshotter"] == "overlayfs"


def test_debian_2_1_agrees_with_upstream_2_1_but_for_cni_dirs() -> None:
    oracle.require_containerd("debian-2.1")
    oracle.require_containerd("2.1")
    ours, theirs = oracle.dump("2.1", V1_CRI), oracle.dump("debian-2.1", V1_CRI)
    assert theirs.config["plugins"][RUNTIME]["cni"]["bin_dirs"] == ["/usr/lib/cni", "/opt/cni/bin"]
    # only registered-plugin differences (§9.2): btrfs/devmapper are built into Debian's binary
    allowed = [("plugins", RUNTIME, "cni", "bin_dirs"),
               ("plugins", "io.containerd.snapshotter.v1.btrfs"),
               ("plugins", "io.containerd.snapshotter.v1.devmapper")]
    assert oracle.compare(ours.config, theirs.config, allowed=allowed) == []
    assert oracle.new_warnings(ours, theirs) == []

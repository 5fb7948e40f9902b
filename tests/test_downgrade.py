"""Downgrades and release targeting: the upgrade rules read backwards, losses never silent."""
from __future__ import annotations

import tomllib

import pytest

import migrator
from migrator.core.rules import release_lines

from .helpers import REPO

EXAMPLE = (REPO / "examples" / "config-v2.toml").read_text()


def test_round_trip_v2_v3_v2_keeps_every_setting_that_v3_has() -> None:
    v3 = migrator.migrate(EXAMPLE, to=3)
    v2 = migrator.migrate(v3.text, to=2)
    original = tomllib.loads(EXAMPLE)
    del original["plugins"]["io.containerd.grpc.v1.cri"]["systemd_cgroup"]  # removed in 2.0
    assert tomllib.loads(v2.text) == original
    assert v2.text.count("#") == EXAMPLE.count("#")


def test_round_trip_v1_v3_v1() -> None:
    v1 = ('[plugins.cri]\n  sandbox_image = "p:1"\n'
          '[plugins.cri.containerd.runtimes.runc.options]\n  SystemdCgroup = true\n'
          '[plugins.cgroups]\n  no_prometheus = true\n')
    v3 = migrator.migrate(v1, to=3).text
    back = migrator.migrate(v3, to=1).text
    assert tomllib.loads(back) == {**tomllib.loads(v1), "version": 1}


def test_several_bin_dirs_cannot_become_one_bin_dir() -> None:
    v3 = ('version = 3\n[plugins."io.containerd.cri.v1.runtime".cni]\n'
          '  bin_dirs = ["/a", "/b"]\n  conf_dir = "/etc/cni/net.d"\n')
    with pytest.raises(migrator.LossError) as err:
        migrator.migrate(v3, to=2)
    assert "line 3" in str(err.value) and "bin_dirs" in str(err.value)
    result = migrator.migrate(v3, to=2, allow_loss=True)
    assert "bin_dir" not in result.text and 'conf_dir = "/etc/cni/net.d"' in result.text
    assert [c.from_path for c in result.changes if c.kind == "dropped"] == [
        'plugins."io.containerd.cri.v1.runtime".cni.bin_dirs']


def test_a_setting_the_release_does_not_read_is_a_loss() -> None:
    v3 = ('version = 3\n[plugins."io.containerd.cri.v1.images"]\n'
          '  use_local_image_pull = true\n  snapshotter = "native"\n')
    with pytest.raises(migrator.LossError, match="use_local_image_pull"):
        migrator.migrate(v3, containerd="1.7")
    out = migrator.migrate(v3, containerd="1.7", allow_loss=True).text
    assert tomllib.loads(out)["plugins"]["io.containerd.grpc.v1.cri"] == {
        "containerd": {"snapshotter": "native"}}


def test_default_values_of_new_keys_go_without_a_loss() -> None:
    v3 = ('version = 3\n[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]\n'
          '  runtime_type = "io.containerd.runc.v2"\n  io_type = ""\n')
    result = migrator.migrate(v3, to=2)
    assert "io_type" not in result.text
    assert any(c.kind == "dropped" and "default" in c.reason for c in result.changes)


def test_release_spellings_bin_dir_for_2_0() -> None:
    v2 = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/opt/cni/bin"\n'
    assert 'bin_dir = "/opt/cni/bin"' in migrator.migrate(v2, containerd="2.0").text
    assert 'bin_dirs = ["/opt/cni/bin"]' in migrator.migrate(v2, containerd="2.1").text
    assert 'bin_dirs = ["/opt/cni/bin"]' in migrator.migrate(v2, to=3).text


def test_containerd_implies_the_version_and_must_agree_with_to() -> None:
    assert release_lines() == {"1.6": 2, "1.7": 2, "2.0": 3, "2.1": 3, "2.2": 3, "2.3": 4, "2.4": 4}
    assert migrator.migrate("version = 3\n", containerd="1.7").target_version == 2
    with pytest.raises(migrator.ConfigError, match="reads config version 2, not 3"):
        migrator.migrate("version = 2\n", to=3, containerd="1.7")
    with pytest.raises(migrator.ConfigError, match="unknown containerd release"):
        migrator.migrate("version = 2\n", containerd="9.9")


def test_split_disabled_entry_collapses_back() -> None:
    v2 = 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.zfs"]\n'
    v3 = migrator.migrate(v2, to=3).text
    assert migrator.migrate(v3, to=2).text == v2


def test_sched_core_comes_back_from_the_shim_env() -> None:
    v2 = ('version = 2\n[plugins."io.containerd.runtime.v2.task"]\n  sched_core = true\n')
    v3 = migrator.migrate(v2, to=3).text
    assert 'env = ["SCHED_CORE=1"]' in v3
    assert tomllib.loads(migrator.migrate(v3, to=2).text) == tomllib.loads(v2)


@pytest.mark.parametrize("entries,expected", [
    (["io.containerd.cri.v1.images", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"],
     ["io.containerd.grpc.v1.cri"]),
    (["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.zfs",
      "io.containerd.cri.v1.runtime"],
     ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.zfs"]),
    (["io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images"],
     ["io.containerd.grpc.v1.cri"]),
])
def test_split_disabled_entries_merge_in_any_order(entries: list, expected: list) -> None:
    v3 = f"version = 3\ndisabled_plugins = {entries!r}\n".replace("'", '"')
    v2 = migrator.migrate(v3, to=2).text
    assert tomllib.loads(v2)["disabled_plugins"] == expected
    up = migrator.migrate(v2, to=3).text  # and it goes back up
    assert set(tomllib.loads(up)["disabled_plugins"]) >= set(entries)


def test_duplicate_disabled_entries_are_tolerated_both_ways() -> None:
    v2 = ('version = 2\n'
          'required_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.grpc.v1.cri"]\n')
    up = tomllib.loads(migrator.migrate(v2, to=3).text)["required_plugins"]
    assert up.count("io.containerd.cri.v1.images") == 2 and len(up) == 8
    down = migrator.migrate(migrator.migrate(v2, to=3).text, to=2).text
    assert tomllib.loads(down) == tomllib.loads(v2)


def test_a_setting_that_names_a_plugin_the_target_lacks_is_a_loss() -> None:
    v3 = ('version = 3\n[plugins."io.containerd.service.v1.diff-service"]\n'
          '  default = ["erofs", "walking"]\n[plugins."io.containerd.cri.v1.images"]\n'
          '  snapshotter = "erofs"\n')
    with pytest.raises(migrator.LossError) as err:
        migrator.migrate(v3, to=2)
    assert "line 3" in str(err.value) and "line 5" in str(err.value)
    result = migrator.migrate(v3, to=2, allow_loss=True)
    assert tomllib.loads(result.text)["plugins"] == {
        "io.containerd.service.v1.diff-service": {"default": ["walking"]}}
    dropped = {c.from_path: c.reason for c in result.changes if c.kind == "dropped"}
    assert "erofs" in dropped['plugins."io.containerd.service.v1.diff-service".default']
    assert "erofs" in dropped['plugins."io.containerd.cri.v1.images".snapshotter']
    # the release line that has erofs keeps the references
    assert "erofs" in migrator.migrate(v3.replace("version = 3", "version = 2"), to=3).text


def test_going_up_a_missing_plugin_is_a_warning() -> None:
    v2 = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  snapshotter = "aufs"\n'
    result = migrator.migrate(v2, to=3)  # containerd 2.0 removed aufs: not a loss of ours
    assert [(f.code, f.line) for f in result.findings if "aufs" in f.message] == [
        ("plugin-reference", 3)]


SHIM_ENV = ('version = 3\n[plugins."io.containerd.runtime.v2.task"]\n  platforms = ["linux/amd64"]\n'
            '[plugins."io.containerd.shim.v1.manager"]\n  env = [{}]\n')


def test_sched_core_comes_back_beside_other_env_entries() -> None:
    """SCHED_CORE=1 becomes sched_core = true whatever else the env holds; the other entries
    stay at their key, which containerd 1.7 does not read (no shim manager plugin): a loss,
    and with --allow-loss only they go (containerd 1.7 read sched_core false before)."""
    v3 = SHIM_ENV.format('"HTTPS_PROXY=http://proxy:3128", "SCHED_CORE=1"')
    with pytest.raises(migrator.LossError) as err:
        migrator.migrate(v3, to=2)
    assert "line 5" in str(err.value) and "shim.v1.manager" in str(err.value)
    result = migrator.migrate(v3, to=2, allow_loss=True)
    assert tomllib.loads(result.text) == {"version": 2, "plugins": {
        "io.containerd.runtime.v2.task": {"platforms": ["linux/amd64"], "sched_core": True}}}
    env = 'plugins."io.containerd.shim.v1.manager".env'
    assert [(c.kind, c.to_path) for c in result.changes if c.from_path == env] == [
        ("converted", 'plugins."io.containerd.runtime.v2.task".sched_core'), ("dropped", None)]


def test_an_env_without_sched_core_is_judged_as_itself() -> None:
    v3 = SHIM_ENV.format('"HTTPS_PROXY=http://proxy:3128"')
    with pytest.raises(migrator.LossError, match="has no plugin io.containerd.shim.v1.manager"):
        migrator.migrate(v3, to=2)
    result = migrator.migrate(v3, to=2, allow_loss=True)
    assert "sched_core" not in result.text and "env" not in result.text

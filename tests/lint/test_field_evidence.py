"""Lint against the field reports (issue 18): each test is built on a config shaped like the one
that raised a false alarm or slipped through, and the behaviour claims behind the rules are
checked with the real binaries where `config dump` (or starting the daemon) can show them
(tests marked `oracle`)."""
from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from migrator.lint import lint

RT = 'plugins."io.containerd.cri.v1.runtime"'
GRPC = 'plugins."io.containerd.grpc.v1.cri"'


def _ids(result, rule: str | None = None) -> list[tuple[str, str, str | None]]:
    return [(f.id, f.severity, f.path) for f in result.findings if rule in (None, f.id)]


def _about(result, key: str) -> list:
    return [f for f in result.findings if f.path and key in f.path]


# ---------------------------------------------------------------------------------------------
# false alarms and wrong advice

# A node image for containerd 2.x that still writes `version = 2` (rootless / user-namespaced
# nodes turn on slow_chown, which only the 2.x overlayfs snapshotter has).
SLOW_CHOWN = """\
version = 2
root = "/var/lib/containerd"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"

[plugins."io.containerd.snapshotter.v1.overlayfs"]
  slow_chown = true
  mount_options = ["volatile"]
"""


@pytest.mark.parametrize("line", ["2.0", "2.1", "2.2", "2.3"])
def test_slow_chown_is_known_to_the_2x_target_that_reads_it(line):
    assert _about(lint(SLOW_CHOWN, containerd=line), "slow_chown") == []


def test_slow_chown_by_default_says_which_releases_read_it():
    # no --containerd: judged by 1.6 and 1.7, which read version 2 natively and have no
    # slow_chown; the finding names the releases that do, instead of a bare "unknown"
    found = _about(lint(SLOW_CHOWN), "slow_chown")
    assert [(f.id, f.severity) for f in found] == [("CM002", "warning")]
    assert "2.0-2.4 reads it" in found[0].message and found[0].fix is None
    assert "--containerd 2.0" in found[0].suggestion


# A containerd 2.2 node with checkpoint/restore and the erofs snapshotter and differ.
CRIU_EROFS = f"""\
version = 3

[{RT}]
  enable_criu = true
  enable_cdi = true

[plugins."io.containerd.snapshotter.v1.erofs"]
  default_size = "64M"

[plugins."io.containerd.differ.v1.erofs"]
  enable_tar_index = true
"""


@pytest.mark.parametrize("line", ["2.2", "2.3"])
def test_criu_and_erofs_keys_are_clean_where_they_exist(line):
    assert _ids(lint(CRIU_EROFS, containerd=line), "CM002") == []


def test_criu_on_21_is_no_typo_of_enable_cdi():
    found = _about(lint(CRIU_EROFS, containerd="2.1"), "enable_criu")
    assert len(found) == 1
    f = found[0]
    assert "enable_cdi" not in f.message + (f.suggestion or "") and f.fix is None
    assert "2.2-2.4 reads it" in f.message and "(2.1)" in f.message


def test_default_target_of_a_v3_file_knows_every_v3_release():
    # without --containerd a version 3 file is judged by 2.0-2.2 together: 2.2's keys are known
    assert _ids(lint(CRIU_EROFS), "CM002") == []


# A KubeSphere node: its pause image lives on Docker Hub, under the kubesphere namespace.
KUBESPHERE = f"""\
version = 2
[{GRPC}]
  sandbox_image = "kubesphere/pause:3.9"
"""


def test_namespaced_pause_image_is_not_sent_to_registry_k8s_io():
    (f,) = lint(KUBESPHERE, containerd="1.7").findings
    assert f.id == "CM009" and f.severity == "warning"
    assert "registry.k8s.io" not in f.suggestion
    assert "docker.io/kubesphere/pause:3.9" in f.suggestion


def test_bare_pause_image_gets_the_kubernetes_registry():
    text = KUBESPHERE.replace("kubesphere/pause", "pause")
    (f,) = lint(text, containerd="1.7").findings
    assert "registry.k8s.io/pause:3.9" in f.suggestion


# A node upgraded to containerd 2.x whose config never had a version line, with full-URI CRI
# tables, linted with the kubelet's systemd cgroup driver.
VERSIONLESS = f"""\
# /etc/containerd/config.toml (no version line)
[{GRPC}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
"""


@pytest.mark.parametrize("line", ["2.0", "2.1"])
def test_fix_of_a_versionless_file_writes_what_the_target_reads(tmp_path, line):
    kubelet = tmp_path / "kubelet.yaml"
    kubelet.write_text("cgroupDriver: systemd\n")
    result = lint(VERSIONLESS, containerd=line, kubelet_config=str(kubelet))
    fixed = result.fixed_text
    assert fixed is not None
    tree = tomllib.loads(fixed)
    assert tree["version"] == 2 and "cri" not in tree["plugins"]
    runc = tree["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]["runc"]
    assert runc["options"]["SystemdCgroup"] is True
    assert lint(fixed, containerd=line, kubelet_config=str(kubelet)).errors == []


@pytest.mark.parametrize("line", ["2.0", "2.1"])
def test_no_fix_that_the_target_loses(tmp_path, line):
    # a short plugin ID beside the URI: `version = 2` cannot be added, and a SystemdCgroup
    # written at the version 1 path would be lost by 2.0-2.2 (facts B3): nothing is written
    kubelet = tmp_path / "kubelet.yaml"
    kubelet.write_text("cgroupDriver: systemd\n")
    text = VERSIONLESS + '[plugins.opt]\n  path = "/opt/containerd"\n'
    result = lint(text, containerd=line, kubelet_config=str(kubelet))
    assert result.fixed_text is None
    (cgroup,) = [f for f in result.findings if f.id == "CM010"]
    assert cgroup.severity == "error" and not cgroup.fixable


# ---------------------------------------------------------------------------------------------
# misses

PINNED = """\
version = 3

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox_image = "registry.example.internal/pause:3.9"
"""


def test_pinned_images_sandbox_image_is_an_error_fixed_to_sandbox():
    result = lint(PINNED, containerd="2.1")
    assert _ids(result, "CM009") == [
        ("CM009", "error",
         'plugins."io.containerd.cri.v1.images".pinned_images.sandbox_image')]
    pinned = tomllib.loads(result.fixed_text)["plugins"]["io.containerd.cri.v1.images"][
        "pinned_images"]
    assert pinned == {"sandbox": "registry.example.internal/pause:3.9"}


REMOVED_V2 = f"""\
version = 2

[plugins."io.containerd.runtime.v1.linux"]
  shim = "containerd-shim"
  runtime = "runc"
  no_shim = false
  shim_debug = true

[plugins."io.containerd.snapshotter.v1.aufs"]
  root_path = "/var/lib/containerd/aufs"

[{GRPC}.containerd]
  snapshotter = "overlayfs"
"""

REMOVED_V1 = """\
[plugins.linux]
  shim_debug = true
  no_shim = false
[plugins.aufs]
  root_path = "/var/lib/containerd/aufs"
"""


@pytest.mark.parametrize("line", ["2.0", "2.3"])
@pytest.mark.parametrize("text,names", [(REMOVED_V2, ("io.containerd.runtime.v1.linux",
                                                     "io.containerd.snapshotter.v1.aufs")),
                                        (REMOVED_V1, ("linux", "aufs"))])
def test_removed_plugins_tables_are_errors_on_2x(line, text, names):
    result = lint(text, containerd=line)
    found = [f for f in result.findings if f.id == "CM004"]
    assert {f.path.split(".", 1)[1].strip('"') for f in found} == set(names)
    assert all(f.severity == "error" for f in found)
    runtime = next(f for f in found if "linux" in f.path)
    assert "no_shim" in runtime.message and "shim_debug" in runtime.message


def test_removed_plugins_tables_are_fine_on_1x():
    assert _ids(lint(REMOVED_V2, containerd="1.7"), "CM004") == []


CASE_V3 = f"""\
version = 3

[{RT}.containerd]
  default_runtime_name = "runc"
  [{RT}.containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [{RT}.containerd.runtimes.runc.options]
      systemdCgroup = true
"""


@pytest.mark.parametrize("line", ["2.1", "2.3"])
def test_option_in_another_case_is_read_warned_and_fixed(tmp_path, line):
    kubelet = tmp_path / "kubelet.yaml"
    kubelet.write_text("cgroupDriver: systemd\n")
    result = lint(CASE_V3, containerd=line, kubelet_config=str(kubelet))
    assert _ids(result, "CM010") == []                  # 2.x reads systemdCgroup
    (f,) = [f for f in result.findings if f.id == "CM002"]
    assert f.severity == "warning" and f.fixable
    options = tomllib.loads(result.fixed_text)["plugins"]["io.containerd.cri.v1.runtime"][
        "containerd"]["runtimes"]["runc"]["options"]
    assert options == {"SystemdCgroup": True}


def test_option_case_1x_does_not_read_is_an_error(tmp_path):
    kubelet = tmp_path / "kubelet.yaml"
    kubelet.write_text("cgroupDriver: systemd\n")
    text = (f'version = 2\n[{GRPC}.containerd.runtimes.runc]\n'
            f'  runtime_type = "io.containerd.runc.v2"\n'
            f'  [{GRPC}.containerd.runtimes.runc.options]\n    SystemdCGroup = true\n')
    result = lint(text, containerd="1.7", kubelet_config=str(kubelet))
    assert ("CM002", "error") in [(f.id, f.severity) for f in result.findings]
    assert ("CM010", "error") in [(f.id, f.severity) for f in result.findings]
    # 2.x matches any case: a warning there, and the kubelet agrees
    result = lint(text, containerd="2.1", kubelet_config=str(kubelet))
    assert [(f.id, f.severity) for f in result.findings if f.id in ("CM002", "CM010")] == [
        ("CM002", "warning")]


# The crash-loop report: a kubeadm node (cgroupDriver: systemd) whose runc options say
# SystemdCgroups; runc keeps cgroupfs.
TYPO = f"""\
version = 3

[{RT}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  [{RT}.containerd.runtimes.runc.options]
    BinaryName = "/usr/bin/runc"
    SystemdCgroups = true
"""


@pytest.mark.parametrize("line", [None, "2.0", "2.3"])
def test_misspelled_runc_option_is_an_error(line):
    result = lint(TYPO, containerd=line)
    (f,) = [f for f in result.findings if f.id == "CM002"]
    assert f.severity == "error" and f.suggestion == "did you mean SystemdCgroup?"
    assert f.fixable


def test_misspelled_runc_option_fails_the_cli(tmp_path):
    from migrator.cli.commands import main
    path = tmp_path / "config.toml"
    path.write_text(TYPO)
    with pytest.raises(SystemExit) as exc:
        main(["--lint", str(path)])
    assert exc.value.code == 1


def test_unknown_option_of_another_shim_stays_open():
    # the runsc and kata shims define their own options: no typo error there
    text = TYPO.replace("io.containerd.runc.v2", "io.containerd.runsc.v1") \
        .replace("runtimes.runc", "runtimes.runsc")
    assert [f for f in lint(text, containerd="2.1").findings if f.severity == "error"] == []


# gVisor's documented setup and AKS's kata runtimes carry runc options over.
SANDBOXED = f"""\
version = 3

[{RT}.containerd.runtimes.runsc]
  runtime_type = "io.containerd.runsc.v1"
  [{RT}.containerd.runtimes.runsc.options]
    TypeUrl = "io.containerd.runsc.v1.options"
    ConfigPath = "/etc/containerd/runsc.toml"
    SystemdCgroup = true

[{RT}.containerd.runtimes.kata]
  runtime_type = "io.containerd.kata.v2"
  [{RT}.containerd.runtimes.kata.options]
    ConfigPath = "/usr/share/defaults/kata-containers/configuration.toml"
    BinaryName = "/usr/bin/kata-runtime"
"""


def test_runc_options_under_runsc_and_kata_are_reported():
    result = lint(SANDBOXED, containerd="2.1")
    found = {f.path.rsplit(".", 3)[-3]: f for f in result.findings if f.id == "CM002"}
    assert set(found) == {"runsc", "kata"}
    assert all(f.severity == "warning" for f in found.values())
    assert "SystemdCgroup" in found["runsc"].message and "BinaryName" in found["kata"].message
    assert "TypeUrl" in found["runsc"].message      # what the shim does get


def test_mixed_v3_file_with_v2_keys_is_an_error():
    text = (f'version = 3\n[{RT}.containerd.runtimes.runc]\n'
            f'  runtime_type = "io.containerd.runc.v2"\n'
            f'[{GRPC}]\n  sandbox_image = "registry.k8s.io/pause:3.10"\n')
    assert ("CM003", "error") in [(f.id, f.severity) for f in lint(text, containerd="2.1").findings]


def test_missing_import_names_the_releases(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('version = 3\nimports = ["conf.d/runtimes.toml"]\n')
    (f,) = lint(path.read_text(), file=str(path), containerd="2.1").findings
    assert f.id == "CM011" and f.severity == "error"
    assert "containerd 1.6-2.4 refuse to start" in f.message


# ---------------------------------------------------------------------------------------------
# the behaviour claims, checked with the binaries


def _dump(line: str, text: str):
    from tests import oracle
    oracle.require_containerd(line)
    return oracle.dump(line, text)


@pytest.mark.oracle
def test_oracle_slow_chown_read_by_2x_not_1x():
    assert "slow_chown" not in _dump("1.7", SLOW_CHOWN).config["plugins"][
        "io.containerd.snapshotter.v1.overlayfs"]
    for line in ("2.0", "2.1"):
        d = _dump(line, SLOW_CHOWN)
        assert d.config["plugins"]["io.containerd.snapshotter.v1.overlayfs"]["slow_chown"] is True
        assert not [w for w in d.warnings if "unknown key" in w.lower()]


@pytest.mark.oracle
def test_oracle_criu_and_erofs_keys_from_22():
    old = _dump("2.1", CRIU_EROFS)
    assert {w.split("key=")[1].split()[0] for w in old.warnings if "key=" in w} >= {
        "enable_criu", "default_size", "enable_tar_index"}
    new = _dump("2.2", CRIU_EROFS)
    assert not [w for w in new.warnings if "unknown key" in w.lower()]
    plugins = new.config["plugins"]
    assert plugins["io.containerd.cri.v1.runtime"]["enable_criu"] is True
    assert plugins["io.containerd.snapshotter.v1.erofs"]["default_size"] == "64M"
    assert plugins["io.containerd.differ.v1.erofs"]["enable_tar_index"] is True


@pytest.mark.oracle
@pytest.mark.parametrize("line", ["2.0", "2.1", "2.3"])
def test_oracle_pinned_sandbox_image_is_an_extra_pin(line):
    pinned = _dump(line, PINNED).config["plugins"]["io.containerd.cri.v1.images"][
        "pinned_images"]
    assert pinned["sandbox_image"] == "registry.example.internal/pause:3.9"
    assert pinned["sandbox"].startswith("registry.k8s.io/pause:")     # the default stays
    fixed = lint(PINNED, containerd=line).fixed_text
    assert _dump(line, fixed).config["plugins"]["io.containerd.cri.v1.images"][
        "pinned_images"]["sandbox"] == "registry.example.internal/pause:3.9"


@pytest.mark.oracle
def test_oracle_option_case_kept_by_23():
    options = _dump("2.3", CASE_V3).config["plugins"]["io.containerd.cri.v1.runtime"][
        "containerd"]["runtimes"]["runc"]["options"]
    assert options["systemdCgroup"] is True


@pytest.mark.oracle
@pytest.mark.parametrize("line", ["1.6", "1.7", "2.0", "2.1", "2.2", "2.3"])
def test_oracle_missing_import_stops_the_daemon(tmp_path, line):
    """Starting the daemon (not `config dump`, which hides it on 2.x): every release exits at
    once with 'open ...: no such file or directory'."""
    from tests import oracle
    binary = oracle.require_containerd(line)
    version = 2 if line.startswith("1.") else 3
    config = tmp_path / "config.toml"
    config.write_text(f'version = {version}\nimports = ["{tmp_path}/missing.toml"]\n')
    run = subprocess.run([str(binary), "-c", str(config), "-a", str(tmp_path / "sock"),
                          "--root", str(tmp_path / "root"), "--state", str(tmp_path / "state")],
                         capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert run.returncode != 0
    assert "missing.toml: no such file or directory" in run.stderr.splitlines()[-1]
    assert not Path(tmp_path / "root").exists() or not any((tmp_path / "root").iterdir())

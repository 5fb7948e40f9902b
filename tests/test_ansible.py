"""contrib/ansible/containerd_config.py under real ansible-core (connection local, the module run
by this venv's Python): one playbook, run with --check --diff and then for real.

Tasks: migrate a v2 file to 3 (mirrors into hosts.toml files, with a backup), set SystemdCgroup,
the same task again (unchanged), then the failures: a loss without allow_loss, bad TOML, a
misspelt setting name; each leaves its file as it was."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import migrator

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOK_BIN = Path(sys.executable).parent / "ansible-playbook"
pytestmark = pytest.mark.skipif(not PLAYBOOK_BIN.exists(),
                                reason="ansible-core is not installed (pip install '.[test]')")

SECRET = "hunter2-not-for-logs"
MAIN = f"""version = 2
# node config, written by the installer
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"  # the pause image kubeadm expects
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
    endpoint = ["https://mirror.example.com"]
  [plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.example.com".auth]
    password = "{SECRET}"
"""
LOSS = ('version = 3\n[plugins."io.containerd.cri.v1.images"]\n'
        '  use_local_image_pull = true\n')
BAD = "version = 2\n[plugins\n"

PLAYBOOK = """
- hosts: node
  gather_facts: false
  tasks:
    - name: migrate to version 3
      containerd_config: {path: "{{ d }}/config.toml", to: 3, hosts_dir: "{{ d }}/certs.d",
                          backup: true}
      register: migrated
    - name: systemd cgroups
      containerd_config: &systemd
        path: "{{ d }}/config.toml"
        to: 3
        settings: {systemd_cgroup: true, sandbox_image: "registry.k8s.io/pause:3.10"}
      register: systemd
    - name: systemd cgroups, again
      containerd_config: *systemd
      register: again
    - name: down to containerd 1.7 without allow_loss
      containerd_config: {path: "{{ d }}/loss.toml", containerd: "1.7"}
      register: loss
      ignore_errors: true
    - name: not TOML
      containerd_config: {path: "{{ d }}/bad.toml", to: 3}
      register: bad
      ignore_errors: true
    - name: a misspelt setting
      containerd_config: {path: "{{ d }}/loss.toml", settings: {sandbox_imag: x}}
      register: typo
      ignore_errors: true
    - name: neither to nor containerd nor settings, the file keeps its version
      containerd_config: {path: "{{ d }}/loss.toml"}
      register: same
    - name: keep the results for the test
      copy:
        dest: "{{ d }}/results.json"
        content: "{{ dict(migrated=migrated, systemd=systemd, again=again, loss=loss, bad=bad,
                          typo=typo, same=same) | to_json }}"
      check_mode: false
"""


def _run(tmp_path: Path, *flags: str) -> tuple[dict, str]:
    (tmp_path / "inventory.ini").write_text(
        f"node ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    env = dict(os.environ, ANSIBLE_LIBRARY=str(ROOT / "contrib" / "ansible"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_HOME=str(tmp_path / "home"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
    proc = subprocess.run([str(PLAYBOOK_BIN), "-i", str(tmp_path / "inventory.ini"),
                           str(tmp_path / "site.yml"), "-e", f"d={tmp_path}", *flags],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((tmp_path / "results.json").read_text()), proc.stdout + proc.stderr


@pytest.fixture
def node(tmp_path: Path) -> Path:
    (tmp_path / "config.toml").write_text(MAIN)
    (tmp_path / "loss.toml").write_text(LOSS)
    (tmp_path / "bad.toml").write_text(BAD)
    return tmp_path


def _failures_leave_files_alone(r: dict, node: Path) -> None:
    assert r["loss"]["failed"] and "use_local_image_pull" in r["loss"]["msg"]
    assert r["bad"]["failed"] and r["bad"]["msg"].startswith(f"{node}/bad.toml:2:")
    assert r["typo"]["msg"].startswith(f"{node}/loss.toml: unknown setting 'sandbox_imag' "
                                       "(did you mean sandbox_image?)")
    assert (node / "loss.toml").read_text() == LOSS
    assert (node / "bad.toml").read_text() == BAD
    assert r["same"]["changed"] is False and r["same"]["target_version"] == 3


def test_check_mode_then_the_real_run(node: Path) -> None:
    """The same playbook on the same files: first --check --diff, then for real."""
    _check_mode_reports_and_diffs_and_writes_nothing(node)
    _real_run_migrates_sets_and_is_idempotent(node)


def _check_mode_reports_and_diffs_and_writes_nothing(node: Path) -> None:
    r, log = _run(node, "--check", "--diff")
    assert (node / "config.toml").read_text() == MAIN
    assert not (node / "certs.d").exists()
    assert sorted(p.name for p in node.iterdir() if p.name.startswith("config.toml")) == \
        ["config.toml"]                                            # no backup either
    m = r["migrated"]
    assert m["changed"] and (m["source_version"], m["target_version"]) == (2, 3)
    assert m["hosts_files"] == [f"{node}/certs.d/docker.io/hosts.toml"]
    main_diff, hosts_diff = m["diff"]
    assert main_diff["before_header"] == f"{node}/config.toml"
    assert 'version = 3' in main_diff["after"] and '"<redacted>"' in main_diff["after"]
    assert hosts_diff["before"] == "" and 'server = "https://registry-1.docker.io"' in \
        hosts_diff["after"]
    assert r["systemd"]["changed"] and r["again"]["changed"]   # the file never changed
    _failures_leave_files_alone(r, node)
    assert SECRET not in log and SECRET not in json.dumps(r)


def _real_run_migrates_sets_and_is_idempotent(node: Path) -> None:
    r, log = _run(node, "--diff")
    out = (node / "config.toml").read_text()
    cfg = migrator.load(out)
    assert cfg.version == 3 and cfg.systemd_cgroup is True
    assert cfg.sandbox_image == "registry.k8s.io/pause:3.10"
    assert cfg.registry_config_path == f"{node}/certs.d"
    assert "# the pause image kubeadm expects" in out and SECRET in out   # credentials stay
    assert tomllib.loads((node / "certs.d" / "docker.io" / "hosts.toml").read_text())[
        "host"]["https://mirror.example.com"]
    backups = [p for p in node.iterdir() if p.name.startswith("config.toml.")]
    assert len(backups) == 1 and backups[0].read_text() == MAIN
    assert r["migrated"]["changed"] and r["migrated"]["backup_file"] == str(backups[0])
    assert [c["rule"] for c in r["migrated"]["report"]["changes"]]
    assert r["systemd"]["changed"] and r["systemd"]["report"]["source_version"] == 3
    assert r["again"]["changed"] is False and r["again"]["diff"] == []
    assert r["again"]["hosts_files"] == []
    _failures_leave_files_alone(r, node)
    assert SECRET not in log and SECRET not in json.dumps(r)

"""--set composes with --hosts-dir and --with-imports in one pass (issue 17): the edits join
the migration's plan instead of a second run over its output."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrator.cli import commands as cli

from . import oracle

CRI = 'plugins."io.containerd.grpc.v1.cri"'
V2 = f'''version = 2

[{CRI}]
  sandbox_image = "registry.k8s.io/pause:3.9"

[{CRI}.registry.mirrors."docker.io"]
  # the office cache
  endpoint = ["https://cache.corp.example"]
'''


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli.main, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_set_and_hosts_dir_in_one_pass(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(V2)
    certs = tmp_path / "certs.d"
    code, out, err = run(str(config), "--to", "3", "--hosts-dir", str(certs), "--in-place",
                         "--set", "sandbox_image=registry.k8s.io/pause:3.10")
    assert code == 0, err
    text = config.read_text()
    tree = tomllib.loads(text)
    images = tree["plugins"]["io.containerd.cri.v1.images"]
    assert images["pinned_images"] == {"sandbox": "registry.k8s.io/pause:3.10"}
    assert images["registry"] == {"config_path": str(certs)}
    assert "mirrors" not in text and "# the office cache" not in text
    hosts = (certs / "docker.io" / "hosts.toml").read_text()
    assert '[host."https://cache.corp.example"]' in hosts and "# the office cache" in hosts
    # the report names both: the edit (by its setting) and the move into hosts.toml
    assert "pinned_images.sandbox" in err and "hosts.toml" in err
    assert err.count("registry.k8s.io/pause:3.10") <= 1


def test_set_and_hosts_dir_write_the_same_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(V2)
    before = config.read_bytes()
    code, out, err = run(str(config), "--to", "3", "--hosts-dir", str(tmp_path / "certs.d"),
                         "--in-place", "--set", "registry_config_path=/etc/elsewhere")
    assert code == 2
    assert err.strip().endswith("which --hosts-dir sets too"), err
    assert len(err.strip().splitlines()) == 1
    assert config.read_bytes() == before and not (tmp_path / "certs.d").exists()


def test_set_edits_the_root_of_an_import_set(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    root = tmp_path / "config.toml"
    root.write_text(f'version = 2\nimports = ["conf.d/*.toml"]\n\n[{CRI}]\n'
                    '  sandbox_image = "registry.k8s.io/pause:3.9"\n')
    drop_in = tmp_path / "conf.d" / "runtime.toml"
    drop_in.write_text(f'version = 2\n\n[{CRI}.containerd.runtimes.runc]\n'
                       '  runtime_type = "io.containerd.runc.v2"\n')
    code, out, err = run(str(root), "--to", "3", "--with-imports", "--in-place",
                         "--set", "sandbox_image=registry.k8s.io/pause:3.10")
    assert code == 0, err
    assert tomllib.loads(root.read_text())["plugins"]["io.containerd.cri.v1.images"][
        "pinned_images"] == {"sandbox": "registry.k8s.io/pause:3.10"}
    runtime = tomllib.loads(drop_in.read_text())["plugins"]["io.containerd.cri.v1.runtime"]
    assert runtime["containerd"]["runtimes"]["runc"]["runtime_type"] == "io.containerd.runc.v2"


def test_read_as_is_for_a_drop_in_alone(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(V2)
    code, _, err = run(str(config), "--to", "3", "--hosts-dir", str(tmp_path / "h"),
                       "--read-as", "2", "--set", "sandbox_image=x")
    assert code == 2 and "--read-as" in err


@pytest.mark.oracle
def test_containerd_reads_the_composed_output(tmp_path: Path) -> None:
    """containerd 2.1 reads the edited, migrated file with its hosts directory: the new sandbox
    image, config_path at the hosts directory, no mirrors, and no warning."""
    oracle.require_containerd("2.1")
    config = tmp_path / "config.toml"
    config.write_text(V2)
    certs = tmp_path / "certs.d"
    code, _, err = run(str(config), "--to", "3", "--hosts-dir", str(certs), "--in-place",
                       "--set", "sandbox_image=registry.k8s.io/pause:3.10")
    assert code == 0, err
    dump = oracle.dump("2.1", config.read_text())
    assert dump.ok and dump.warnings == [], dump.stderr
    images = dump.config["plugins"]["io.containerd.cri.v1.images"]
    assert images["pinned_images"]["sandbox"] == "registry.k8s.io/pause:3.10"
    assert images["registry"]["config_path"] == str(certs)
    assert not images["registry"].get("mirrors")

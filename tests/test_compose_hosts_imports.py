"""--hosts-dir composes with --with-imports (and --set) in one pass (issue 17): the registry
mirrors and TLS settings of the one file of the set that has them move to hosts.toml files,
config_path is set in that file, and every file of the set is migrated once."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrator.cli import commands as cli

from . import oracle

CRI = 'plugins."io.containerd.grpc.v1.cri"'
ROOT = f'''version = 2
imports = ["conf.d/*.toml"]

[{CRI}]
  sandbox_image = "registry.k8s.io/pause:3.9"
'''
REGISTRY = f'''version = 2

# the office cache
[{CRI}.registry.mirrors."docker.io"]
  endpoint = ["https://cache.corp.example"]

[{CRI}.registry.configs."cache.corp.example".tls]
  ca_file = "/etc/ssl/cache.pem"
[{CRI}.registry.configs."cache.corp.example".auth]
  password = "hunter2-secret"
'''
RUNTIME = '''version = 2

[plugins."io.containerd.internal.v1.opt"]
  path = "/opt/containerd"
'''


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli.main, list(args))
    return r.exit_code, r.stdout, r.stderr


def make_set(tmp_path: Path, root: str = ROOT, **drop_ins: str) -> Path:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "config.toml").write_text(root)
    for name, text in drop_ins.items():
        (tmp_path / "conf.d" / f"{name}.toml").write_text(text)
    return tmp_path / "config.toml"


def snapshot(tmp_path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(tmp_path)): p.read_bytes()
            for p in sorted(tmp_path.rglob("*")) if p.is_file()}


def test_the_registry_of_a_drop_in_moves_to_hosts_toml(tmp_path: Path) -> None:
    root = make_set(tmp_path, a_registry=REGISTRY, b_runtime=RUNTIME)
    certs = tmp_path / "certs.d"
    code, out, err = run(str(root), "--with-imports", "--hosts-dir", str(certs), "--to", "3",
                         "--in-place")
    assert code == 0, err
    registry = tomllib.loads((tmp_path / "conf.d" / "a_registry.toml").read_text())
    images = registry["plugins"]["io.containerd.cri.v1.images"]["registry"]
    assert images["config_path"] == str(certs)
    assert "mirrors" not in images and "tls" not in images["configs"]["cache.corp.example"]
    assert images["configs"]["cache.corp.example"]["auth"] == {"password": "hunter2-secret"}
    hosts = (certs / "docker.io" / "hosts.toml").read_text()
    assert '[host."https://cache.corp.example"]' in hosts
    assert 'ca = "/etc/ssl/cache.pem"' in hosts and "# the office cache" in hosts
    assert (certs / "cache.corp.example" / "hosts.toml").exists()
    assert tomllib.loads(root.read_text())["version"] == 3
    runtime = tomllib.loads((tmp_path / "conf.d" / "b_runtime.toml").read_text())
    assert runtime == {"version": 3,
                       "plugins": {"io.containerd.internal.v1.opt": {"path": "/opt/containerd"}}}
    assert "hunter2" not in out + err
    assert "registry-auth" in err  # the credentials stay, and the report says so


def test_the_registry_of_the_root_moves_too(tmp_path: Path) -> None:
    root = make_set(tmp_path, ROOT + REGISTRY.removeprefix("version = 2\n"), b_runtime=RUNTIME)
    certs = tmp_path / "certs.d"
    code, _, err = run(str(root), "--with-imports", "--hosts-dir", str(certs), "--to", "3",
                       "--in-place")
    assert code == 0, err
    tree = tomllib.loads(root.read_text())
    assert tree["plugins"]["io.containerd.cri.v1.images"]["registry"]["config_path"] == \
        str(certs)
    assert (certs / "docker.io" / "hosts.toml").exists()


def test_check_and_diff_write_nothing(tmp_path: Path) -> None:
    root = make_set(tmp_path, a_registry=REGISTRY)
    before = snapshot(tmp_path)
    certs = tmp_path / "certs.d"
    code, out, err = run(str(root), "--with-imports", "--hosts-dir", str(certs), "--to", "3",
                         "--check")
    assert code == 1, err
    code, out, err = run(str(root), "--with-imports", "--hosts-dir", str(certs), "--to", "3",
                         "--diff")
    assert code == 0, err
    assert snapshot(tmp_path) == before and not certs.exists()
    assert f"+++ {certs / 'docker.io' / 'hosts.toml'}" in out and "--- /dev/null" in out
    assert "+++ " + str(tmp_path / "conf.d" / "a_registry.toml") in out
    assert "hunter2" not in out + err


def refused(tmp_path: Path, **drop_ins: str) -> str:
    """The one error line of --hosts-dir --with-imports on this set (exit 2, nothing written)."""
    root = make_set(tmp_path, a_registry=REGISTRY, **drop_ins)
    before = snapshot(tmp_path)
    code, _, err = run(str(root), "--with-imports", "--hosts-dir", str(tmp_path / "certs.d"),
                       "--to", "3", "--in-place")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert snapshot(tmp_path) == before
    return lines[0]


def test_registries_in_two_files_are_refused(tmp_path: Path) -> None:
    other = f'version = 2\n[{CRI}.registry.mirrors."quay.io"]\n  endpoint = ["https://q"]\n'
    line = refused(tmp_path, b_other=other)
    assert line.startswith(f"{tmp_path / 'conf.d' / 'b_other.toml'}:2:")
    assert "keep them in one file" in line


def test_a_config_path_elsewhere_in_the_set_is_refused(tmp_path: Path) -> None:
    elsewhere = f'version = 2\n[{CRI}.registry]\n  config_path = "/etc/containerd/other"\n'
    line = refused(tmp_path, b_path=elsewhere)
    assert line.startswith(f"{tmp_path / 'conf.d' / 'b_path.toml'}:3:")


def test_an_existing_hosts_file_needs_overwrite(tmp_path: Path) -> None:
    root = make_set(tmp_path, a_registry=REGISTRY)
    certs = tmp_path / "certs.d"
    (certs / "docker.io").mkdir(parents=True)
    (certs / "docker.io" / "hosts.toml").write_text('server = "https://elsewhere"\n')
    before = snapshot(tmp_path)
    code, _, err = run(str(root), "--with-imports", "--hosts-dir", str(certs), "--to", "3",
                       "--in-place")
    assert code == 2, err
    assert snapshot(tmp_path) == before
    code, _, err = run(str(root), "--with-imports", "--hosts-dir", str(certs), "--to", "3",
                       "--in-place", "--overwrite-hosts")
    assert code == 0, err
    assert "cache.corp.example" in (certs / "docker.io" / "hosts.toml").read_text()


def test_set_hosts_dir_and_imports_in_one_pass(tmp_path: Path) -> None:
    """All three: the root's edit, the drop-in's registry, and no merge warning for either
    (the set means what was asked: the edit, and hosts.toml for the mirrors)."""
    root = make_set(tmp_path, a_registry=REGISTRY, b_runtime=RUNTIME)
    certs = tmp_path / "certs.d"
    code, _, err = run(str(root), "--with-imports", "--hosts-dir", str(certs), "--to", "3",
                       "--in-place", "--set", "sandbox_image=registry.k8s.io/pause:3.10")
    assert code == 0, err
    images = tomllib.loads(root.read_text())["plugins"]["io.containerd.cri.v1.images"]
    assert images["pinned_images"] == {"sandbox": "registry.k8s.io/pause:3.10"}
    assert (certs / "docker.io" / "hosts.toml").exists()
    assert "imports-merge" not in err and "imports-set" not in err


def test_set_on_the_root_alone_is_no_merge_difference(tmp_path: Path) -> None:
    root = make_set(tmp_path, b_runtime=RUNTIME)
    code, _, err = run(str(root), "--with-imports", "--to", "3", "--check",
                       "--set", "sandbox_image=registry.k8s.io/pause:3.10")
    assert code == 1, err
    assert "imports-merge" not in err and "imports-set" not in err


def test_set_hidden_by_a_later_file_is_reported(tmp_path: Path) -> None:
    later = f'version = 2\n[{CRI}]\n  sandbox_image = "registry.k8s.io/pause:3.8"\n'
    root = make_set(tmp_path, z_later=later)
    code, _, err = run(str(root), "--with-imports", "--to", "3", "--check",
                       "--set", "sandbox_image=registry.k8s.io/pause:3.10")
    assert code == 1, err
    assert "[imports-set]" in err and "pinned_images.sandbox" in err


@pytest.mark.oracle
def test_containerd_reads_the_composed_set(tmp_path: Path) -> None:
    """containerd 2.1 reads the migrated set (root and drop-ins): config_path at the hosts
    directory, no mirrors left, the drop-in's other keys and the root's edit in effect, and
    no warning; it read the original set's mirrors from the drop-in."""
    oracle.require_containerd("2.1")
    root = make_set(tmp_path, a_registry=REGISTRY, b_runtime=RUNTIME)
    originals = {f"conf.d/{p.name}": p.read_text() for p in (tmp_path / "conf.d").iterdir()}
    before = oracle.dump("2.1", root.read_text(), files=originals)
    assert before.ok, before.stderr
    old = before.config["plugins"]["io.containerd.cri.v1.images"]["registry"]
    assert old["mirrors"]["docker.io"]["endpoint"] == ["https://cache.corp.example"]
    certs = tmp_path / "certs.d"
    code, _, err = run(str(root), "--with-imports", "--hosts-dir", str(certs), "--to", "3",
                       "--in-place", "--set", "sandbox_image=registry.k8s.io/pause:3.10")
    assert code == 0, err
    migrated = {f"conf.d/{p.name}": p.read_text() for p in (tmp_path / "conf.d").iterdir()}
    after = oracle.dump("2.1", root.read_text(), files=migrated)
    assert after.ok and after.warnings == [], after.stderr
    images = after.config["plugins"]["io.containerd.cri.v1.images"]
    assert images["registry"]["config_path"] == str(certs)
    assert not images["registry"].get("mirrors")
    assert images["pinned_images"]["sandbox"] == "registry.k8s.io/pause:3.10"
    assert after.config["plugins"]["io.containerd.internal.v1.opt"]["path"] == "/opt/containerd"

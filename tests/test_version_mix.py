"""Keys of the previous config version in a file (issue 18): a `version = 3` header over
version 2 CRI keys. containerd 2.1 ignores them with a warning (tests/test_oracle_engine_cases.py);
migrating moves each to where the target reads it, and only where that is unambiguous."""
from __future__ import annotations

import tomllib

from click.testing import CliRunner

import migrator
from migrator.cli.commands import main

CRI = '[plugins."io.containerd.grpc.v1.cri"]\n'
V3_OVER_V2 = ('version = 3\n' + CRI + '  sandbox_image = "registry.k8s.io/pause:3.10"\n'
              '  typo_keyy = 1\n'
              '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n'
              '  SystemdCgroup = true\n')


def test_each_version_2_key_moves_and_is_reported() -> None:
    result = migrator.migrate(V3_OVER_V2, to=3)
    out = tomllib.loads(result.text)["plugins"]
    assert out["io.containerd.cri.v1.images"]["pinned_images"]["sandbox"] == \
        "registry.k8s.io/pause:3.10"
    assert out["io.containerd.cri.v1.runtime"]["containerd"]["runtimes"]["runc"]["options"] == {
        "SystemdCgroup": True}
    # a key neither version knows is not guessed at
    assert out["io.containerd.grpc.v1.cri"] == {"typo_keyy": 1}
    moved = {c.from_path for c in result.changes if c.kind in ("moved", "renamed")}
    assert 'plugins."io.containerd.grpc.v1.cri".sandbox_image' in moved
    assert {f.path for f in result.findings if f.code == "version-mix"} == {
        'plugins."io.containerd.grpc.v1.cri".sandbox_image',
        'plugins."io.containerd.grpc.v1.cri".containerd'}


def test_check_fails_on_such_a_file_and_passes_on_the_result() -> None:
    run = CliRunner().invoke(main, ["-", "--to", "3", "--check"], input=V3_OVER_V2)
    assert run.exit_code == 1, run.output
    fixed = migrator.migrate(V3_OVER_V2, to=3).text
    run = CliRunner().invoke(main, ["-", "--to", "3", "--check"], input=fixed)
    assert run.exit_code == 0, run.output


def test_up_to_4_and_down_to_2() -> None:
    v4 = tomllib.loads(migrator.migrate(V3_OVER_V2, to=4).text)["plugins"]
    assert v4["io.containerd.cri.v1.images"]["pinned_images"]["sandbox"] == \
        "registry.k8s.io/pause:3.10"
    v2 = migrator.migrate(V3_OVER_V2, to=2).text  # version 2 keys are at home in version 2
    assert tomllib.loads(v2) == {**tomllib.loads(V3_OVER_V2), "version": 2}


def test_old_server_tables_in_a_version_4_file_move_to_the_server_plugins() -> None:
    # version 4 still lists [grpc] (deprecated) and decodes it, but never uses it (facts B13)
    text = ('version = 4\n[grpc]\n  address = "/run/x.sock"\n'
            '[debug]\n  level = "debug"\n')
    result = migrator.migrate(text, to=4)
    out = tomllib.loads(result.text)
    assert out["plugins"]["io.containerd.server.v1.grpc"] == {"address": "/run/x.sock"}
    assert out["debug"] == {"level": "debug"} and "grpc" not in out  # level is still read
    assert [f.path for f in result.findings if f.code == "version-mix"] == ["grpc.address"]
    # version 3 reads them where they are
    assert migrator.migrate(text, to=3).text == text.replace("version = 4", "version = 3")


def test_a_version_3_file_with_only_version_3_keys_is_untouched() -> None:
    text = ('version = 3\n' + CRI + '  stream_server_port = "10011"\n'
            '[plugins."io.containerd.cri.v1.images".pinned_images]\n  sandbox = "p:1"\n')
    result = migrator.migrate(text, to=3)
    assert result.text == text and result.changes == []


def test_version_2_keys_in_a_version_4_file_move_too() -> None:
    text = V3_OVER_V2.replace("version = 3", "version = 4")
    result = migrator.migrate(text, to=4)
    out = tomllib.loads(result.text)["plugins"]
    assert out["io.containerd.cri.v1.runtime"]["containerd"]["runtimes"]["runc"]["options"] == {
        "SystemdCgroup": True}
    assert {f.message.split(" key")[0] for f in result.findings if f.code == "version-mix"} \
        == {"a version 2"}

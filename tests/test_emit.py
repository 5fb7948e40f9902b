"""The emitter's conventions (docs/emitting.md), one spelling at a time. Expected texts are
written by hand from the conventions; the oracle tier checks what they mean to containerd."""
from __future__ import annotations

import tomllib

import pytest

import migrator


def up(text: str, to: int = 3) -> str:
    return migrator.migrate(text, to=to).text


def test_dotted_keys_under_plugins_stay_dotted() -> None:
    text = ('version = 2\n[plugins]\n'
            '  "io.containerd.grpc.v1.cri".sandbox_image = "k8s/pause:3.9" # p\n'
            '  "io.containerd.grpc.v1.cri".enable_selinux = true\n')
    assert up(text) == (
        'version = 3\n[plugins]\n'
        '  "io.containerd.cri.v1.images".pinned_images.sandbox = "k8s/pause:3.9" # p\n'
        '  "io.containerd.cri.v1.runtime".enable_selinux = true\n')


def test_single_quoted_header_keeps_its_quotes() -> None:
    text = ("version = 2\n[plugins.'io.containerd.grpc.v1.cri']\n"
            "  containerd.default_runtime_name = 'runc'\n  cni.bin_dir = '/opt/cni/bin'\n")
    assert up(text) == ("version = 3\n[plugins.'io.containerd.cri.v1.runtime']\n"
                        "  containerd.default_runtime_name = 'runc'\n"
                        "  cni.bin_dirs = ['/opt/cni/bin']\n")


def test_inline_table_loses_only_the_dropped_key() -> None:
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n'
            '  options = { SystemdCgroup = true, CriuPath = "/x" }\n')
    out = up(text)
    assert 'options = { SystemdCgroup = true }' in out
    assert tomllib.loads(out)["plugins"]["io.containerd.cri.v1.runtime"]["containerd"][
        "runtimes"]["runc"]["options"] == {"SystemdCgroup": True}


def test_crlf_and_bom_v1() -> None:
    text = '\ufeff# v1\r\n[plugins.cri]\r\n  sandbox_image = "p:1"\r\n'
    result = migrator.migrate(text.encode(), to=2)
    assert result.text == ('version = 2\r\n\r\n# v1\r\n[plugins."io.containerd.grpc.v1.cri"]\r\n'
                           '  sandbox_image = "p:1"\r\n')
    assert result.changes[0].kind == "encoding"


def test_banner_comment_stays_on_top() -> None:
    text = '# managed by ansible\n\nroot = "/var/lib/containerd"\n'
    assert up(text, 2) == ('# managed by ansible\n\nversion = 2\n'
                           'root = "/var/lib/containerd"\n')


def test_array_of_tables_renamed_without_index() -> None:
    text = ('[[plugins.local.unpack_config]]\n  platform = "linux/amd64"\n'
            '[[plugins.local.unpack_config]]\n  platform = "linux/arm64"\n')
    assert up(text, 2) == (
        'version = 2\n\n[[plugins."io.containerd.transfer.v1.local".unpack_config]]\n'
        '  platform = "linux/amd64"\n'
        '[[plugins."io.containerd.transfer.v1.local".unpack_config]]\n'
        '  platform = "linux/arm64"\n')


def test_sched_core_merges_into_existing_env() -> None:
    text = ('version = 2\n[plugins."io.containerd.runtime.v2.task"]\n  sched_core = true\n'
            '  platforms = ["linux/amd64"]\n[plugins."io.containerd.shim.v1.manager"]\n'
            '  env = ["FOO=1"]\n')
    assert up(text) == ('version = 3\n[plugins."io.containerd.runtime.v2.task"]\n'
                        '  platforms = ["linux/amd64"]\n[plugins."io.containerd.shim.v1.manager"]\n'
                        '  env = ["FOO=1", "SCHED_CORE=1"]\n')


def test_disabled_plugins_renamed_token_by_token() -> None:
    text = 'disabled_plugins = [\n  "cri",   # no kubernetes here\n  \'aufs\',\n]\n'
    assert up(text, 2) == ('version = 2\ndisabled_plugins = [\n'
                           '  "io.containerd.grpc.v1.cri",   # no kubernetes here\n'
                           "  'io.containerd.snapshotter.v1.aufs',\n]\n")


def test_runtime_snapshotter_is_copied_and_sandbox_mode_renamed() -> None:
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata]\n'
            '  runtime_type = "io.containerd.kata.v2"\n  snapshotter = "devmapper"\n'
            '  sandbox_mode = "shim"\n  runtime_engine = ""\n')
    result = migrator.migrate(text, to=3)
    assert result.text == (
        'version = 3\n[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.kata]\n'
        '  runtime_type = "io.containerd.kata.v2"\n  snapshotter = "devmapper"\n'
        '  sandboxer = "shim"\n'
        '[plugins."io.containerd.cri.v1.images".runtime_platforms.kata]\n'
        '  snapshotter = "devmapper"\n')
    kinds = {c.kind for c in result.changes}
    assert {"copied", "moved", "dropped", "header"} <= kinds


def test_dropped_key_keeps_its_comments() -> None:
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  # why\n'
            '  systemd_cgroup = true  # legacy\n  enable_selinux = true\n')
    out = up(text)
    assert "# why\n" in out and "  # legacy\n" in out and "systemd_cgroup" not in out


def test_no_final_newline_is_kept() -> None:
    text = 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "x"'
    assert not up(text).endswith("\n")


@pytest.mark.parametrize("to", [2, 3])
def test_target_version_is_byte_identical(to: int) -> None:
    text = f"version = {to}  # keep\n\n[plugins]\n"
    assert up(text, to) == text


def test_schema_directive_stays_first() -> None:
    text = '#:schema ./containerd-config-v3.json\n[plugins.cri]\n  sandbox_image = "x"\n'
    assert up(text).startswith('#:schema ./containerd-config-v3.json\nversion = 3\n')


def test_nan_and_inf_survive_verification() -> None:
    text = 'version = 2\n[plugins."io.example.v1.x"]\n  a = nan\n  b = inf\n'
    assert up(text) == text.replace("version = 2", "version = 3")


# A split read backwards whose remainder the target reads (no loss): the flag goes to a line of
# its own, the list keeps its line, layout, quotes and comments, losing only the flag's entry.
SPLIT_RULES = ('step 1 -> 2 "t" releases "1.7" native "1.7"\n'
               'group g release "2.0" source "x@v2.0.0" {\n'
               '  convert plugins.task.flag -> plugins.shim.env via flag_in_list("F=1");\n}\n')


def split_down(text: str) -> tuple[str, list[tuple]]:
    from migrator import engine, loading, rules
    from migrator.emit import Emitter
    loaded = loading.load(text, "t.toml", (1, 2))
    plan = engine.plan(loaded.tree, [rules.parse_rules(SPLIT_RULES).reversed()])
    emitter = Emitter(loaded.doc, plan, loaded.tree, None)
    out = emitter.run()
    assert tomllib.loads(out) == plan.expected
    return out, [(c.kind, c.from_path, c.to_path) for c in emitter.changes]


@pytest.mark.parametrize("env,left", [
    ('[\n    "A=1",  # a\n    \'F=1\',  # the flag\n    "B=2",\n  ]  # tail',
     '[\n    "A=1",  # a\n    "B=2",\n  ]  # tail'),
    ("['F=1', 'A=1']", "['A=1']"),
    ('["A=1", "F=1", "B=2"]', '["A=1", "B=2"]'),
    ('["A=1", "F=1"]', '["A=1"]'),
])
def test_a_split_keeps_the_line_and_removes_only_the_entry(env: str, left: str) -> None:
    text = f'[plugins.shim]\n  # why\n  env = {env}\n[plugins.task]\n  x = 1\n'
    out, changes = split_down(text)
    assert out == f'[plugins.shim]\n  # why\n  env = {left}\n[plugins.task]\n  x = 1\n' \
        '  flag = true\n'
    assert changes == [("converted", "plugins.shim.env", "plugins.task.flag")]


def test_a_list_without_the_flag_stays_byte_for_byte() -> None:
    text = "[plugins.shim]\n  env = [ 'A=1' ]  # proxy\n"
    assert split_down(text) == (text, [])


def test_a_flag_alone_moves_as_before() -> None:
    out, changes = split_down('[plugins.shim]\n  env = ["F=1"]  # on\n[plugins.task]\n  x = 1\n')
    assert out == '[plugins.task]\n  x = 1\n  flag = true  # on\n'
    assert ("converted", "plugins.shim.env", "plugins.task.flag") in changes

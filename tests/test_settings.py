"""Version-independent editing (migrator.features.settings, docs/settings.md).

golden/settings/input.v{1,2,3,4}.toml are one node's config in each version; each case directory
holds `sets` (one NAME=VALUE a line, as given to --set) and expected.v{N}.toml, the edited file
written by hand from docs/emitting.md. A case with its own input.v{N}.toml edits that file as a
drop-in without a version line, read as version N. The oracle tests run the native containerd of
each version (1.7 for v1/v2, 2.1 for v3, 2.3 for v4) on every edited file and check, at paths
written out by hand below, that containerd reads the intended value and nothing else changed.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import migrator
from migrator.features import settings
from migrator.core.errors import ConfigError, LossError

from .helpers import REPO

GOLDEN = REPO / "golden" / "settings"
CASES = sorted(p for p in GOLDEN.iterdir() if p.is_dir()) if GOLDEN.is_dir() else []
VERSIONS = (1, 2, 3, 4)
NATIVE = {1: "1.7", 2: "1.7", 3: "2.1", 4: "2.3"}
DUMPED_AS = {1: 2, 2: 2, 3: 3, 4: 4}   # 1.7 prints a version 1 file in version 2's layout


def base(version: int) -> str:
    return (GOLDEN / f"input.v{version}.toml").read_text()


def case_input(case: Path, version: int) -> tuple[str, int | None]:
    """(text, the version a versionless drop-in is read as)"""
    own = case / f"input.v{version}.toml"
    return (own.read_text(), version) if own.is_file() else (base(version), None)


def case_sets(case: Path) -> list[str]:
    return [line for line in (case / "sets").read_text().splitlines() if line.strip()]


GOLDEN_RUNS = [(c, v) for c in CASES for v in VERSIONS if (c / f"expected.v{v}.toml").is_file()]


def _ids(x: object) -> str:
    return x.name if isinstance(x, Path) else f"v{x}"


def _expect(got: str, expected: str) -> None:
    assert got == expected


# ---------------------------------------------------------------------------------------------
# golden cases


def test_every_name_has_a_golden_case() -> None:
    used = {settings.parse_name(s.split("=", 1)[0]) for c in CASES for s in case_sets(c)}
    covered = {k if isinstance(k, str) else k.setting.name for k in used}
    assert covered == {s.name for s in settings.SETTINGS} | set(settings.SHORTHANDS)
    assert len(GOLDEN_RUNS) >= 4 * len(settings.SETTINGS)


@pytest.mark.parametrize("case,version", GOLDEN_RUNS, ids=_ids)
def test_golden(case: Path, version: int) -> None:
    text, treat_as = case_input(case, version)
    expected = (case / f"expected.v{version}.toml").read_text()
    result = settings.apply_sets(text, case_sets(case), version=treat_as, file=case.name)
    _expect(result.text, expected)
    assert result.target_version == version
    again = settings.apply_sets(result.text, case_sets(case), version=treat_as)
    assert again.text == result.text           # setting what is there changes nothing
    if expected == text:
        assert not result.changed and not result.changes


@pytest.mark.parametrize("version", VERSIONS)
def test_readme_python_example(version: int) -> None:
    cfg = migrator.features.settings.load(base(version))
    cfg.runtime("nvidia").runtime_type = "io.containerd.runc.v2"
    cfg.runtime("nvidia").options["BinaryName"] = "/usr/bin/nvidia-container-runtime"
    cfg.sandbox_image = "registry.k8s.io/pause:3.10"
    cfg.registry_config_path = "/etc/containerd/certs.d"
    text = cfg.dump()
    _expect(text, (GOLDEN / "24-readme-example" / f"expected.v{version}.toml").read_text())
    assert cfg.version == version and cfg.result is not None
    again = settings.load(text)
    assert again.runtime("nvidia").options["BinaryName"] == "/usr/bin/nvidia-container-runtime"
    assert again.registry_config_path == "/etc/containerd/certs.d"


# ---------------------------------------------------------------------------------------------
# names and where they live: derived from the rules, checked against a table written by hand

CRI = 'plugins."io.containerd.grpc.v1.cri"'
V1 = "plugins.cri"
IMG = 'plugins."io.containerd.cri.v1.images"'
RTP = 'plugins."io.containerd.cri.v1.runtime"'

PATHS = {  # name: (v1, v2, v3 = v4 unless given as a 4-tuple)
    "sandbox_image": (f"{V1}.sandbox_image", f"{CRI}.sandbox_image",
                      f"{IMG}.pinned_images.sandbox"),
    "default_runtime": (f"{V1}.containerd.default_runtime_name",
                        f"{CRI}.containerd.default_runtime_name",
                        f"{RTP}.containerd.default_runtime_name"),
    "runtime.gpu.runtime_type": (f"{V1}.containerd.runtimes.gpu.runtime_type",
                                 f"{CRI}.containerd.runtimes.gpu.runtime_type",
                                 f"{RTP}.containerd.runtimes.gpu.runtime_type"),
    "runtime.gpu.options.BinaryName": (f"{V1}.containerd.runtimes.gpu.options.BinaryName",
                                       f"{CRI}.containerd.runtimes.gpu.options.BinaryName",
                                       f"{RTP}.containerd.runtimes.gpu.options.BinaryName"),
    "runtime.gpu.privileged_without_host_devices": (
        f"{V1}.containerd.runtimes.gpu.privileged_without_host_devices",
        f"{CRI}.containerd.runtimes.gpu.privileged_without_host_devices",
        f"{RTP}.containerd.runtimes.gpu.privileged_without_host_devices"),
    "runtime.gpu.pod_annotations": (f"{V1}.containerd.runtimes.gpu.pod_annotations",
                                    f"{CRI}.containerd.runtimes.gpu.pod_annotations",
                                    f"{RTP}.containerd.runtimes.gpu.pod_annotations"),
    "runtime.gpu.base_runtime_spec": (f"{V1}.containerd.runtimes.gpu.base_runtime_spec",
                                      f"{CRI}.containerd.runtimes.gpu.base_runtime_spec",
                                      f"{RTP}.containerd.runtimes.gpu.base_runtime_spec"),
    "runtime.gpu.snapshotter": (f"{V1}.containerd.runtimes.gpu.snapshotter",
                                f"{CRI}.containerd.runtimes.gpu.snapshotter",
                                f"{RTP}.containerd.runtimes.gpu.snapshotter"),
    "cni_bin_dir": (f"{V1}.cni.bin_dir", f"{CRI}.cni.bin_dir", f"{RTP}.cni.bin_dirs"),
    "cni_bin_dirs": (f"{V1}.cni.bin_dir", f"{CRI}.cni.bin_dir", f"{RTP}.cni.bin_dirs"),
    "cni_conf_dir": (f"{V1}.cni.conf_dir", f"{CRI}.cni.conf_dir", f"{RTP}.cni.conf_dir"),
    "registry_config_path": (f"{V1}.registry.config_path", f"{CRI}.registry.config_path",
                             f"{IMG}.registry.config_path"),
    "snapshotter": (f"{V1}.containerd.snapshotter", f"{CRI}.containerd.snapshotter",
                    f"{IMG}.snapshotter"),
    "enable_cdi": (f"{V1}.enable_cdi", f"{CRI}.enable_cdi", f"{RTP}.enable_cdi"),
    "cdi_spec_dirs": (f"{V1}.cdi_spec_dirs", f"{CRI}.cdi_spec_dirs", f"{RTP}.cdi_spec_dirs"),
    "enable_unprivileged_ports": (f"{V1}.enable_unprivileged_ports",
                                  f"{CRI}.enable_unprivileged_ports",
                                  f"{RTP}.enable_unprivileged_ports"),
    "enable_unprivileged_icmp": (f"{V1}.enable_unprivileged_icmp",
                                 f"{CRI}.enable_unprivileged_icmp",
                                 f"{RTP}.enable_unprivileged_icmp"),
    "disabled_plugins": ("disabled_plugins",) * 3,
    "root": ("root",) * 3,
    "state": ("state",) * 3,
    "grpc_address": ("grpc.address", "grpc.address", "grpc.address",
                     'plugins."io.containerd.server.v1.grpc".address'),
}


@pytest.mark.parametrize("name", sorted(PATHS))
def test_paths_follow_the_rules(name: str) -> None:
    want = PATHS[name]
    want = want + (want[2],) if len(want) == 3 else want
    for version, path in zip(VERSIONS, want):
        assert settings.path_in(name, version) == migrator.core.paths.parse_dotted(path), version


def test_every_setting_has_a_path_table_entry() -> None:
    for s in settings.SETTINGS:
        probe = s.name.replace("<name>", "gpu").replace("<key>", "BinaryName")
        assert probe in PATHS, s.name


def test_release_spellings() -> None:
    # containerd 2.0 has no bin_dirs: its version 3 keeps bin_dir
    assert settings.path_in("cni_bin_dir", 3, "2.0")[-1] == "bin_dir"
    assert settings.path_in("cni_bin_dirs", 3, "2.0")[-1] == "bin_dir"
    assert settings.path_in("cni_bin_dirs", 3, "2.2")[-1] == "bin_dirs"
    # a runtime's snapshotter also goes to the image plugin from version 3 on (a rule's copy)
    sp = settings.spellings(settings.parse_name("runtime.gpu.snapshotter"), 3)[0]
    assert [c.path for c in sp.copies] == [
        ("plugins", "io.containerd.cri.v1.images", "runtime_platforms", "gpu", "snapshotter")]


def test_docs_list_every_name() -> None:
    doc = (REPO / "docs" / "settings.md").read_text()
    for name in settings.names():
        assert f"`{name}`" in doc, name
    for name, paths in PATHS.items():
        for p in paths:
            assert p.replace("gpu", "<name>").replace("BinaryName", "<key>") in doc, (name, p)


# ---------------------------------------------------------------------------------------------
# typed values


@pytest.mark.parametrize("text,expected", [
    ("runtime.runc.options.SystemdCgroup=true", ("runtime.runc.options.SystemdCgroup", True)),
    ("runtime.runc.options.SystemdCgroup=False", ("runtime.runc.options.SystemdCgroup", False)),
    ("systemd_cgroup=true", ("systemd_cgroup", True)),
    ("enable_cdi=true", ("enable_cdi", True)),
    ("sandbox_image=registry.k8s.io/pause:3.10", ("sandbox_image", "registry.k8s.io/pause:3.10")),
    ('sandbox_image="a=b"', ("sandbox_image", "a=b")),
    ("cdi_spec_dirs=/etc/cdi, /var/run/cdi", ("cdi_spec_dirs", ["/etc/cdi", "/var/run/cdi"])),
    ('cdi_spec_dirs=["/etc/cdi"]', ("cdi_spec_dirs", ["/etc/cdi"])),
    ("disabled_plugins=", ("disabled_plugins", [])),
    ("disabled_plugins=[]", ("disabled_plugins", [])),
    ("runtime.runc.options.IoUid=1000", ("runtime.runc.options.IoUid", 1000)),
    ("runtime.kata.options.ConfigPath=/opt/kata.toml",
     ("runtime.kata.options.ConfigPath", "/opt/kata.toml")),
    ("runtime.x.options.Custom=true", ("runtime.x.options.Custom", True)),
    ("runtime.x.options.Custom=7", ("runtime.x.options.Custom", 7)),
    ("runtime.x.options.Custom=text", ("runtime.x.options.Custom", "text")),
    ('runtime."gpu.v2".runtime_type=io.containerd.runc.v2',
     ('runtime."gpu.v2".runtime_type', "io.containerd.runc.v2")),
    ("cni_bin_dirs=/opt/cni/bin,/usr/lib/cni", ("cni_bin_dirs", ["/opt/cni/bin", "/usr/lib/cni"])),
    ("cni_bin_dir=/opt/cni/bin", ("cni_bin_dir", "/opt/cni/bin")),
])
def test_parse_assignment(text: str, expected: tuple) -> None:
    assert settings.parse_assignment(text) == expected


@pytest.mark.parametrize("text,message", [
    ("enable_cdi=yes", "true or false"),
    ("runtime.runc.options.IoUid=many", "integer"),
    ("sandbox_imag=x", "did you mean sandbox_image"),
    ("runtime.runc=x", "unknown setting"),
    ("sandbox_image", "NAME=VALUE"),
    ("cdi_spec_dirs=[1, 2]", "list of strings"),
    ("cdi_spec_dirs=[oops", "not a JSON list"),
])
def test_parse_assignment_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings.parse_assignment(text)


def test_api_values_are_typed() -> None:
    cfg = settings.load(base(3))
    with pytest.raises(ConfigError, match="boolean"):
        cfg.enable_cdi = "yes"
    with pytest.raises(ConfigError, match="string"):
        cfg.sandbox_image = 3
    with pytest.raises(ConfigError, match="list"):
        cfg.cdi_spec_dirs = "/etc/cdi"
    with pytest.raises(AttributeError):
        cfg.runtime("runc").runtime_engine = "runc"
    assert cfg.edits == {}


# ---------------------------------------------------------------------------------------------
# reading


@pytest.mark.parametrize("version", VERSIONS)
def test_reading_returns_the_files_values(version: int) -> None:
    cfg = settings.load(base(version))
    assert cfg.version == version
    assert cfg.sandbox_image == ("registry.k8s.io/pause:3.9" if version <= 2
                                 else "registry.k8s.io/pause:3.10")
    assert cfg.default_runtime == "runc"
    assert cfg.snapshotter == "overlayfs"
    assert cfg.systemd_cgroup is True
    assert cfg.runtime("runc").runtime_type == "io.containerd.runc.v2"
    assert dict(cfg.runtime("runc").options) == {"SystemdCgroup": True}
    assert cfg.cni_bin_dir == "/opt/cni/bin"          # the name's shape, whatever the version's
    assert cfg.cni_bin_dirs == ["/opt/cni/bin"]
    assert cfg.cni_conf_dir == "/etc/cni/net.d"
    assert cfg.grpc_address == "/run/containerd/containerd.sock"
    assert cfg.root == "/var/lib/containerd"
    assert cfg.enable_unprivileged_ports is False
    assert cfg.registry_config_path is None           # not set in the file
    assert cfg.runtime("nvidia").runtime_type is None
    assert cfg.runtimes() == ["runc"]
    cfg.runtime("nvidia").options["BinaryName"] = "/usr/bin/nvidia-container-runtime"
    assert cfg.runtime("nvidia").options["BinaryName"] == "/usr/bin/nvidia-container-runtime"
    assert cfg.runtimes() == ["runc", "nvidia"]
    cfg.default_runtime = "nvidia"
    assert cfg.systemd_cgroup is None                 # the shorthand follows default_runtime


def test_reading_a_list_that_a_scalar_cannot_show() -> None:
    text = base(3).replace('bin_dirs = ["/opt/cni/bin"]', 'bin_dirs = ["/a", "/b"]')
    cfg = settings.load(text)
    assert cfg.cni_bin_dirs == ["/a", "/b"]
    with pytest.raises(ConfigError, match="cni_bin_dir"):
        cfg.cni_bin_dir


# ---------------------------------------------------------------------------------------------
# what a version cannot express: ConfigError (exit 2), never a LossError


def _refused(match: str, text: str, sets: list[str], **kw) -> None:
    with pytest.raises(ConfigError, match=match) as err:
        settings.apply_sets(text, sets, file="node.toml", **kw)
    assert type(err.value) is ConfigError and not isinstance(err.value, LossError)
    assert str(err.value).startswith("node.toml: ")


def test_a_key_the_rules_drop() -> None:
    _refused(r"config version 3 cannot express runtime\.runc\.options\.CriuPath: removed.*"
             r"use a criu binary", base(3), ["runtime.runc.options.CriuPath=/usr/sbin/criu"])


def test_a_list_a_scalar_cannot_hold() -> None:
    _refused("config version 2 cannot express cni_bin_dirs: .*2 entries", base(2),
             ["cni_bin_dirs=/opt/cni/bin,/usr/lib/cni"])
    _refused("containerd 2.0 cannot express cni_bin_dirs", base(3),
             ["cni_bin_dirs=/opt/cni/bin,/usr/lib/cni"], containerd="2.0")


@pytest.mark.parametrize("version", [1, 2])
def test_a_key_the_release_does_not_have(version: int) -> None:
    cfg = settings.load(base(version), containerd="1.6")
    cfg.enable_cdi = True
    with pytest.raises(ConfigError, match="containerd 1.6 cannot take this edit.*enable_cdi"):
        cfg.dump()
    cfg = settings.load(base(version), containerd="1.7")
    cfg.enable_cdi = True
    assert "enable_cdi = true" in cfg.dump()


def test_release_checks_through_the_cli_entry() -> None:
    _refused("containerd 1.6 .*runtime.runc.snapshotter", base(2),
             ["runtime.runc.snapshotter=native"], containerd="1.6")


def test_option_name_typo_is_refused() -> None:
    _refused('SystemdCgroups.*did you mean "SystemdCgroup"', base(3),
             ["runtime.runc.options.SystemdCgroups=true"])


def test_default_runtime_must_name_a_runtime() -> None:
    _refused("default_runtime 'nvidia' names no runtime", base(3), ["default_runtime=nvidia"])
    out = settings.apply_sets(base(3), ["default_runtime=nvidia",
                                        "runtime.nvidia.runtime_type=io.containerd.runc.v2"])
    assert 'default_runtime_name = "nvidia"' in out.text


def test_conflicting_edits() -> None:
    _refused("both set runtime.runc.options.SystemdCgroup", base(3),
             ["systemd_cgroup=true", "runtime.runc.options.SystemdCgroup=false"])
    _refused("set twice", base(3), ["root=/a", "root=/b"])


def test_unknown_release() -> None:
    with pytest.raises(ConfigError, match="unknown containerd release"):
        settings.load(base(3), containerd="9.9")


# ---------------------------------------------------------------------------------------------
# runtimes are complete


def test_a_new_runtime_gets_a_runtime_type() -> None:
    result = settings.apply_sets(base(3), ["runtime.gpu.options.BinaryName=/usr/bin/x"])
    tree = tomllib.loads(result.text)
    gpu = tree["plugins"]["io.containerd.cri.v1.runtime"]["containerd"]["runtimes"]["gpu"]
    assert gpu == {"runtime_type": "io.containerd.runc.v2", "options": {"BinaryName": "/usr/bin/x"}}
    added = [c for c in result.changes if c.to_path and c.to_path.endswith("gpu.runtime_type")]
    assert added and "runtime_type" in added[0].reason and "assumed" in added[0].reason


def test_a_given_runtime_type_is_kept() -> None:
    result = settings.apply_sets(base(2), ["runtime.kata.options.ConfigPath=/opt/kata.toml",
                                           "runtime.kata.runtime_type=io.containerd.kata.v2"])
    tree = tomllib.loads(result.text)
    kata = tree["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]["kata"]
    assert kata["runtime_type"] == "io.containerd.kata.v2"
    # the runtime's table comes before its options table, whatever the order of the edits
    assert result.text.index("runtimes.kata]") < result.text.index("runtimes.kata.options]")


def test_an_existing_runtime_gets_nothing_extra() -> None:
    result = settings.apply_sets(base(2), ["runtime.runc.options.BinaryName=/usr/local/sbin/runc"])
    assert [c.kind for c in result.changes] == ["added"]


@pytest.mark.parametrize("version,kept", [(1, True), (2, True), (3, False), (4, False)])
def test_first_runtime_of_a_1x_file_keeps_runc(version: int, kept: bool) -> None:
    text = {1: '[plugins.cri]\n  sandbox_image = "x"\n',
            2: 'version = 2\n\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "x"\n',
            3: 'version = 3\n\n[plugins."io.containerd.cri.v1.images".pinned_images]\n'
               '  sandbox = "x"\n',
            4: 'version = 4\n\n[plugins."io.containerd.cri.v1.images".pinned_images]\n'
               '  sandbox = "x"\n'}[version]
    result = settings.apply_sets(text, ["runtime.gpu.options.BinaryName=/usr/bin/x"])
    cfg = settings.load(result.text)
    assert sorted(cfg.runtimes()) == (["gpu", "runc"] if kept else ["gpu"])
    if kept:
        assert cfg.runtime("runc").runtime_type == "io.containerd.runc.v2"
        assert any("built-in runc" in c.reason for c in result.changes)


# ---------------------------------------------------------------------------------------------
# spellings, copies and plugin names


def test_a_release_spelling_in_the_file_is_edited_in_place() -> None:
    text = base(3).replace('bin_dirs = ["/opt/cni/bin"]', 'bin_dir = "/opt/cni/bin"')
    out = settings.apply_sets(text, ["cni_bin_dir=/usr/lib/cni"]).text
    assert out == text.replace('bin_dir = "/opt/cni/bin"', 'bin_dir = "/usr/lib/cni"')
    # two directories need bin_dirs; bin_dir would shadow it in 2.1, so it goes
    result = settings.apply_sets(text, ["cni_bin_dirs=/opt/cni/bin,/usr/lib/cni"])
    cni = tomllib.loads(result.text)["plugins"]["io.containerd.cri.v1.runtime"]["cni"]
    assert cni == {"bin_dirs": ["/opt/cni/bin", "/usr/lib/cni"], "conf_dir": "/etc/cni/net.d"}
    assert any(c.kind == "dropped" and "another spelling" in c.reason for c in result.changes)


def test_a_copy_set_on_its_own_is_left_alone() -> None:
    text = base(4) + '\n[plugins."io.containerd.server.v1.ttrpc"]\n  address = "/run/t.sock"\n'
    result = settings.apply_sets(text, ["grpc_address=/run/k3s.sock"])
    ttrpc = tomllib.loads(result.text)["plugins"]["io.containerd.server.v1.ttrpc"]
    assert ttrpc == {"address": "/run/t.sock"}
    assert any("left as it is" in f.message for f in result.findings)


def test_a_copy_that_is_still_a_copy_follows() -> None:
    text = base(4) + ('\n[plugins."io.containerd.server.v1.ttrpc"]\n'
                      '  address = "/run/containerd/containerd.sock.ttrpc"\n')
    result = settings.apply_sets(text, ["grpc_address=/run/k3s.sock"])
    ttrpc = tomllib.loads(result.text)["plugins"]["io.containerd.server.v1.ttrpc"]
    assert ttrpc == {"address": "/run/k3s.sock.ttrpc"}


@pytest.mark.parametrize("entries,version,expected", [
    (["cri"], 1, ["cri"]),
    (["io.containerd.grpc.v1.cri"], 1, ["cri"]),
    (["io.containerd.cri.v1.images"], 1, ["cri"]),
    (["cri"], 2, ["io.containerd.grpc.v1.cri"]),
    (["cri"], 3, ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images",
                  "io.containerd.cri.v1.runtime",
                  "io.containerd.podsandbox.controller.v1.podsandbox"]),
    (["io.containerd.grpc.v1.cri"], 3, ["io.containerd.grpc.v1.cri"]),   # valid there: kept
    (["io.containerd.internal.v1.restart"], 4, ["io.containerd.monitor.container.v1.restart"]),
    (["io.containerd.monitor.container.v1.restart"], 2, ["io.containerd.internal.v1.restart"]),
    (["io.containerd.grpc.v1.introspection"], 3, ["io.containerd.grpc.v1.introspection"]),
])
def test_plugin_entries(entries: list, version: int, expected: list) -> None:
    assert settings.plugin_entries(entries, version) == expected


def test_replacing_an_existing_disabled_plugins_list() -> None:
    text = 'disabled_plugins = ["cri"]  # docker\n\n[grpc]\n  address = "/run/x.sock"\n'
    result = settings.apply_sets(text, ["disabled_plugins="])
    assert result.text == text.replace('["cri"]', "[]")


# ---------------------------------------------------------------------------------------------
# removing, migrating while editing, drop-ins


def test_unset() -> None:
    cfg = settings.load(base(3))
    del cfg.runtime("runc").options["SystemdCgroup"]
    del cfg.enable_unprivileged_ports
    out = cfg.dump()
    assert "SystemdCgroup" not in out and "enable_unprivileged_ports" not in out
    assert "# kubelet runs with cgroupDriver: systemd" in out     # its comment stays
    with pytest.raises(KeyError):
        del settings.load(base(3)).runtime("runc").options["BinaryName"]


@pytest.mark.parametrize("source,to", [(1, 2), (1, 3), (2, 3), (2, 4), (3, 4), (2, 1)])
def test_edit_and_migrate_in_one_pass(source: int, to: int) -> None:
    sets = ["sandbox_image=registry.example.com/pause:3.10", "cni_bin_dir=/usr/lib/cni",
            "runtime.gpu.options.BinaryName=/usr/bin/x", "enable_cdi=true"]
    result = settings.apply_sets(base(source), sets, to=to)
    assert result.source_version == source and result.target_version == to
    cfg = settings.load(result.text)
    assert cfg.version == to
    assert cfg.sandbox_image == "registry.example.com/pause:3.10"
    assert cfg.cni_bin_dir == "/usr/lib/cni"
    assert cfg.runtime("gpu").options["BinaryName"] == "/usr/bin/x"
    assert cfg.runtime("gpu").runtime_type == "io.containerd.runc.v2"
    assert cfg.enable_cdi is True
    # the same as migrating first and editing then
    two = settings.apply_sets(migrator.migrate(base(source), to=to).text, sets)
    assert tomllib.loads(two.text) == tomllib.loads(result.text)


@pytest.mark.parametrize("source,to,sets,path,value", [
    (3, 4, ["grpc_address=/run/k3s.sock"], ("plugins", "io.containerd.server.v1.ttrpc", "address"),
     "/run/k3s.sock.ttrpc"),
    (2, 3, ["runtime.runc.snapshotter=native"],
     ("plugins", "io.containerd.cri.v1.images", "runtime_platforms", "runc", "snapshotter"),
     "native"),
])
def test_a_copy_the_migration_makes_takes_the_new_value(source: int, to: int, sets: list,
                                                        path: tuple, value: str) -> None:
    text = base(source)
    if source == 2:
        text = text.replace('runtime_type = "io.containerd.runc.v2"\n',
                            'runtime_type = "io.containerd.runc.v2"\n  snapshotter = "zfs"\n')
    result = settings.apply_sets(text, sets, to=to)
    tree = tomllib.loads(result.text)
    for k in path:
        tree = tree[k]
    assert tree == value


def test_containerd_target() -> None:
    result = settings.apply_sets(base(2), ["cni_bin_dir=/usr/lib/cni"], containerd="2.0")
    cni = tomllib.loads(result.text)["plugins"]["io.containerd.cri.v1.runtime"]["cni"]
    assert result.target_version == 3 and cni["bin_dir"] == "/usr/lib/cni"


@pytest.mark.parametrize("version", [2, 3, 4])
def test_drop_in_stays_without_version(version: int) -> None:
    text, _ = case_input(GOLDEN / "26-drop-in", version)
    cfg = settings.load(text, version=version)
    assert cfg.version == version
    assert cfg.runtime("nvidia").options["BinaryName"] == "/usr/bin/nvidia-container-runtime"
    cfg.root = "/data/containerd"
    out = cfg.dump()
    _expect(out, 'root = "/data/containerd"\n' + text)
    assert cfg.result.source_version == version
    assert all(c.kind != "header" for c in cfg.result.changes)


@pytest.mark.parametrize("version,warned", [(1, True), (2, True), (3, False)])
def test_a_1x_drop_in_replaces_whole_plugin_tables(version: int, warned: bool) -> None:
    opt = "opt" if version == 1 else "io.containerd.internal.v1.opt"
    text = f'[plugins."{opt}"]\n  path = "/opt/containerd"\n'
    result = settings.apply_sets(text, ["sandbox_image=x"], version=version)
    found = [f for f in result.findings if "replaces the root config's whole" in f.message]
    assert bool(found) == warned
    # an edit inside a table the drop-in already has warns about nothing
    again = settings.apply_sets(result.text, ["sandbox_image=y"], version=version)
    assert not [f for f in again.findings if "replaces the root" in f.message]


def test_a_root_key_in_a_file_without_root_keys() -> None:
    text = "[plugins.cri]\n  sandbox_image = \"x\"\n"
    _expect(settings.apply_sets(text, ["root=/data"]).text, 'root = "/data"\n' + text)


def test_drop_in_crlf_and_bom() -> None:
    text = '\ufeff[plugins."io.containerd.cri.v1.images".pinned_images]\r\n  sandbox = "a"\r\n'
    result = settings.apply_sets(text.encode(), ["sandbox_image=b"], version=3)
    assert result.text == '[plugins."io.containerd.cri.v1.images".pinned_images]\r\n' \
                          '  sandbox = "b"\r\n'


def test_a_versioned_file_ignores_version() -> None:
    result = settings.apply_sets(base(2), ["root=/data"], version=3)
    assert result.target_version == 2 and result.text.startswith("version = 2\n")


def test_drop_in_migrated_with_its_root() -> None:
    text, _ = case_input(GOLDEN / "26-drop-in", 2)
    result = settings.apply_sets(text, ["sandbox_image=x"], version=2, to=3)
    assert "version" not in tomllib.loads(result.text)
    assert settings.load(result.text, version=3).sandbox_image == "x"


# ---------------------------------------------------------------------------------------------
# the oracle: containerd reads the intended value at the effective path

CRI_T = ("plugins", "io.containerd.grpc.v1.cri")
RT_T = ("plugins", "io.containerd.cri.v1.runtime")
IM_T = ("plugins", "io.containerd.cri.v1.images")
GRPC4 = ("plugins", "io.containerd.server.v1.grpc", "address")
TTRPC4 = ("plugins", "io.containerd.server.v1.ttrpc", "address")


def _cri(dv: int, *rest: str) -> tuple:      # a CRI runtime-side key as containerd dumps it
    return (CRI_T if dv == 2 else RT_T) + rest


def _img(dv: int, v2: tuple, v3: tuple) -> tuple:   # an image-side key
    return CRI_T + v2 if dv == 2 else IM_T + v3


def _rt(dv: int, name: str, *rest: str) -> tuple:
    return _cri(dv, "containerd", "runtimes", name, *rest)


def _new_runtime(dv: int, name: str, rtype: str, **options: object) -> list[tuple]:
    out = [(_rt(dv, name, "runtime_type"), rtype)]
    out += [(_rt(dv, name, "options", k), v) for k, v in options.items()]
    return out


# case -> dump version (2, 3, 4) -> [(path in containerd's dump, value)], written by hand
ORACLE = {
    "01-sandbox_image": lambda dv: [(_img(dv, ("sandbox_image",), ("pinned_images", "sandbox")),
                                     "registry.example.com/pause:3.10")],
    "02-default_runtime": lambda dv: [
        (_cri(dv, "containerd", "default_runtime_name"), "crun")]
        + _new_runtime(dv, "crun", "io.containerd.runc.v2", BinaryName="/usr/bin/crun"),
    "03-runtime-runtime_type": lambda dv: _new_runtime(dv, "kata", "io.containerd.kata.v2"),
    "04-runtime-options-new-runtime": lambda dv: _new_runtime(
        dv, "nvidia", "io.containerd.runc.v2", BinaryName="/usr/bin/nvidia-container-runtime"),
    "05-runtime-options-SystemdCgroup": lambda dv: [
        (_rt(dv, "runc", "options", "SystemdCgroup"), False)],
    "06-systemd_cgroup": lambda dv: [(_rt(dv, "runc", "options", "SystemdCgroup"), False)],
    "07-runtime-privileged_without_host_devices": lambda dv: [
        (_rt(dv, "runc", "privileged_without_host_devices"), True)],
    "08-runtime-pod_annotations": lambda dv: [
        (_rt(dv, "runc", "pod_annotations"), ["io.kubernetes.cri-o.Devices", "example.com/*"])],
    "09-runtime-base_runtime_spec": lambda dv: [
        (_rt(dv, "runc", "base_runtime_spec"), "/etc/containerd/base-spec.json")],
    "10-runtime-snapshotter": lambda dv: [(_rt(dv, "runc", "snapshotter"), "native")] + (
        [] if dv == 2 else [(IM_T + ("runtime_platforms", "runc", "snapshotter"), "native")]),
    "11-cni_bin_dir": lambda dv: [(_cri(dv, "cni", "bin_dir"), "/usr/lib/cni")] if dv == 2
    else [(_cri(dv, "cni", "bin_dirs"), ["/usr/lib/cni"])],
    "12-cni_bin_dirs": lambda dv: [(_cri(dv, "cni", "bin_dir"), "/usr/libexec/cni")] if dv == 2
    else [(_cri(dv, "cni", "bin_dirs"), ["/usr/libexec/cni"])],
    "13-cni_conf_dir": lambda dv: [(_cri(dv, "cni", "conf_dir"), "/etc/cni/conf.d")],
    "14-registry_config_path": lambda dv: [
        (_img(dv, ("registry", "config_path"), ("registry", "config_path")),
         "/etc/containerd/certs.d")],
    "15-snapshotter": lambda dv: [(_img(dv, ("containerd", "snapshotter"), ("snapshotter",)),
                                   "native")],
    "16-enable_cdi": lambda dv: [(_cri(dv, "enable_cdi"), True)],
    "17-cdi_spec_dirs": lambda dv: [(_cri(dv, "cdi_spec_dirs"),
                                     ["/etc/cdi", "/var/run/cdi", "/opt/cdi"])],
    "18-enable_unprivileged_ports": lambda dv: [(_cri(dv, "enable_unprivileged_ports"), True)],
    "19-enable_unprivileged_icmp": lambda dv: [(_cri(dv, "enable_unprivileged_icmp"), True)],
    "20-disabled_plugins": None,   # per file version, below
    "21-root": lambda dv: [(("root",), "/data/containerd")],
    "22-state": lambda dv: [(("state",), "/run/containerd-k8s")],
    "23-grpc_address": lambda dv: [(("grpc", "address"), "/run/k3s/containerd/containerd.sock")]
    if dv < 4 else [(GRPC4, "/run/k3s/containerd/containerd.sock"),
                    (TTRPC4, "/run/k3s/containerd/containerd.sock.ttrpc")],
    "24-readme-example": lambda dv: _new_runtime(
        dv, "nvidia", "io.containerd.runc.v2", BinaryName="/usr/bin/nvidia-container-runtime")
        + [(_img(dv, ("sandbox_image",), ("pinned_images", "sandbox")),
            "registry.k8s.io/pause:3.10"),
           (_img(dv, ("registry", "config_path"), ("registry", "config_path")),
            "/etc/containerd/certs.d")],
    "25-already-set": lambda dv: [],
    "26-drop-in": lambda dv: [
        (_rt(dv, "nvidia", "options", "BinaryName"),
         "/usr/local/nvidia/toolkit/nvidia-container-runtime"),
        (_img(dv, ("sandbox_image",), ("pinned_images", "sandbox")),
         "registry.example.com/pause:3.10")],
    "27-into-empty-last-table": lambda dv: [
        (_img(dv, ("sandbox_image",), ("pinned_images", "sandbox")),
         "registry.example.com/pause:3.10")],
    "28-no-final-newline": lambda dv: [(_cri(dv, "enable_unprivileged_ports"), True)],
}
DISABLED = {1: ["restart", "btrfs"],   # 1.7 prints a version 1 file's entries as written
            2: ["io.containerd.internal.v1.restart", "io.containerd.snapshotter.v1.btrfs"],
            3: ["io.containerd.monitor.container.v1.restart", "io.containerd.snapshotter.v1.btrfs"],
            4: ["io.containerd.monitor.container.v1.restart", "io.containerd.snapshotter.v1.btrfs"]}


def _at(tree: dict, path: tuple) -> object:
    for k in path:
        assert isinstance(tree, dict) and k in tree, f"{path} not in the dump"
        tree = tree[k]
    return tree


def test_every_case_has_oracle_checks() -> None:
    assert sorted(ORACLE) == [c.name for c in CASES]


@pytest.mark.oracle
@pytest.mark.parametrize("case,version", GOLDEN_RUNS, ids=_ids)
def test_containerd_reads_the_edit(case: Path, version: int) -> None:
    from tests import oracle
    line = NATIVE[version]
    oracle.require_containerd(line)
    text, treat_as = case_input(case, version)
    edited = (case / f"expected.v{version}.toml").read_text()
    if treat_as is not None:   # a drop-in: containerd reads it through a root config's imports
        root = f'version = {version}\nimports = ["conf.d/*.toml"]\n'

        def dump(t: str):
            return oracle.dump(line, root, files={"conf.d/10-drop-in.toml": t})
    else:
        def dump(t: str):
            return oracle.dump(line, t)
    before, after = dump(text), dump(edited)
    assert before.returncode == 0, before.stderr
    assert after.returncode == 0, after.stderr
    dv = DUMPED_AS[version]
    checks = [(("disabled_plugins",), DISABLED[version])] if case.name == "20-disabled_plugins" \
        else ORACLE[case.name](dv)
    for path, value in checks:
        assert _at(after.config, path) == value, path
    allowed = [path for path, _ in checks]
    # a new runtime or platform table brings containerd's defaults for it along
    allowed += [p[:p.index("runtimes") + 2] for p in allowed if "runtimes" in p]
    allowed += [p[:-1] for p in allowed if "runtime_platforms" in p]
    if case.name == "20-disabled_plugins":   # a disabled plugin's table leaves the dump
        allowed += [("plugins", name) for name in DISABLED[dv]]
    assert oracle.compare(before.config, after.config, allowed=allowed) == []
    assert oracle.new_warnings(before, after) == []
    if not checks:
        assert edited == text

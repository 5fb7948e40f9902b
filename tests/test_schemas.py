"""The JSON Schemas in schemas/ are generated from the key inventory, and validate() uses them."""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from migrator.checks import validate as V
from migrator.checks.validate import SchemaProblem, load_schema, schema_path, validate

from .helpers import REPO, shared_path

SCHEMAS = REPO / "schemas"
SCHEMA_FILES = sorted(p for p in SCHEMAS.glob("containerd-*.json"))
VERSIONS = (1, 2, 3, 4)
LINES = ("1.6", "1.7", "2.0", "2.1", "2.2", "2.3", "2.4")

CRI = "io.containerd.grpc.v1.cri"
RT = "io.containerd.cri.v1.runtime"
IMG = "io.containerd.cri.v1.images"


def _generator():
    spec = importlib.util.spec_from_file_location("generate_schemas",
                                                  REPO / "scripts" / "generate_schemas.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod          # the script's dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _unknown(problems, *path):
    return [p for p in problems if p.kind == "unknown-key" and p.path == path]


# (a) generated files are up to date ----------------------------------------------------------


def test_schemas_are_regenerated_byte_identical(tmp_path):
    keys = shared_path("spec", "keys")
    if keys is None or not (keys / "containerd-1.6.json").is_file():
        pytest.skip("key inventory (../shared/spec/keys) not available")
    gen = _generator()
    rc = gen.main(["--keys", str(keys), "--out", str(tmp_path), "-q"])
    assert rc == 0
    produced = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in SCHEMA_FILES)
    assert produced == committed
    for name in produced:
        assert (tmp_path / name).read_bytes() == (SCHEMAS / name).read_bytes(), name


def test_generator_check_mode_and_descriptions_all_used(capsys):
    keys = shared_path("spec", "keys")
    if keys is None or not (keys / "containerd-1.6.json").is_file():
        pytest.skip("key inventory (../shared/spec/keys) not available")
    gen = _generator()
    assert gen.main(["--keys", str(keys), "--out", str(SCHEMAS), "--check", "--strict"]) == 0
    assert "note:" not in capsys.readouterr().err


def test_expected_files_exist():
    names = {p.name for p in SCHEMA_FILES}
    assert {f"containerd-config-v{v}.json" for v in VERSIONS} <= names
    assert {f"containerd-{line}.json" for line in LINES} <= names
    assert len(names) == 11


# (b) valid 2020-12 schemas, stable ids, deterministic layout ---------------------------------


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_schema_is_valid_2020_12(path):
    from jsonschema import Draft202012Validator
    text = path.read_text(encoding="utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://containerd-migrate.dev/schemas/{path.name}"
    assert text == json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_key_has_a_description_and_closed_structs(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    missing = []

    def walk(s, where):
        for key, sub in s.get("properties", {}).items():
            if not sub.get("description"):
                missing.append(where + (key,))
            walk(sub, where + (key,))
        for k in ("additionalProperties", "items"):
            if isinstance(s.get(k), dict):
                walk(s[k], where + ("*",))

    walk(schema, ())
    assert not missing
    assert schema["additionalProperties"] is False
    plugins = schema["properties"]["plugins"]
    assert plugins["additionalProperties"] == {
        "type": "object",
        "description": "A plugin this schema does not know (external or newer); not checked."}
    for sub in plugins["properties"].values():
        assert sub["additionalProperties"] is False


def test_version_constants():
    assert load_schema(1)["properties"]["version"]["enum"] == [0, 1]
    assert "version" not in load_schema(1).get("required", [])
    for v in (2, 3, 4):
        s = load_schema(v)
        assert s["properties"]["version"]["const"] == v
        assert s["required"] == ["version"]
    for line, v in zip(LINES, (2, 2, 3, 3, 3, 4, 4)):
        assert load_schema(line)["properties"]["version"]["const"] == v


def test_v1_tables_use_short_plugin_ids():
    plugins = load_schema(1)["properties"]["plugins"]["properties"]
    assert "cri" in plugins and "io.containerd.grpc.v1.cri" not in plugins
    assert {"nri", "local", "blockfile", "linux", "aufs"} <= set(plugins)
    assert "io.containerd.cri.v1.runtime" not in plugins      # 2.x-only plugins are not v1 tables
    assert validate({"plugins": {"cri": {"sandbox_image": "pause:3.9"}}}, 1) == []
    assert validate({"version": 1, "plugins": {"cri": {"sandbox_image": "pause:3.9"}}}, 1) == []


def test_removed_keys_are_deprecated_in_v2_and_absent_in_v3():
    cri = load_schema(2)["properties"]["plugins"]["properties"][CRI]["properties"]
    assert cri["systemd_cgroup"]["deprecated"] is True
    assert cri["containerd"]["properties"]["default_runtime"]["deprecated"] is True
    assert cri["containerd"]["properties"]["untrusted_workload_runtime"]["deprecated"] is True
    assert "deprecated" not in cri["sandbox_image"]                      # moved, not removed
    tree = {"version": 2, "plugins": {CRI: {
        "systemd_cgroup": True, "sandbox_image": "pause:3.9",
        "containerd": {"default_runtime": {"runtime_type": "io.containerd.runtime.v1.linux"},
                       "untrusted_workload_runtime": {"runtime_type": "x"}}}}}
    assert validate(tree, 2) == []
    v3 = validate({"version": 3, "plugins": {CRI: {"sandbox_image": "pause:3.9"}}}, 3)
    [p] = _unknown(v3, "plugins", CRI, "sandbox_image")
    assert p.suggestion == f'plugins."{IMG}".pinned_images.sandbox'
    assert validate({"version": 3, "plugins": {IMG: {"pinned_images": {"sandbox": "p:1"}}}},
                    3) == []


def test_descriptions_and_annotations():
    v3 = load_schema(3)["properties"]["plugins"]["properties"]
    sandbox = v3[IMG]["properties"]["pinned_images"]["properties"]["sandbox"]
    assert "Pause" in sandbox["description"]
    options = v3[RT]["properties"]["containerd"]["properties"]["runtimes"][
        "additionalProperties"]["properties"]["options"]
    assert options["additionalProperties"] is True
    assert {"SystemdCgroup", "BinaryName", "Root", "NoPivotRoot"} <= set(options["properties"])
    assert "systemd" in options["properties"]["SystemdCgroup"]["description"]
    cni = v3[RT]["properties"]["cni"]["properties"]
    assert cni["bin_dirs"]["x-containerd-since"] == "2.1"
    assert cni["bin_dir"]["deprecated"] is True
    top = load_schema(4)["properties"]
    assert top["grpc"]["deprecated"] is True and top["imports"]["default"] == [
        "/etc/containerd/conf.d/*.toml"]


# (c) did-you-mean ------------------------------------------------------------------------------


def test_did_you_mean_in_same_table():
    tree = {"version": 2, "plugins": {CRI: {"sandbox_images": "pause:3.9"}}}
    [p] = validate(tree, 2)
    assert p == SchemaProblem(
        ("plugins", CRI, "sandbox_images"),
        'unknown key "sandbox_images" in plugins."io.containerd.grpc.v1.cri" '
        '(did you mean "sandbox_image"?)', "sandbox_image", "unknown-key")
    assert dataclasses.is_dataclass(p)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.message = "x"  # type: ignore[misc]


@pytest.mark.parametrize("version,plugin", [(2, CRI), (3, RT), (4, RT), ("1.7", CRI), ("2.2", RT)])
@pytest.mark.parametrize("key", ["SystemdCgroup", "systemdcgroup"])
def test_systemd_cgroup_directly_under_runtime(version, plugin, key):
    tree = {"version": V.load_schema(version)["properties"]["version"]["const"], "plugins": {
        plugin: {"containerd": {"runtimes": {"runc": {
            "runtime_type": "io.containerd.runc.v2", key: True}}}}}}
    [p] = validate(tree, version)
    assert p.kind == "unknown-key"
    assert p.path == ("plugins", plugin, "containerd", "runtimes", "runc", key)
    assert p.suggestion == "options.SystemdCgroup"
    assert '(did you mean "options.SystemdCgroup"?)' in p.message


def test_case_insensitive_match_in_same_table():
    [p] = validate({"version": 3, "Root": "/x"}, 3)
    assert p.suggestion == "root" and p.path == ("Root",)


def test_misplaced_key_points_to_enclosing_table():
    tree = {"version": 2, "plugins": {CRI: {"containerd": {"runtimes": {"runc": {
        "discard_unpacked_layers": True}}}}}}
    [p] = validate(tree, 2)
    assert p.suggestion == f'plugins."{CRI}".containerd.discard_unpacked_layers'


def test_option_near_misses_are_reported_but_options_stay_free_form():
    opts = {"SystemdCgroups": True, "ConfigPath": "/etc/kata.toml", "MyShimOption": 1}
    tree = {"version": 3, "plugins": {RT: {"containerd": {"runtimes": {"kata": {
        "runtime_type": "io.containerd.kata.v2", "options": opts}}}}}}
    [p] = validate(tree, 3)
    assert p.kind == "other" and p.suggestion == "SystemdCgroup"
    assert p.path[-1] == "SystemdCgroups"
    # go-toml v1 accepts the all-lowercase spelling, 2.x matches any case but warns
    tree2 = {"version": 2, "plugins": {CRI: {"containerd": {"runtimes": {"runc": {
        "options": {"systemdcgroup": True}}}}}}}
    assert validate(tree2, 2) == []
    tree3 = {"version": 3, "plugins": {RT: {"containerd": {"runtimes": {"runc": {
        "options": {"systemdcgroup": True}}}}}}}
    [p] = validate(tree3, 3)
    assert p.kind == "other" and p.suggestion == "SystemdCgroup"
    tree4 = {"version": 2, "plugins": {CRI: {"containerd": {"runtimes": {"runc": {
        "options": {"SystemdCGroup": True}}}}}}}
    [p] = validate(tree4, 2)
    assert p.kind == "other" and "drops other spellings" in p.message


@pytest.mark.parametrize("version", [2, 3, 4, "1.7", "2.1", "2.3"])
def test_runc_options_are_closed_by_runtime_type(version):
    """An if/then on the runtime table closes `options` when runtime_type is a runc shim (the CRI
    plugin drops any other name); other shims keep an open table; another case of an option name
    is not an unknown key (2.x matches any case). validate() agrees with jsonschema."""
    from jsonschema import Draft202012Validator
    from migrator.checks.validate import _key, _load
    v = version if isinstance(version, int) else {"1": 2, "2": 3}[str(version)[0]]
    v = 4 if version in (4, "2.3") else v
    root = {2: CRI, 3: RT, 4: RT}[v]

    def tree(rtype, options):
        return {"version": v, "plugins": {root: {"containerd": {"runtimes": {"x": {
            "runtime_type": rtype, "options": options}}}}}}
    runc = tree("io.containerd.runc.v2", {"SystemdCgroups": True, "BinaryName": "/usr/bin/runc",
                                          "systemdCgroup": True})
    unknown = [p for p in validate(runc, version) if p.kind == "unknown-key"]
    assert [p.path[-1] for p in unknown] == ["SystemdCgroups"]
    assert unknown[0].suggestion == "SystemdCgroup"
    kata = tree("io.containerd.kata.v2", {"ConfigPath": "/etc/kata.toml", "MyShimOption": 1})
    assert validate(kata, version) == []
    schema = _load(_key(version))
    for t in (runc, kata):
        errs = list(Draft202012Validator(schema).iter_errors(t))
        assert bool(errs) == (t is runc)
        if errs:
            assert "'SystemdCgroups'" in errs[0].message and "systemdCgroup'" in errs[0].message


# (d) plugins ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [2, 3, 4, "1.6", "1.7", "2.0", "2.3"])
def test_unknown_plugin_names_are_allowed(version):
    const = load_schema(version)["properties"]["version"]["const"]
    tree = {"version": const, "plugins": {
        "io.containerd.snapshotter.v1.stargz": {"anything": 1, "nested": {"x": True}},
        "io.containerd.snapshotter.v1.nydus": {}}}
    assert validate(tree, version) == []


def test_unknown_plugin_names_are_allowed_in_v1():
    assert validate({"plugins": {"stargz": {"x": 1}, "io.containerd.foo.v1.bar": {}}}, 1) == []


def test_short_plugin_names_in_versioned_files():
    [p] = validate({"version": 3, "plugins": {"cri": {"containerd": {}}}}, 3)
    assert p.kind == "unknown-key" and p.path == ("plugins", "cri")
    assert p.suggestion == RT
    [p] = validate({"version": 2, "disabled_plugins": ["restart"]}, 2)
    assert p.path == ("disabled_plugins", 0) and p.suggestion == "io.containerd.internal.v1.restart"


def test_renamed_plugins_in_v3():
    tree = {"version": 3, "plugins": {"io.containerd.internal.v1.restart": {"interval": "10s"}}}
    [p] = validate(tree, 3)
    assert p.suggestion == 'plugins."io.containerd.monitor.container.v1.restart"'


# (e) release lines ------------------------------------------------------------------------------


def test_bin_dirs_valid_in_2_1_not_2_0():
    tree = {"version": 3, "plugins": {RT: {"cni": {"bin_dirs": ["/opt/cni/bin"]}}}}
    assert validate(tree, "2.1") == []
    assert validate(tree, "v2.1.9") == []
    assert validate(tree, 3) == []                       # v3 = union of 2.0, 2.1, 2.2
    [p] = validate(tree, "2.0")
    assert p.path == ("plugins", RT, "cni", "bin_dirs") and p.suggestion == "bin_dir"


def test_line_specific_keys():
    tree = {"version": 2, "plugins": {CRI: {"enable_cdi": True}}}
    assert validate(tree, "1.7") == [] and validate(tree, 2) == []
    assert [p.kind for p in validate(tree, "1.6")] == ["unknown-key"]
    v4 = {"version": 4, "plugins": {"io.containerd.server.v1.grpc": {"address": "/x.sock"}}}
    assert validate(v4, 4) == []
    assert _unknown(validate({**v4, "version": 3}, 3), "plugins", "io.containerd.server.v1.grpc") \
        == []   # unknown to 2.0-2.2, but unknown plugin tables are allowed


# types ------------------------------------------------------------------------------------------


def test_type_problems():
    tree = {"version": 3, "plugins": {
        RT: {"enable_selinux": "true", "cni": {"bin_dirs": "/opt/cni/bin"}},
        CRI: {"stream_idle_timeout": "4 hours"},
        IMG: {"registry": {"configs": {"r.io": {"auth": {"password": 12345}}}}},
        "io.containerd.gc.v1.scheduler": {"schedule_delay": 0, "startup_delay": 100}}}
    problems = {p.path: p for p in validate(tree, 3)}
    assert problems[("plugins", RT, "enable_selinux")].kind == "type"
    assert problems[("plugins", RT, "cni", "bin_dirs")].kind == "type"
    assert "Go duration" in problems[("plugins", CRI, "stream_idle_timeout")].message
    pw = problems[("plugins", IMG, "registry", "configs", "r.io", "auth", "password")]
    assert "12345" not in pw.message and "redacted" in pw.message
    assert ("plugins", "io.containerd.gc.v1.scheduler", "schedule_delay") not in problems
    assert problems[("plugins", "io.containerd.gc.v1.scheduler", "startup_delay")].kind == "type"
    [p] = validate({"version": 2}, 3)
    assert p.path == ("version",) and "must be 3" in p.message
    [p] = validate({}, 2)
    assert p.path == ("version",) and "version 1" in p.message


@pytest.mark.parametrize("value,ok", [
    ("10s", True), ("1m30s", True), ("0", True), ("", True), ("1.5h", True), ("-2ms", True),
    ("300µs", True), ("10", False), ("4 hours", False), ("1d", False), ("s", False)])
def test_duration_pattern(value, ok):
    tree = {"version": 3, "plugins": {CRI: {"stream_idle_timeout": value}}}
    assert (validate(tree, 3) == []) is ok


# api --------------------------------------------------------------------------------------------


def test_api_helpers():
    assert schema_path(3).name == "containerd-config-v3.json"
    assert schema_path("2.1").name == "containerd-2.1.json"
    assert schema_path(3).is_file()
    a = load_schema(3)
    a["title"] = "changed"
    assert load_schema(3)["title"] != "changed"
    assert V._validator(V._key(3)) is V._validator(V._key("3"))
    for bad in (0, 5, "2.9", "x", True):
        with pytest.raises(ValueError):
            schema_path(bad)


def test_import_does_not_load_jsonschema():
    code = "import sys, migrator.checks.validate; print('jsonschema' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO)
    assert out.stdout.strip() == "False"


# (f) real-world corpus --------------------------------------------------------------------------

# Measured when the schemas were written (files validating cleanly against their own version).
CLEAN_FLOOR = {1: 24, 2: 33, 3: 11, 4: 4}


def _corpus() -> list[Path]:
    base = shared_path("corpus", "real")
    return sorted(base.glob("*.toml")) if base else []


def test_corpus_files_validate_against_their_version():
    files = _corpus()
    if not files:
        pytest.skip("../shared/corpus/real not available")
    clean: Counter = Counter()
    unclean: dict[int, dict[str, list[SchemaProblem]]] = {}
    for path in files:
        tree = tomllib.loads(path.read_text(encoding="utf-8"))
        version = tree.get("version", 1)
        if version not in VERSIONS:
            continue
        problems = validate(tree, version)
        if problems:
            unclean.setdefault(version, {})[path.name] = problems
        else:
            clean[version] += 1
    for version in VERSIONS:
        for name, problems in sorted(unclean.get(version, {}).items()):
            print(f"v{version} {name}")
            for p in problems:
                print(f"    [{p.kind}] {p.message}")
        print(f"v{version}: {clean[version]} clean, {len(unclean.get(version, {}))} with problems")
    for version, floor in CLEAN_FLOOR.items():
        assert clean[version] >= floor, (version, clean[version])

    def find(name_part, *path):
        hits = [p for n, ps in (x for v in unclean.values() for x in v.items())
                if name_part in n for p in ps if p.path == path]
        assert hits, (name_part, path)
        return hits[0]

    # known typos and misplacements
    p = find("kubernetes-sigs__kind__images_base_files_etc_containerd_config.toml",
             "plugins", CRI, "tolerate_missing_hugepages_controller")
    assert p.suggestion == "tolerate_missing_hugetlb_controller"
    p = find("containerd-dmverity", "plugins", RT, "snapshotter")
    assert p.suggestion == f'plugins."{IMG}".snapshotter'
    p = find("talos__internal_pkg_toml_testdata_expected", "plugins", CRI, "containerd",
             "runtimes", "runc", "discard_unpacked_layers")
    assert p.suggestion == f'plugins."{CRI}".containerd.discard_unpacked_layers'
    p = find("containerd2template__hyperv", "plugins", "cri")
    assert p.suggestion == RT
    find("k3s__pkg_agent_templates_templates_windows", "plugins", CRI, "registry", "configs",
         "auth", "registry.example.com:5000")
    p = find("nodeadm_test_e2e_infra_containerd-config", "default_runtime_name")
    assert p.suggestion == "plugins.cri.containerd.default_runtime_name"

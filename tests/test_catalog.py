"""The catalog of containerd releases (migrator/releases/, migrator/catalog.py).

- Python names no release line and no plugin URI: they are catalog data.
- The catalog agrees with the rules headers, the schemas and the binaries' names.
- A new release costs data, not code: a synthetic containerd 9.9 with config version 5 (one
  plugin renamed, one key moved), added as a rules file, a key inventory and a catalog entry to a
  copy of the package, works for --to 5, --containerd, schema export, lint and 5 -> 4 -> 3.
"""
from __future__ import annotations

import ast
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import migrator
from migrator.checks import validate
from migrator.core import catalog, rules

from .helpers import REPO, shared_path

PKG = REPO / "migrator"
RELEASE = re.compile(r"v?\d+\.\d+(\.\d+)?")
URI = re.compile(r"io\.containerd\.[\w.-]+")
# the SARIF format version (cli/lint.py), and this package's own version (migrator/_version.py)
NOT_CONTAINERD = {"2.1.0", migrator.__version__}


def _constants(path: Path):
    """String constants of a module that are not docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docs.add(id(body[0].value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield node.lineno, node.value


def test_python_names_no_release_line_and_no_plugin_uri() -> None:
    found = []
    for path in sorted(PKG.rglob("*.py")):
        if path == PKG / "catalog.py":
            continue
        for line, value in _constants(path):
            if (RELEASE.fullmatch(value.strip()) and value.strip() not in NOT_CONTAINERD) \
                    or URI.search(value):
                found.append(f"{path.relative_to(REPO)}:{line}: {value!r}")
    assert found == []


def test_release_lines_in_order_with_their_versions() -> None:
    lines = catalog.lines()
    assert list(lines) == sorted(lines, key=catalog.release_key)
    assert rules.release_lines() == {k: v.config_version for k, v in lines.items()}
    for name, entry in lines.items():
        assert entry.config_version == max(entry.native) == max(entry.reads), name
        assert catalog.release_key(entry.first) <= catalog.release_key(entry.last), name
        assert (REPO / "schemas" / entry.schema).is_file(), name
    assert catalog.lines()["2.4"].config_version == 4


def test_rules_headers_agree_with_the_catalog() -> None:
    for (a, b), rs in rules.rule_sets().items():
        if b == a + 1:
            assert set(rs.releases) == set(catalog.version(b).lines), rs.file
            assert rs.native in rs.releases


def test_versions_and_their_schemas() -> None:
    for number, entry in catalog.versions().items():
        schema = validate.load_schema(number)
        assert schema["x-containerd-config-version"] == number
        assert schema["x-containerd-lines"] == list(entry.lines)
    assert catalog.version(4).lines == ("2.3", "2.4")


def test_release_keys_and_parsing() -> None:
    key = catalog.release_key
    assert key("2.4.0-beta.0") < key("2.4.0") < key("2.4.1") < key("2.5")
    assert key("2.4") < key("2.4.0")
    assert catalog.parse_release("v2.4.1") == ("2.4", "2.4.1")
    assert catalog.parse_release("2.4.0-beta.0") == ("2.4", "2.4.0-beta.0")
    assert catalog.parse_release("2.4") == ("2.4", None)
    for bad in ("2.9", "latest", "2", ""):
        with pytest.raises(ValueError):
            catalog.parse_release(bad)


def test_advisories() -> None:
    assert catalog.affected("go-cni-deadlock", "2.0", "2.0.1") is True
    assert catalog.affected("go-cni-deadlock", "2.0", "2.0.3") is False
    assert catalog.affected("go-cni-deadlock", "2.0", None) is None
    assert catalog.affected("dropin-version-above-root", "2.3", "2.3.4") is True
    assert catalog.affected("dropin-version-above-root", "2.3", "2.3.5") is False
    assert catalog.affected("dropin-version-above-root", "2.4", "2.4.0-beta.0") is True
    assert catalog.affected("dropin-version-above-root", "2.4", None) is False  # 2.4.0 on
    assert catalog.affected("B3", "2.1", "2.1.4") is True
    assert catalog.affected("B3", "2.3", None) is False


def test_2_4_entries_carry_their_provenance() -> None:
    """facts §10.1: each 2.4 key change says whether a binary, a tag or the notes showed it."""
    entry = catalog.line("2.4")
    assert entry.binary == "2.4.0-beta.0" and entry.tag == "v2.4.0-beta.0"
    assert entry.inventory == "containerd-2.4.json"
    changes = entry.added + entry.removed + entry.deprecated
    assert changes and all(c.provenance in ("binary", "source", "notes") and c.source
                           for c in changes)
    by_key = {c.key: c for c in entry.removed}
    assert by_key["enable_experimental_restore_via_create"].provenance == "binary"
    for key in ("enable_cdi", "cni.bin_dir", "endpoint", "protocol", "insecure",
                "service_name", "sampling_ratio"):
        assert by_key[key].provenance == "notes" and "#14166" in by_key[key].source, key
    assert {c.key for c in entry.deprecated} == {"registry.mirrors", "registry.configs",
                                                 "registry.auths"}


# ---------------------------------------------------------------------------------------------
# a synthetic release, from data alone

V4_INPUT = """\
version = 4
oom_score = -999  # keep containerd alive

[plugins]
  [plugins."io.containerd.monitor.task.v1.cgroups"]
    no_prometheus = true
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "registry.k8s.io/pause:3.10"
"""

V5_EXPECTED = """\
version = 5

[process]
  oom_score = -999  # keep containerd alive

[plugins]
  [plugins."io.containerd.monitor.task.v2.cgroups"]
    no_prometheus = true
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "registry.k8s.io/pause:3.10"
"""

RULES_V5 = """\
# Config version 4 -> 5 (a synthetic containerd 9.9, for the tests)
step 4 -> 5 "containerd 9.9 renamed the cgroups monitor and moved oom_score (config version 5)"
  releases "9.9" native "9.9"

group monitor-v2 release "9.9" source "core/metrics/cgroups/cgroups.go@v9.9.0" {
  plugin "io.containerd.monitor.task.v1.cgroups" -> "io.containerd.monitor.task.v2.cgroups";
}

group process release "9.9" source "cmd/containerd/server/config/config.go@v9.9.0" {
  move oom_score -> process.oom_score;
}
"""

CATALOG_99 = """\
line = "9.9"
config_version = 5
native = [5]
reads = [0, 1, 2, 3, 4, 5]
patches = { first = "9.9.0", last = "9.9.0" }
inventory = { file = "containerd-9.9.json", tag = "v9.9.0" }
schema = "containerd-9.9.json"
plugin_key_pattern = '^[^.]*\\.[^.]*\\.[^.]*\\.'
disabled_pattern = '\\.'
"""

VERSION_5 = """
[versions.5]
schema = "containerd-config-v5.json"
cri_runtime = ["plugins", "io.containerd.cri.v1.runtime"]
cri_images = ["plugins", "io.containerd.cri.v1.images"]
registry = ["plugins", "io.containerd.cri.v1.images", "registry"]
plugin_key_pattern = '^[^.]*\\.[^.]*\\.[^.]*\\.'
disabled_pattern = '\\.'
"""

OLD, NEW = "io.containerd.monitor.task.v1.cgroups", "io.containerd.monitor.task.v2.cgroups"


@pytest.fixture(scope="module")
def release_99(tmp_path_factory) -> Path:
    keys = shared_path("spec", "keys")
    if keys is None:
        pytest.skip("../shared/spec/keys not found")
    root = tmp_path_factory.mktemp("release-9.9")
    ignore = shutil.ignore_patterns("__pycache__", "_data", "*.pyc")
    for name in ("migrator", "grammar", "schemas", "scripts"):
        shutil.copytree(REPO / name, root / name, ignore=ignore)
    (root / "migrator" / "rules" / "v4-v5.rules").write_text(RULES_V5)
    (root / "migrator" / "releases" / "9.9.toml").write_text(CATALOG_99)
    with open(root / "migrator" / "releases" / "containerd.toml", "a") as fh:
        fh.write(VERSION_5)
    inventory = root / "keys"
    shutil.copytree(keys, inventory)
    inv = json.loads((keys / "containerd-2.4.json").read_text())
    inv = copy.deepcopy(inv)
    inv["release"], inv["config_version"] = "v9.9.0", 5
    inv["plugins"][NEW] = inv["plugins"].pop(OLD)
    inv["plugin_meta"][NEW] = inv["plugin_meta"].pop(OLD)
    inv["top_level"]["process"] = {"type": "table", "source": "synthetic@v9.9.0",
                                   "fields": {"oom_score": inv["top_level"].pop("oom_score")}}
    (inventory / "containerd-9.9.json").write_text(json.dumps(inv))
    changes = json.loads((keys / "changes.json").read_text())
    changes += [
        {"transition": "v2.4.0-beta.0 -> v9.9.0", "scope": OLD, "change": "removed",
         "whole_plugin": True, "keys": ["no_prometheus"], "moved_to": [f"(plugin) -> {NEW}"]},
        {"transition": "v2.4.0-beta.0 -> v9.9.0", "scope": "(top level)", "change": "removed",
         "whole_plugin": False, "keys": ["oom_score"], "moved_to": ["oom_score -> process"]}]
    (inventory / "changes.json").write_text(json.dumps(changes))
    gen = subprocess.run([sys.executable, str(root / "scripts" / "generate_schemas.py"), "-q",
                          "--keys", str(inventory)], capture_output=True, text=True, cwd=root)
    assert gen.returncode == 0, gen.stderr
    # no Python edited: every module of the copy is the repository's own
    for path in (root / "migrator").rglob("*.py"):
        assert path.read_bytes() == (PKG / path.relative_to(root / "migrator")).read_bytes()
    return root


def _run(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root), "CONTAINERD_MIGRATE_NO_CACHE": "1"}
    return subprocess.run([sys.executable, "-c", "from migrator.cli.commands import main; main()", *args],
                          input=stdin, capture_output=True, text=True, env=env, cwd=root)


def test_synthetic_release_up_to_5(release_99: Path) -> None:
    for how in (["--to", "5"], ["--containerd", "9.9"], ["--containerd", "9.9.0"]):
        out = _run(release_99, "-", *how, stdin=V4_INPUT)
        assert out.returncode == 0, out.stderr
        # where a moved key lands in the text is the emitter's business (docs/emitting.md)
        assert tomllib.loads(out.stdout) == tomllib.loads(V5_EXPECTED), how
        assert "oom_score = -999  # keep containerd alive" in out.stdout
        assert '[plugins."io.containerd.monitor.task.v2.cgroups"]' in out.stdout
        assert "containerd 9.9" in out.stderr
    v2 = ('version = 2\noom_score = 5\n[plugins."io.containerd.monitor.v1.cgroups"]\n'
          '  no_prometheus = true\n')
    out = _run(release_99, "-", "--to", "5", stdin=v2)
    assert out.returncode == 0, out.stderr
    assert tomllib.loads(out.stdout) == {"version": 5, "process": {"oom_score": 5},
                                         "plugins": {NEW: {"no_prometheus": True}}}


def test_synthetic_release_down_5_4_3(release_99: Path) -> None:
    down = _run(release_99, "-", "--to", "4", stdin=V5_EXPECTED)
    assert down.returncode == 0, down.stderr
    assert tomllib.loads(down.stdout) == tomllib.loads(V4_INPUT)
    assert "oom_score = -999  # keep containerd alive" in down.stdout
    three = _run(release_99, "-", "--to", "3", stdin=V5_EXPECTED)
    assert three.returncode == 0, three.stderr
    assert tomllib.loads(three.stdout) == {
        "version": 3, "oom_score": -999, "plugins": {
            OLD: {"no_prometheus": True},
            "io.containerd.cri.v1.images": {"pinned_images": {
                "sandbox": "registry.k8s.io/pause:3.10"}}}}
    refused = _run(release_99, "-", "--containerd", "9.9", "--to", "4", stdin=V4_INPUT)
    assert refused.returncode == 2


def test_synthetic_release_schemas(release_99: Path) -> None:
    for args, name in ((["--version", "5"], "containerd-config-v5.json"),
                       (["--containerd", "9.9"], "containerd-9.9.json")):
        out = _run(release_99, "schema", *args)
        assert out.returncode == 0, out.stderr
        assert out.stdout == (release_99 / "schemas" / name).read_text()
        schema = json.loads(out.stdout)
        assert schema["properties"]["version"]["const"] == 5
        assert NEW in schema["properties"]["plugins"]["properties"]
        assert OLD not in schema["properties"]["plugins"]["properties"]
        assert "oom_score" in schema["properties"]["process"]["properties"]


def test_synthetic_release_lint(release_99: Path, tmp_path: Path) -> None:
    good = tmp_path / "v5.toml"
    good.write_text(V5_EXPECTED)
    out = _run(release_99, "--lint", str(good), "--containerd", "9.9")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "CM002" not in out.stdout and "CM003" not in out.stdout
    old = tmp_path / "v4.toml"
    old.write_text(V4_INPUT.replace("version = 4", "version = 5"))
    out = _run(release_99, "--lint", str(old), "--containerd", "9.9")
    assert "oom_score" in out.stdout and OLD in out.stdout, out.stdout
    assert out.returncode == 1


# ---------------------------------------------------------------------------------------------
# containerd 2.4 without the oracle

V4_FOR_24 = """\
version = 4
[plugins."io.containerd.cri.v1.runtime"]
  enable_cdi = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dir = "/x/bin"
[plugins."io.containerd.tracing.processor.v1.otlp"]
  endpoint = "http://127.0.0.1:4318"
[plugins."io.containerd.internal.v1.tracing"]
  sampling_ratio = 0.5
"""


def _lint(text: str, containerd: str) -> dict[str, tuple[str, str, str]]:
    from migrator.lint import lint
    return {f"{f.id} {f.path}": (f.severity, f.message, f.suggestion or "")
            for f in lint(text, file="config.toml", containerd=containerd).findings}


def test_lint_judges_a_file_for_2_4() -> None:
    rt = 'plugins."io.containerd.cri.v1.runtime"'
    for_24 = _lint(V4_FOR_24, "2.4")
    assert for_24[f"CM004 {rt}.enable_cdi"][0] == "error"
    assert "always on" in for_24[f"CM004 {rt}.enable_cdi"][1]
    assert for_24[f"CM004 {rt}.cni.bin_dir"][0] == "error"
    otlp = for_24['CM004 plugins."io.containerd.tracing.processor.v1.otlp".endpoint']
    assert "removed in containerd 2.4.0" in otlp[1]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in otlp[2]
    assert "OTEL_TRACES_SAMPLER" in for_24[
        'CM004 plugins."io.containerd.internal.v1.tracing".sampling_ratio'][2]
    assert not [k for k in for_24 if k.startswith("CM002")]  # one finding per key
    for_23 = _lint(V4_FOR_24, "2.3")  # still read by 2.3: deprecations, not removals
    assert {v[0] for v in for_23.values()} == {"warning"}
    assert "removed in containerd 2.4.0" in for_23[f"CM004 {rt}.cni.bin_dir"][1]
    new = V4_FOR_24.replace("enable_cdi = false", "disable_pause_image_pull = true")
    new = new.replace("[plugins.\"io.containerd.cri.v1.runtime\"]\n",
                      "[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.runc]\n")
    assert not [k for k in _lint(new, "2.4") if k.startswith("CM002")]
    assert [k for k in _lint(new, "2.3") if "disable_pause_image_pull" in k and "CM002" in k]


def test_lint_go_cni_advisory_for_2_0_1_and_2_0_2() -> None:
    text = 'version = 3\n[plugins."io.containerd.cri.v1.runtime".cni]\n  conf_dir = "/etc/cni"\n'
    for patch in ("2.0.1", "2.0.2"):
        hit = [v for k, v in _lint(text, patch).items() if k.startswith("CM012")]
        assert len(hit) == 1 and "#11186" in hit[0][1] and "2.0.3" in hit[0][2], patch
    for target in ("2.0.3", "2.0", "2.1"):
        assert not [k for k in _lint(text, target) if k.startswith("CM012")], target
    off = text.replace("version = 3\n",
                       'version = 3\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n')
    assert not [k for k in _lint(off, "2.0.1") if k.startswith("CM012")]  # no CRI here


def test_drop_in_version_refusal_names_the_catalog_ranges(tmp_path: Path) -> None:
    from migrator.lint import lint
    (tmp_path / "d.toml").write_text("version = 3\n")
    root = tmp_path / "config.toml"
    text = 'version = 2\nimports = ["d.toml"]\n'
    root.write_text(text)
    found = [f.message for f in lint(text, file=str(root), containerd="2.3").findings
             if f.id == "CM011"]
    assert len(found) == 1
    assert "2.3.0-2.3.4 (fixed in 2.3.5)" in found[0] and "2.4.0-beta.0" in found[0]


def test_migrate_to_2_4() -> None:
    import migrator
    from migrator.core.errors import LossError
    with pytest.raises(LossError) as exc:
        migrator.migrate(V4_FOR_24, containerd="2.4")
    assert "enable_cdi" in str(exc.value) and "always on" in str(exc.value)
    result = migrator.migrate(V4_FOR_24, containerd="2.4.1", allow_loss=True)
    out = tomllib.loads(result.text)
    assert out == {"version": 4, "plugins": {"io.containerd.cri.v1.runtime": {
        "cni": {"bin_dirs": ["/x/bin"]}}}}
    report = "\n".join(c.format() for c in result.changes)
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_SAMPLER"):
        assert name in report
    on = V4_FOR_24.replace("enable_cdi = false", "enable_cdi = true")
    assert "enable_cdi" not in migrator.migrate(on, containerd="2.4").text
    v2 = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/x/bin"\n'
          '[plugins."io.containerd.grpc.v1.cri"]\n'
          '  enable_experimental_restore_via_create = true\n')
    out = tomllib.loads(migrator.migrate(v2, containerd="2.4").text)
    assert out["plugins"] == {"io.containerd.cri.v1.runtime": {"cni": {"bin_dirs": ["/x/bin"]}}}
    # 2.3 spellings for --to 4 and --containerd 2.3: nothing of the above happens
    assert migrator.migrate(on, to=4).text == on
    assert migrator.migrate(on, containerd="2.3").text == on


def test_generated_key_changes_are_up_to_date() -> None:
    """The part of each line file below the marker is scripts/generate_catalog_keys.py's."""
    keys = shared_path("spec", "keys")
    if keys is None:
        pytest.skip("../shared/spec/keys not found")
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "generate_catalog_keys.py"),
                          "--check", "--keys", str(keys)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    removed = catalog.removal("2.1", ("plugin_dir",))
    assert removed is not None and removed.release == "2.1" and "@v2.0.11" in removed.source
    moved = catalog.removal("2.0", ("plugins", "io.containerd.grpc.v1.cri", "sandbox_image"))
    assert moved is not None and moved.use == "io.containerd.cri.v1.images pinned_images.sandbox"
    assert catalog.removal("1.7", ("plugin_dir",)) is None
    added = {c.key: c for c in catalog.line("2.3").added}
    assert added["enable_criu"].release == "2.3.4"      # since_patch (keys/README.md)


def test_drop_in_above_the_root_is_fine_where_the_check_was_reverted(tmp_path: Path) -> None:
    """2.3.5 reverted the refusal (containerd #13995); main dropped it after 2.4.0-beta.0."""
    from migrator.lint import lint
    (tmp_path / "d.toml").write_text("version = 3\n")
    root = tmp_path / "config.toml"
    text = 'version = 2\nimports = ["d.toml"]\n'
    root.write_text(text)

    def cm011(target: str) -> list:
        return [f for f in lint(text, file=str(root), containerd=target).findings
                if f.id == "CM011"]
    for target in ("2.3.4", "2.3", "2.2", "2.0.5"):
        assert [f.severity for f in cm011(target)] == ["error"], target
    for target in ("2.3.5", "2.3.7", "2.4", "2.4.1"):
        assert cm011(target) == [], target


def test_lint_takes_a_pre_release_target(tmp_path: Path) -> None:
    """E45: the 2.4.0-beta.0 build still refuses a drop-in above the root's version."""
    from migrator.lint import lint
    (tmp_path / "d.toml").write_text("version = 3\n")
    root = tmp_path / "config.toml"
    text = 'version = 2\nimports = ["d.toml"]\n'
    root.write_text(text)
    found = lint(text, file=str(root), containerd="2.4.0-beta.0").findings
    assert [f.severity for f in found if f.id == "CM011"] == ["error"]
    assert any("2.4.0-beta.0" in f.message for f in found if f.id == "CM008")


def test_a_2_4_key_is_a_loss_for_2_3() -> None:
    """facts §10.1, E43: 2.3.4 ignores disable_pause_image_pull (and warns); a version 4 file
    retargeted at 2.3 says so instead of passing it through."""
    import migrator
    from migrator.core.errors import LossError
    text = ('version = 4\n[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]\n'
            '  disable_pause_image_pull = true\n')
    assert migrator.migrate(text, containerd="2.4").text == text
    assert migrator.migrate(text, to=4).text == text          # version 4 holds it
    with pytest.raises(LossError) as exc:
        migrator.migrate(text, containerd="2.3")
    assert "disable_pause_image_pull" in str(exc.value)
    out = migrator.migrate(text, containerd="2.3", allow_loss=True)
    assert tomllib.loads(out.text) == {"version": 4}

"""A root config and its imports migrated as one set (migrator.features.imports).

golden/imports/<case>/: set/ (config.toml is the root, the rest what it may import),
expected.v<N>/ (every file of the set after migrating to N, nothing more) and args.json
({"to": N, "findings": [[severity, code], ...]}: the findings about the set, exactly).
Each case runs from disk and from a mapping of texts. The oracle tests ask containerd how it
reads the original set and the migrated one (`oracle.dump(..., files=...)`).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrator.core.errors import ConfigError
from migrator.features.imports import merge_trees, migrate_set, resolve_imports, write_set
from migrator.features.imports import _Memory  # the mapping-backed file system, for glob tests

from .helpers import REPO

GOLDEN = REPO / "golden" / "imports"
CASES = sorted(p for p in GOLDEN.iterdir() if (p / "args.json").is_file()) \
    if GOLDEN.is_dir() else []


def _args(case: Path) -> dict:
    return json.loads((case / "args.json").read_text())


def _expected(case: Path) -> dict[str, str]:
    base = case / f"expected.v{_args(case)['to']}"
    return {p.relative_to(base).as_posix(): p.read_text() for p in sorted(base.rglob("*"))
            if p.is_file()}


def _mapping(case: Path) -> dict[str, str]:
    base = case / "set"
    files = {"config.toml": (base / "config.toml").read_text()}
    files.update({p.relative_to(base).as_posix(): p.read_text()
                  for p in sorted(base.rglob("*")) if p.is_file() and p.name != "config.toml"})
    return files


def _codes(result) -> list[list[str]]:
    return sorted([f.severity, f.code] for f in result.findings)


def test_enough_cases() -> None:
    assert len(CASES) >= 7


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_golden_set_from_disk(case: Path) -> None:
    result = migrate_set(case / "set" / "config.toml", to=_args(case)["to"])
    base = (case / "set").resolve()
    got = {Path(p).relative_to(base).as_posix(): text for p, text in result.texts.items()}
    assert got == _expected(case)
    assert list(result.texts)[0] == str(base / "config.toml")  # the root comes first
    assert _codes(result) == sorted(_args(case)["findings"])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_golden_set_from_a_mapping(case: Path) -> None:
    result = migrate_set(_mapping(case), to=_args(case)["to"])
    assert result.texts == _expected(case)
    codes = [c for c in _codes(result) if c != ["info", "imports-unused"]]
    assert codes == sorted(_args(case)["findings"])
    unused = [f for f in result.findings if f.code == "imports-unused"]
    assert bool(unused) == any(k.endswith(".md") for k in _mapping(case))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_migrating_the_output_again_changes_nothing(case: Path) -> None:
    to = _args(case)["to"]
    files = _expected(case)
    again = migrate_set({"config.toml": files.pop("config.toml"), **files}, to=to)
    assert not again.changed


def test_load_order_is_breadth_first_and_globs_are_sorted() -> None:
    files = {
        "config.toml": 'version = 2\nimports = ["b.toml", "d/*.toml"]\n',
        "b.toml": 'version = 2\nimports = ["c.toml"]\n',
        "c.toml": "version = 2\n",
        "d/20.toml": "version = 2\n", "d/10.toml": "version = 2\n", "d/.5.toml": "version = 2\n",
        "d/x.conf": "version = 2\n",
    }
    result = migrate_set(files, to=3)
    assert list(result.texts) == ["config.toml", "b.toml", "d/.5.toml", "d/10.toml",
                                  "d/20.toml", "c.toml"]
    assert result.imports["config.toml"] == ["b.toml", "d/.5.toml", "d/10.toml", "d/20.toml"]


def test_go_glob_rules() -> None:
    fs = _Memory({"r/config.toml": "", "r/a/x.toml": "", "r/a/y.TOML": "", "r/b/x.toml": "",
                  "r/c?.toml": "", "r/cc.toml": ""})
    got = resolve_imports("r/config.toml", ["*/x.toml", "c?.toml", "../r/a/*.toml",
                                            "[ab]/x.toml", "[^a]/x.toml", "nothing/*.toml"], fs)
    assert got == [
        ("*/x.toml", "r/a/x.toml", True), ("*/x.toml", "r/b/x.toml", True),
        ("c?.toml", "r/c?.toml", False),  # no `*`: containerd takes it literally
        ("../r/a/*.toml", "r/a/x.toml", True),
        ("[ab]/x.toml", "r/[ab]/x.toml", False),
        ("[^a]/x.toml", "r/[^a]/x.toml", False),
        ("nothing/*.toml", "", True),
    ]


def test_absolute_and_relative_imports_on_disk(tmp_path: Path) -> None:
    (tmp_path / "etc" / "conf.d").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "abs.toml").write_text("version = 2\n")
    (tmp_path / "etc" / "conf.d" / "rel.toml").write_text("version = 2\n")
    (tmp_path / "etc" / "config.toml").write_text(
        f'version = 2\nimports = ["{tmp_path}/other/*.toml", "conf.d/rel.toml"]\n')
    result = migrate_set(tmp_path / "etc" / "config.toml", to=3)
    assert list(result.texts) == [str(tmp_path / "etc" / "config.toml"),
                                  str(tmp_path / "other" / "abs.toml"),
                                  str(tmp_path / "etc" / "conf.d" / "rel.toml")]


def test_directory_matched_by_a_glob_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "conf.d" / "sub.toml").mkdir(parents=True)
    (tmp_path / "config.toml").write_text('version = 2\nimports = ["conf.d/*"]\n')
    result = migrate_set(tmp_path / "config.toml", to=3)
    assert [f.code for f in result.errors] == ["imports-directory"]
    with pytest.raises(ConfigError, match="errors"):
        write_set(result)


def test_a_broken_drop_in_names_its_file() -> None:
    with pytest.raises(ConfigError) as err:
        migrate_set({"config.toml": 'version = 2\nimports = ["d.toml"]\n',
                     "d.toml": "version = 2\n[broken\n"}, to=3)
    assert str(err.value).startswith("d.toml:")
    with pytest.raises(ConfigError, match="imports must be a list"):
        migrate_set({"config.toml": "version = 2\nimports = 3\n"}, to=3)
    with pytest.raises(ConfigError, match="not found"):
        migrate_set(Path("/nonexistent/containerd/config.toml"), to=3)


def test_versionless_drop_in_with_short_names_under_a_v2_root() -> None:
    result = migrate_set({"config.toml": 'version = 2\nimports = ["d.toml"]\n',
                          "d.toml": "[plugins.scheduler]\n  pause_threshold = 0.05\n"}, to=3)
    warned = [f for f in result.files["d.toml"].findings if f.code == "imports-versionless"]
    assert any("refuses to start" in f.message for f in warned)
    assert 'plugins."io.containerd.gc.v1.scheduler"' in result.texts["d.toml"]


def test_merge_models() -> None:
    root = {"version": 2, "disabled_plugins": ["a"], "oom_score": 5,
            "plugins": {"p": {"x": 1, "y": 2}}, "timeouts": {"t1": "1s"}}
    drop = {"disabled_plugins": ["a", "b"], "oom_score": 0,
            "plugins": {"p": {"y": 0}}, "timeouts": {"t2": "2s"}}
    old = merge_trees([root, drop], deep=False)
    new = merge_trees([root, drop], deep=True)
    assert old["plugins"]["p"] == {"y": 0} and new["plugins"]["p"] == {"x": 1, "y": 0}
    assert old["disabled_plugins"] == ["a", "a", "b"] and new["disabled_plugins"] == ["a", "b"]
    assert old["oom_score"] == new["oom_score"] == 5  # a zero does not override at top level
    assert old["timeouts"] == new["timeouts"] == {"t1": "1s", "t2": "2s"}


def test_report_and_json_of_a_set() -> None:
    case = GOLDEN / "i04-v2-missing"
    result = migrate_set(_mapping(case), to=3)
    assert not result.ok
    text = result.format_text()
    assert "imports-missing" in text and "config.toml: version 2 -> 3" in text
    data = json.loads(json.dumps(result.to_json()))
    assert [f["code"] for f in data["findings"]].count("imports-missing") == 1
    assert len(data["files"]) == 2


def test_write_set_writes_only_changed_files(tmp_path: Path) -> None:
    case = GOLDEN / "i05-mixed-v2-root-v3-dropin"
    import shutil
    shutil.copytree(case / "set", tmp_path / "set")
    result = migrate_set(tmp_path / "set" / "config.toml", to=3)
    written = write_set(result, backup_suffix=".bak")
    assert written == [str(tmp_path / "set" / "config.toml")]  # the v3 drop-in was already v3
    assert (tmp_path / "set" / "config.toml.bak").read_text() == \
        (case / "set" / "config.toml").read_text()
    assert not migrate_set(tmp_path / "set" / "config.toml", to=3).changed
    with pytest.raises(ValueError):
        write_set(migrate_set(_mapping(case), to=3))


def test_no_secret_in_the_set_report() -> None:
    secret = "s3cr3t-Pa55w0rd-do-not-print"
    files = {"config.toml": 'version = 2\nimports = ["auth.toml"]\n',
             "auth.toml": 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.configs.'
                          f'"r.example".auth]\n  password = "{secret}"\n'}
    result = migrate_set(files, to=3)
    assert secret not in result.format_text() + json.dumps(result.to_json())


# -- containerd ------------------------------------------------------------------------------------

def _texts(mapping: dict[str, str]) -> tuple[str, dict[str, str]]:
    rest = dict(mapping)
    return rest.pop("config.toml"), rest


def _allowed(original: dict[str, str], result, line: str) -> set[tuple]:
    """What containerd may read differently, file by file (tests/data, never the report)."""
    from .judging import expected_differences
    allowed: set[tuple] = set()
    for name, text in original.items():
        if name in result.texts:  # not what containerd never imports (conf.d/README.md)
            allowed |= expected_differences(line, "up", text, result.texts[name])[0]
    return allowed


@pytest.mark.oracle
@pytest.mark.parametrize("name", ["i01-v2-glob-split-cri", "i02-v2-nested", "i03-v2-cycle",
                                  "i07-v2-versionless-dropin"])
def test_containerd_21_reads_the_migrated_set_like_the_original(name: str) -> None:
    from tests import oracle
    oracle.require_containerd("2.1")
    case = GOLDEN / name
    original = _mapping(case)
    result = migrate_set(original, to=3)
    before = oracle.dump("2.1", *_texts(original)[:1], files=_texts(original)[1])
    after = oracle.dump("2.1", *_texts(result.texts)[:1], files=_texts(result.texts)[1])
    assert before.ok, before.stderr
    assert after.ok, after.stderr
    assert oracle.compare(before.config, after.config,
                          allowed=_allowed(original, result, "2.1")) == []
    assert oracle.new_warnings(before, after) == []


@pytest.mark.oracle
def test_containerd_17_reads_the_migrated_v1_set_like_the_original() -> None:
    from tests import oracle
    oracle.require_containerd("1.7")
    original = _mapping(GOLDEN / "i08-v1-set")
    result = migrate_set(original, to=2)
    before = oracle.dump("1.7", _texts(original)[0], files=_texts(original)[1])
    after = oracle.dump("1.7", _texts(result.texts)[0], files=_texts(result.texts)[1])
    assert before.ok and after.ok, before.stderr + after.stderr
    assert oracle.compare(before.config, after.config,
                          allowed=_allowed(original, result, "2.1")) == []
    assert after.config["oom_score"] == -999
    assert after.config["plugins"]["io.containerd.gc.v1.scheduler"]["pause_threshold"] == 0.05


@pytest.mark.oracle
def test_a_missing_import_stops_the_daemon_before_and_after(tmp_path: Path) -> None:
    """`config dump` hides it (it ignores "not exist" errors), the daemon does not: it exits
    at once with `open .../missing.toml: no such file or directory`, nothing started."""
    import subprocess

    from tests import oracle
    exe = oracle.require_containerd("2.1")
    original = _mapping(GOLDEN / "i04-v2-missing")
    result = migrate_set(original, to=3)
    for label, files in (("before", original), ("after", result.texts)):
        base = tmp_path / label
        for name, text in files.items():
            (base / name).parent.mkdir(parents=True, exist_ok=True)
            (base / name).write_text(text)
        proc = subprocess.run([str(exe), "-c", str(base / "config.toml"), "--root",
                               str(base / "root"), "--state", str(base / "state"),
                               "--address", str(base / "c.sock")], capture_output=True,
                              text=True, timeout=30, stdin=subprocess.DEVNULL, cwd=base)
        assert proc.returncode == 1, proc.stderr
        assert "missing.toml: no such file or directory" in proc.stderr
        assert not (base / "root").exists()


@pytest.mark.oracle
def test_mixed_versions_the_migrated_set_keeps_the_roots_settings() -> None:
    """E15: 2.1 loses the v2 root's sandbox image under a v3 drop-in, 2.3.4 refuses the set;
    after the migration both read it, with the root's value."""
    from tests import oracle
    for line in ("2.1", "2.3"):
        oracle.require_containerd(line)
    original = _mapping(GOLDEN / "i05-mixed-v2-root-v3-dropin")
    result = migrate_set(original, to=3)
    lost = oracle.dump("2.1", _texts(original)[0], files=_texts(original)[1])
    assert lost.config["plugins"]["io.containerd.cri.v1.images"]["pinned_images"]["sandbox"] \
        != "example.com/pause:root"
    assert not oracle.dump("2.3", _texts(original)[0], files=_texts(original)[1]).ok
    for line in ("2.1", "2.3"):
        after = oracle.dump(line, _texts(result.texts)[0], files=_texts(result.texts)[1])
        assert after.ok, after.stderr
        images = after.config["plugins"]["io.containerd.cri.v1.images"]
        assert images["pinned_images"]["sandbox"] == "example.com/pause:root"
        assert after.config["plugins"]["io.containerd.cri.v1.runtime"]["enable_selinux"] is True


@pytest.mark.oracle
def test_the_merge_findings_say_what_containerd_does() -> None:
    """i01 upgrade: 1.7 lost the root's CRI and gc keys (a later file replaced the tables),
    2.1 keeps them. i06 downgrade: 2.1 merged enable_selinux in, 1.7 loses it."""
    from tests import oracle
    for line in ("1.7", "2.1"):
        oracle.require_containerd(line)
    up = _mapping(GOLDEN / "i01-v2-glob-split-cri")
    old = oracle.dump("1.7", _texts(up)[0], files=_texts(up)[1]).config
    migrated = migrate_set(up, to=3)
    new = oracle.dump("2.1", _texts(migrated.texts)[0], files=_texts(migrated.texts)[1]).config
    assert old["plugins"]["io.containerd.grpc.v1.cri"]["sandbox_image"] != \
        "registry.k8s.io/pause:3.9"
    assert new["plugins"]["io.containerd.cri.v1.images"]["pinned_images"]["sandbox"] == \
        "registry.k8s.io/pause:3.9"
    finding = next(f for f in migrated.findings if f.code == "imports-merge")
    assert "io.containerd.cri.v1.images" in finding.message
    down = _mapping(GOLDEN / "i06-v3-downgrade-split")
    was = oracle.dump("2.1", _texts(down)[0], files=_texts(down)[1]).config
    lowered = migrate_set(down, to=2)
    now = oracle.dump("1.7", _texts(lowered.texts)[0], files=_texts(lowered.texts)[1]).config
    assert was["plugins"]["io.containerd.cri.v1.runtime"]["enable_selinux"] is True
    assert now["plugins"]["io.containerd.grpc.v1.cri"]["enable_selinux"] is False
    finding = next(f for f in lowered.findings if f.code == "imports-merge")
    assert "enable_selinux" in finding.message

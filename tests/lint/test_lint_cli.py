"""migrator.lint.lint_main: what `containerd-migrate --lint` prints, writes and exits with."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from migrator.core.errors import ConfigError
from migrator.cli.lint import lint_main
from migrator.lint import RULES, lint
from migrator.lint import kubelet

BAD = """version = 3

[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  # systemd, like the kubelet
  SystemdCgroup = true
"""
UNSAFE = """version = 2

[plugins."io.containerd.grpc.v1.cri"]
  systemd_cgroup = true
"""
GOOD = """version = 3

[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
  SystemdCgroup = true
"""
LINE = re.compile(r"^(.+):(\d+):(\d+): (CM\d{3}) (error|warning|info) (.+)$")


def run(paths, **kw):
    out, err = io.StringIO(), io.StringIO()
    code = lint_main([str(p) for p in paths], stdout=out, stderr=err, **kw)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def files(tmp_path: Path):
    def make(name: str, text: str | bytes) -> Path:
        p = tmp_path / name
        p.write_bytes(text.encode() if isinstance(text, str) else text)
        return p
    return make


def test_text_lines_and_exit_code(files) -> None:
    bad = files("bad.toml", BAD)
    code, out, err = run([bad])
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert lines and all(LINE.match(line) for line in lines)
    m = LINE.match(lines[0])
    assert m and m.group(1) == str(bad) and (m.group(2), m.group(3)) == ("6", "3")
    assert m.group(4) == "CM001" and m.group(5) == "error"
    assert m.group(6).endswith("as SystemdCgroup)")  # the suggestion, in parentheses


def test_clean_file_exits_0(files) -> None:
    assert run([files("good.toml", GOOD)]) == (0, "", "")


def test_warnings_do_not_fail(files) -> None:
    code, out, _ = run([files("w.toml", 'version = 2\nplugin_dir = ""\n')], containerd="2.1")
    assert code == 0 and " warning " in out


def test_bad_input_is_one_line_and_the_other_files_go_on(files, tmp_path) -> None:
    broken = files("broken.toml", "version = [\n")
    bad = files("bad.toml", BAD)
    missing = tmp_path / "missing.toml"
    code, out, err = run([broken, missing, bad])
    assert code == 2
    errs = err.splitlines()
    assert len(errs) == 2
    assert errs[0].startswith(f"{broken}:") and "Traceback" not in err
    assert errs[1].startswith(f"{missing}: ")
    assert f"{bad}:6:3: CM001 error" in out


@pytest.mark.parametrize("kw", [{"containerd": "3.9"}, {"containerd": "banana"},
                                {"kubelet_config": "/nonexistent/kubelet.yaml"},
                                {"fmt": "xml"}])
def test_bad_options_exit_2(files, kw) -> None:
    code, out, err = run([files("good.toml", GOOD)], **kw)
    assert code == 2 and out == "" and len(err.splitlines()) == 1


def test_fix_rewrites_atomically_and_reports_what_is_left(files) -> None:
    bad = files("bad.toml", BAD)
    inode = bad.stat().st_ino
    code, out, err = run([bad], fix=True)
    assert code == 0 and out == ""
    assert err == f"{bad}: fixed 1 problem\n"
    text = bad.read_text()
    assert "  options.SystemdCgroup = true\n" in text and "# systemd, like the kubelet" in text
    assert bad.stat().st_ino != inode        # replaced by rename, not rewritten in place
    assert not [p for p in bad.parent.iterdir() if p.name.endswith(".tmp")]
    assert run([bad]) == (0, "", "")


def test_fix_never_touches_a_file_without_safe_fixes(files) -> None:
    unsafe = files("unsafe.toml", UNSAFE)
    before = unsafe.stat()
    code, out, err = run([unsafe], fix=True)
    assert code == 1 and "CM004 error" in out and err == ""
    after = unsafe.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_fix_through_a_symlink_rewrites_the_target(files, tmp_path) -> None:
    target = files("real.toml", BAD)
    link = tmp_path / "link.toml"
    link.symlink_to(target)
    assert run([link], fix=True)[0] == 0
    assert link.is_symlink() and "options.SystemdCgroup" in target.read_text()


def test_json_format(files) -> None:
    bad = files("bad.toml", BAD)
    code, out, _ = run([bad, files("good.toml", GOOD)], fmt="json")
    assert code == 1
    data = json.loads(out)
    assert [d["file"] for d in data] == [str(bad), str(bad.parent / "good.toml")]
    f = data[0]["findings"][0]
    assert f == {"id": "CM001", "name": "runtime-option-level", "severity": "error",
                 "message": f["message"], "suggestion": f["suggestion"], "line": 6, "col": 3,
                 "fixable": True, "path": f["path"]}
    assert data[0]["version"] == 3 and data[0]["containerd"] == "2.1"
    assert data[1]["findings"] == []


def test_sarif_format(files) -> None:
    bad = files("bad.toml", BAD)
    broken = files("broken.toml", "x = \n")
    code, out, _ = run([bad, broken], fmt="sarif")
    assert code == 2
    log = json.loads(out)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    assert all(r["shortDescription"]["text"] for r in rules)
    result = run_["results"][0]
    assert result["ruleId"] == "CM001" and rules[result["ruleIndex"]]["id"] == "CM001"
    assert result["level"] == "error" and result["message"]["text"]
    loc = result["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == str(bad)
    assert loc["region"] == {"startLine": 6, "startColumn": 3}
    assert {r["level"] for r in run_["results"]} <= {"error", "warning", "note"}
    assert run_["invocations"][0]["executionSuccessful"] is False
    assert run_["invocations"][0]["toolExecutionNotifications"][0]["level"] == "error"


def test_sarif_levels_map_info_to_note(files) -> None:
    v2 = files("v2.toml", 'version = 2\n')
    log = json.loads(run([v2], fmt="sarif", containerd="2.1")[1])
    assert [r["level"] for r in log["runs"][0]["results"]] == ["note"]


def test_stdin(monkeypatch) -> None:
    class Stdin:
        buffer = io.BytesIO(BAD.encode())
    monkeypatch.setattr("sys.stdin", Stdin)
    code, out, err = run(["-"])
    assert code == 1 and out.startswith("<stdin>:6:3: CM001 error")
    Stdin.buffer = io.BytesIO(BAD.encode())
    code, out, err = run(["-"], fix=True)
    assert code == 2 and "cannot rewrite stdin" in err


def test_with_imports_lints_the_drop_ins(files, tmp_path) -> None:
    (tmp_path / "conf.d").mkdir()
    drop = tmp_path / "conf.d" / "10-runc.toml"
    drop.write_text(BAD)
    root = files("config.toml", 'version = 3\nimports = ["conf.d/*.toml"]\n')
    code, out, _ = run([root], with_imports=True, containerd="2.1")
    assert code == 1 and f"{drop}:6:3: CM001" in out
    assert run([root], containerd="2.1")[0] == 0


def test_lint_api() -> None:
    result = lint(BAD.encode())
    assert [f.id for f in result.findings] == ["CM001"]
    assert result.fixed_text is not None and result.fixed[0].id == "CM001"
    assert result.to_json()["fixable"] == 1
    assert lint(GOOD).fixed_text is None
    with pytest.raises(ConfigError):
        lint("a = [")
    with pytest.raises(ConfigError):
        lint(GOOD, containerd="1.5")


def test_bom_is_kept_unless_its_own_fix_applies() -> None:
    data = "\ufeff" + BAD
    assert lint(data.encode(), containerd="1.7").fixed_text.startswith("\ufeff")
    fixed = lint(data.encode(), containerd="2.1").fixed_text
    assert fixed is not None and not fixed.startswith("\ufeff")


def test_kubelet_reader(tmp_path) -> None:
    assert kubelet.parse("""# comment
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: "systemd"   # kubeadm
evictionHard:
  memory.available: 100Mi
featureGates:
  cgroupDriver: cgroupfs
""") == {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
         "cgroupDriver": "systemd"}
    assert kubelet.parse('{"kind": "KubeletConfiguration", "cgroupDriver": "cgroupfs"}') == \
        {"kind": "KubeletConfiguration", "cgroupDriver": "cgroupfs"}
    p = tmp_path / "k.yaml"
    p.write_text("kind: KubeletConfiguration\n")
    assert kubelet.read(str(p))["cgroupDriver"] == "cgroupfs"      # the kubelet's default
    p.write_text("kind: KubeletConfiguration\ncgroupDriver: systemd\n")
    assert kubelet.read(str(p)) == {"cgroupDriver": "systemd", "explicit": True, "file": str(p)}
    for bad in ("kind: Pod\n", "cgroupDriver: cgroupv2\n"):
        p.write_text(bad)
        with pytest.raises(ConfigError):
            kubelet.read(str(p))


def test_registry_and_module_docs() -> None:
    assert list(RULES) == [f"CM{n:03d}" for n in range(1, 13)]
    assert len({r.name for r in RULES.values()}) == 12
    for r in RULES.values():
        assert r.doc.startswith(f"{r.id} {r.name}:"), r.module
        assert "From:" in r.doc and "Applies to:" in r.doc, r.module
        assert r.module.rsplit(".", 1)[1].startswith(r.id.lower() + "_")


def test_findings_are_sorted_and_positions_exist() -> None:
    text = Path(__file__).resolve().parents[2].joinpath(
        "golden", "lint", "CM004-removed-key", "bad.toml").read_text()
    result = lint(text, containerd="2.1")
    keys = [(f.line, f.col) for f in result.findings]
    assert keys == sorted(keys) and all(line and col for line, col in keys)

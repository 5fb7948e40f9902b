"""The command line and the atomic writer: every mode, every way input can be bad, every exit code.

Driven through click's CliRunner (stdout and stderr are always separate from click 8.2 on), plus
a few real processes. Assertions are on behaviour (exit codes, bytes on stdout, files on disk,
one-line errors), not on the report's wording.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import migrator
from migrator.cli import commands as cli
from migrator.emit.write import write_atomic

V2 = ('version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n'
      '  sandbox_image = "registry.k8s.io/pause:3.9"\n')
V3 = ('version = 3\n\n[plugins."io.containerd.cri.v1.images".pinned_images]\n'
      '  sandbox = "registry.k8s.io/pause:3.9"\n')
# v3 -> v2 cannot express two CNI bin dirs: a LossError, exit 3
LOSSY = ('version = 3\n[plugins."io.containerd.cri.v1.runtime".cni]\n'
         '  bin_dirs = ["/a", "/b"]\n  conf_dir = "/etc/cni/net.d"\n')

BAD_INPUTS = {
    "invalid-toml": b"a = ",
    "not-utf8": b'version = 2\nroot = "/var/lib/\xff"\n',
    "utf16": "version = 2\n".encode("utf-16"),
    "version-9": b"version = 9\n",
    "version-string": b'version = "3"\n',
}


def run(*args: str, input: bytes | None = None, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli.main, list(args), input=input, env=env,
                              catch_exceptions=False)


def snapshot(path: Path) -> tuple[bytes, int, int]:
    st = path.stat()
    return path.read_bytes(), st.st_mtime_ns, st.st_ino


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def assert_one_error_line(stderr: str, file: str) -> None:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert re.match(rf"^{re.escape(file)}(:\d+:\d+)?: \S", lines[0]), lines[0]
    assert "Traceback" not in stderr


@pytest.fixture
def v2(tmp_path: Path) -> Path:
    p = tmp_path / "v2.toml"
    p.write_bytes(V2.encode())
    return p


@pytest.fixture
def v3(tmp_path: Path) -> Path:
    p = tmp_path / "v3.toml"
    p.write_bytes(V3.encode())
    return p


@pytest.fixture(autouse=True)
def _cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)


def expected_v3() -> bytes:
    return migrator.migrate(V2, to=3).text.encode()


# --- the real library, so that these tests mean something -------------------------------------

def test_the_example_migrates_as_the_tests_assume() -> None:
    out = migrator.migrate(V2, to=3).text
    assert '[plugins."io.containerd.cri.v1.images".pinned_images]' in out
    assert 'sandbox = "registry.k8s.io/pause:3.9"' in out
    assert "sandbox_image" not in out
    assert not migrator.migrate(V3, to=3).changed


# --- stdout mode ------------------------------------------------------------------------------

def test_stdout_carries_only_the_toml_and_stderr_the_report(v2: Path) -> None:
    before = snapshot(v2)
    r = run("v2.toml", "--to", "3")
    assert r.exit_code == 0
    assert r.stdout_bytes == expected_v3()
    assert "v2.toml" in r.stderr and r.stderr.strip()
    assert snapshot(v2) == before
    assert listing(v2.parent) == ["v2.toml"]


def test_quiet_prints_no_report(v2: Path) -> None:
    r = run("v2.toml", "--to", "3", "-q")
    assert r.exit_code == 0 and r.stdout_bytes == expected_v3() and r.stderr == ""


def test_an_identity_migration_prints_the_file_unchanged(v3: Path) -> None:
    r = run("v3.toml", "--to", "3")
    assert r.exit_code == 0 and r.stdout_bytes == V3.encode()


def test_stdin(v2: Path) -> None:
    r = run("-", "--to", "3", input=V2.encode())
    assert r.exit_code == 0 and r.stdout_bytes == expected_v3()


def test_stdin_bad_input_is_named_stdin() -> None:
    r = run("-", "--to", "3", input=b"a = ")
    assert r.exit_code == 2 and r.stdout_bytes == b""
    assert_one_error_line(r.stderr, cli.STDIN_NAME)


def test_line_endings_and_bytes_are_kept(tmp_path: Path) -> None:
    crlf = V2.replace("\n", "\r\n").encode()
    (tmp_path / "crlf.toml").write_bytes(crlf)
    r = run("crlf.toml", "--to", "3", "-q")
    assert r.exit_code == 0
    assert r.stdout_bytes == migrator.migrate(crlf, to=3).text.encode()
    assert r.stdout_bytes.count(b"\r\n") == r.stdout_bytes.count(b"\n") > 0


# --- -o ---------------------------------------------------------------------------------------

def test_output_file(v2: Path, tmp_path: Path) -> None:
    before = snapshot(v2)
    r = run("v2.toml", "--to", "3", "-o", "new.toml")
    assert r.exit_code == 0 and r.stdout_bytes == b"" and r.stderr.strip()
    assert (tmp_path / "new.toml").read_bytes() == expected_v3()
    assert snapshot(v2) == before
    assert listing(tmp_path) == ["new.toml", "v2.toml"]


def test_output_dash_is_stdout(v2: Path) -> None:
    r = run("v2.toml", "--to", "3", "-o", "-", "-q")
    assert r.exit_code == 0 and r.stdout_bytes == expected_v3()


def test_output_into_a_missing_directory_is_one_line(v2: Path, tmp_path: Path) -> None:
    r = run("v2.toml", "--to", "3", "-o", "nodir/new.toml")
    assert r.exit_code == 2 and r.stdout_bytes == b""
    assert_one_error_line(r.stderr, "nodir/new.toml")


def test_output_to_a_device_writes_into_it(v2: Path) -> None:
    r = run("v2.toml", "--to", "3", "-o", os.devnull, "-q")
    assert r.exit_code == 0
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


# --- --in-place -------------------------------------------------------------------------------

def test_in_place_rewrites_and_keeps_the_mode(v2: Path) -> None:
    v2.chmod(0o640)
    r = run("v2.toml", "--to", "3", "--in-place")
    assert r.exit_code == 0 and r.stdout_bytes == b"" and r.stderr.strip()
    assert v2.read_bytes() == expected_v3()
    assert stat.S_IMODE(v2.stat().st_mode) == 0o640
    assert listing(v2.parent) == ["v2.toml"]


def test_in_place_with_backup(v2: Path) -> None:
    r = run("v2.toml", "--to", "3", "--in-place", "--backup", ".bak")
    assert r.exit_code == 0
    assert v2.read_bytes() == expected_v3()
    assert (v2.parent / "v2.toml.bak").read_bytes() == V2.encode()
    assert listing(v2.parent) == ["v2.toml", "v2.toml.bak"]


def test_in_place_leaves_an_unchanged_file_alone(v3: Path) -> None:
    before = snapshot(v3)
    r = run("v3.toml", "--to", "3", "--in-place", "--backup", ".bak")
    assert r.exit_code == 0
    assert snapshot(v3) == before
    assert listing(v3.parent) == ["v3.toml"]


def test_in_place_through_a_symlink_writes_the_target(v2: Path, tmp_path: Path) -> None:
    (tmp_path / "link.toml").symlink_to("v2.toml")
    r = run("link.toml", "--to", "3", "--in-place", "-q")
    assert r.exit_code == 0
    assert (tmp_path / "link.toml").is_symlink()
    assert v2.read_bytes() == expected_v3()


def test_in_place_crlf_is_written_byte_for_byte(tmp_path: Path) -> None:
    crlf = V2.replace("\n", "\r\n").encode()
    p = tmp_path / "crlf.toml"
    p.write_bytes(crlf)
    assert run("crlf.toml", "--to", "3", "--in-place", "-q").exit_code == 0
    assert p.read_bytes() == migrator.migrate(crlf, to=3).text.encode()
    assert b"\r\n" in p.read_bytes() and b"\r\r" not in p.read_bytes()


def test_in_place_strips_a_bom(tmp_path: Path) -> None:
    p = tmp_path / "bom.toml"
    p.write_bytes(b"\xef\xbb\xbf" + V3.encode())
    assert run("bom.toml", "--to", "3", "--check", "-q").exit_code == 1
    assert run("bom.toml", "--to", "3", "--in-place", "-q").exit_code == 0
    assert p.read_bytes() == V3.encode()
    assert run("bom.toml", "--to", "3", "--check", "-q").exit_code == 0


@pytest.mark.parametrize("victim", ["replace", "fsync"])
def test_in_place_failure_leaves_the_original_and_no_temp_file(
        v2: Path, monkeypatch: pytest.MonkeyPatch, victim: str) -> None:
    before = snapshot(v2)

    def boom(*a, **kw):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, victim, boom)
    r = run("v2.toml", "--to", "3", "--in-place")
    monkeypatch.undo()
    assert r.exit_code == 2 and r.stdout_bytes == b""
    assert_one_error_line(r.stderr, "v2.toml")
    assert snapshot(v2) == before
    assert listing(v2.parent) == ["v2.toml"]


def test_in_place_refuses_stdin() -> None:
    r = run("-", "--to", "3", "--in-place", input=V2.encode())
    assert r.exit_code == 2 and r.stdout_bytes == b""


# --- --diff -----------------------------------------------------------------------------------

def test_diff(v2: Path) -> None:
    before = snapshot(v2)
    r = run("v2.toml", "--to", "3", "--diff")
    assert r.exit_code == 0
    out = r.stdout_bytes.decode()
    assert out.startswith("--- a/v2.toml\n+++ b/v2.toml\n@@ ")
    assert "-version = 2\n" in out and "+version = 3\n" in out
    assert '+[plugins."io.containerd.cri.v1.images".pinned_images]\n' in out
    assert snapshot(v2) == before and listing(v2.parent) == ["v2.toml"]


def test_diff_applies_with_patch(v2: Path, tmp_path: Path) -> None:
    patch = shutil.which("patch")
    if patch is None:
        pytest.skip("patch(1) is not installed")
    diff = run("v2.toml", "--to", "3", "--diff", "-q").stdout_bytes
    subprocess.run([patch, "-s", "-p1"], input=diff, cwd=tmp_path, check=True)
    assert v2.read_bytes() == expected_v3()


def test_diff_of_an_unchanged_file_is_empty(v3: Path) -> None:
    r = run("v3.toml", "--to", "3", "--diff")
    assert r.exit_code == 0 and r.stdout_bytes == b""


def test_diff_marks_a_missing_final_newline() -> None:
    diff = cli.unified_diff("a = 1\nb = 2", "a = 1\nb = 3", "x.toml")
    assert diff.endswith("-b = 2\n\\ No newline at end of file\n+b = 3\n"
                         "\\ No newline at end of file\n")


def test_diff_with_check_exits_1(v2: Path) -> None:
    r = run("v2.toml", "--to", "3", "--diff", "--check", "-q")
    assert r.exit_code == 1 and r.stdout_bytes.startswith(b"--- a/v2.toml\n")


# --- --check ----------------------------------------------------------------------------------

def test_check_finds_work(v2: Path) -> None:
    before = snapshot(v2)
    r = run("v2.toml", "--to", "3", "--check")
    assert r.exit_code == 1 and r.stdout_bytes == b""
    assert snapshot(v2) == before and listing(v2.parent) == ["v2.toml"]


def test_check_passes_on_a_file_already_at_the_version(v3: Path) -> None:
    r = run("v3.toml", "--to", "3", "--check")
    assert r.exit_code == 0 and r.stdout_bytes == b""


# --- --report-json ----------------------------------------------------------------------------

def test_report_json_file(v2: Path, tmp_path: Path) -> None:
    r = run("v2.toml", "--to", "3", "--report-json", "report.json", "-q")
    assert r.exit_code == 0 and r.stdout_bytes == expected_v3()
    report = json.loads((tmp_path / "report.json").read_text())
    assert report == json.loads(json.dumps(migrator.migrate(V2, to=3, file="v2.toml").to_json()))
    assert report["source_version"] == 2 and report["target_version"] == 3 and report["changed"]


def test_report_json_on_stdout_when_stdout_is_free(v2: Path) -> None:
    r = run("v2.toml", "--to", "3", "--check", "--report-json", "-", "-q")
    assert r.exit_code == 1
    assert json.loads(r.stdout_bytes)["changed"] is True


@pytest.mark.parametrize("extra", [[], ["--diff"]])
def test_report_json_on_stdout_is_refused_when_stdout_is_taken(v2: Path, extra) -> None:
    r = run("v2.toml", "--to", "3", "--report-json", "-", *extra)
    assert r.exit_code == 2 and r.stdout_bytes == b""


def test_report_json_is_not_written_for_bad_input(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_bytes(b"a = ")
    r = run("bad.toml", "--to", "3", "--report-json", "report.json")
    assert r.exit_code == 2 and not (tmp_path / "report.json").exists()


REPORT_MODES = {
    "stdout": [],
    "check": ["--check"],
    "diff": ["--check", "--diff"],
    "output": ["-o", "out.toml"],
    "in-place": ["--in-place", "--backup", ".bak"],
}


def _assert_refused_before_anything_is_written(r, tmp_path: Path, before: dict) -> None:
    assert r.exit_code == 2 and r.stdout_bytes == b""
    assert len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    assert {p.name: snapshot(p) for p in tmp_path.iterdir() if p.is_file()} == before


@pytest.mark.parametrize("mode", REPORT_MODES)
@pytest.mark.parametrize("report", ["v2.toml", "link.toml", "hard.toml", "./sub/../v2.toml"])
def test_report_json_naming_the_input_is_refused_before_anything_is_written(
        v2: Path, tmp_path: Path, mode: str, report: str) -> None:
    (tmp_path / "link.toml").symlink_to("v2.toml")
    os.link(v2, tmp_path / "hard.toml")
    (tmp_path / "sub").mkdir()
    before = {p.name: snapshot(p) for p in tmp_path.iterdir() if p.is_file()}
    r = run("v2.toml", "--to", "3", *REPORT_MODES[mode], "--report-json", report)
    _assert_refused_before_anything_is_written(r, tmp_path, before)
    assert "--report-json" in r.stderr and "an input file" in r.stderr


@pytest.mark.parametrize("args, what", [
    (["-o", "out.toml", "--report-json", "out.toml"], "the -o output"),
    (["--in-place", "--backup", ".bak", "--report-json", "v2.toml.bak"], "a backup"),
    (["--check", "v3.toml", "--report-json", "v3.toml"], "an input file"),
])
def test_report_json_naming_another_file_of_the_run_is_refused(v2: Path, v3: Path,
                                                               tmp_path: Path, args, what) -> None:
    before = {p.name: snapshot(p) for p in tmp_path.iterdir() if p.is_file()}
    r = run("v2.toml", "--to", "3", *args)
    _assert_refused_before_anything_is_written(r, tmp_path, before)
    assert what in r.stderr


@pytest.mark.parametrize("mode", REPORT_MODES)
@pytest.mark.parametrize("report, why", [("missing/report.json", "No such file or directory"),
                                         ("v2.toml/report.json", "Not a directory"),
                                         ("adir", "Is a directory")])
def test_a_report_path_that_cannot_be_written_is_refused_before_the_toml(
        v2: Path, tmp_path: Path, mode: str, report: str, why: str) -> None:
    (tmp_path / "adir").mkdir()
    before = {p.name: snapshot(p) for p in tmp_path.iterdir() if p.is_file()}
    r = run("v2.toml", "--to", "3", *REPORT_MODES[mode], "--report-json", report)
    _assert_refused_before_anything_is_written(r, tmp_path, before)
    assert r.stderr == f"{report}: cannot write: {why}\n"


def test_report_json_naming_a_hosts_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry'
                                     '.mirrors."docker.io"]\n  endpoint = ["https://m.io"]\n')
    hosts = tmp_path / "certs.d" / "docker.io" / "hosts.toml"
    hosts.parent.mkdir(parents=True)
    for mode in (["--in-place"], ["--check"], ["-o", "out.toml"]):
        before = {p.name: snapshot(p) for p in tmp_path.iterdir() if p.is_file()}
        r = run("c.toml", "--to", "3", "--hosts-dir", str(tmp_path / "certs.d"), *mode,
                "--report-json", "certs.d/docker.io/hosts.toml")
        _assert_refused_before_anything_is_written(r, tmp_path, before)
        assert "hosts.toml file" in r.stderr and not hosts.exists()


@pytest.mark.parametrize("report", ["conf.d/a.toml", "conf.d/a.toml.bak"])
def test_report_json_naming_an_imported_file_or_its_backup_is_refused(tmp_path: Path,
                                                                      report: str) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "root.toml").write_text('version = 2\nimports = ["conf.d/*.toml"]\n')
    (tmp_path / "conf.d" / "a.toml").write_text(V2)
    snap = {p: snapshot(p) for p in (tmp_path / "root.toml", tmp_path / "conf.d" / "a.toml")}
    modes = [["--in-place", "--backup", ".bak"]] + ([["--check"], ["--in-place"]]
                                                     if not report.endswith(".bak") else [])
    for mode in modes:
        r = run("root.toml", "--to", "3", "--with-imports", *mode, "--report-json", report)
        assert r.exit_code == 2 and r.stdout_bytes == b"", r.stderr
        assert "imported by root.toml" in r.stderr and len(r.stderr.splitlines()) == 1
        assert {p: snapshot(p) for p in snap} == snap
        assert listing(tmp_path / "conf.d") == ["a.toml"]


def test_process_report_json_where_stdout_goes_is_refused(v2: Path, tmp_path: Path) -> None:
    """`--report-json out.toml > out.toml`: the report would overwrite the TOML (or the diff)."""
    for extra in ([], ["--check", "--diff"]):
        with open(tmp_path / "out.toml", "wb") as out:
            p = subprocess.run(cmd("v2.toml", "--to", "3", *extra, "--report-json", "out.toml"),
                               stdout=out, stderr=subprocess.PIPE, cwd=tmp_path)
        assert p.returncode == 2 and b"where stdout goes" in p.stderr
        assert (tmp_path / "out.toml").read_bytes() == b""
    with open(tmp_path / "out.toml", "wb") as out:  # stdout is free with --check
        p = subprocess.run(cmd("v2.toml", "--to", "3", "--check", "--report-json", "out.toml"),
                           stdout=out, stderr=subprocess.PIPE, cwd=tmp_path)
    assert p.returncode == 1 and json.loads((tmp_path / "out.toml").read_text())["changed"]


# --- batches ----------------------------------------------------------------------------------

def test_batch_check(v2: Path, v3: Path) -> None:
    r = run("--to", "3", "--check", "v2.toml", "v3.toml")
    assert r.exit_code == 1 and r.stdout_bytes == b""
    assert "v2.toml" in r.stderr and "v3.toml" in r.stderr
    assert r.stderr.splitlines()[-1].startswith("containerd-migrate:")
    assert run("--to", "3", "--check", "v3.toml", "v3.toml").exit_code == 0


def test_batch_quiet_check_names_only_what_fails(v2: Path, v3: Path) -> None:
    r = run("--to", "3", "--check", "-q", "v2.toml", "v3.toml")
    assert r.exit_code == 1 and r.stdout_bytes == b""
    assert r.stderr == "v2.toml: not at version 3 (see the change with --diff)\n"


def test_batch_in_place(v2: Path, v3: Path) -> None:
    before = snapshot(v3)
    r = run("--to", "3", "--in-place", "v2.toml", "v3.toml")
    assert r.exit_code == 0 and r.stdout_bytes == b""
    assert v2.read_bytes() == expected_v3()
    assert snapshot(v3) == before


def test_batch_diff(v2: Path, v3: Path, tmp_path: Path) -> None:
    (tmp_path / "other.toml").write_bytes(V2.encode())
    r = run("--to", "3", "--diff", "-q", "v2.toml", "v3.toml", "other.toml")
    assert r.exit_code == 0
    out = r.stdout_bytes.decode()
    assert out.count("--- a/") == 2 and "+++ b/other.toml\n" in out and "v3.toml" not in out


def test_batch_with_a_bad_file_goes_on(v2: Path, v3: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"a = ")
    bad_before = snapshot(bad)
    r = run("--to", "3", "--in-place", "v2.toml", "bad.toml", "missing.toml", "v3.toml",
            "--report-json", "report.json")
    assert r.exit_code == 2 and r.stdout_bytes == b""
    assert v2.read_bytes() == expected_v3()
    assert snapshot(bad) == bad_before
    errors = [line for line in r.stderr.splitlines() if line.startswith(("bad.toml", "missing"))]
    assert re.match(r"^bad\.toml:1:\d+: ", errors[0]) and errors[1].startswith("missing.toml: ")
    assert "Traceback" not in r.stderr
    assert "v3.toml" in r.stderr  # the batch went on past the bad files
    assert r.stderr.splitlines()[-1].startswith("containerd-migrate:")
    report = json.loads((tmp_path / "report.json").read_text())
    assert [e["file"] for e in report] == ["v2.toml", "bad.toml", "missing.toml", "v3.toml"]
    assert [("error" in e) for e in report] == [False, True, True, False]
    assert report[0]["changed"] and not report[3]["changed"]


def test_batch_exit_code_is_the_worst(v2: Path, v3: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_bytes(b"a = ")
    (tmp_path / "lossy.toml").write_text(LOSSY)
    (tmp_path / "v2b.toml").write_text(V2)
    assert run("--to", "2", "--check", "-q", "v3.toml", "v2b.toml").exit_code == 1
    assert run("--to", "2", "--check", "-q", "v3.toml", "bad.toml").exit_code == 2
    assert run("--to", "2", "--check", "-q", "lossy.toml", "bad.toml", "v3.toml").exit_code == 3


@pytest.mark.parametrize("extra", [[], ["-o", "out.toml"]])
def test_batch_refuses_stdout_and_output(v2: Path, v3: Path, tmp_path: Path, extra) -> None:
    r = run("--to", "3", "v2.toml", "v3.toml", *extra)
    assert r.exit_code == 2 and r.stdout_bytes == b""
    assert listing(tmp_path) == ["v2.toml", "v3.toml"]


# --- bad input: one line, exit 2, nothing written, input untouched ---------------------------

MODES = {
    "stdout": [],
    "output": ["-o", "out.toml"],
    "in-place": ["--in-place", "--backup", ".bak"],
    "diff": ["--diff"],
    "check": ["--check"],
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, case: str, mode: str) -> None:
    p = tmp_path / f"{case}.toml"
    p.write_bytes(BAD_INPUTS[case])
    before = snapshot(p)
    r = run(p.name, "--to", "3", *MODES[mode])
    assert r.exit_code == 2
    assert r.stdout_bytes == b""
    assert_one_error_line(r.stderr, p.name)
    assert snapshot(p) == before
    assert listing(tmp_path) == [p.name]


@pytest.mark.parametrize("mode", MODES)
def test_missing_file(tmp_path: Path, mode: str) -> None:
    r = run("missing.toml", "--to", "3", *MODES[mode])
    assert r.exit_code == 2 and r.stdout_bytes == b""
    assert_one_error_line(r.stderr, "missing.toml")
    assert listing(tmp_path) == []


@pytest.mark.parametrize("mode", MODES)
def test_a_directory(tmp_path: Path, mode: str) -> None:
    (tmp_path / "conf.d").mkdir()
    r = run("conf.d", "--to", "3", *MODES[mode])
    assert r.exit_code == 2 and r.stdout_bytes == b""
    assert_one_error_line(r.stderr, "conf.d")
    assert listing(tmp_path) == ["conf.d"]


def test_unreadable_file(v2: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() == 0:  # root reads a mode-000 file anyway: make open() refuse instead
        def refuse(name: str) -> bytes:
            raise PermissionError(13, "Permission denied", name)
        from migrator.cli import run as run_module
        monkeypatch.setattr(run_module, "_read", refuse)
    v2.chmod(0)
    try:
        r = run("v2.toml", "--to", "3", "--in-place")
    finally:
        v2.chmod(0o644)
    assert r.exit_code == 2
    assert_one_error_line(r.stderr, "v2.toml")
    assert v2.read_bytes() == V2.encode()


def test_a_file_that_vanishes_before_it_is_read(v2: Path, v3: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from migrator.cli import run as run_module
    real_read = run_module._read

    def vanishing(name: str) -> bytes:
        if name == "v2.toml":
            os.unlink(name)
        return real_read(name)

    monkeypatch.setattr(run_module, "_read", vanishing)
    r = run("--to", "3", "--check", "-q", "v2.toml", "v3.toml")
    assert r.exit_code == 2
    assert_one_error_line(r.stderr, "v2.toml")


def test_a_loss_is_exit_3_and_writes_nothing(tmp_path: Path) -> None:
    p = tmp_path / "lossy.toml"
    p.write_text(LOSSY)
    before = snapshot(p)
    for mode in MODES.values():
        r = run("lossy.toml", "--to", "2", *mode)
        assert r.exit_code == 3 and r.stdout_bytes == b""
        assert_one_error_line(r.stderr, "lossy.toml")
        assert snapshot(p) == before and listing(tmp_path) == ["lossy.toml"]


@pytest.mark.parametrize("args", [
    ["v2.toml", "--to", "9"],
    ["v2.toml"],
    ["--to", "3"],
    ["v2.toml", "--to", "3", "--backup", ".bak"],
    ["v2.toml", "--to", "3", "--in-place", "--backup", ""],
    ["v2.toml", "--to", "3", "--in-place", "--backup", "/x"],
    ["v2.toml", "--to", "3", "--in-place", "-o", "out.toml"],
    ["v2.toml", "--to", "3", "--in-place", "--check"],
    ["v2.toml", "--to", "3", "-o", "out.toml", "--diff"],
    ["-", "-", "--to", "3", "--check"],
    ["v2.toml", "--to", "3", "--no-such-option"],
])
def test_usage_errors_exit_2(v2: Path, tmp_path: Path, args: list[str]) -> None:
    before = snapshot(v2)
    r = run(*args, input=V2.encode())
    assert r.exit_code == 2 and r.stdout_bytes == b""
    assert "Traceback" not in r.stderr
    assert snapshot(v2) == before and listing(tmp_path) == ["v2.toml"]


# --- bugs -------------------------------------------------------------------------------------

def test_an_internal_error_is_one_line_without_traceback(v2: Path, v3: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*a, **kw):
        raise KeyError("oops")

    monkeypatch.setattr("migrator.pipeline.migrate", broken)
    before = snapshot(v2)
    r = run("v2.toml", "--to", "3", "--in-place")
    assert r.exit_code == 2 and r.stdout_bytes == b""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("containerd-migrate: internal error: ")
    assert "Traceback" not in r.stderr
    assert snapshot(v2) == before

    r = run("--to", "3", "--check", "v2.toml", "v3.toml")  # a batch reports each file, goes on
    assert r.exit_code == 2
    assert sum(line.startswith("containerd-migrate: internal error: ")
               for line in r.stderr.splitlines()) == 2

    r = run("v2.toml", "--to", "3", env={cli.DEBUG_ENV: "1"})
    assert r.exit_code == 2 and "Traceback" in r.stderr and "KeyError" in r.stderr


# --- write_atomic -----------------------------------------------------------------------------

def test_write_atomic_replaces_and_keeps_the_mode(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_bytes(b"old\n")
    p.chmod(0o600)
    assert write_atomic(p, b"new\r\n") == str(p)
    assert p.read_bytes() == b"new\r\n"
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert listing(tmp_path) == ["c.toml"]


def test_write_atomic_new_file_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "n.toml", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "n.toml").stat().st_mode) == 0o640


def test_write_atomic_through_a_symlink_writes_the_target(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "c.toml"
    target.write_bytes(b"old\n")
    link = tmp_path / "c.toml"
    link.symlink_to(target)
    written = write_atomic(link, b"new\n", backup_suffix=".bak")
    assert written == os.path.realpath(target)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new\n"
    assert (tmp_path / "real" / "c.toml.bak").read_bytes() == b"old\n"


def test_write_atomic_backup(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_bytes(b"old\n")
    p.chmod(0o640)
    write_atomic(p, b"new\n", backup_suffix="~")
    assert (tmp_path / "c.toml~").read_bytes() == b"old\n"
    assert stat.S_IMODE((tmp_path / "c.toml~").stat().st_mode) == 0o640
    write_atomic(tmp_path / "fresh.toml", b"x", backup_suffix="~")  # nothing to back up
    assert listing(tmp_path) == ["c.toml", "c.toml~", "fresh.toml"]


@pytest.mark.parametrize("victim", ["replace", "fsync", "fchmod"])
def test_write_atomic_failure_keeps_the_original(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 victim: str) -> None:
    p = tmp_path / "c.toml"
    p.write_bytes(b"old\n")
    before = snapshot(p)

    def boom(*a, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, victim, boom)
    with pytest.raises(OSError, match="No space"):
        write_atomic(p, b"new\n", backup_suffix=".bak")
    monkeypatch.undo()
    assert snapshot(p) == before
    assert listing(tmp_path) == ["c.toml"]


def test_write_atomic_refuses_a_directory_and_a_device(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        write_atomic(tmp_path, b"x")
    with pytest.raises(OSError):
        write_atomic(os.devnull, b"x")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert listing(tmp_path) == []


# --- real processes ---------------------------------------------------------------------------

def cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "migrator.cli", *args]


def test_process_redirect_and_exit_codes(v2: Path, v3: Path, tmp_path: Path) -> None:
    with open(tmp_path / "out.toml", "wb") as out:
        p = subprocess.run(cmd("v2.toml", "--to", "3"), stdout=out, stderr=subprocess.PIPE,
                           cwd=tmp_path)
    assert p.returncode == 0 and p.stderr.strip()
    assert (tmp_path / "out.toml").read_bytes() == expected_v3()
    p = subprocess.run(cmd("-", "--to", "3", "--check"), input=V2.encode(),
                       capture_output=True, cwd=tmp_path)
    assert p.returncode == 1 and p.stdout == b""
    p = subprocess.run(cmd("--to", "3", "--check", "v3.toml", "out.toml"), capture_output=True,
                       cwd=tmp_path)
    assert p.returncode == 0


def test_process_bad_input_has_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_bytes(b"version = 2\n\xff\n")
    p = subprocess.run(cmd("bad.toml", "--to", "3"), capture_output=True, cwd=tmp_path,
                       env={k: v for k, v in os.environ.items() if k != cli.DEBUG_ENV})
    assert p.returncode == 2 and p.stdout == b""
    assert_one_error_line(p.stderr.decode(), "bad.toml")


def test_help_and_version_do_not_load_the_heavy_libraries() -> None:
    probe = ("import sys, migrator.cli.commands; "
             "print(sorted(m for m in ('tomlkit', 'lark', 'jsonschema', 'deepdiff') "
             "if m in sys.modules))")
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                       check=True)
    assert p.stdout.strip() == "[]"
    p = subprocess.run(cmd("--help"), capture_output=True, text=True)
    assert p.returncode == 0 and "--to" in p.stdout and "--in-place" in p.stdout
    p = subprocess.run(cmd("--version"), capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.strip().startswith("containerd-migrate ")


def test_process_stdout_closed_early_is_quiet(tmp_path: Path) -> None:
    big = "version = 2\n" + "".join(f"# comment {i}\n" for i in range(20000)) + V2[12:]
    (tmp_path / "big.toml").write_text(big)
    p = subprocess.Popen(cmd("big.toml", "--to", "3", "-q"), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=tmp_path)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()  # like `| head`: the output (> 64 KiB) cannot all fit in the pipe
    err = p.stderr.read()
    assert p.wait(timeout=60) == 2
    assert b"Traceback" not in err and b"Broken pipe" not in err and err == b""


def test_hosts_dir_writes_hosts_files_before_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n'
                      '  endpoint = ["https://mirror.example.com"]\n')
    hosts = tmp_path / "certs.d"
    diff = run(str(config), "--to", "3", "--hosts-dir", str(hosts), "--diff")
    assert diff.exit_code == 0 and "docker.io/hosts.toml" in diff.stdout
    assert not hosts.exists()  # --diff writes nothing
    check = run(str(config), "--to", "3", "--hosts-dir", str(hosts), "--check")
    assert check.exit_code == 1
    done = run(str(config), "--to", "3", "--hosts-dir", str(hosts), "--in-place")
    assert done.exit_code == 0
    assert 'server = "https://registry-1.docker.io"' in (hosts / "docker.io" / "hosts.toml").read_text()
    assert f'config_path = "{hosts}"' in config.read_text() and "mirrors" not in config.read_text()
    assert run(str(config), "--to", "3", "--hosts-dir", str(hosts), "--check").exit_code == 0


def test_with_imports_migrates_the_set(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    root = tmp_path / "config.toml"
    root.write_text('version = 2\nimports = ["conf.d/*.toml"]\n')
    drop = tmp_path / "conf.d" / "10-cri.toml"
    drop.write_text('version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "p:1"\n')
    assert run(str(root), "--to", "3", "--with-imports", "--check").exit_code == 1
    assert run(str(root), "--to", "3", "--with-imports").exit_code == 2  # stdout takes one file
    assert run(str(root), "--to", "3", "--with-imports", "--in-place").exit_code == 0
    assert "pinned_images" in drop.read_text() and "version = 3" in root.read_text()


@pytest.mark.parametrize("data,args,expected", [
    (b"", ["--to", "3", "--in-place"], b"version = 3\n"),
    (b"", ["--to", "1", "--in-place"], b""),
    (b"# c", ["--to", "2", "--in-place"], b"# c\nversion = 2"),
    (b"", ["--set", "sandbox_image=registry.k8s.io/pause:3.10", "--to", "3", "--in-place"],
     b'version = 3\n[plugins."io.containerd.cri.v1.images".pinned_images]\n'
     b'sandbox = "registry.k8s.io/pause:3.10"\n'),
])
def test_an_empty_file_is_a_valid_config(tmp_path: Path, data: bytes, args: list,
                                         expected: bytes) -> None:
    p = tmp_path / "config.toml"
    p.write_bytes(data)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        r = run(p.name, *args)
        lint = run(p.name, "--lint")
    finally:
        os.chdir(cwd)
    assert r.exit_code == 0, r.stderr
    assert p.read_bytes() == expected
    assert lint.exit_code == 0 and lint.stdout == ""

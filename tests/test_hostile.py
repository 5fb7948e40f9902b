"""Hostile input through the real command line: every invalid case of the TOML compliance suite
(toml-test, the TOML 1.0 list) and our own bad files, in every output mode.

For bad input the contract is (README, DEVELOPERS.md "Standards"): exit 2, nothing on stdout,
exactly one line on stderr (`file:line:col: message` wherever there is a position), no
traceback, nothing written anywhere, and the input byte-identical (bytes, mtime, inode).

Valid TOML that is odd (comments everywhere, quoted and dotted keys, inline tables) must migrate
or be refused in the same clean way. A value of a type containerd refuses to start with
(`runtime_type = 5`, `options = "x"`, `runtimes = [...]`) is bad input like the rest (exit 2,
its position); one containerd reads anyway (a runtime option of the wrong type, an unknown
plugin's table given as a string in a version 3 file) moves as it is, with a schema warning at
its line (tests/test_type_refusals.py has the table of both, from the binaries). The library
must never raise anything but ConfigError (LossError included) for any input.
"""
from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import migrator
from migrator.cli import commands as cli
from migrator.core import loading as load
from migrator.core.errors import ConfigError

from .helpers import REPO, shared_path

# --- helpers ----------------------------------------------------------------------------------


def run(*args: str, input: bytes | None = None):
    return CliRunner().invoke(cli.main, list(args), input=input, catch_exceptions=False)


def snapshot(path: Path) -> tuple[bytes, int, int]:
    st = path.stat()
    return path.read_bytes(), st.st_mtime_ns, st.st_ino


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def assert_one_error_line(stderr: str, file: str, position: bool | None = None) -> str:
    """One line, `file:line:col: message` (position True), `file: message` (False), or either."""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    pos = {True: r":\d+:\d+", False: "", None: r"(:\d+:\d+)?"}[position]
    assert re.match(rf"^{re.escape(file)}{pos}: \S", lines[0]), lines[0]
    return lines[0]


@pytest.fixture(autouse=True)
def _cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)


MODES = {
    "stdout": [],
    "output": ["-o", "out.toml"],
    "in-place": ["--in-place", "--backup", ".bak"],
    "diff": ["--diff"],
    "check": ["--check"],
    "report-json": ["-q", "--report-json", "report.json"],
}

# --- the TOML compliance suite ----------------------------------------------------------------

def toml_test(kind: str) -> list[Path]:
    base = shared_path("corpus", "toml-test", "tests")
    if base is None:
        return []
    listed = (base / "files-toml-1.0.0").read_text().split()
    return [base / p for p in listed if p.startswith(kind + "/") and p.endswith(".toml")]


def case_id(path: Path) -> str:
    return "/".join(path.parts[-2:])


INVALID = toml_test("invalid")
VALID = toml_test("valid")


def test_the_compliance_suite_is_there_or_skipped() -> None:
    if shared_path("corpus", "toml-test", "tests") is None:
        pytest.skip("../shared/corpus/toml-test is not present")
    assert len(INVALID) > 400 and len(VALID) > 200


@pytest.mark.parametrize("path", INVALID, ids=case_id)
def test_invalid_toml_is_one_line_with_a_position_and_writes_nothing(
        tmp_path: Path, path: Path) -> None:
    p = tmp_path / "config.toml"
    p.write_bytes(path.read_bytes())
    before = snapshot(p)
    r = run(p.name, "--to", "3", "--in-place", "--backup", ".bak")
    assert r.exit_code == 2 and r.stdout_bytes == b""
    assert_one_error_line(r.stderr, p.name, position=True)
    assert snapshot(p) == before and listing(tmp_path) == [p.name]
    with pytest.raises(ConfigError) as err:  # the library: a ConfigError, never a LossError
        migrator.migrate(path.read_bytes(), to=3)
    assert type(err.value) is ConfigError and err.value.line is not None


# Valid TOML 1.0 documents with no statement: containerd reads them as every default (the
# NVIDIA container toolkit's tests ship one), so they migrate to a file with only the version line
# (issue 15 reversed the earlier refusal).
EMPTY_DOCUMENTS = {"empty-crlf.toml", "empty-lf.toml", "empty-nothing.toml", "empty-space.toml",
                   "empty-tab.toml"}


@pytest.mark.parametrize("path", VALID, ids=case_id)
def test_valid_toml_migrates_or_is_refused_cleanly(path: Path) -> None:
    data = path.read_bytes()
    try:
        result = migrator.migrate(data, to=3)
    except ConfigError as exc:
        pytest.fail(f"a valid TOML document is refused: {exc}")
    assert tomllib.loads(result.text).get("version") == 3
    if path.name in EMPTY_DOCUMENTS:
        assert result.text.rstrip("\r\n").endswith("version = 3")
        assert result.text.startswith(data.decode())


def test_valid_toml_accepted_count() -> None:
    """How many valid TOML 1.0 cases migrate to version 3 (the README's claim, in numbers)."""
    if not VALID:
        pytest.skip("../shared/corpus/toml-test is not present")
    accepted = refused = crashed = 0
    for path in VALID:
        try:
            migrator.migrate(path.read_bytes(), to=3)
            accepted += 1
        except ConfigError:
            refused += 1
        except Exception:  # a bug: test_valid_toml_migrates_or_is_refused_cleanly names it
            crashed += 1
    print(f"toml-test valid (TOML 1.0): {accepted} migrated, {refused} refused, "
          f"{crashed} crashed, of {len(VALID)}")
    assert accepted == len(VALID) and refused == crashed == 0


# --- our own bad files ------------------------------------------------------------------------

CRI = 'plugins."io.containerd.grpc.v1.cri"'
DEEP = 1000

#: name -> (bytes, whether the error has a position)
BAD: dict[str, tuple[bytes, bool]] = {
    "version-0": (b"version = 0\n", True),
    "version-minus-1": (b"version = -1\n", True),
    "version-4.5": (b"version = 4.5\n", True),
    "version-string": (b'version = "3"\n', True),
    "version-true": (b"version = true\n", True),
    "version-99": (b"version = 99\n", True),
    "version-array": (b"version = [3]\n", True),
    "version-table": (b"[version]\nx = 1\n", True),
    "version-datetime": (b"version = 1979-05-27\n", True),
    "version-nan": (b"version = nan\n", True),
    "version-inf": (b"version = inf\n", True),
    "version-huge": (b"version = 99999999999999999999999\n", True),
    "version-twice": (b"version = 2\nversion = 3\n", True),
    "version-leading-zero": (b"version = 02\n", True),
    "key-redefined-as-table": (f'version = 2\n[{CRI}]\nsandbox_image = "p"\n'
                               f'[{CRI}.sandbox_image]\nx = 1\n'.encode(), True),
    "table-redefined-as-key": (f'version = 2\n[{CRI}.cni]\nbin_dir = "/x"\n[{CRI}]\n'
                               f'cni = "y"\n'.encode(), True),
    "duplicate-table": (f"version = 2\n[{CRI}]\n[{CRI}]\n".encode(), True),
    "duplicate-key": (f'version = 2\n[{CRI}]\nsandbox_image = "a"\nsandbox_image = "b"\n'
                      .encode(), True),
    "inline-table-extended": (f'version = 2\n[{CRI}]\ncni = {{bin_dir = "/x"}}\n'
                              f'[{CRI}.cni]\nconf_dir = "/y"\n'.encode(), True),
    "plugins-string": (b'version = 2\nplugins = "cri"\n', True),
    "plugins-array": (b"version = 2\nplugins = []\n", True),
    "plugins-array-of-tables": (b"version = 2\n[[plugins]]\nx = 1\n", True),
    "plugins-integer-v1": (b"plugins = 1\n", True),
    "nul-byte": (b"version = 2\n\x00\n", True),
    "nul-in-string": (b'version = 2\nroot = "/var/\x00lib"\n', True),
    "nul-in-comment": (b"version = 2\n# a\x00b\n", True),
    "control-in-string": (b'version = 2\nroot = "/var/\x01lib"\n', True),
    "del-in-comment": (b"version = 2\n# a\x7fb\n", True),
    "invalid-utf8": (b'version = 2\nroot = "/var/lib/\xff"\n', True),
    "overlong-utf8": (b'version = 2\nroot = "\xc0\xaf"\n', True),
    "utf8-surrogate": (b'version = 2\nroot = "\xed\xa0\x80"\n', True),
    "truncated-utf8": (b'version = 2\n# \xe2\x82', True),
    "binary-garbage": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", True),
    "utf16-le": (b"\xff\xfe" + "version = 2\n".encode("utf-16-le"), True),
    "utf16-be": (b"\xfe\xff" + "version = 2\n".encode("utf-16-be"), True),
    "utf16-no-bom": ("version = 2\n".encode("utf-16-le"), True),
    "utf32": ("version = 2\n".encode("utf-32"), True),
    "two-boms": (b"\xef\xbb\xbf\xef\xbb\xbfversion = 2\n", True),
    "bare-cr-line-ends": (b"version = 2\r[plugins]\r", True),
    "lone-surrogate-escape": (b'version = 2\nroot = "\\uD800"\n', True),
    "bad-escape": (b'version = 2\nroot = "\\x41"\n', True),
    "unterminated-string": (b'version = 2\nroot = "/var/lib\n', True),
    "unterminated-multiline": (b'version = 2\nroot = """/var/lib\n\n', True),
    "unclosed-array": (b"version = 2\ndisabled_plugins = [\"a\",\n", True),
    "unclosed-inline": (b"version = 2\nx = {a = 1\n", True),
    "unclosed-header": (b"version = 2\n[plugins\n", True),
    "missing-value": (b"version = 2\nroot =\n", True),
    "two-values-one-line": (b"version = 2 root = 1\n", True),
    "integer-over-4300-digits": (b"version = 2\noom_score = " + b"9" * 5000 + b"\n", True),
    f"array-nested-{DEEP}": (b"version = 2\nx = " + b"[" * DEEP + b"]" * DEEP + b"\n", True),
    f"inline-nested-{DEEP}": (b"version = 2\nx = " + b"{a = " * DEEP + b"1" + b"}" * DEEP
                              + b"\n", True),
    f"mixed-nested-{DEEP}": (b"version = 2\nx = " + b"[{a = " * (DEEP // 2) + b"1"
                             + b"}]" * (DEEP // 2) + b"\n", True),
    f"dotted-key-{DEEP}": (b"version = 2\n" + b".".join([b"k"] * DEEP) + b" = 1\n", True),
    f"header-{DEEP}": (b"version = 2\n[" + b".".join([b"k"] * DEEP) + b"]\n", True),
    f"nested-under-cri-{DEEP}": (f'version = 2\n[{CRI}.containerd.runtimes.runc.options]\n'
                                 .encode() + b".".join([b"k"] * DEEP) + b" = 1\n", True),
    "array-nested-100000-unclosed": (b"x = " + b"[" * 100_000, True),
    # values of a type containerd refuses to start with (tests/test_type_refusals.py)
    "runtime_type-number": (f"version = 2\n[{CRI}.containerd.runtimes.runc]\n"
                            "  runtime_type = 5\n".encode(), True),
    "options-string": (f'version = 2\n[{CRI}.containerd.runtimes.runc]\n'
                       '  runtime_type = "io.containerd.runc.v2"\n  options = "x"\n'.encode(),
                       True),
    "runtimes-array": (f"version = 2\n[{CRI}.containerd]\n  runtimes = [1, 2]\n".encode(), True),
    "runtimes-array-of-tables": (f"version = 2\n[[{CRI}.containerd.runtimes]]\n"
                                 '  runtime_type = "x"\n'.encode(), True),
    "cri-string": (b'version = 2\n[plugins]\n"io.containerd.grpc.v1.cri" = "x"\n', True),
    "sandbox_image-number": (f"version = 2\n[{CRI}]\n  sandbox_image = 5\n".encode(), True),
    "registry-string": (f'version = 2\n[{CRI}]\n  registry = "x"\n'.encode(), True),
    "mirrors-string": (f'version = 2\n[{CRI}.registry]\n  mirrors = "x"\n'.encode(), True),
    "disabled_plugins-string": (b'version = 2\ndisabled_plugins = "cri"\n', True),
    "imports-string": (b'version = 2\nimports = "x.toml"\n', True),
    "datetime-value": (f"version = 2\n[{CRI}]\n  sandbox_image = 1979-05-27T07:32:00Z\n"
                       .encode(), True),
    "float-for-integer": (f"version = 2\n[{CRI}]\n  max_container_log_line_size = 1.5\n"
                          .encode(), True),
    "inf-for-integer": (b"version = 2\noom_score = inf\n", True),
    "nan-for-integer": (b"version = 2\noom_score = nan\n", True),
    "disabled_plugins-numbers": (b"version = 2\ndisabled_plugins = [1, 2]\n", True),
    "imports-numbers": (b"version = 2\nimports = [1]\n", True),
    "bin_dir-array": (f'version = 2\n[{CRI}.cni]\n  bin_dir = ["/opt/cni/bin"]\n'.encode(), True),
    "bin_dir-table": (f"version = 2\n[{CRI}.cni]\n  bin_dir = {{a = 1}}\n".encode(), True),
    "grpc-address-table": (b"version = 2\n[grpc]\n  address = {}\n", True),
    "v3-runtimes-string": (b'version = 3\n[plugins."io.containerd.cri.v1.runtime".containerd]\n'
                           b'  runtimes = "runc"\n', True),
    "secret-then-garbage": (b'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.configs'
                            b'."r.io".auth]\n  password = "hunter2-secret" oops\n', True),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", BAD)
def test_bad_file_is_one_line_and_writes_nothing(tmp_path: Path, case: str, mode: str) -> None:
    data, position = BAD[case]
    p = tmp_path / "config.toml"
    p.write_bytes(data)
    os.utime(p, ns=(1_000_000_000, 1_000_000_000))  # an mtime a rewrite could not keep by chance
    before = snapshot(p)
    r = run(p.name, "--to", "3", *MODES[mode])
    assert r.exit_code == 2, r.stderr
    assert r.stdout_bytes == b""
    line = assert_one_error_line(r.stderr, p.name, position)
    assert "hunter2" not in line
    assert snapshot(p) == before
    assert listing(tmp_path) == [p.name]


@pytest.mark.parametrize("case", BAD)
def test_bad_file_raises_config_error_in_the_library(case: str) -> None:
    data, position = BAD[case]
    for to in (1, 2, 3, 4):
        with pytest.raises(ConfigError) as err:
            migrator.migrate(data, to=to, file="config.toml")
        assert type(err.value) is ConfigError
        assert (err.value.line is not None) == position, str(err.value)
        assert "\n" not in str(err.value) and "hunter2" not in str(err.value)


def test_the_deep_nesting_errors_point_at_the_place(tmp_path: Path) -> None:
    def where(data: bytes) -> str:
        with pytest.raises(ConfigError) as err:
            migrator.migrate(data, to=3)
        return f"{err.value.line}:{err.value.col} {err.value.message}"

    arrays = BAD[f"array-nested-{DEEP}"][0]
    assert where(arrays).startswith(f"2:{len('x = ') + load.MAX_DEPTH + 1} values nest more "
                                    f"than {load.MAX_DEPTH} levels")
    assert where(BAD[f"dotted-key-{DEEP}"][0]).startswith("2:1 ")
    assert where(BAD[f"header-{DEEP}"][0]).startswith("2:2 ")
    assert where(BAD["integer-over-4300-digits"][0]).startswith("2:13 ")
    assert where(BAD["utf16-le"][0]).startswith("1:1 ")
    assert where(BAD["invalid-utf8"][0]).startswith("2:18 ")
    assert where('version = 2\nroot = "é'.encode() + b'\xff"\n').startswith("2:10 ")


def test_nesting_up_to_the_limit_is_fine_even_on_a_deep_stack() -> None:
    """MAX_DEPTH levels must leave the recursive parts of the pipeline (tomllib, deepcopy, the
    schema validator) room to spare, even when the caller is already deep in its own stack; one
    level more is refused."""
    def keys(n: int) -> str:
        return ".".join(["k"] * n)

    builders = [  # each builds a file whose deepest value is `d` keys and indexes down
        lambda d: f"version = 2\n{keys(d)} = 1\n",
        lambda d: "version = 2\nx = " + "[" * (d - 1) + "1" + "]" * (d - 1) + "\n",
        lambda d: "version = 2\nx = " + "{a = " * (d - 1) + "1" + "}" * (d - 1) + "\n",
        lambda d: f"version = 2\n[{CRI}.containerd.runtimes.runc.options]\n{keys(d - 6)} = 1\n",
        lambda d: f"version = 2\n[{CRI}.containerd.runtimes.runc]\noptions = "
                  + "{a = " * (d - 6) + "1" + "}" * (d - 6) + "\n",
        lambda d: f'version = 2\n[{CRI}.registry.configs."r.io".auth]\n{keys(d - 6)} = "x"\n',
        lambda d: f'version = 3\n[plugins."io.containerd.cri.v1.images"]\n{keys(d - 2)} = 1\n',
        lambda d: f"version = 2\n[[{keys(d - 1)}]]\n",
    ]

    def deep(depth: int, fn):
        return deep(depth - 1, fn) if depth else fn()

    n = load.MAX_DEPTH
    for build in builders:
        for to in (1, 2, 3, 4):
            try:
                deep(400, lambda: migrator.migrate(build(n), to=to))
            except migrator.LossError:
                pass
        with pytest.raises(ConfigError, match=f"more than {n} levels deep"):
            migrator.migrate(build(n + 1), to=3)


def test_too_large_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    with open(big, "wb") as f:  # valid TOML: a comment of 16 MiB
        f.write(b"version = 2\n#" + b"x" * load.MAX_BYTES + b"\n")
    before = snapshot(big)
    for mode in ("in-place", "check"):
        r = run(big.name, "--to", "3", *MODES[mode])
        assert r.exit_code == 2 and r.stdout_bytes == b""
        line = assert_one_error_line(r.stderr, big.name, position=False)
        assert "16 MiB" in line
    assert snapshot(big) == before and listing(tmp_path) == [big.name]
    with pytest.raises(ConfigError, match="16 MiB"):  # str input too
        migrator.migrate("version = 2\n#" + "é" * (load.MAX_BYTES // 2) + "\n", to=3)


def _no_tomllib_on(marker: str, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make tomllib.loads record every call on a text holding `marker` (and refuse it)."""
    calls: list[int] = []
    real = tomllib.loads

    def loads(text, *args, **kwargs):
        if marker in text:
            calls.append(len(text))
            raise AssertionError("tomllib was given the hostile text")
        return real(text, *args, **kwargs)

    monkeypatch.setattr(tomllib, "loads", loads)
    return calls


@pytest.mark.parametrize("key", [
    ".".join(["k"] * 10_000) + " = 1",                        # 20 KB: 400 MiB and 2 s in tomllib
    "[" + ".".join(["k"] * 10_000) + "]",
    "  " + " . ".join(['"q.x"'] * 101) + " = 1",                # quoted parts, blanks, 101 parts
    "x = {a = 1, " + ".".join(["'k'"] * 101) + " = 1}",
])
def test_a_long_dotted_key_is_refused_before_it_is_parsed(tmp_path: Path, key: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """tomllib's time and memory grow with the square of a key's length (10,000 parts: 400 MiB,
    30,000: 3.5 GB): such a key is found by a scan of the text and tomllib never sees it, in
    the library, the CLI (whose secret scan parses the input too) and lint."""
    text = f"version = 2\n{key}\n"
    calls = _no_tomllib_on(key, monkeypatch)
    col = len(key) - len(key.lstrip(" [")) + 1 if "{" not in key else key.index("'") + 1
    with pytest.raises(ConfigError, match="more than 100 levels deep") as err:
        migrator.migrate(text, to=3)
    assert (err.value.line, err.value.col) == (2, col)
    p = tmp_path / "config.toml"
    p.write_text(text)
    for args in (["--to", "3"], ["--to", "3", "--in-place"], ["--lint"]):
        r = run(*args, p.name) if args == ["--lint"] else run(p.name, *args)
        assert r.exit_code == 2 and r.stdout_bytes == b""
        assert assert_one_error_line(r.stderr, p.name, True).startswith(f"{p.name}:2:{col}: ")
    (tmp_path / "root.toml").write_text('version = 2\nimports = ["config.toml"]\n')
    r = run("--lint", "root.toml")  # CM011 reads the imported file
    assert r.exit_code == 1 and "config.toml is not valid TOML" in r.stdout_bytes.decode()
    assert calls == []


@pytest.mark.parametrize("text", [
    'x = "' + ".".join(["k"] * 200) + '"',                       # in strings, comments:
    "x = '" + ".".join(["k"] * 200) + "'",                       # not keys
    'x = """\n' + ".".join(["k"] * 200) + '\n"""',
    'x = """a""""\ny = "' + ".".join(["k"] * 200) + '"',          # 4 quotes close a string
    "# " + ".".join(["k"] * 200),
    ".".join(["k"] * 99) + " = 1",                                # 99 parts + root = fine
    "x = [" + ", ".join(["1.5"] * 200) + "]",
])
def test_dots_that_are_no_long_key_are_fine(text: str) -> None:
    assert load.long_key(f"version = 2\n{text}\n") is None
    migrator.migrate(f"version = 2\n{text}\n", to=3)


def test_a_10_mb_valid_file_migrates(tmp_path: Path) -> None:
    """Big but under the limit: it works, in place (a few seconds)."""
    ten = 10 * 1024 * 1024
    text = (f'version = 2\n[{CRI}]\n  sandbox_image = "registry.k8s.io/pause:3.9"\n'
            + ("# " + "x" * 77 + "\n") * (ten // 2 // 80)
            + f'[{CRI}.containerd.runtimes.runc.options]\n  BinaryName = "' + "b" * (ten // 2)
            + '"\n')
    p = tmp_path / "config.toml"
    p.write_text(text)
    assert p.stat().st_size >= ten
    r = run(p.name, "--to", "3", "--in-place", "-q")
    assert r.exit_code == 0, r.stderr
    out = p.read_text()
    assert out.startswith("version = 3\n") and len(out) >= ten
    assert tomllib.loads(out)["plugins"]["io.containerd.cri.v1.images"]["pinned_images"] == {
        "sandbox": "registry.k8s.io/pause:3.9"}
    assert listing(tmp_path) == [p.name]


def test_dev_zero_is_refused_as_too_large() -> None:
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    r = run("/dev/zero", "--to", "3", "--check")
    assert r.exit_code == 2 and r.stdout_bytes == b""
    assert "16 MiB" in assert_one_error_line(r.stderr, "/dev/zero", position=False)


# --- files that are not there, not readable, or go away -------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_a_directory_and_a_missing_file(tmp_path: Path, mode: str) -> None:
    (tmp_path / "conf.d").mkdir()
    for name in ("conf.d", "missing.toml", "conf.d/"):
        r = run(name, "--to", "3", *MODES[mode])
        assert r.exit_code == 2 and r.stdout_bytes == b""
        assert_one_error_line(r.stderr, name, position=False)
    assert listing(tmp_path) == ["conf.d"] and listing(tmp_path / "conf.d") == []


def test_an_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """We run as root, where mode 000 does not stop a read: make open() refuse as it would."""
    p = tmp_path / "config.toml"
    p.write_text('version = 2\n')
    p.chmod(0)
    real_open = open

    def refusing_open(file, *args, **kwargs):
        if os.fspath(file) == p.name:
            raise PermissionError(13, "Permission denied", p.name)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refusing_open)
    before = p.stat().st_mtime_ns
    for mode in MODES.values():
        r = run(p.name, "--to", "3", *mode)
        assert r.exit_code == 2 and r.stdout_bytes == b""
        assert "Permission denied" in assert_one_error_line(r.stderr, p.name, position=False)
    monkeypatch.undo()
    assert p.stat().st_mtime_ns == before and stat_mode(p) == 0
    assert listing(tmp_path) == [p.name]


def stat_mode(p: Path) -> int:
    return p.stat().st_mode & 0o7777


# --- FIFOs: a FILE given may be one (read once); a file found by the run never is read ---------

@contextlib.contextmanager
def fifo(path: Path, content: bytes = b"version = 2\n", once: bool = False):
    """A FIFO at `path` with a writer waiting in a thread; the event says whether anything
    opened it for reading (the writer then hands over `content`: once, or every time, so that
    a regression fails instead of hanging)."""
    os.mkfifo(path)
    opened, stop = threading.Event(), threading.Event()

    def writer() -> None:
        while not stop.is_set() and not (once and opened.is_set()):
            with contextlib.suppress(OSError):
                with open(path, "wb") as f:  # waits until a reader opens the FIFO
                    if not stop.is_set():
                        opened.set()
                    f.write(content)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        yield opened
    finally:
        stop.set()
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # release the writer
        thread.join(30)
        os.close(fd)


@pytest.mark.parametrize("args", [["--to", "3", "--with-imports", "--check"],
                                  ["--to", "3", "--with-imports", "--in-place"],
                                  ["--to", "3", "--with-imports", "--diff"],
                                  ["--lint"], ["--lint", "--with-imports"]])
def test_a_fifo_matched_by_an_import_glob_is_never_read(tmp_path: Path, args: list) -> None:
    (tmp_path / "conf.d").mkdir()
    root = tmp_path / "config.toml"
    root.write_text(f'version = 2\nimports = ["conf.d/*.toml"]\n[{CRI}]\n  sandbox_image = '
                    '"registry.k8s.io/pause:3.9"\n')
    (tmp_path / "conf.d" / "10-a.toml").write_text("version = 2\n")
    before = snapshot(root)
    with fifo(tmp_path / "conf.d" / "20-b.toml") as opened:
        r = run(*args, root.name) if args[0] == "--lint" else run(root.name, *args)
        assert not opened.is_set()
    out = r.stdout_bytes.decode() + r.stderr
    assert "20-b.toml" in out and "not a regular file" in out
    assert r.exit_code == (1 if args[0] == "--lint" else 2)
    assert snapshot(root) == before


def test_a_fifo_given_as_the_file_is_read_once(tmp_path: Path) -> None:
    """`containerd-migrate <(cmd) --to 3`: the FILE may be a FIFO (README "Limits")."""
    with fifo(tmp_path / "in.toml", V2_PIPE.encode(), once=True) as opened:
        r = run("in.toml", "--to", "3", "-q")
        assert opened.is_set()
    assert r.exit_code == 0 and r.stdout_bytes == migrator.migrate(V2_PIPE, to=3).text.encode()
    with fifo(tmp_path / "lint.toml", V2_PIPE.encode(), once=True) as opened:
        r = run("--lint", "lint.toml")
        assert opened.is_set() and r.exit_code in (0, 1) and r.stderr == ""
    with fifo(tmp_path / "rewrite.toml", V2_PIPE.encode()) as opened:
        r = run("rewrite.toml", "--to", "3", "--in-place")  # cannot be rewritten: not read
        assert not opened.is_set()
    assert r.exit_code == 2 and "not a regular file" in r.stderr
    with fifo(tmp_path / "root.toml", V2_PIPE.encode()) as opened:
        r = run("root.toml", "--to", "3", "--with-imports", "--check")
        assert not opened.is_set()
    assert r.exit_code == 2 and "not a regular file" in r.stderr


def test_a_fifo_where_a_hosts_file_is_is_never_read(tmp_path: Path) -> None:
    """hosts.py refuses a hosts.toml that is not a regular file; the CLI, which compares the
    files on disk for --diff and the report, must not open it before that either."""
    (tmp_path / "config.toml").write_text(f'version = 2\n[{CRI}.registry.mirrors."docker.io"]\n'
                                          '  endpoint = ["https://m.example.com"]\n')
    (tmp_path / "certs.d" / "docker.io").mkdir(parents=True)
    for args in (["--check"], ["--diff"], ["--in-place"]):
        with fifo(tmp_path / "certs.d" / "docker.io" / "hosts.toml") as opened:
            r = run("config.toml", "--to", "3", "--hosts-dir", str(tmp_path / "certs.d"),
                    *args)
            assert not opened.is_set()
        os.unlink(tmp_path / "certs.d" / "docker.io" / "hosts.toml")
        assert r.exit_code == 2 and r.stdout_bytes == b"" and "not a regular file" in r.stderr


V2_PIPE = f'version = 2\n[{CRI}]\n  sandbox_image = "registry.k8s.io/pause:3.9"\n'


# --- import names the system refuses, values too long to show -------------------------------

def test_an_import_name_over_255_bytes(tmp_path: Path) -> None:
    name = "x" * 300 + ".toml"
    (tmp_path / "config.toml").write_text(f'version = 2\nimports = ["{name}", "conf.d/{name}",'
                                          f' "conf.d/*{name}"]\n')
    r = run("--lint", "config.toml")
    assert r.exit_code == 1 and "internal error" not in r.stderr and r.stderr == ""
    assert "CM011 error import" in r.stdout_bytes.decode()
    for quiet in ([], ["-q"]):
        r = run("config.toml", "--to", "3", "--with-imports", "--check", *quiet)
        assert r.exit_code == 2 and "internal error" not in r.stderr
        assert "imports-missing" in r.stderr  # -q keeps the errors: exit 2 always says why


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_a_huge_value_is_cut_in_lint_messages(tmp_path: Path, fmt: str) -> None:
    big = "x" * 1_000_000  # (10 MB made a 31 MB line: every message quoting it)
    (tmp_path / "config.toml").write_text(f'version = 2\n[{CRI}]\n  sandbox_image = "{big}"\n'
                                          f'[{CRI}.containerd]\n  default_runtime_name = "{big}"\n')
    r = run("--lint", "config.toml", "--format", fmt)
    assert r.exit_code == 1, r.stderr[:300]
    out = r.stdout_bytes.decode()
    assert "CM009" in out and "CM006" in out
    assert len(out) < 50_000 and "x" * 300 not in out and "x" * 150 + "..." in out
    assert len(r.stderr) < 1000


def test_a_huge_value_is_cut_in_error_messages(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('version = "' + "x" * 1_000_000 + '"\n')
    r = run("config.toml", "--to", "3")
    assert r.exit_code == 2
    line = assert_one_error_line(r.stderr, "config.toml", True)
    assert len(line) < 1000 and "x" * 150 + "..." in line


V2 = (f'version = 2\n[{CRI}]\n  sandbox_image = "registry.k8s.io/pause:3.9"\n')


@pytest.mark.parametrize("how", ["deleted", "replaced", "edited"])
def test_a_file_that_changes_between_read_and_write_is_not_overwritten(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """--in-place re-checks the file before it renames: a file deleted meanwhile is not
    re-created, one replaced or edited meanwhile is not overwritten (exit 2, one line)."""
    p = tmp_path / "config.toml"
    p.write_text(V2)
    real_migrate = migrator.pipeline.migrate

    def meanwhile(*args, **kwargs):
        result = real_migrate(*args, **kwargs)
        if how == "deleted":
            p.unlink()
        elif how == "replaced":
            (tmp_path / "new").write_text("version = 2\n# theirs\n")
            os.replace(tmp_path / "new", p)
        else:
            with open(p, "a") as f:
                f.write("# theirs\n")
        return result

    monkeypatch.setattr("migrator.pipeline.migrate", meanwhile)
    r = run(p.name, "--to", "3", "--in-place", "--backup", ".bak")
    assert r.exit_code == 2 and r.stdout_bytes == b""
    line = assert_one_error_line(r.stderr, p.name, position=False)
    assert ("vanished" if how == "deleted" else "changed") in line
    if how == "deleted":
        assert listing(tmp_path) == []
    else:
        assert "# theirs" in p.read_text() and listing(tmp_path) == [p.name]


# --- valid but odd: it migrates, and wrong types containerd reads are reported, not crashed on --

#: name -> (text, [findings the report must hold, as substrings])
ODD: dict[str, tuple[str, list[str]]] = {
    "only-comments": ("# nothing here\n# at all\n", []),
    "comments-everywhere": (
        f"# head\nversion = 2 # v\n# before\n[{CRI}] # header\n  # inside\n"
        f'  sandbox_image = "p" # value\n# tail', []),
    "crlf-and-bom": ("\ufeffversion = 2\r\n[" + CRI + ']\r\n  sandbox_image = "p"\r\n', []),
    "quoted-version-key": ('"version" = 2\n', []),
    "literal-version-key": ("'version' = 2\n", []),
    "hex-version": ("version = 0x2\n", []),
    "plus-version": ("version = +2\n", []),
    "dotted-from-the-top": (f'version = 2\n{CRI}.sandbox_image = "p"\n', []),
    "version-after-dotted": (f'{CRI}.sandbox_image = "p"\nversion = 2\n', []),
    "plugins-inline": ('plugins = {"io.containerd.grpc.v1.cri" = {sandbox_image = "p"}}\n'
                       "version = 2\n", []),
    "unicode-keys-and-values": (f'version = 2\n[{CRI}.containerd.runtimes."rünc ☃"]\n'
                                '  runtime_type = "io.containerd.runc.v2"\n'
                                '  "ключ" = "значение \\u00e9"\n', []),
    "huge-hex-integer": ("version = 2\noom_score = 0x" + "f" * 5000 + "\n", []),
    "unknown-plugins": ("version = 2\n[plugins.x]\n[plugins.\"a.b.c\"]\nk = 1\n", []),
    f"nested-{load.MAX_DEPTH}": ("version = 2\nx = " + "[" * (load.MAX_DEPTH - 1)
                                 + "]" * (load.MAX_DEPTH - 1) + "\n", []),
    # wrong types that containerd reads anyway: runtime options are decoded by the shim, later
    "option-of-the-wrong-type": (f"version = 2\n[{CRI}.containerd.runtimes.runc.options]\n"
                                 '  SystemdCgroup = "true"\n', ["must be a boolean"]),
    "option-table": (f"version = 2\n[{CRI}.containerd.runtimes.runc.options]\n"
                     "  SystemdCgroup = {}\n", ["must be a boolean"]),
    "duration-string-checked-later": (f'version = 2\n[{CRI}]\n  stream_idle_timeout = "soon"\n',
                                      ["Go duration"]),
    "v3-unknown-plugin-string": ('version = 3\n[plugins]\n"example.com.x.v1.foo" = "x"\n',
                                 ["must be a table"]),
    "v3-empty-table-for-a-string": ('version = 3\n[plugins."io.containerd.cri.v1.images"]\n'
                                    "  snapshotter = {}\n", ["must be a string"]),
    "v1-disabled-not-a-uri": ('disabled_plugins = ["foo.bar"]\n', []),
    "unknown-key-in-array-of-tables": (
        'version = 2\n[[plugins."io.containerd.transfer.v1.local".unpack_config]]\n'
        '  platform = "linux/amd64"\n  bogus = 1\n', ["bogus"]),
    "nested-array-of-tables": (
        'version = 2\n[[plugins."io.containerd.transfer.v1.local".unpack_config]]\n'
        '  platform = "linux/amd64"\n'
        '[[plugins."io.containerd.transfer.v1.local".unpack_config.x]]\n  y = 1\n', ["x"]),
}


@pytest.mark.parametrize("case", ODD)
def test_odd_but_valid_toml_migrates_and_reports_wrong_types(tmp_path: Path, case: str) -> None:
    text, expected = ODD[case]
    p = tmp_path / "config.toml"
    p.write_bytes(text.encode())
    to = "4" if text.startswith("version = 3") else "3"  # a file already at 3 reports nothing
    r = run(p.name, "--to", to)
    assert r.exit_code == 0, r.stderr
    assert "Traceback" not in r.stderr
    out = tomllib.loads(r.stdout_bytes.decode())
    assert out["version"] == int(to)
    for finding in expected:
        assert any(finding in line and "warning" in line
                   and re.match(r"^config\.toml:\d+:\d+: ", line.strip())
                   for line in r.stderr.splitlines()), (finding, r.stderr)
    again = run("-", "--to", to, "-q", input=r.stdout_bytes)  # and the result is stable
    assert again.exit_code == 0 and again.stdout_bytes == r.stdout_bytes


@pytest.mark.parametrize("case", ODD)
def test_odd_input_never_raises_anything_but_config_error(case: str) -> None:
    text, _ = ODD[case]
    for to in (1, 2, 3, 4):
        try:
            migrator.migrate(text, to=to)
        except ConfigError as exc:  # LossError included: a downgrade that cannot say it
            assert "\n" not in str(exc)


def test_an_internal_error_is_one_line_naming_the_file_and_what_to_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a pipeline bug looks like on the command line: one line, the file, the version to
    report it against, no secret, nothing written."""
    from migrator.checks import verify

    def broken(text: str, expected: dict, file: str) -> dict:
        raise verify.InternalError(f"{file}: emitted TOML differs from the plan: hunter2")

    monkeypatch.setattr(verify, "verify", broken)
    p = tmp_path / "config.toml"
    p.write_text(V2 + f'[{CRI}.registry.configs."r.io".auth]\n  password = "hunter2"\n')
    before = snapshot(p)
    r = run(p.name, "--to", "3", "--in-place")
    assert r.exit_code == 2 and r.stdout_bytes == b""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr and "hunter2" not in r.stderr
    assert lines[0].startswith(f"{cli.PROG}: internal error: {p.name}: ")
    from importlib import metadata
    assert f"this is a bug in containerd-migrate {metadata.version('containerd-migrate')}, " \
        in lines[0]
    assert "please report it with the input file (secrets redacted)" in lines[0]
    assert snapshot(p) == before and listing(tmp_path) == [p.name]


def test_a_lint_internal_error_says_what_to_report_too(monkeypatch: pytest.MonkeyPatch) -> None:
    import migrator.lint

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(migrator.lint, "_lint", broken)
    r = run("--lint", "-", input=b"version = 2\n")
    assert r.exit_code == 2 and len(r.stderr.splitlines()) == 1
    assert r.stderr.startswith(f"{cli.PROG}: internal error: <stdin>: KeyError")
    assert "please report it with the input file (secrets redacted)" in r.stderr


# --- found by the fuzzer (tests/fuzz_shapes.py): each was an internal error -----------------

def test_a_new_table_after_a_last_line_without_a_line_ending() -> None:
    text = f"[{CRI}.containerd]\nx = 1"  # a version 1 file: the set goes to [plugins.cri]
    out = migrator.load(text)
    out.sandbox_image = "p"
    assert tomllib.loads(out.dump())["plugins"]["cri"]["sandbox_image"] == "p"


def test_set_into_an_empty_table_of_a_version_1_file() -> None:
    """The URI table is not read by 1.x; the empty short-ID runtimes table above takes the key."""
    text = f"[plugins.cri.containerd.runtimes]\n[{CRI}.containerd.runtimes.runc]\n"
    r = run("-", "--set", "runtime.runc.runtime_type=io.containerd.runc.v2", input=text.encode())
    assert r.exit_code == 0, r.stderr
    tree = tomllib.loads(r.stdout_bytes.decode())
    assert tree["plugins"]["cri"]["containerd"]["runtimes"]["runc"] == {
        "runtime_type": "io.containerd.runc.v2"}


@pytest.mark.parametrize("text,name", [
    (f"version = 2\n[[{CRI}.containerd.runtimes.runc.options.SystemdCgroup]]\n",
     "runtime.runc.options.SystemdCgroup"),
])
def test_set_where_the_file_has_a_table_or_a_list_of_tables(text: str, name: str) -> None:
    r = run("-", "--set", f"{name}=true", input=text.encode())
    assert r.exit_code == 2 and r.stdout_bytes == b""
    assert "cannot set" in assert_one_error_line(r.stderr, "<stdin>")


def test_a_plugin_table_that_is_no_table_where_other_keys_go() -> None:
    """2.x ignores a plugin table given as a list of strings (tests/test_type_refusals.py); going
    down to 2 the images keys go into the same CRI table, which cannot be a list."""
    text = ('version = 3\n[plugins]\n"io.containerd.cri.v1.runtime" = [[1]]\n'
            '[plugins."io.containerd.cri.v1.images"]\n  discard_unpacked_layers = true\n')
    assert "version = 4" in migrator.migrate(text, to=4).text
    with pytest.raises(ConfigError) as err:
        migrator.migrate(text, to=2)
    assert (err.value.line, err.value.col) == (3, 1) and "is not a table" in err.value.message


def test_lint_fix_writes_a_list_of_tables_inline() -> None:
    from migrator.emit.emitter import render_value
    from migrator.lint import lint
    assert render_value([{"a": 1}, {}]) == "[{a = 1}, {}]" and render_value(["a"]) == '["a"]'
    text = ("version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]\n"
            "  snapshotter = [{a = 1}]\n")
    assert any(f.severity == "error" for f in lint(text).findings)


# --- a few real processes ---------------------------------------------------------------------

def cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "migrator.cli", *args]


def process_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != cli.DEBUG_ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])  # this tree
    return env


@pytest.mark.parametrize("case", ["invalid-utf8", "utf16-le", f"array-nested-{DEEP}",
                                  f"dotted-key-{DEEP}", "array-nested-100000-unclosed",
                                  "integer-over-4300-digits", "nul-byte"])
def test_process_bad_input(tmp_path: Path, case: str) -> None:
    data, position = BAD[case]
    p = tmp_path / "config.toml"
    p.write_bytes(data)
    before = snapshot(p)
    proc = subprocess.run(cmd(p.name, "--to", "3", "--in-place"), capture_output=True,
                          cwd=tmp_path, env=process_env(), timeout=120)
    assert proc.returncode == 2 and proc.stdout == b""
    assert_one_error_line(proc.stderr.decode(), p.name, position)
    assert snapshot(p) == before and listing(tmp_path) == [p.name]


def test_process_too_large_on_stdin(tmp_path: Path) -> None:
    data = b"version = 2\n#" + b"x" * load.MAX_BYTES + b"\n"
    proc = subprocess.run(cmd("-", "--to", "3"), input=data, capture_output=True,
                          cwd=tmp_path, env=process_env(), timeout=120)
    assert proc.returncode == 2 and proc.stdout == b""
    assert "16 MiB" in assert_one_error_line(proc.stderr.decode(), cli.STDIN_NAME, False)


# --- a file with no statement is a config: containerd's defaults ------------------------------

@pytest.mark.parametrize("data,expected", [
    (b"", b"version = 3\n"),
    (b"  \t\n\n", b"  \t\n\nversion = 3\n"),
    (b"\xef\xbb\xbf", b"version = 3\n"),
    (b"# only comments\r\n# here\r\n", b"# only comments\r\n# here\r\nversion = 3\r\n"),
    (b"# no final newline", b"# no final newline\nversion = 3"),
], ids=["empty", "whitespace", "bom-only", "comments-crlf", "comment-no-newline"])
def test_a_file_without_statements_migrates(tmp_path: Path, data: bytes, expected: bytes) -> None:
    p = tmp_path / "config.toml"
    p.write_bytes(data)
    r = run(p.name, "--to", "3", "--in-place")
    assert r.exit_code == 0, r.stderr
    assert p.read_bytes() == expected
    r = run(p.name, "--to", "3", "--check")
    assert r.exit_code == 0, r.stderr  # idempotent


def test_an_empty_file_lints_and_takes_a_setting(tmp_path: Path) -> None:
    p = tmp_path / "config.toml"
    p.write_bytes(b"")
    r = run("--lint", p.name)
    assert r.exit_code == 0 and "Traceback" not in r.stderr, r.stderr
    r = run(p.name, "--to", "3", "--set", "sandbox_image=registry.k8s.io/pause:3.10")
    assert r.exit_code == 0, r.stderr
    assert r.stdout_bytes == (b'version = 3\n[plugins."io.containerd.cri.v1.images".pinned_images]\n'
                              b'sandbox = "registry.k8s.io/pause:3.10"\n')

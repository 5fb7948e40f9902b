"""Secrets never leave through any channel but the migrated TOML itself.

Registry passwords, auth strings, identity tokens (and credential headers) of the input must not
reach stderr (the report, warnings, one-line errors, internal errors, the batch summary), the
JSON report (file or stdout), diffs (of the config, of imported files, of hosts.toml files) or
an exception's message: not even in an error about the very line that holds the secret, which
names the line and column, never the value.

The user information of a URL (`https://user:password@mirror`, or a token alone before the `@`)
is a secret wherever it is written: an endpoint, a wrong-typed value, a key.

Two layers do it: redaction where the text is made (report.redact, validate's value display,
hosts.redact_toml for diffs, report.redact_urls over reports and every ConfigError), and a last
scrub in the CLI of every value the input holds at a secret key and of every URL's user
information (report.secret_values / scrub) over every message it prints. The tests below drive
every output channel of the CLI with secrets in every spelling TOML allows.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import migrator
from migrator.cli import commands as cli
from migrator.core.errors import ConfigError, LossError
from migrator.core.secrets import scrub, secret_values, secret_values_in_text

MARK = "S3CRET"   # every secret value below holds it; nothing but the TOML may
CRI = 'plugins."io.containerd.grpc.v1.cri"'
IMAGES = 'plugins."io.containerd.cri.v1.images"'


def run(*args: str, input: bytes | None = None):
    return CliRunner().invoke(cli.main, list(args), input=input, catch_exceptions=False)


@pytest.fixture(autouse=True)
def _cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)


# Every way a registry credential can be written, in the versions that read them.
V2_SECRETS = f"""version = 2
[{CRI}.registry.configs."gcr.io".auth]
  username = "bob"
  password = "{MARK}-pass-1"
  auth = "{MARK}-auth-2"
  identitytoken = "{MARK}-token-3"
[{CRI}.registry.configs."quay.io"]
  auth = {{ username = "al", password = '{MARK}-literal-4' }}
[{CRI}.registry.configs."ghcr.io".auth]
  "password" = \"\"\"{MARK}-multiline-5\"\"\"
  'identitytoken' = "{MARK}-escaped-\\u0036"
[{CRI}.registry]
  configs."dotted.io".auth.password = "{MARK}-dotted-9"
[{CRI}.registry.headers]
  Authorization = ["Bearer {MARK}-header-10"]
  X-Registry-Auth = ["{MARK}-header-11"]
[{CRI}.registry.mirrors."docker.io"]
  endpoint = ["https://bob:{MARK}-url-12@mirror.example.com", "https://{MARK}-url-13@m2.io"]
[{CRI}.registry.mirrors."https://al:{MARK}-url-key-14@q.io"]
  endpoint = ["https://q.io"]
[{CRI}]
  sandbox_image = "https://carl:{MARK}-url-in-a-value-15@x.io"
"""
NUMERIC = "12345678901"
# Secrets of types containerd refuses to start with: the migration refuses the file (exit 2) and
# its one line names the key, never the value (tests/test_type_refusals.py).
WRONG_TYPES = f"""[{CRI}.registry.configs."x.io".auth]
  password = {NUMERIC}
  identitytoken = ["{MARK}-array-7"]
  auth = {{ nested = "{MARK}-table-8" }}
"""

V1_SECRETS = f"""[plugins.cri.registry.auths."https://gcr.io"]
  username = "bob"
  password = "{MARK}-v1-pass"
  auth = "{MARK}-v1-auth"
  identitytoken = "{MARK}-v1-token"
[plugins.cri.registry.configs."r.io".auth]
  password = "{MARK}-v1-configs"
[plugins.cri.registry.mirrors."docker.io"]
  endpoint = ["https://bob:{MARK}-v1-url@mirror.example.com"]
"""

V3_SECRETS = f"""version = 3
[{IMAGES}.registry.configs."gcr.io".auth]
  password = "{MARK}-v3-pass"
  auth = "{MARK}-v3-auth"
[{IMAGES}.registry.headers]
  Authorization = ["Basic {MARK}-v3-header"]
[{IMAGES}.registry.mirrors."docker.io"]
  endpoint = ["https://bob:{MARK}-v3-url@mirror.example.com"]
[{IMAGES}.pinned_images]
  sandbox = "https://carl:{MARK}-v3-url-in-a-value@x.io"
"""

# v3 -> v2 cannot express two CNI bin dirs: a LossError (exit 3) in a file with secrets
LOSSY = V3_SECRETS + ('[plugins."io.containerd.cri.v1.runtime".cni]\n'
                      '  bin_dirs = ["/a", "/b"]\n')

INPUTS = {"v1": V1_SECRETS, "v2": V2_SECRETS, "v3": V3_SECRETS}


def leaks(*texts: str | bytes) -> list[str]:
    out = []
    for text in texts:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        out += re.findall(rf"{MARK}[\w-]*", text)
        if NUMERIC in text:
            out.append(NUMERIC)
    return out


def files_but(tmp_path: Path, *toml: str) -> str:
    """Everything written under tmp_path except the migrated TOML files themselves."""
    text = ""
    for p in sorted(tmp_path.rglob("*")):
        if p.is_file() and p.name not in toml:
            text += p.read_text(errors="replace")
    return text


# --- the report, the JSON and the diff, for every version and mode ---------------------------

MODES = {
    "stdout": [],                          # stdout is the TOML (it holds the secrets, rightly)
    "diff": ["--diff"],
    "check": ["--check", "--report-json", "-"],
    "output": ["-o", "out.toml", "--report-json", "report.json"],
    "in-place": ["--in-place", "--backup", ".bak", "--report-json", "report.json"],
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("to", [1, 2, 3, 4])
@pytest.mark.parametrize("version", INPUTS)
def test_no_channel_but_the_toml_carries_a_secret(tmp_path: Path, version: str, to: int,
                                                 mode: str) -> None:
    p = tmp_path / "config.toml"
    p.write_text(INPUTS[version])
    r = run(p.name, "--to", str(to), *MODES[mode])
    assert r.exit_code in (0, 1, 3), r.stderr
    assert leaks(r.stderr) == []
    if mode != "stdout" or r.exit_code != 0:
        assert leaks(r.stdout_bytes) == []
    else:
        assert leaks(r.stdout_bytes)  # the migrated TOML keeps them: it is the config
    assert leaks(files_but(tmp_path, "config.toml", "config.toml.bak", "out.toml")) == []


def test_the_report_says_what_moved_without_the_values(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(V2_SECRETS)
    r = run("config.toml", "--to", "3", "--check", "--report-json", "-")
    assert r.exit_code == 1
    report = json.loads(r.stdout_bytes)
    moved = [c["from_path"] for c in report["changes"] if c["kind"] == "moved"]
    assert any('configs."gcr.io".auth' in m for m in moved)
    assert "registry.configs" in r.stderr and leaks(r.stderr, r.stdout_bytes) == []


@pytest.mark.parametrize("mode", MODES)
def test_a_secret_of_a_refused_type_is_named_not_shown(tmp_path: Path, mode: str) -> None:
    p = tmp_path / "config.toml"
    p.write_text(V2_SECRETS + WRONG_TYPES)
    r = run(p.name, "--to", "3", *MODES[mode])
    assert r.exit_code == 2 and r.stdout_bytes == b""
    assert 'configs."x.io".auth' in r.stderr and "refuse" in r.stderr
    assert leaks(r.stderr) == [] and len(r.stderr.splitlines()) == 1
    assert leaks(files_but(tmp_path, "config.toml")) == []


def test_the_diff_redacts_every_secret_statement(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(V2_SECRETS)
    r = run("config.toml", "--to", "3", "--diff", "-q")
    assert r.exit_code == 0
    diff = r.stdout_bytes.decode()
    assert diff.startswith("--- a/config.toml\n") and "<redacted>" in diff
    assert leaks(diff) == []
    assert 'username = "bob"' in diff  # what is not a secret stays readable


def test_a_loss_error_names_keys_not_values(tmp_path: Path) -> None:
    (tmp_path / "lossy.toml").write_text(LOSSY)
    for mode in MODES.values():
        r = run("lossy.toml", "--to", "2", *mode)
        assert r.exit_code == 3 and leaks(r.stderr, r.stdout_bytes) == []
    with pytest.raises(LossError) as err:
        migrator.migrate(LOSSY, to=2)
    assert leaks(str(err.value)) == []


# --- errors about the very line that holds a secret -------------------------------------------

BROKEN = {
    "garbage-after-value": f'password = "{MARK}-a" oops\n',
    "next-line-broken": f'password = "{MARK}-b"\nbroken =\n',
    "unterminated": f'password = "{MARK}-c\n',
    "unterminated-multiline": f'password = """{MARK}-d\n\n',
    "control-character": f'password = "{MARK}-e\x01"\n',
    "bad-escape": f'password = "{MARK}-f\\q"\n',
    "bare-value": f"password = {MARK}-g\n",
    "duplicate": f'password = "{MARK}-h"\npassword = "{MARK}-i"\n',
    "inline-unclosed": f'auth = {{password = "{MARK}-j", username = "x"\n',
    "header-after": f'auth = "{MARK}-k"\n[{CRI}.registry.configs."r.io"\n',
    "wrong-version": f'identitytoken = "{MARK}-l"\n',  # fine TOML: the error is the version
}


@pytest.mark.parametrize("case", BROKEN)
@pytest.mark.parametrize("mode", MODES)
def test_an_error_on_a_secret_line_names_the_place_not_the_value(tmp_path: Path, case: str,
                                                                 mode: str) -> None:
    head = f"version = {99 if case == 'wrong-version' else 2}\n" \
           f'[{CRI}.registry.configs."gcr.io".auth]\n'
    p = tmp_path / "config.toml"
    p.write_text(head + BROKEN[case])
    r = run(p.name, "--to", "3", *MODES[mode])
    assert r.exit_code == 2 and r.stdout_bytes == b""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and re.match(r"^config\.toml:\d+:\d+: ", lines[0]), r.stderr
    assert leaks(r.stderr) == [] and leaks(files_but(tmp_path, "config.toml")) == []
    with pytest.raises(ConfigError) as err:
        migrator.migrate(p.read_bytes(), to=3)
    assert leaks(str(err.value), err.value.message) == []


# --- the last line of defence: a bug that quotes a value ------------------------------------

@pytest.mark.parametrize("raised", ["internal", "config"])
def test_a_message_quoting_a_secret_is_scrubbed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                raised: str) -> None:
    def leaky(text, *args, **kwargs):
        if isinstance(text, bytes):
            text = text.decode()
        values = sorted(secret_values(__import__("tomllib").loads(text)))
        message = "a bug quoting " + ", ".join(map(repr, values)) + " and " + json.dumps(values)
        if raised == "config":
            raise ConfigError(message, file="config.toml", line=3, col=1)
        raise RuntimeError(message)

    monkeypatch.setattr("migrator.pipeline.migrate", leaky)
    (tmp_path / "config.toml").write_text(V2_SECRETS)
    (tmp_path / "other.toml").write_text(V3_SECRETS)
    r = run("config.toml", "--to", "3", "--report-json", "report.json")
    assert r.exit_code == 2 and r.stdout_bytes == b""
    assert len(r.stderr.splitlines()) == 1 and "<redacted>" in r.stderr
    assert leaks(r.stderr) == []
    r = run("--to", "3", "--check", "config.toml", "other.toml", "--report-json", "report.json")
    assert r.exit_code == 2 and leaks(r.stderr) == []
    report = json.loads((tmp_path / "report.json").read_text())
    assert [("error" in e) for e in report] == [True, True]
    assert leaks(json.dumps(report)) == []


def test_an_unparsable_file_is_scrubbed_by_its_secret_looking_lines(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = f'version = 2\n[a.auth]\n  password = "{MARK}-p" oops\n  "auth"=\'{MARK}-q\'\n'
    assert {f"{MARK}-p", f"{MARK}-q"} <= secret_values_in_text(text)

    def leaky(*args, **kwargs):
        raise RuntimeError(f"a bug quoting {MARK}-p and {MARK}-q")

    monkeypatch.setattr("migrator.pipeline.migrate", leaky)
    (tmp_path / "bad.toml").write_text(text)
    r = run("bad.toml", "--to", "3")
    assert r.exit_code == 2 and leaks(r.stderr) == [] and "<redacted>" in r.stderr


def test_the_traceback_on_request_is_the_only_exception(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """CONTAINERD_MIGRATE_DEBUG=1 prints the traceback (a developer asked for it): documented
    as such in cli._internal_error; without it, nothing of the exception but its scrubbed line."""
    def broken(*args, **kwargs):
        raise KeyError(f"{MARK}-in-a-key-error")

    monkeypatch.setattr("migrator.pipeline.migrate", broken)
    (tmp_path / "config.toml").write_text(V2_SECRETS.replace(f"{MARK}-pass-1",
                                                             f"{MARK}-in-a-key-error"))
    r = run("config.toml", "--to", "3")
    assert r.exit_code == 2 and leaks(r.stderr) == [] and "Traceback" not in r.stderr


# --- imports and hosts.toml -------------------------------------------------------------------

def test_imported_files_and_hosts_files_keep_their_secrets_too(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "config.toml").write_text('version = 2\nimports = ["conf.d/*.toml"]\n')
    (tmp_path / "conf.d" / "10-auth.toml").write_text(V2_SECRETS)
    for args in (["--diff"], ["--check", "--report-json", "-"], ["--in-place"]):
        r = run("config.toml", "--to", "3", "--with-imports", *args)
        assert r.exit_code in (0, 1), r.stderr
        assert leaks(r.stderr, r.stdout_bytes) == []

    hosts_cfg = tmp_path / "hosts.toml.in"
    hosts_cfg.write_text(f"""version = 2
[{CRI}.registry.mirrors."docker.io"]
  endpoint = ["https://mirror.example.com"]
[{CRI}.registry.configs."mirror.example.com".auth]
  password = "{MARK}-mirror-pass"
[{CRI}.registry.configs."mirror.example.com".tls]
  insecure_skip_verify = true
[{CRI}.registry.headers]
  Authorization = ["Bearer {MARK}-mirror-header"]
""")
    hosts = tmp_path / "certs.d"
    for args in (["--diff"], ["--check"], ["--in-place", "--report-json", "r.json"]):
        r = run(hosts_cfg.name, "--to", "3", "--hosts-dir", str(hosts), *args)
        assert r.exit_code in (0, 1), r.stderr
        assert leaks(r.stderr, r.stdout_bytes) == []
    written = "".join(p.read_text() for p in hosts.rglob("hosts.toml"))
    assert written and leaks(written) == []  # no credential goes to hosts.toml
    assert leaks((tmp_path / "r.json").read_text()) == []


# --- the library's own output -----------------------------------------------------------------

@pytest.mark.parametrize("to", [1, 2, 3, 4])
@pytest.mark.parametrize("version", INPUTS)
def test_library_reports_hold_no_secret(version: str, to: int) -> None:
    try:
        result = migrator.migrate(INPUTS[version], to=to, file="c.toml")
    except LossError as exc:
        assert leaks(str(exc)) == []
        return
    assert leaks(result.format_text(), json.dumps(result.to_json())) == []


# --- URL user information, in every channel ---------------------------------------------------

# a runtime option of the wrong type is one containerd reads (the shim decodes options later),
# so the migration goes on and its schema warning names the value
URL_IN_VALUES = f"""version = 2
[{CRI}.containerd]
  default_runtime_name = "https://dan:{MARK}-u1@x.io"
  snapshotter = "https://{MARK}-u2@x.io"
[{CRI}]
  sandbox_image = "https://eve:{MARK}-u3@registry.example.com/pause"
[{CRI}.containerd.runtimes.runc.options]
  SystemdCgroup = "https://fay:{MARK}-u4@x.io"
"""


@pytest.mark.parametrize("mode", MODES)
def test_url_user_information_is_redacted_in_the_report_json_and_diff(tmp_path: Path,
                                                                     mode: str) -> None:
    (tmp_path / "config.toml").write_text(URL_IN_VALUES)
    r = run("config.toml", "--to", "3", *MODES[mode])
    assert r.exit_code in (0, 1), r.stderr
    shown = r.stderr + files_but(tmp_path, "config.toml", "config.toml.bak", "out.toml")
    if mode != "stdout":
        shown += r.stdout_bytes.decode()
    assert leaks(shown) == []
    assert "https://<redacted>@x.io" in shown  # the wrong-typed value is still named


def test_the_library_report_redacts_url_user_information() -> None:
    result = migrator.migrate(URL_IN_VALUES, to=3, file="c.toml")
    assert leaks(result.format_text(), json.dumps(result.to_json())) == []
    assert leaks(*(f.message for f in result.findings)) == []
    assert "<redacted>@" in result.format_text()


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_lint_output_redacts_url_user_information(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "config.toml").write_text(URL_IN_VALUES)
    r = run("--lint", "config.toml", "--format", fmt)
    assert r.exit_code == 1, r.stderr  # CM006: the default runtime does not exist
    assert leaks(r.stdout_bytes, r.stderr) == []
    assert "https://<redacted>@x.io" in r.stdout_bytes.decode()


def test_errors_redact_url_user_information(tmp_path: Path) -> None:
    bad = f'version = "https://bob:{MARK}-u5@x.io"\n'
    (tmp_path / "config.toml").write_text(bad)
    for args in (["config.toml", "--to", "3"], ["config.toml", "--to", "3", "--report-json",
                                                "r.json", "--check"], ["--lint", "config.toml"]):
        r = run(*args)
        assert r.exit_code in (1, 2) and leaks(r.stderr, r.stdout_bytes) == [], r.stderr
    r = run("config.toml", "--to", "3")
    assert r.stderr.startswith("config.toml:1:1: ") and "https://<redacted>@x.io" in r.stderr
    with pytest.raises(ConfigError) as err:
        migrator.migrate(bad, to=3)
    assert leaks(str(err.value), err.value.message) == []


def test_a_short_password_in_a_url_is_redacted_too(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Values shorter than SCRUB_MIN are not scrubbed from free text, but a URL's user
    information is recognised as such."""
    def leaky(*args, **kwargs):
        raise RuntimeError("a bug quoting https://u:Zq9@m.io and 'http://T0k@n.io/x'")

    monkeypatch.setattr("migrator.pipeline.migrate", leaky)
    (tmp_path / "config.toml").write_text(
        f'version = 2\n[{CRI}.registry.mirrors."m.io"]\n  endpoint = ["https://u:Zq9@m.io"]\n')
    r = run("config.toml", "--to", "3")
    assert r.exit_code == 2 and "Zq9" not in r.stderr and "T0k" not in r.stderr
    assert "https://<redacted>@m.io" in r.stderr


def test_a_hosts_toml_diff_redacts_url_user_information(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(f"""version = 2
[{CRI}.registry.mirrors."docker.io"]
  endpoint = ["https://bob:{MARK}-u6@mirror.example.com"]
""")
    old = tmp_path / "certs.d" / "docker.io" / "hosts.toml"
    old.parent.mkdir(parents=True)
    old.write_text(f'server = "https://docker.io"\n[host."https://al:{MARK}-u7@old.io"]\n')
    r = run("config.toml", "--to", "3", "--hosts-dir", str(tmp_path / "certs.d"), "--diff",
            "--overwrite-hosts")
    assert r.exit_code == 0, r.stderr
    diff = r.stdout_bytes.decode()
    assert "hosts.toml" in diff and '-[host."https://<redacted>@old.io"]' in diff
    assert leaks(diff, r.stderr) == []


def test_url_user_information_is_a_secret_value() -> None:
    import tomllib
    values = secret_values(tomllib.loads(V2_SECRETS))
    assert {f"bob:{MARK}-url-12", f"{MARK}-url-12", f"{MARK}-url-13",
            f"{MARK}-url-key-14"} <= values
    assert "bob" not in values
    assert {f"{MARK}-t"} <= secret_values_in_text(f'x = "https://u:{MARK}-t@h" oops\n')
    assert scrub("see https://u:pw@h.io/x and ftp://tok@h", set()) == \
        "see https://<redacted>@h.io/x and ftp://<redacted>@h"


def test_secret_values_and_scrub() -> None:
    import tomllib
    values = secret_values(tomllib.loads(V2_SECRETS + WRONG_TYPES))
    assert {f"{MARK}-pass-1", f"{MARK}-literal-4", f"{MARK}-escaped-6", f"{MARK}-array-7",
            f"{MARK}-table-8", f"{MARK}-dotted-9", f"Bearer {MARK}-header-10", NUMERIC} <= values
    assert "bob" not in values and "al" not in values  # usernames are not secrets
    text = f'x {MARK}-pass-1 "{MARK}-escaped-6" {json.dumps("ab" + chr(34) + "cd")}'
    assert scrub(text, values | {'ab"cd'}) == 'x <redacted> "<redacted>" "<redacted>"'
    assert scrub("abc", {"abc"}) == "abc"  # shorter than SCRUB_MIN: left alone
    assert os.environ.get(cli.DEBUG_ENV) is None

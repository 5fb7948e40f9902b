"""The command line in pipelines and terminals (issue 19): --help names the schema command,
progress on a terminal only, the messages that used to mislead, diff headers of hosts.toml
files, comments of the registry tables that --hosts-dir removes, and the package's version."""
from __future__ import annotations

import io
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import migrator
import migrator.features.hosts
from migrator.cli import commands as cli
from migrator.cli import progress

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli.main, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_help_lists_the_schema_command() -> None:
    code, out, _ = _run("--help")
    assert code == 0
    assert re.search(r"^\s+containerd-migrate schema --version 3\s+JSON Schema", out, re.M)


# -- progress ------------------------------------------------------------------------------------

class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_for_more_than_a_few_files(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TERM", raising=False)
    assert progress.wanted(progress.FEW + 1, False, _Tty())
    assert not progress.wanted(progress.FEW, False, _Tty())
    assert not progress.wanted(progress.FEW + 1, True, _Tty())         # --quiet
    assert not progress.wanted(progress.FEW + 1, False, io.StringIO())  # a pipe, pre-commit, CI
    monkeypatch.setenv("TERM", "dumb")
    assert not progress.wanted(progress.FEW + 1, False, _Tty())


def test_progress_line_is_erased_before_every_other_stderr_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = []
    for i in range(progress.FEW + 1):
        f = tmp_path / f"n{i}.toml"
        f.write_text("version = 2\n" if i % 2 else "version = 3\n")
        files.append(str(f))
    real = progress.wanted
    monkeypatch.setattr(progress, "wanted", lambda total, quiet, stream: real(
        total, quiet, _Tty()))                  # CliRunner's stderr is no terminal
    code, out, err = _run("--to", "3", "--check", *files)
    assert code == 1 and out == ""
    n = len(files)
    for i, f in enumerate(files, 1):
        assert f"\r\x1b[K[{i}/{n}] {f}\r\x1b[K{f}: version " in err
    assert err.endswith(f"(no changes)\n{cli.PROG}: {n} files: 2 to migrate, 3 already at "
                        "version 3\n")                # nothing left on the line at the end
    code, _, err = _run("--to", "3", "--check", *files[:progress.FEW])
    assert "\x1b" not in err and "[1/" not in err


def test_quiet_check_names_only_the_files_to_migrate(tmp_path: Path) -> None:
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    old.write_text("version = 2\n")
    new.write_text("version = 3\n")
    code, out, err = _run("--quiet", "--to", "3", "--check", str(old), str(new))
    assert (code, out) == (1, "")
    assert err == f"{old}: not at version 3 (see the change with --diff)\n"
    assert _run("--quiet", "--to", "3", "--check", str(new)) == (0, "", "")


# -- messages ------------------------------------------------------------------------------------

def test_debug_level_in_the_v4_debug_plugin_is_called_an_unknown_key() -> None:
    v4 = ('version = 4\n[plugins."io.containerd.server.v1.debug"]\n  level = "info"\n'
          '  address = "/run/containerd/debug.sock"\n')
    with pytest.raises(migrator.LossError) as err:
        migrator.migrate(v4, to=3)
    assert str(err.value).endswith(
        'line 3: plugins."io.containerd.server.v1.debug".level: an unknown key, which no '
        "containerd reads (see the warning), in plugin io.containerd.server.v1.debug, which "
        "containerd 2.1 does not have")
    result = migrator.migrate(v4, to=3, allow_loss=True)
    assert 'unknown key "level" in plugins."io.containerd.server.v1.debug" (did you mean ' \
        '"debug.level"?)' in [f.message for f in result.warnings]
    assert tomllib.loads(result.text) == {"version": 3,
                                          "debug": {"address": "/run/containerd/debug.sock"}}


def test_downgrade_reasons_do_not_claim_the_newer_release_reads_it() -> None:
    v3 = ('version = 3\n[plugins."io.containerd.cri.v1.runtime".cni]\n  conf_dir = "/etc/cni"\n')
    reasons = [c.reason for c in migrator.migrate(v3, to=2).changes if c.kind == "moved"]
    assert reasons == ["where the older config version has it (containerd 2.0.2 moved it)"]
    up = migrator.migrate(migrator.migrate(v3, to=2).text, to=3)
    assert [c.reason for c in up.changes if c.kind == "moved"] == [
        "containerd 2.0.2 reads it here"]


def test_a_drop_in_without_a_version_line_gets_consistent_warnings() -> None:
    """1.x ignores the URI table now (not-read); the migrated file makes it take effect
    (plugin-fallback): both true, neither claims the plugin does not exist (golden 45)."""
    drop_in = ('[plugins."io.containerd.grpc.v1.cri"]\n'
               '  sandbox_image = "registry.k8s.io/pause:3.10"\n')
    result = migrator.migrate(drop_in, to=3)
    assert [(f.code, f.message) for f in result.warnings] == [
        ("not-read", "containerd 1.x reads the plugin tables of a version 1 file by short ID "
                     "and ignores io.containerd.grpc.v1.cri; a drop-in without a version line "
                     "is read at the root config's version: add that version line"),
        ("plugin-fallback/full-uri", "a full plugin URI in a version 1 file is ignored by containerd "
                              "1.x; from version 2 on it takes effect")]
    assert "pinned_images" in result.text                  # migrated as 2.x reads it
    with_version = migrator.migrate("version = 1\n" + drop_in, to=3)
    assert "drop-in" not in with_version.warnings[0].message
    v2 = migrator.migrate('version = 2\n[plugins."io.containerd.cri.v1.images"]\n'
                          '  snapshotter = "native"\n', to=3)
    assert [f.message for f in v2.warnings if f.code == "not-read"] == [
        "containerd 1.7 ignores this table: plugin io.containerd.cri.v1.images does not exist "
        "there"]


MIRRORS = """version = 2
[plugins."io.containerd.grpc.v1.cri".registry]
  # mirror for docker hub, so pulls survive rate limits
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
    endpoint = ["https://mirror.example.com"]  # the EU one
  # mirror.example.com has a self-signed certificate
  [plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.example.com".tls]
    insecure_skip_verify = true
"""


def test_overwrite_message_names_the_option(tmp_path: Path) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text(MIRRORS)
    (tmp_path / "certs.d" / "docker.io").mkdir(parents=True)
    (tmp_path / "certs.d" / "docker.io" / "hosts.toml").write_text('server = "x"\n')
    code, out, err = _run(str(conf), "--to", "3", "--hosts-dir", str(tmp_path / "certs.d"))
    assert code == 2 and out == ""
    assert "not overwritten (--overwrite-hosts replaces it); nothing written" in err
    assert conf.read_text() == MIRRORS


def test_diff_of_new_hosts_files_has_real_headers(tmp_path: Path) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text(MIRRORS)
    certs = tmp_path / "certs.d"
    code, out, _ = _run(str(conf), "--to", "3", "--hosts-dir", str(certs), "--diff", "-q")
    assert code == 0
    headers = [ln for ln in out.splitlines() if ln.startswith(("--- ", "+++ "))]
    assert headers == [f"--- {conf}", f"+++ {conf}",
                       "--- /dev/null", f"+++ {certs}/docker.io/hosts.toml",
                       "--- /dev/null", f"+++ {certs}/mirror.example.com/hosts.toml"]
    assert cli.unified_diff("a\n", "b\n", "rel.toml").startswith("--- a/rel.toml\n+++ b/rel.toml\n")


def test_comments_of_moved_registry_tables_go_to_the_hosts_files(tmp_path: Path) -> None:
    result, files = migrator.features.hosts.migrate_registry(MIRRORS, to=3, hosts_dir=str(tmp_path))
    assert "#" not in result.text
    assert tomllib.loads(result.text)["plugins"]["io.containerd.cri.v1.images"] == {
        "registry": {"config_path": str(tmp_path)}}
    docker = files[tmp_path / "docker.io" / "hosts.toml"]
    assert docker.splitlines()[1:5] == [
        "# mirror for docker hub, so pulls survive rate limits", "# the EU one",
        "# mirror.example.com has a self-signed certificate",
        'server = "https://registry-1.docker.io"']
    mirror = files[tmp_path / "mirror.example.com" / "hosts.toml"]
    assert "# mirror.example.com has a self-signed certificate\n" in mirror
    assert "# mirror for docker hub" not in mirror
    for content in files.values():
        tomllib.loads(content)


def test_a_comment_outside_the_moved_tables_stays(tmp_path: Path) -> None:
    text = MIRRORS.replace('[plugins."io.containerd.grpc.v1.cri".registry]\n',
                           '[plugins."io.containerd.grpc.v1.cri".registry]  # registries\n')
    result, _ = migrator.features.hosts.migrate_registry(text, to=3, hosts_dir=str(tmp_path))
    assert "# registries" in result.text and "mirror for" not in result.text


# -- version -------------------------------------------------------------------------------------

def test_pre_commit_examples_name_the_packages_release() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "1 to 4" in meta["description"]
    tag = f"v{migrator.__version__}"   # pyproject reads the version from the package
    for doc in ("README.md", ".pre-commit-hooks.yaml"):
        revs = re.findall(r"rev: (\S+)", (ROOT / doc).read_text())
        assert revs == [tag], doc

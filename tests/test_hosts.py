"""Registry mirrors/TLS -> hosts.toml (migrator.features.hosts).

golden/registry/<case>/: input.toml, args.json ({"to": N, "allow_loss": bool} or
{"to": N, "error": "..."}), expected.toml (the migrated config, hosts dir
/etc/containerd/certs.d) and hosts/<dir>/hosts.toml (every file to write, nothing more).

Besides the text, each case is checked for meaning without containerd: the host list the CRI
plugin of containerd 1.7 built from `mirrors`/`configs` (registryEndpoints/registryHosts,
pkg/cri/server/image_pull.go@v1.7.34) is computed from the input, and the host list
containerd builds from the hosts.toml files (HostDirFromRoot + ConfigureHosts,
core/remotes/docker/config/hosts.go@v2.1.0) from the files parsed with tomllib; both must give
the same hosts in the same order with the same path, scheme, TLS and pull/resolve rights
(facts §6.3, E34, E35). The oracle tests ask containerd 1.7/2.1 how they read the config.
"""
from __future__ import annotations

import json
import os
import posixpath
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import migrator
from migrator.features import hosts
from migrator.core.errors import ConfigError
from migrator.features.hosts import (host_directory, migrate_registry, redact_toml, write_hosts)

from .helpers import REPO

GOLDEN = REPO / "golden" / "registry"
DIR = "/etc/containerd/certs.d"
CASES = sorted(p for p in GOLDEN.iterdir() if (p / "args.json").is_file()) \
    if GOLDEN.is_dir() else []
GOOD = [c for c in CASES if "error" not in json.loads((c / "args.json").read_text())]
BAD = [c for c in CASES if c not in GOOD]
PASSWORD = "s3cr3t-Pa55w0rd-do-not-print"


def _args(case: Path) -> dict:
    return json.loads((case / "args.json").read_text())


def test_an_unset_removes_an_inline_table_statement() -> None:
    """The pipeline: `sets={path: UNSET}` removes an inline-table statement at `path` (r07)."""
    text = 'version = 2\n\n[a]\n  x = 1\n  b = { c = 1 }\n'
    assert "b =" not in migrator.migrate(text, to=2, sets={("a", "b"): migrator.UNSET}).text


def test_a_key_added_to_a_block_takes_its_indentation() -> None:
    """The emitter: a key added to an existing block takes that block's indentation (r09)."""
    text = 'version = 2\n\n[a]\n  x = 1\n\n  [a.b]\n    y = 2\n'
    out = migrator.migrate(text, to=2, sets={("a", "z"): 1}).text
    assert "\n  z = 1\n" in out


def _run(case: Path, hosts_dir: str = DIR, **kw):
    a = _args(case)
    return migrate_registry((case / "input.toml").read_bytes(), to=a["to"],
                            allow_loss=a.get("allow_loss", False), hosts_dir=hosts_dir,
                            file="config.toml", **kw)


def _expected_files(case: Path, root: str = DIR) -> dict[Path, str]:
    base = case / "hosts"
    return {Path(root) / p.relative_to(base): p.read_text()
            for p in sorted(base.rglob("*")) if p.is_file()}


# -- golden ----------------------------------------------------------------------------------------

def test_enough_cases() -> None:
    assert len(GOOD) >= 8 and len(BAD) >= 8


@pytest.mark.parametrize("case", GOOD, ids=lambda c: c.name)
def test_golden_config_and_hosts_files(case: Path) -> None:
    result, files = _run(case)
    assert result.text == (case / "expected.toml").read_text()
    assert files == _expected_files(case)
    # idempotent: the output has nothing left to convert
    again, more = migrate_registry(result.text, to=_args(case)["to"], hosts_dir=DIR,
                                   allow_loss=_args(case).get("allow_loss", False))
    assert again.text == result.text and more == {}


@pytest.mark.parametrize("case", GOOD, ids=lambda c: c.name)
def test_golden_report_accounts_for_every_hosts_file(case: Path) -> None:
    result, files = _run(case)
    added = {c.to_path for c in result.changes if c.kind == "added" and c.rule == "hosts-toml"}
    assert added == {str(p) for p in files}
    moved = [c for c in result.changes if c.rule == "hosts-toml" and c.kind == "moved"]
    assert moved and all(c.to_path and c.to_path.startswith(DIR) for c in moved)
    data = json.dumps(result.to_json())
    assert "hosts-toml" in data


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.name)
def test_hostile_host_names_are_refused_and_nothing_is_written(case: Path,
                                                               tmp_path: Path) -> None:
    root = tmp_path / "certs.d"
    with pytest.raises(ConfigError) as err:
        _run(case, hosts_dir=str(root))
    message = str(err.value)
    assert _args(case)["error"] in message
    assert message.startswith("config.toml:") and "\n" not in message
    assert list(tmp_path.iterdir()) == []  # not even the hosts directory


def test_hostile_names_in_write_hosts_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "certs.d"
    for bad in ("..", "a b", "x\x07y", "_defaultx/..", "a/../../b"):
        path = root / bad / "hosts.toml"
        with pytest.raises(ConfigError):
            write_hosts({path: "server = 'https://x'\n"})
    with pytest.raises(ConfigError):
        write_hosts({root / "docker.io" / "evil.toml": ""})
    with pytest.raises(ConfigError):
        write_hosts({tmp_path / "elsewhere" / "hosts.toml": ""}, hosts_dir=root)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name,directory", [
    ("docker.io", "docker.io"), ("*", "_default"), ("myregistry.io:5000", "myregistry.io_5000_"),
    ("127.0.0.1:5000", "127.0.0.1_5000_"), ("[::1]:5000", "[::1]_5000_"),
])
def test_host_directory_is_containerds(name: str, directory: str) -> None:
    assert host_directory(name) == directory


# -- meaning, without containerd -------------------------------------------------------------------

def _is_local(host: str) -> bool:
    return hosts.is_localhost(host)


def cri_hosts(registry: dict, host: str) -> list[tuple]:
    """(scheme, host, path, tls) per request, as the 1.7 CRI plugin built them."""
    mirrors = registry.get("mirrors", {})
    configs = registry.get("configs", {})
    eps = list((mirrors.get(host) if host in mirrors else mirrors.get("*", {}))
               .get("endpoint", []))
    eps = [e if "://" in e else
           ("http" if _is_local(urlsplit("dummy://" + e).netloc) else "https") + "://" + e
           for e in eps]
    if not any(urlsplit(e).netloc == host for e in eps):
        up = "registry-1.docker.io" if host == "docker.io" else host
        eps.append(("http" if _is_local(up) else "https") + "://" + up)
    out = []
    for e in eps:
        u = urlsplit(e)
        tls = configs.get(u.netloc, {}).get("tls")
        t = None
        if tls is not None and u.scheme == "https":
            t = (tls.get("ca_file") or None,
                 (tls["cert_file"], tls["key_file"]) if tls.get("cert_file") else None,
                 bool(tls.get("insecure_skip_verify")))
        out.append((u.scheme, u.netloc, u.path or "/v2", t))
    return out


def toml_hosts(files: dict[str, dict], host: str) -> list[tuple] | None:
    """The same from parsed hosts.toml files ({directory: parsed}); None: containerd's
    default for a host without a directory."""
    for d in ([hosts.host_directory(host)] if ":" in host else []) + [host, "_default"]:
        if d in files:
            data = files[d]
            break
    else:
        return None
    out = []
    entries = [(url, cfg) for url, cfg in data.get("host", {}).items()]
    server = data.get("server")
    if server is None:
        up = "registry-1.docker.io" if host == "docker.io" else host
        server = ("http" if _is_local(up) else "https") + "://" + up
        top = {}  # containerd's default; TLS keys at top level would still apply
    else:
        top = {k: v for k, v in data.items() if k not in ("server", "host")}
    for url, cfg in entries + [(server, top)]:
        assert "capabilities" not in cfg or cfg is top or cfg["capabilities"] == \
            list(hosts.CAPABILITIES)
        caps = cfg.get("capabilities", ["pull", "resolve", "push"])
        assert {"pull", "resolve"} <= set(caps)
        u = urlsplit(url if url.startswith("http") else "https://" + url)
        path = u.path
        if path:
            path = posixpath.normpath(path)
            if not path.endswith("/v2") and not cfg.get("override_path"):
                path += "/v2"
        elif not cfg.get("override_path"):
            path = "/v2"
        client = cfg.get("client")
        t = None
        if any(k in cfg for k in ("ca", "client", "skip_verify")):
            t = (cfg.get("ca"), tuple(client[0]) if client else None,
                 bool(cfg.get("skip_verify")))
        out.append((u.scheme, u.netloc, path, t))
    return out


def _norm(entries: list[tuple]) -> list[tuple]:
    return [(s, h, posixpath.normpath(p) if p != "/" else p, t) for s, h, p, t in entries]


@pytest.mark.parametrize("case", GOOD, ids=lambda c: c.name)
def test_hosts_files_give_the_hosts_the_cri_mirrors_gave(case: Path) -> None:
    data = tomllib.loads((case / "input.toml").read_text())
    version = data.get("version", 1)
    registry = data
    for k in hosts.REGISTRY[version]:
        registry = registry.get(k, {})
    _, files = _run(case)
    parsed = {p.parent.name: tomllib.loads(text) for p, text in files.items()}
    probes = set(registry.get("mirrors", {})) | set(registry.get("configs", {})) | \
        {"docker.io", "unknown.example", "quay.io"}
    probes.discard("*")
    for probe in sorted(probes):
        got = toml_hosts(parsed, probe)
        want = _norm(cri_hosts(registry, probe))
        if got is None:  # no directory: containerd's default is the registry itself
            assert want == [(want[0][0], want[0][1], "/v2", None)], probe
            continue
        assert _norm(got) == want, probe


def test_e35_mapping_literally() -> None:
    """Facts E35: the equivalent config containerd was observed to follow."""
    result, files = _run(GOLDEN / "r02-v2-loopback-e35")
    local = tomllib.loads(files[Path(DIR) / "127.0.0.1_5000_" / "hosts.toml"])
    assert local["server"] == "http://127.0.0.1:5000"
    assert list(local["host"]) == ["http://127.0.0.1:5002", "http://127.0.0.1:5001"]
    assert all(h["capabilities"] == ["pull", "resolve"] for h in local["host"].values())
    default = tomllib.loads(files[Path(DIR) / "_default" / "hosts.toml"])
    assert "server" not in default and list(default["host"]) == ["http://127.0.0.1:5003"]


# -- behaviour details -----------------------------------------------------------------------------

V2 = 'version = 2\n\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = ""\n\n'


def _mirror(host: str, *endpoints: str) -> str:
    eps = ", ".join(json.dumps(e) for e in endpoints)
    return f'[plugins."io.containerd.grpc.v1.cri".registry.mirrors.{json.dumps(host)}]\n' \
           f'  endpoint = [{eps}]\n\n'


def test_nothing_to_convert_writes_nothing() -> None:
    text = V2 + '[plugins."io.containerd.grpc.v1.cri".registry.mirrors]\n'
    result, files = migrate_registry(text, to=2, hosts_dir=DIR)
    assert files == {} and result.text == text


def test_relative_hosts_dir_is_refused() -> None:
    with pytest.raises(ConfigError, match="absolute"):
        migrate_registry(V2 + _mirror("docker.io", "https://m"), to=3, hosts_dir="certs.d")
    with pytest.raises(ConfigError, match="must not contain"):
        migrate_registry(V2 + _mirror("docker.io", "https://m"), to=3,
                         hosts_dir="/a" + os.pathsep + "/b")


def test_existing_config_path_elsewhere_is_refused() -> None:
    text = V2.replace('config_path = ""', 'config_path = "/etc/other"') + \
        _mirror("docker.io", "https://m")
    with pytest.raises(ConfigError, match="already set"):
        migrate_registry(text, to=3, hosts_dir=DIR)
    ok = text.replace("/etc/other", DIR)
    result, files = migrate_registry(ok, to=3, hosts_dir=DIR)
    assert list(files) == [Path(DIR) / "docker.io" / "hosts.toml"]


def test_bad_endpoints_and_tls_are_refused() -> None:
    with pytest.raises(ConfigError, match="scheme"):
        migrate_registry(V2 + _mirror("docker.io", "ftp://m"), to=3, hosts_dir=DIR)
    with pytest.raises(ConfigError, match="endpoint host"):
        migrate_registry(V2 + _mirror("docker.io", "https://a b/"), to=3, hosts_dir=DIR)
    tls = '[plugins."io.containerd.grpc.v1.cri".registry.configs."m".tls]\n  cert_file = "/c"\n'
    with pytest.raises(ConfigError, match="no key_file"):
        migrate_registry(V2 + tls, to=3, hosts_dir=DIR)


def test_userinfo_in_an_endpoint_is_dropped_and_never_shown() -> None:
    text = V2 + _mirror("docker.io", f"https://bob:{PASSWORD}@m.example")
    result, files = migrate_registry(text, to=3, hosts_dir=DIR)
    content = files[Path(DIR) / "docker.io" / "hosts.toml"]
    assert '[host."https://m.example"]' in content and PASSWORD not in content
    assert any(f.code == "hosts-userinfo" for f in result.findings)
    assert PASSWORD not in result.format_text() + json.dumps(result.to_json())


def test_http_endpoint_keeps_no_tls_and_says_why() -> None:
    text = V2 + _mirror("docker.io", "http://m.example:5000") + \
        '[plugins."io.containerd.grpc.v1.cri".registry.configs."m.example:5000".tls]\n' \
        '  insecure_skip_verify = true\n'
    result, files = migrate_registry(text, to=3, hosts_dir=DIR)
    assert "skip_verify" not in files[Path(DIR) / "docker.io" / "hosts.toml"]
    assert any(f.code == "hosts-tls-http" for f in result.findings)
    # the host itself, pulled directly, was https: it keeps the setting
    assert "skip_verify = true" in files[Path(DIR) / "m.example_5000_" / "hosts.toml"]
    local = V2 + _mirror("localhost:5000", "http://localhost:5001") + \
        '[plugins."io.containerd.grpc.v1.cri".registry.configs."localhost:5000".tls]\n' \
        '  insecure_skip_verify = true\n'
    result, files = migrate_registry(local, to=3, hosts_dir=DIR)
    assert "skip_verify" not in "".join(files.values())
    dropped = [c for c in result.changes if c.kind == "dropped" and c.rule == "hosts-toml"]
    assert dropped and "plain http" in dropped[0].reason


def test_tls_for_docker_io_was_never_used() -> None:
    text = V2 + '[plugins."io.containerd.grpc.v1.cri".registry.configs."docker.io".tls]\n' \
        '  ca_file = "/ca.pem"\n'
    result, files = migrate_registry(text, to=3, hosts_dir=DIR)
    assert files == {}
    assert any("registry-1.docker.io" in c.reason for c in result.changes
               if c.kind == "dropped")


def test_tls_only_host_under_a_catch_all_keeps_the_catch_all_first() -> None:
    text = V2 + _mirror("*", "https://proxy.example") + \
        '[plugins."io.containerd.grpc.v1.cri".registry.configs."reg.example".tls]\n' \
        '  ca_file = "/ca.pem"\n'
    _, files = migrate_registry(text, to=3, hosts_dir=DIR)
    own = tomllib.loads(files[Path(DIR) / "reg.example" / "hosts.toml"])
    assert list(own["host"]) == ["https://proxy.example"]
    assert own["server"] == "https://reg.example" and own["ca"] == "/ca.pem"


def test_duplicate_endpoints_are_listed_once() -> None:
    text = V2 + _mirror("docker.io", "https://m", "https://m")
    result, files = migrate_registry(text, to=3, hosts_dir=DIR)
    parsed = tomllib.loads(files[Path(DIR) / "docker.io" / "hosts.toml"])
    assert list(parsed["host"]) == ["https://m"]
    assert any(f.code == "hosts-duplicate" for f in result.findings)


def test_catch_all_without_endpoints_writes_no_default() -> None:
    text = V2 + _mirror("*")
    result, files = migrate_registry(text, to=3, hosts_dir=DIR)
    assert files == {} and "mirrors" not in result.text


def test_relative_tls_paths_are_flagged() -> None:
    text = V2 + _mirror("docker.io", "https://m") + \
        '[plugins."io.containerd.grpc.v1.cri".registry.configs."m".tls]\n' \
        '  cert_file = "certs/node.pem"\n  key_file = "/abs/node-key.pem"\n'
    result, files = migrate_registry(text, to=3, hosts_dir=DIR)
    assert any(f.code == "hosts-relative-path" for f in result.findings)
    assert 'client = [["certs/node.pem", "/abs/node-key.pem"]]' in \
        files[Path(DIR) / "docker.io" / "hosts.toml"]


def test_default_dir_on_16_is_flagged() -> None:
    text = V2 + _mirror("*", "https://proxy.example")
    result, _ = migrate_registry(text, to=2, containerd="1.6", hosts_dir=DIR)
    assert any(f.code == "hosts-default-dir" for f in result.findings)


def test_auth_stays_with_a_finding_and_goes_only_with_allow_loss() -> None:
    case = GOLDEN / "r06-v2-auth-allow-loss"
    text = (case / "input.toml").read_text()
    kept, _ = migrate_registry(text, to=3, hosts_dir=DIR)
    assert PASSWORD in kept.text
    assert [f.code for f in kept.findings].count("registry-auth") == 2
    gone, _ = migrate_registry(text, to=3, hosts_dir=DIR, allow_loss=True)
    assert PASSWORD not in gone.text
    assert all("removed" in f.message for f in gone.findings if f.code == "registry-auth")


# -- writing ---------------------------------------------------------------------------------------

def test_write_hosts_writes_creates_and_leaves_identical_files(tmp_path: Path) -> None:
    root = tmp_path / "certs.d"
    _, files = _run(GOLDEN / "r01-v2-docker-hub-and-default", hosts_dir=str(root))
    written = write_hosts(files)
    assert sorted(written) == sorted(files)
    for path, content in files.items():
        assert path.read_text() == content
    stamp = {p: p.stat().st_mtime_ns for p in files}
    assert write_hosts(files) == []  # identical content: left alone
    assert {p: p.stat().st_mtime_ns for p in files} == stamp
    assert not [p for p in root.rglob("*.tmp")]
    # planning again with the files on disk is fine: identical content is no conflict
    _run(GOLDEN / "r01-v2-docker-hub-and-default", hosts_dir=str(root))


def test_existing_different_hosts_file_is_never_clobbered(tmp_path: Path) -> None:
    root = tmp_path / "certs.d"
    mine = root / "docker.io" / "hosts.toml"
    mine.parent.mkdir(parents=True)
    mine.write_text('server = "https://my.own.mirror"\n')
    case = GOLDEN / "r01-v2-docker-hub-and-default"
    with pytest.raises(ConfigError, match="exists with other content"):
        _run(case, hosts_dir=str(root))
    _, files = _run(case, hosts_dir=str(root), overwrite=True)
    with pytest.raises(ConfigError, match="exists with other content"):
        write_hosts(files)
    assert mine.read_text() == 'server = "https://my.own.mirror"\n'
    assert not (root / "_default").exists()  # checked before the first write
    write_hosts(files, overwrite=True)
    assert mine.read_text() == files[mine]


def test_symlinks_are_never_written_through(tmp_path: Path) -> None:
    root = tmp_path / "certs.d"
    outside = tmp_path / "outside"
    outside.mkdir()
    root.mkdir()
    (root / "docker.io").symlink_to(outside, target_is_directory=True)
    case = GOLDEN / "r01-v2-docker-hub-and-default"
    with pytest.raises(ConfigError, match="symbolic link"):
        _run(case, hosts_dir=str(root))
    (root / "docker.io").unlink()
    (root / "docker.io").mkdir()
    (root / "docker.io" / "hosts.toml").symlink_to(outside / "target.toml")
    with pytest.raises(ConfigError, match="symbolic link"):
        _run(case, hosts_dir=str(root), overwrite=True)
    assert list(outside.iterdir()) == []


def test_existing_host_directories_are_flagged(tmp_path: Path) -> None:
    root = tmp_path / "certs.d"
    (root / "ghcr.io").mkdir(parents=True)
    result, _ = _run(GOLDEN / "r01-v2-docker-hub-and-default", hosts_dir=str(root))
    assert any(f.code == "hosts-existing" and "ghcr.io" in f.message for f in result.findings)


# -- secrets ---------------------------------------------------------------------------------------

SECRET_CASES = [GOLDEN / "r03-v2-tls-auth-stay-v2", GOLDEN / "r06-v2-auth-allow-loss",
                GOLDEN / "r07-v2-inline-tables-to-v2", GOLDEN / "r09-v2-config-path-added-to-block"]


@pytest.mark.parametrize("case", SECRET_CASES, ids=lambda c: c.name)
def test_a_password_appears_in_no_report_diff_or_error(case: Path) -> None:
    from migrator.cli.commands import unified_diff
    text = (case / "input.toml").read_text()
    assert PASSWORD in text or "tok-DO-NOT-PRINT" in text
    secrets = (PASSWORD, "tok-DO-NOT-PRINT")
    result, files = _run(case)
    streams = {
        "text report": result.format_text(),
        "json report": json.dumps(result.to_json()),
        "findings": " ".join(f.format("config.toml") for f in result.findings),
        "changes": " ".join(c.format() for c in result.changes),
        "hosts files": "".join(files.values()),
        "diff": unified_diff(redact_toml(result.input_text), redact_toml(result.text),
                             "config.toml"),
        "hosts diffs": "".join(unified_diff("", c, str(p)) for p, c in files.items()),
    }
    # errors: the same file made invalid in three ways
    for bad in (text + _mirror("../evil", "https://m"),
                text + '\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."x"]\n'
                       '  endpoint = ["ftp://m"]\n',
                text.replace("version = 2", "version = 2\nimports = 3\n[broken")):
        with pytest.raises(ConfigError) as err:
            migrate_registry(bad, to=3, hosts_dir=DIR, file="config.toml")
        streams[f"error {len(streams)}"] = str(err.value)
    for name, stream in streams.items():
        for secret in secrets:
            assert secret not in stream, name
    if PASSWORD in result.text:  # kept in the config, and only there
        assert PASSWORD not in redact_toml(result.text)


def test_redact_toml_blanks_every_form_of_secret() -> None:
    text = ('[a.configs."h".auth]\n  username = "u"\n  password = "p1"  # keep me\n'
            '[a.configs."i"]\n  auth = { username = "u", password = "p2" }\n'
            '[a.auths."https://x"]\n  identitytoken = "p3"\n  auth = "p4"\n'
            '[b]\n  token = \'p5\'\n'
            '[c.registry]\n  headers = { Authorization = ["Basic p6"], X-Pool = ["edge"] }\n'
            '[d.registry.headers]\n  Cookie = ["p7"]\n  X-Pool = ["edge"]\n')
    out = redact_toml(text)
    assert 'X-Pool = ["edge"]' in out
    for secret in ("p1", "p2", "p3", "p4", "p5", "p6", "p7"):
        assert secret not in out
    assert "# keep me" in out and 'username = "u"' in out
    assert tomllib.loads(out)["a"]["configs"]["h"]["auth"]["password"] == "<redacted>"
    assert redact_toml("not [ toml") == "not [ toml"


def test_the_cli_report_and_json_show_no_password() -> None:
    from click.testing import CliRunner

    from migrator.cli import commands as cli
    for case in SECRET_CASES[:2]:
        res = CliRunner().invoke(cli.main, [str(case / "input.toml"), "--to", "3", "--check",
                                            "--report-json", "-"])
        assert res.exit_code in (0, 1), res.stderr
        assert PASSWORD not in res.stdout + res.stderr
        assert json.loads(res.stdout)["file"].endswith("input.toml")


def test_the_cli_diff_shows_no_password() -> None:
    """The auth lines stay in place, so a unified diff shows them as context: the CLI diffs
    redact_toml(...) of both texts."""
    from click.testing import CliRunner

    from migrator.cli import commands as cli
    case = GOLDEN / "r03-v2-tls-auth-stay-v2"
    assert PASSWORD in (case / "input.toml").read_text()
    res = CliRunner().invoke(cli.main, [str(case / "input.toml"), "--to", "3", "--diff"])
    assert res.exit_code == 0, res.stderr
    assert res.stdout.startswith(f"--- {case / 'input.toml'}\n")   # an absolute path: no a/
    assert "<redacted>" in res.stdout
    assert PASSWORD not in res.stdout + res.stderr


def test_redact_toml_redacts_url_user_information() -> None:
    text = ('server = "https://u:pw-in-server@docker.io"\n'
            '[host."https://tok-in-key@m.io"]\n  capabilities = ["pull"]\n')
    out = redact_toml(text)
    assert "pw-in-server" not in out and "tok-in-key" not in out
    assert '[host."https://<redacted>@m.io"]' in out and 'capabilities = ["pull"]' in out
    assert redact_toml("not [ toml https://a:b@c") == "not [ toml https://<redacted>@c"


# -- containerd ------------------------------------------------------------------------------------

ORACLE_CASES = GOOD


def _registry_paths(version: int, result, files) -> set[tuple]:
    prefix = hosts.REGISTRY[version]
    allowed = {prefix + ("config_path",), prefix + ("mirrors",)}
    data = tomllib.loads(result.input_text)
    registry = data
    for k in hosts.REGISTRY[data.get("version", 1)]:
        registry = registry.get(k, {})
    for x, conf in registry.get("configs", {}).items():
        if "tls" in conf:
            allowed.add(prefix + ("configs", x, "tls"))
            allowed.add(prefix + ("configs", x))  # a configs entry that only had tls
        if "auth" in conf and _args_allow_loss(result):
            allowed.add(prefix + ("configs", x))
    if _args_allow_loss(result):
        allowed.add(prefix + ("auths",))
        allowed.add(prefix + ("configs",))
    return allowed


def _args_allow_loss(result) -> bool:
    return any("removed" in f.message for f in result.findings if f.code == "registry-auth")


@pytest.mark.oracle
@pytest.mark.parametrize("case", ORACLE_CASES, ids=lambda c: c.name)
def test_containerd_reads_config_path_and_no_mirrors(case: Path) -> None:
    from tests import oracle

    from .judging import expected_differences
    text = (case / "input.toml").read_text()
    source = tomllib.loads(text).get("version", 1)
    # the original is judged by the release that read it, the output by the same release:
    # 1.7 for a version 1/2 original migrated to 2, 2.1 for version 2/3 originals going to 3
    plans = [(2, "1.7")] if source <= 2 else []
    if source >= 2:
        plans.append((3, "2.1"))
    for to, line in plans:
        oracle.require_containerd(line)
        result, files = migrate_registry(text, to=to, hosts_dir=DIR,
                                         allow_loss=_args(case).get("allow_loss", False))
        before = oracle.dump(line, text)
        after = oracle.dump(line, result.text)
        assert before.ok, before.stderr
        assert after.ok, after.stderr
        registry = after.config["plugins"]
        for k in hosts.REGISTRY[to][1:]:
            registry = registry[k]
        assert registry["config_path"] == DIR
        assert not registry.get("mirrors")
        assert not any("tls" in c for c in registry.get("configs", {}).values())
        allowed = _registry_paths(to, result, files) | \
            expected_differences(line, "up", text, result.text)[0]
        assert oracle.compare(before.config, after.config, allowed=allowed) == []
        assert oracle.new_warnings(before, after) == []

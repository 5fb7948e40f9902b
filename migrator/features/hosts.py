"""CRI registry `mirrors` and `configs.*.tls` -> `hosts.toml` files under `config_path`.

    from migrator.features.hosts import migrate_registry, write_hosts
    result, files = migrate_registry(text, to=3, hosts_dir="/etc/containerd/certs.d")
    result.text          # the config: config_path set, mirrors and configs.*.tls removed
    files                # {Path(".../docker.io/hosts.toml"): "...", ...}; nothing written yet
    write_hosts(files)   # atomically; an existing different file is an error unless overwrite

containerd never wrote hosts.toml files for the CRI `mirrors`: it built the host list in memory
on every pull (`registryEndpoints`/`registryHosts`, pkg/cri/server/image_pull.go@v1.7.34). This
module writes the files that give the same list (facts §6.3, "Equivalent hosts.toml", E34/E35):

* one directory per registry `H` of `mirrors` (and per host `X` of `configs.X.tls`):
  `name_port_` for `name:port`, `H` otherwise, `_default` for `"*"`;
* each endpoint as a `[host."<url>"]` table in list order with
  `capabilities = ["pull", "resolve"]`; an endpoint without a scheme gets the one containerd
  gave it (`http` for localhost/loopback, else `https`); a path not ending in `/v2` gets
  `override_path = true`;
* `server` = the upstream containerd appended (`https://registry-1.docker.io` for docker.io,
  `http://` for a localhost registry), or, when an endpoint's host is the registry itself
  (containerd then appended nothing), the last endpoint with top-level capabilities;
  `_default` has no `server`;
* `configs.X.tls` on every entry whose host is `X` (TLS was keyed by the host contacted):
  `ca_file` -> `ca`, `cert_file` + `key_file` -> `client = [[cert, key]]`,
  `insecure_skip_verify = true` -> `skip_verify = true`.

Kept in the config: `configs.X.auth` and `auths` (hosts.toml has no credentials; a finding says
so, `allow_loss` removes them) and `registry.headers` (not deprecated; containerd sends them on
every registry request with or without `config_path`, internal/cri/server/images/
image_pull.go@HEAD, so moving them into hosts.toml would only send them twice).

Secrets never reach a message: findings and errors name key paths and host names only, and
`redact_toml` blanks secret values in a TOML text for diffs.
"""
from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from migrator.core import catalog, engine, loading, rules
from migrator.core.errors import ConfigError
from migrator.core.paths import dotted, parse_dotted
from migrator.core.results import Change, Finding, MigrationResult
from migrator.core.secrets import is_secret
from migrator.emit.emitter import render_key, render_value

__all__ = ["migrate_registry", "write_hosts", "plan_hosts", "host_directory", "check_host",
           "redact_toml", "HostsFile", "HOSTS_FILE", "CAPABILITIES"]

HOSTS_FILE = "hosts.toml"
CAPABILITIES = ("pull", "resolve")
DEFAULT_DIR = "_default"
RULE = "hosts-toml"
RELEASE = catalog.since("hosts-dir")  # config_path and hosts.toml appeared in containerd 1.5
SOURCE = "pkg/cri/server/image_pull.go@v1.7.34"

#: Where the CRI registry table lives in each config version.
REGISTRY = {n: v.registry for n, v in catalog.versions().items()}
TLS_KEYS = ("ca_file", "cert_file", "key_file", "insecure_skip_verify")

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_PORT = re.compile(r"[0-9]{1,5}")


# -- host names ----------------------------------------------------------------------------------

def check_host(name: Any, *, what: str = "registry host", file: str = "<string>",
               line: int | None = None, col: int | None = None, wildcard: bool = True) -> str:
    """`name` as a safe registry host (`host`, `host:port`, `[v6]:port`, or "*"), or ConfigError.

    Refused: empty names, path separators, `..`, whitespace, control characters, anything that
    is not a host name or IP address with an optional port (1-65535), and a literal `_default`
    (it would become the directory every other registry falls back to)."""
    def bad(why: str) -> ConfigError:
        return ConfigError(f"{what} {_show(name)} {why}; nothing written", file=file, line=line,
                           col=col)
    if not isinstance(name, str):
        raise bad("is not a string")
    if name == "*" and wildcard:
        return name
    if not name:
        raise bad("is empty")
    if any(c in name for c in "/\\") or ".." in name:
        raise bad("contains a path separator or '..'")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or not c.isprintable() for c in name):
        raise bad("contains whitespace or control characters")
    if name == DEFAULT_DIR:
        raise bad("is the name of the fallback directory; write \"*\" for every registry")
    host, port = _split_port(name)
    if port is not None and (not _PORT.fullmatch(port) or not 0 < int(port) < 65536):
        raise bad("has an invalid port")
    if host.startswith("["):
        if not host.endswith("]"):
            raise bad("is not a host name or IP address")
        try:
            ipaddress.IPv6Address(host[1:-1].split("%", 1)[0])
        except ValueError:
            raise bad("is not a host name or IP address") from None
    elif not _HOSTNAME.fullmatch(host) or len(host) > 253:
        raise bad("is not a host name or IP address")
    return name


def _split_port(name: str) -> tuple[str, str | None]:
    if name.startswith("["):
        end = name.find("]")
        if end > 0 and name[end + 1:].startswith(":"):
            return name[:end + 1], name[end + 2:]
        return name, None
    if ":" in name:
        host, port = name.rsplit(":", 1)
        return host, port
    return name, None


def _show(name: Any) -> str:
    """A host name for a message: quoted, control characters escaped, never very long."""
    text = repr(name) if isinstance(name, str) else type(name).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def host_directory(host: str) -> str:
    """The directory containerd looks in first for `host` (`hostDirectory`, hosts.go)."""
    if host == "*":
        return DEFAULT_DIR
    idx = host.rfind(":")
    if idx > 0:
        return host[:idx] + "_" + host[idx + 1:] + "_"
    return host


def is_localhost(host: str) -> bool:
    """docker.IsLocalhost: `localhost` or a loopback IP, with or without a port."""
    name, _ = _split_port(host)
    name = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def default_scheme(host: str) -> str:
    return "http" if is_localhost(host) else "https"


def default_host(registry: str) -> str:
    return "registry-1.docker.io" if registry == "docker.io" else registry


# -- the plan ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One host containerd tries for a registry."""
    url: str                   # scheme://host[path] as written to hosts.toml
    scheme: str
    host: str                  # host[:port]
    path: str
    upstream: bool = False     # the registry itself, appended by containerd


@dataclass
class HostsFile:
    """One hosts.toml to write."""
    registry: str                     # "docker.io", "*"
    directory: str                    # "docker.io", "_default", "name_port_"
    hosts: list[Entry]                # [host."..."] tables, in order
    server: Entry | None              # top-level server (None: containerd's default)
    server_capabilities: bool         # top-level capabilities (server is a mirror)
    tls: dict[str, dict[str, Any]] = field(default_factory=dict)   # url -> hosts.toml keys
    tls_from: dict[str, str] = field(default_factory=dict)         # url -> configs key X

    def render(self) -> str:
        """The file's text, as tomlkit would lay it out (tests/test_hosts_render.py), written
        directly: a document model per file made thousands of mirrors slow."""
        what = "every registry without its own directory" if self.registry == "*" \
            else self.registry
        lines = [f"# Registry hosts for {what}, converted by containerd-migrate from the CRI "
                 "registry config."]
        if self.server is not None:
            lines.append(f"server = {render_value(self.server.url)}")
            if self.server_capabilities:
                lines.append(f"capabilities = {render_value(list(CAPABILITIES))}")
            lines += [f"{key} = {render_value(value)}"
                      for key, value in self._keys(self.server).items()]
        for entry in self.hosts:
            lines.append("")
            lines.append(f"[host.{render_key(entry.url)}]")
            lines.append(f"capabilities = {render_value(list(CAPABILITIES))}")
            lines += [f"{key} = {render_value(value)}" for key, value in self._keys(entry).items()]
        return "\n".join(lines) + "\n"

    def _keys(self, entry: Entry) -> dict[str, Any]:
        out = dict(self.tls.get(entry.url, {}))
        if entry.path and not posix_clean(entry.path).endswith("/v2"):
            out["override_path"] = True
        return out


def posix_clean(path: str) -> str:
    """Go's path.Clean for the URL paths hosts.toml compares."""
    import posixpath
    cleaned = posixpath.normpath(path) if path else "."
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


@dataclass
class RegistryPlan:
    source_prefix: tuple
    files: list[HostsFile]
    mirror_paths: list[tuple]                 # input paths of mirrors entries
    tls_paths: dict[str, tuple]               # X -> input path of configs.X.tls
    auth_paths: list[tuple]                   # input paths of credentials
    config_path: tuple                        # input path of config_path
    config_path_value: Any
    findings: list[Finding]
    tls_targets: dict[str, list[str]]         # X -> [directory/url, ...] it went to
    tls_unused: dict[str, str]                # X -> why it was not carried over
    headers: bool = False                     # registry.headers is set (it stays)


def _where(loaded: loading.Loaded, path: tuple) -> tuple[int | None, int | None]:
    """Line and column of the statement that writes `path` (or its closest table), else of
    the first statement inside it."""
    best = loaded.doc.enclosing(path) or loaded.doc.inside(path)
    return (best.line, best.col) if best else (None, None)


def _table(value: Any, path: tuple, loaded: loading.Loaded, file: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        line, col = _where(loaded, path)
        raise ConfigError(f"{dotted(path)} must be a table", file=file, line=line, col=col)
    return value


def _entry(raw: Any, path: tuple, loaded: loading.Loaded, file: str,
           findings: list[Finding]) -> Entry:
    line, col = _where(loaded, path)
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{dotted(path)}: every endpoint must be a non-empty string",
                          file=file, line=line, col=col)
    if "://" not in raw:
        host = urlsplit("dummy://" + raw).netloc.rsplit("@", 1)[-1]
        raw_url = f"{default_scheme(host)}://{raw}"
    else:
        raw_url = raw
    try:
        u = urlsplit(raw_url)
    except ValueError:
        raise ConfigError(f"{dotted(path)}: an endpoint is not a URL", file=file, line=line,
                          col=col) from None
    scheme = u.scheme.lower()
    if scheme not in ("http", "https"):
        raise ConfigError(f"{dotted(path)}: endpoint scheme {_show(u.scheme)} is not http or "
                          "https", file=file, line=line, col=col)
    netloc = u.netloc
    if "@" in netloc:
        netloc = netloc.rsplit("@", 1)[1]
        findings.append(Finding(
            "warning", "hosts-userinfo", "an endpoint carries user information in its URL; "
            "containerd never used it, so hosts.toml leaves it out (credentials belong in "
            "configs.<host>.auth)", dotted(path), line, col))
    check_host(netloc, what="endpoint host", file=file, line=line, col=col, wildcard=False)
    return Entry(f"{scheme}://{netloc}{u.path}", scheme, netloc, u.path)


def _tls_keys(tls: dict, path: tuple, loaded: loading.Loaded, file: str) -> dict[str, Any]:
    line, col = _where(loaded, path)
    for key, value in tls.items():
        want = bool if key == "insecure_skip_verify" else str
        if key in TLS_KEYS and not isinstance(value, want):
            raise ConfigError(f"{dotted(path + (key,))} must be a "
                              f"{'boolean' if want is bool else 'string'}", file=file,
                              line=line, col=col)
    cert, key = tls.get("cert_file") or "", tls.get("key_file") or ""
    if bool(cert) != bool(key):
        have, missing = ("cert_file", "key_file") if cert else ("key_file", "cert_file")
        raise ConfigError(f"{dotted(path)} has {have} but no {missing}: containerd 1.x failed "
                          "every pull through this host; give both or neither",
                          file=file, line=line, col=col)
    out: dict[str, Any] = {}
    if tls.get("ca_file"):
        out["ca"] = tls["ca_file"]
    if cert:
        out["client"] = [[cert, key]]
    if tls.get("insecure_skip_verify") is True:
        out["skip_verify"] = True
    return out


def plan_hosts(loaded: loading.Loaded, *, file: str = "<string>") -> RegistryPlan:
    """Everything to write, from the input tree alone; ConfigError for anything unsafe."""
    prefix = REGISTRY[loaded.version]
    reg: Any = loaded.tree
    for k in prefix:
        reg = reg.get(k) if isinstance(reg, dict) else None
    reg = _table(reg, prefix, loaded, file)
    findings: list[Finding] = []
    mirrors = _table(reg.get("mirrors"), prefix + ("mirrors",), loaded, file)
    configs = _table(reg.get("configs"), prefix + ("configs",), loaded, file)
    auths = _table(reg.get("auths"), prefix + ("auths",), loaded, file)
    # every name that becomes a directory is checked before anything else happens
    for name in mirrors:
        check_host(name, file=file, what="registry host", line=_where(
            loaded, prefix + ("mirrors", name))[0])
    tls: dict[str, dict] = {}
    tls_paths: dict[str, tuple] = {}
    auth_paths: list[tuple] = []
    for name, conf in configs.items():
        path = prefix + ("configs", name)
        conf = _table(conf, path, loaded, file)
        if "tls" in conf:
            check_host(name, file=file, what="registry host", line=_where(loaded, path)[0])
            tls[name] = _table(conf["tls"], path + ("tls",), loaded, file)
            tls_paths[name] = path + ("tls",)
        if "auth" in conf:
            auth_paths.append(path + ("auth",))
    auth_paths += [prefix + ("auths", name) for name in auths]

    endpoints: dict[str, list[Entry]] = {}
    for name, entry in mirrors.items():
        path = prefix + ("mirrors", name)
        entry = _table(entry, path, loaded, file)
        raw = entry.get("endpoint", [])
        if not isinstance(raw, list):
            line, col = _where(loaded, path + ("endpoint",))
            raise ConfigError(f"{dotted(path + ('endpoint',))} must be a list of URLs",
                              file=file, line=line, col=col)
        endpoints[name] = [_entry(e, path + ("endpoint",), loaded, file, findings) for e in raw]
        for key in entry:
            if key != "endpoint":
                findings.append(Finding("warning", "hosts-unknown-key", "containerd reads only "
                                        "`endpoint` in a mirrors entry; this key is dropped",
                                        dotted(path + (key,)), *_where(loaded, path + (key,))))

    tls_keys = {x: _tls_keys(t, tls_paths[x], loaded, file) for x, t in tls.items()}
    for x, t in tls.items():
        for key in t:
            if key not in TLS_KEYS:
                findings.append(Finding(
                    "warning", "hosts-unknown-key", "containerd reads only "
                    f"{', '.join(TLS_KEYS)} in a tls table; this key is dropped",
                    dotted(tls_paths[x] + (key,)), *_where(loaded, tls_paths[x] + (key,))))
    files: list[HostsFile] = []
    tls_targets: dict[str, list[str]] = {}
    registries = list(endpoints) + [x for x in tls if x not in endpoints and x != "*"]
    for registry in registries:
        hf = _hosts_file(registry, endpoints)
        for entry in hf.hosts + ([hf.server] if hf.server is not None else []):
            keys = tls_keys.get(entry.host)
            if entry.host not in tls:
                continue
            if entry.scheme == "http":  # plain http never used the TLS settings
                if not any(f.code == "hosts-tls-http" and f.path == dotted(tls_paths[entry.host])
                           for f in findings):
                    findings.append(Finding(
                        "info", "hosts-tls-http", "containerd 1.x talked plain http to "
                        f"{entry.url} and never used these TLS settings there; hosts.toml "
                        "leaves them off that entry (with them containerd would try https "
                        "first)", dotted(tls_paths[entry.host]),
                        *_where(loaded, tls_paths[entry.host])))
                continue
            if keys:
                hf.tls[entry.url] = keys
            hf.tls_from[entry.url] = entry.host
            tls_targets.setdefault(entry.host, []).append(f"{hf.directory}/{HOSTS_FILE}")
        if registry not in endpoints and not hf.tls_from:
            continue  # a tls-only host whose settings containerd never applied
        files.append(hf)
    tls_unused = {}
    for x in tls:
        if x not in tls_targets:
            if x == "*":
                tls_unused[x] = ("containerd looks configs up by the host it contacts, which is "
                                 "never \"*\"; these TLS settings were never used")
            elif any(e.host == x and e.scheme == "http" for hf in files
                   for e in hf.hosts + ([hf.server] if hf.server else [])) or \
                    (is_localhost(x) and x not in endpoints):
                tls_unused[x] = ("containerd 1.x talked plain http to this host and never used "
                                 "its TLS settings; in hosts.toml they would make containerd "
                                 "try https first, so they are not carried over")
            else:
                why = "docker.io is served by registry-1.docker.io" if x == "docker.io" \
                    else "it is no endpoint or upstream"
                tls_unused[x] = ("containerd 1.x applied configs.<host>.tls to the host it "
                                 f"contacted, and no request went to this host ({why}); "
                                 "nothing to carry over")
    for hf in files:
        seen: set[str] = set()
        kept = []
        for e in hf.hosts:
            if e.url in seen:
                findings.append(Finding("warning", "hosts-duplicate", "an endpoint is listed "
                                        "twice; hosts.toml tries each host once",
                                        dotted(prefix + ("mirrors", hf.registry, "endpoint"))))
                continue
            seen.add(e.url)
            kept.append(e)
        hf.hosts = kept
    for x, keys in tls_keys.items():
        paths = [keys.get("ca", "/")] + [p for pair in keys.get("client", []) for p in pair]
        if x in tls_targets and not all(os.path.isabs(p) for p in paths):
            findings.append(Finding(
                "warning", "hosts-relative-path", "a relative TLS file path was relative to "
                "containerd's working directory; in hosts.toml it is relative to the directory "
                "of the hosts.toml: make it absolute", dotted(tls_paths[x]),
                *_where(loaded, tls_paths[x])))
    if "*" in endpoints and not endpoints["*"]:
        files = [hf for hf in files if hf.registry != "*"]  # nothing to say for "*"
    config_path = prefix + ("config_path",)
    return RegistryPlan(prefix, files, [prefix + ("mirrors", m) for m in mirrors], tls_paths,
                        auth_paths, config_path, reg.get("config_path"), findings,
                        tls_targets, tls_unused, bool(reg.get("headers")))


def _hosts_file(registry: str, endpoints: dict[str, list[Entry]]) -> HostsFile:
    """The hosts.toml that gives the host list `registryEndpoints` built for `registry`."""
    directory = host_directory(registry)
    if registry == "*":
        return HostsFile(registry, directory, list(endpoints["*"]), None, False)
    own = endpoints.get(registry)
    eps = list(own if own is not None else endpoints.get("*", []))
    if any(e.host == registry for e in eps):  # containerd appends no upstream
        return HostsFile(registry, directory, eps[:-1], eps[-1], True)
    up = default_host(registry)
    server = Entry(f"{default_scheme(up)}://{up}", default_scheme(up), up, "", upstream=True)
    return HostsFile(registry, directory, eps, server, False)


# -- migrate ---------------------------------------------------------------------------------------

def migrate_registry(text: str | bytes, *, to: int | None, hosts_dir: str | os.PathLike[str],
                     overwrite: bool = False, allow_loss: bool = False,
                     file: str = "<string>", containerd: str | None = None,
                     ) -> tuple[MigrationResult, dict[Path, str]]:
    """Migrate `text` to version `to` and move mirrors/TLS into hosts.toml files under
    `hosts_dir` (absolute; written into `config_path`). Plans only: nothing is written.

    Returns the migration result (its report lists every move to a hosts.toml) and the files
    to write, `{path: content}`; files already on disk with the same content are included
    (write_hosts leaves them alone). A file on disk with other content is a ConfigError unless
    `overwrite`. Credentials stay in the config (removed only with `allow_loss`), with a
    finding either way."""
    from migrator import pipeline
    from migrator.pipeline import UNSET, migrate

    try:
        target, release = pipeline.resolve_target(to, containerd)
    except ConfigError as exc:
        raise exc.with_file(file) from None
    root = _hosts_root(hosts_dir, file)
    loaded = loading.load(text, file, pipeline.supported_versions())
    plan = plan_hosts(loaded, file=file)
    chain = rules.chain(loaded.version, target, release)
    mapper = engine.Mapper(chain, tree=loaded.tree)

    def where_to(path: tuple) -> tuple | None:
        return mapper.target(path).path

    sets: dict[tuple, object] = {}
    work = bool(plan.mirror_paths or plan.tls_paths)
    if work:
        current = plan.config_path_value
        if current not in (None, "") and current != str(root):
            line, col = _where(loaded, plan.config_path)
            raise ConfigError(
                f"{dotted(plan.config_path)} is already set to another directory, and "
                "containerd refuses mirrors together with config_path; give that directory as "
                "the hosts directory or remove one of them", file=file, line=line, col=col)
        cp = where_to(plan.config_path)
        if cp is None:
            raise ConfigError(f"config version {target} has no registry config_path",
                              file=file)
        sets[cp] = str(root)
        if plan.mirror_paths:  # every entry moves: the whole table goes (also when inline)
            t = where_to(plan.source_prefix + ("mirrors",))
            if t is not None:
                sets[t] = UNSET
        for path in plan.tls_paths.values():
            t = where_to(path)
            if t is not None:
                sets[t] = UNSET
    if allow_loss:
        for path in plan.auth_paths:
            t = where_to(path)
            if t is not None:
                sets[t] = UNSET
    try:
        result = migrate(text, to=target, containerd=containerd, allow_loss=allow_loss,
                         file=file, sets=sets or None, loaded=loaded)
    except ValueError as exc:
        raise ConfigError(f"cannot set config_path in this file ({exc})", file=file) from None
    result.text, comments = _move_comments(loaded, plan, result.text)
    files = {root / hf.directory / HOSTS_FILE: _with_comments(hf.render(),
                                                               comments.get(hf.directory, []))
             for hf in plan.files}
    for path in files:  # belt and braces: validated names cannot leave the directory
        if Path(os.path.normpath(path)).parent.parent != Path(os.path.normpath(root)):
            raise ConfigError(f"{path} is outside {root}; nothing written", file=file)
    _report(result, loaded, plan, root, files, allow_loss, where_to, release, target,
            containerd, work and plan.headers)
    if files:
        _conflicts(files, overwrite, file)
        result.findings.extend(_shadowing(root, plan, file))
    return result, files


def _move_comments(loaded: loading.Loaded, plan: RegistryPlan,
                   out: str) -> tuple[str, dict[str, list[str]]]:
    """The comments of the registry tables that became hosts.toml files go with them.

    The emitter keeps a removed statement's comments where it stood (comments travel with their
    keys); for mirrors and TLS tables they describe a registry that now lives in its hosts.toml,
    so they move there: `{directory: [comment lines]}`. The text loses only those comments
    (checked: it means the same); a comment whose registry has no file stays."""
    text = loaded.text
    nl = "\r\n" if "\r\n" in text else "\n"
    directory = {hf.registry: hf.directory for hf in plan.files}
    owners: dict[tuple, tuple[int, list[str]]] = {}   # table -> (rank, directories)
    depth = len(plan.source_prefix) + 1
    for path in plan.mirror_paths:
        name = path[depth] if len(path) > depth else None
        if name in directory:
            owners.setdefault(path[:depth + 1], (len(owners), [directory[name]]))
    for x, path in plan.tls_paths.items():
        dirs = [t.split("/")[0] for t in plan.tls_targets.get(x, [])]
        if dirs:
            owners.setdefault(path, (len(owners), dirs))
    moved: dict[str, list[str]] = {}
    new, cursor = out, 0
    for st in loaded.doc.statements:
        hits = [owners[p] for p in (st.path[:i] for i in range(len(st.path) + 1)) if p in owners]
        dirs = min(hits, key=lambda h: h[0])[1] if hits else None  # the first owner listed
        if dirs is None or (st.leading == st.start and st.comment_start is None):
            continue
        chunk = text[st.leading:st.start]
        if st.comment_start is not None:
            end = text.find("\n", st.comment_start)
            comment = text[st.comment_start:len(text) if end < 0 else end].rstrip("\r")
            line = text[st.start:st.key_start]
            chunk += line[:len(line) - len(line.lstrip(" \t"))] + comment + nl
        at = new.find(chunk, cursor)
        if at < 0:
            continue
        new, cursor = _tidy(new[:at] + new[at + len(chunk):], at, nl)
        lines = [ln.strip() for ln in chunk.splitlines() if ln.strip().startswith("#")]
        for d in dict.fromkeys(dirs):
            moved.setdefault(d, []).extend(lines)
    try:
        if tomllib.loads(new) != tomllib.loads(out):
            return out, {}
    except tomllib.TOMLDecodeError:
        return out, {}
    return new, moved


def _tidy(text: str, at: int, nl: str) -> tuple[str, int]:
    """After a removal at `at` (a line start), no double blank line and no blank line at the
    end of the file (docs/emitting.md: what disappears takes a blank line along)."""
    blank = nl + nl
    while at >= len(blank) and text[at - len(blank):at] == blank and \
            (text.startswith(nl, at) or at == len(text)):
        text, at = text[:at - len(nl)] + text[at:], at - len(nl)
    if not text[at:].strip() and text[:at].strip():
        text = text.rstrip("\r\n") + nl
        at = len(text)
    return text, at


def _with_comments(content: str, comments: list[str]) -> str:
    if not comments:
        return content
    head, _, rest = content.partition("\n")
    return head + "\n" + "".join(c + "\n" for c in comments) + rest


def _hosts_root(hosts_dir: str | os.PathLike[str], file: str) -> Path:
    text = os.fspath(hosts_dir)
    if not text or not os.path.isabs(text):
        raise ConfigError(f"the hosts directory {_show(text)} must be an absolute path "
                          "(containerd resolves config_path against its own working directory)",
                          file=file)
    if os.pathsep in text or any(ord(c) < 32 for c in text):
        raise ConfigError(f"the hosts directory {_show(text)} must not contain "
                          f"{os.pathsep!r} (config_path is a {os.pathsep!r}-separated list) or "
                          "control characters", file=file)
    return Path(os.path.normpath(text))


def _report(result: MigrationResult, loaded: loading.Loaded, plan: RegistryPlan, root: Path,
            files: dict[Path, str], allow_loss: bool, where_to, release: str | None,
            target: int, containerd: str | None, headers: bool) -> None:
    by_registry = {hf.registry: root / hf.directory / HOSTS_FILE for hf in plan.files}
    kept: list[Change] = []
    mirrors_prefix = plan.source_prefix + ("mirrors",)
    for c in result.changes:
        try:
            src = parse_dotted(c.from_path) if c.from_path else ()
        except Exception:  # not a key path (a list entry such as `disabled_plugins "aufs"`)
            src = ()
        if c.kind == "dropped" and src == mirrors_prefix:
            kept.append(Change("dropped", RULE, "the mirrors table goes with its entries "
                               "(they are in hosts.toml now)", c.from_path, c.from_line,
                               release=RELEASE, source=SOURCE))
            continue
        if c.kind == "dropped" and src[:len(mirrors_prefix)] == mirrors_prefix and \
                len(src) > len(mirrors_prefix):
            registry = src[len(mirrors_prefix)]
            dest = by_registry.get(registry)
            if src[len(mirrors_prefix) + 1:] not in ((), ("endpoint",)):
                kept.append(Change("dropped", RULE, "containerd reads only `endpoint` in a "
                                   "mirrors entry", c.from_path, c.from_line, release=RELEASE,
                                   source=SOURCE))
                continue
            if dest is not None:
                kept.append(Change("moved", RULE, "registry mirrors are read from hosts.toml "
                                   "under config_path (the CRI mirrors are deprecated and "
                                   "cannot be combined with config_path)", c.from_path,
                                   c.from_line, str(dest), RELEASE, SOURCE))
                continue
            if registry == "*":
                kept.append(Change("dropped", RULE, "mirrors.\"*\" has no endpoints: every "
                                   "registry is contacted directly, which is also what an "
                                   "absent _default directory means", c.from_path, c.from_line,
                                   release=RELEASE, source=SOURCE))
                continue
        tls_hit = next((x for x, p in plan.tls_paths.items()
                        if src[:len(p)] == p and c.kind == "dropped"), None)
        if tls_hit is not None:
            dests = plan.tls_targets.get(tls_hit)
            if dests:
                kept.append(Change("moved", RULE, "TLS settings for a registry host belong in "
                                   "hosts.toml (ca, client, skip_verify): containerd 1.x refuses "
                                   "configs.<host>.tls next to config_path, 2.0+ ignores it",
                                   c.from_path,
                                   c.from_line, ", ".join(str(root / d) for d in dests),
                                   RELEASE, SOURCE))
            else:
                kept.append(Change("dropped", RULE, plan.tls_unused.get(tls_hit, c.reason),
                                   c.from_path, c.from_line, release=RELEASE, source=SOURCE))
            continue
        if c.kind == "dropped" and c.rule == "unset" and any(
                src[:len(p)] == p for p in plan.auth_paths):
            kept.append(Change("dropped", RULE, "registry credentials have no hosts.toml form; "
                               "removed because loss was allowed", c.from_path, c.from_line,
                               release=RELEASE, source=SOURCE))
            continue
        kept.append(c)
    result.changes[:] = kept
    registries = {root / hf.directory / HOSTS_FILE: hf.registry for hf in plan.files}
    for path in files:
        registry = registries[path]
        what = "every registry without its own directory" if registry == "*" else registry
        result.changes.append(Change("added", RULE, f"registry host configuration for {what}",
                                     to_path=str(path), release=RELEASE, source=SOURCE))
    result.findings.extend(plan.findings)
    if headers:
        result.findings.append(Finding(
            "info", "registry-headers", "registry.headers stay in the CRI config: containerd "
            "sends them on every registry request, with config_path too (a copy in hosts.toml "
            "would send them twice)", dotted(where_to(plan.source_prefix + ("headers",))
                                             or plan.source_prefix + ("headers",))))
    for path in plan.auth_paths:
        line, col = _where(loaded, path)
        shown = where_to(path) or path
        if allow_loss:
            msg = ("registry credentials have no hosts.toml form and were removed (allowed "
                   "loss): pulls from this host now need the kubelet's pull secrets or a "
                   "credential provider")
        else:
            msg = ("registry credentials have no hosts.toml form and stay in the config; "
                   "containerd 2.1+ keeps pulling without the transfer service while any "
                   "configs/auths entry is set")
        result.findings.append(Finding("warning", "registry-auth", msg, dotted(shown), line, col))
    if any(hf.registry == "*" for hf in plan.files) and target <= 2 and \
            (containerd is None or release is None or
             catalog.affected("hosts-default-dir", release, None) is not False):
        result.findings.append(Finding(
            "warning", "hosts-default-dir", "containerd 1.6.0-1.6.16 do not read the _default "
            "directory: mirrors.\"*\" takes effect from 1.6.17 and 1.7.0", None))


def _conflicts(files: dict[Path, str], overwrite: bool, file: str) -> dict[Path, str]:
    """Each file's state on disk (absent, same, different), or ConfigError for the first one
    that may not be written."""
    states = {}
    for path, content in files.items():
        state = states[path] = _state(path, content)
        if state == "different" and not overwrite:
            raise ConfigError(f"{path} exists with other content; not overwritten "
                              "(--overwrite-hosts replaces it); nothing written", file=file)
        if state not in ("absent", "same", "different"):
            raise ConfigError(f"{path}: {state}; nothing written", file=file)
    return states


def _state(path: Path, content: str) -> str:
    """absent | same | different, or why the path cannot be written."""
    root = path.parent.parent
    if os.path.lexists(path.parent):
        if os.path.islink(path.parent) or not os.path.isdir(path.parent):
            return "its directory is a symbolic link or not a directory"
        if os.path.realpath(path.parent) != os.path.join(os.path.realpath(root),
                                                          path.parent.name):
            return "its directory resolves outside the hosts directory"
    if not os.path.lexists(path):
        return "absent"
    if os.path.islink(path) or not path.is_file():
        return "is a symbolic link or not a regular file"
    try:
        return "same" if path.read_bytes() == content.encode("utf-8") else "different"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"


def _shadowing(root: Path, plan: RegistryPlan, file: str) -> list[Finding]:
    """Host directories already in DIR start to count once config_path points there."""
    if plan.config_path_value not in (None, "") or not root.is_dir():
        return []
    ours = {hf.directory for hf in plan.files}
    try:
        others = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name not in ours)
    except OSError:
        return []
    if not others:
        return []
    shown = ", ".join(_show(n) for n in others[:10]) + (" ..." if len(others) > 10 else "")
    return [Finding("warning", "hosts-existing", f"{root} already holds host directories "
                    f"({shown}); containerd starts using them once config_path points there",
                    None)]


# -- writing -------------------------------------------------------------------------------------

def write_hosts(files: dict[Path, str], overwrite: bool = False, *,
                hosts_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Write the files `migrate_registry` planned, each atomically (temporary file in the same
    directory, fsync, rename); directories are created. A file with the same content is left
    alone; one with other content stops everything (ConfigError) unless `overwrite`; a
    symbolic link or a host directory resolving elsewhere is never written through. All files
    are checked before the first one is written; with `hosts_dir`, every file must be
    `hosts_dir/<host>/hosts.toml`. Returns the paths written."""
    from migrator.emit.write import write_many

    root = Path(os.path.normpath(os.fspath(hosts_dir))) if hosts_dir is not None else None
    for path in files:
        path = Path(path)
        if path.name != HOSTS_FILE or path.parent.name in ("", ".", "..") or \
                os.path.normpath(path) != os.fspath(path) or not path.is_absolute() or \
                (root is not None and path.parent.parent != root):
            raise ConfigError(f"{_show(os.fspath(path))} is not <hosts dir>/<host>/{HOSTS_FILE};"
                              " nothing written")
        check_host("*" if path.parent.name == DEFAULT_DIR else _host_of(path.parent.name),
                   what="host directory")
    states = _conflicts({Path(p): c for p, c in files.items()}, overwrite, "<hosts>")
    todo: dict[str, bytes] = {}
    for path, content in files.items():
        path = Path(path)
        if states[path] == "same":
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        state = _state(path, content)  # again: the directory may have just been made
        if state not in ("absent", "same", "different"):
            raise ConfigError(f"{path}: {state}; not written")
        todo[os.fspath(path)] = content.encode("utf-8")
    write_many(todo)
    return [Path(p) for p in todo]


def _host_of(directory: str) -> str:
    """Invert host_directory: `name_port_` -> `name:port`."""
    m = re.fullmatch(r"(.+)_([0-9]{1,5})_", directory)
    return f"{m[1]}:{m[2]}" if m else directory


# -- secrets -------------------------------------------------------------------------------------

REDACTED = '"<redacted>"'
#: Request headers whose values are credentials (registry.headers.<name>).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key",
                            "x-auth-token", "x-registry-auth"})


def _secret(path: tuple) -> bool:
    return is_secret(path) or (len(path) >= 2 and path[-2] == "headers"
                               and str(path[-1]).lower() in SECRET_HEADERS)


def redact_toml(text: str) -> str:
    """`text` with the value of every secret key (password, auth, identitytoken, token, a
    credential header such as `headers.Authorization`, and any inline table holding one)
    replaced by "<redacted>", and the user information of every URL, for diffs and logs. Text
    that does not parse only loses the user information of its URLs."""
    from migrator.core import source
    from migrator.core.secrets import redact_urls
    try:
        tree = tomllib.loads(text)
        doc = source.parse(text)
    except Exception:  # not TOML: nothing to locate
        return redact_urls(text)
    spans = []
    for st in doc.statements:
        if st.kind != "keyvalue":
            continue
        value = _get(tree, st.path)
        if _secret(st.path) or (isinstance(value, (dict, list)) and _holds_secret(value,
                                                                                 st.path)):
            spans.append((st.value_start, st.value_end))
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + REDACTED + text[end:]
    return redact_urls(text)


def _holds_secret(value: Any, path: tuple) -> bool:
    if isinstance(value, dict):
        return any(_secret(path + (k,)) or _holds_secret(v, path + (k,))
                   for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_secret(v, path) for v in value)
    return False


def _get(tree: dict, path: tuple) -> Any:
    cur: Any = tree
    for k in path:
        if isinstance(cur, dict):
            cur = cur.get(k)
        elif isinstance(cur, list) and isinstance(k, int) and k < len(cur):
            cur = cur[k]
        else:
            return None
    return cur

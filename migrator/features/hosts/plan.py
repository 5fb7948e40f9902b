"""The plan: registries, their mirror endpoints and TLS settings read from the CRI registry config,
and the hosts.toml files they become."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from migrator.core import loading
from migrator.core.errors import ConfigError
from migrator.core.paths import dotted
from migrator.core.results import Finding
from migrator.emit.emitter import render_key, render_value
from migrator.features.hosts.names import (
    CAPABILITIES,
    HOSTS_FILE,
    REGISTRY,
    TLS_KEYS,
    _show,
    check_host,
    default_host,
    default_scheme,
    host_directory,
    is_localhost,
)


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

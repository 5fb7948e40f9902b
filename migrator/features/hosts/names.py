"""Registry host names, validated as containerd's hosts resolver reads them, and their
directories."""
from __future__ import annotations

import ipaddress
import re
from typing import Any

from migrator.core import catalog
from migrator.core.errors import ConfigError

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

"""Read the kubelet's config file (`KubeletConfiguration`, usually /var/lib/kubelet/config.yaml).

Only top-level scalars are needed (`kind`, `apiVersion`, `cgroupDriver`), so this is a tiny
reader for `key: value` lines instead of a YAML dependency: it skips comments, blank lines,
document markers and indented (nested) lines, and unquotes simple quoted values. A file that
starts with `{` is read as JSON (the kubelet accepts both).

The kubelet's own default is `cgroupDriver: cgroupfs` (KubeletConfiguration v1beta1,
k8s.io/kubelet/config/v1beta1 `CgroupDriver` default in pkg/kubelet/apis/config/v1beta1/
defaults.go); kubeadm writes `cgroupDriver: systemd` explicitly since Kubernetes 1.22.
"""
from __future__ import annotations

import json
import re

from migrator.core.errors import ConfigError

DRIVERS = ("systemd", "cgroupfs")
DEFAULT_DRIVER = "cgroupfs"
_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*)\s*:(?:\s+(.*?))?\s*$")


def _scalar(raw: str) -> str:
    raw = raw.strip()
    if raw[:1] in ("'", '"'):
        quote = raw[0]
        end = raw.find(quote, 1)
        if end > 0:
            return raw[1:end]
    return re.sub(r"\s+#.*$", "", raw).strip()


def parse(text: str, file: str = "<kubelet config>") -> dict[str, str]:
    """The top-level scalar keys of a kubelet config (YAML or JSON)."""
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"invalid JSON: {exc.msg}", file=file, line=exc.lineno,
                              col=exc.colno) from None
        if not isinstance(data, dict):
            raise ConfigError("not a KubeletConfiguration object", file=file)
        return {k: str(v) for k, v in data.items() if isinstance(v, (str, int, float, bool))}
    out: dict[str, str] = {}
    seen_doc = False
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("---"):
            if seen_doc and out:
                break  # only the first document
            seen_doc = True
            continue
        if line[:1] in (" ", "\t", "-"):
            continue  # nested mappings and lists
        m = _LINE.match(line)
        if m and m.group(2) not in (None, "") and m.group(1) not in out:
            out[m.group(1)] = _scalar(m.group(2))
    return out


def read(path: str) -> dict:
    """{"cgroupDriver": "systemd"|"cgroupfs", "explicit": bool, "file": path} or ConfigError."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise ConfigError(f"cannot read the kubelet config: {exc.strerror or exc}",
                          file=path) from None
    except UnicodeDecodeError:
        raise ConfigError("the kubelet config is not UTF-8", file=path) from None
    keys = parse(text, path)
    kind = keys.get("kind")
    if kind is not None and kind != "KubeletConfiguration":
        raise ConfigError(f"kind is {kind!r}, not KubeletConfiguration", file=path)
    driver = keys.get("cgroupDriver")
    if driver is not None and driver not in DRIVERS:
        raise ConfigError(f"cgroupDriver must be systemd or cgroupfs, not {driver!r}", file=path)
    return {"cgroupDriver": driver or DEFAULT_DRIVER, "explicit": driver is not None,
            "file": path}

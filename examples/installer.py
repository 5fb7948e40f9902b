"""What Kubespray's containerd role and the NVIDIA container toolkit do to a node's config.toml,
as a library call: whatever version the file is (1 to 4), set the systemd cgroup driver and the
pause image, add the nvidia runtime, point CRI at a hosts.toml directory, write atomically.

    python examples/installer.py /etc/containerd/config.toml [--containerd 2.1]

Checked with `mypy --strict examples/installer.py` (tests/test_installer_api.py).
"""
from __future__ import annotations

import argparse
import os
import sys

import migrator

NVIDIA = "/usr/bin/nvidia-container-runtime"


def configure(text: str, *, pause: str, certs_d: str, containerd: str | None = None,
              file: str = "<string>") -> str:
    """The edited text, in the file's own version, comments and untouched lines kept."""
    cfg: migrator.Config = migrator.load(text, containerd=containerd, file=file)
    cfg.systemd_cgroup = True                 # the default runtime's SystemdCgroup option
    cfg.sandbox_image = pause
    nvidia = cfg.runtime("nvidia")
    nvidia.runtime_type = "io.containerd.runc.v2"
    nvidia.options["BinaryName"] = NVIDIA
    nvidia.options["SystemdCgroup"] = True
    cfg.registry_config_path = certs_d
    out = cfg.dump()
    result = cfg.result
    assert result is not None                 # dump() always sets it
    for finding in result.warnings:
        print(finding.format(cfg.file), file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("config")
    parser.add_argument("--containerd", help="release line the node runs, e.g. 2.1")
    parser.add_argument("--pause", default="registry.k8s.io/pause:3.10")
    parser.add_argument("--certs-d", default="/etc/containerd/certs.d")
    args = parser.parse_args(argv)
    before = os.stat(args.config)             # the write refuses a file changed meanwhile
    with open(args.config, "rb") as f:
        original = f.read().decode("utf-8")
    try:
        text = configure(original, pause=args.pause, certs_d=args.certs_d,
                         containerd=args.containerd, file=args.config)
    except migrator.ConfigError as exc:       # bad input, or a setting this version cannot hold
        print(exc, file=sys.stderr)           # file:line:col: message
        return 2
    if text != original:
        migrator.write_atomic(args.config, text.encode("utf-8"), backup_suffix=".bak",
                              expect=before)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""CM005 mirrors-with-config-path: `registry.mirrors` (or `configs.*.tls`) next to `config_path`.

From: the CRI registry validation, `pkg/cri/config/config.go@v1.7.34` `ValidatePluginConfig`
and `internal/cri/config/config.go@v2.0.0`...`@v2.3.4` `ValidateImageConfig`:
"`mirrors` cannot be set when `config_path` is provided" (1.x and 2.x) and "`configs.tls`
cannot be set when `config_path` is provided" (1.x; 2.x no longer reads `tls`, CM004). The CRI
image plugin then fails to load, and with it the whole CRI service: the node stops running pods
while the daemon itself keeps serving (facts §6.3, E28). `config dump` does not show it (the
check runs at plugin start).

Applies to: config versions 1-4 (`plugins.cri.registry`, `plugins."io.containerd.grpc.v1.cri"
.registry`, `plugins."io.containerd.cri.v1.images".registry`), every release. The
2.2.0-2.2.1 default `config_path` that makes *any* `mirrors` fail is CM012.

No fix: the mirrors must become hosts.toml files under config_path (facts §6.3), which is more
than an edit of this file.
"""
from __future__ import annotations

from migrator.lint.base import Context, rule


@rule("CM005", "mirrors-with-config-path",
      "registry.mirrors (or configs.*.tls) together with registry.config_path: the CRI "
      "plugin refuses to load")
def check(ctx: Context) -> None:
    base = ctx.images_root + ("registry",)
    registry = ctx.get(base)
    if not isinstance(registry, dict) or not registry.get("config_path"):
        return
    if registry.get("mirrors"):
        ctx.report("error", "registry.mirrors and registry.config_path are both set: "
                            "containerd fails to load the CRI image plugin ('`mirrors` cannot "
                            "be set when `config_path` is provided'), so no pod can start",
                   base + ("mirrors",), claim=False,
                   suggestion="write each mirror as a hosts.toml under config_path and remove "
                              "mirrors")
    if ctx.target.is_1x() and isinstance(registry.get("configs"), dict):
        for host, entry in registry["configs"].items():
            if isinstance(entry, dict) and "tls" in entry:
                ctx.report("error", f"registry.configs.{host}.tls and registry.config_path are "
                                    f"both set: containerd 1.x fails to load the CRI plugin "
                                    f"('`configs.tls` cannot be set when `config_path` is "
                                    f"provided')", base + ("configs", host, "tls"), claim=False,
                           suggestion="move the TLS settings into "
                                      f"{registry['config_path']}/{host}/hosts.toml")

"""CM004's checks outside the CRI runtime tables (removed plugins, the registry's deprecated
tables, CNI, plugin_dir, tracing) and the helpers CM004 shares; cm004_removed_keys.py runs them."""
from __future__ import annotations

from migrator.core import catalog
from migrator.lint.base import (
    IMG,
    RT,
    Context,
    Fix,
    schema,
)

DEFAULT_CNI_BIN_DIRS = ["/opt/cni/bin"]

def _removed(ctx: Context) -> str:
    return f"containerd {ctx.target.label}"

def _removed_key(ctx: Context, path: tuple) -> catalog.KeyChange | None:
    """The catalog's removal of this key in the target line or before it, if any."""
    return catalog.removal(ctx.target.line, path)

def _later(path: tuple) -> str:
    """When a newer line removes the key: that release, for a deprecation message."""
    gone = catalog.removal(list(catalog.lines())[-1], path)
    return f"removed in containerd {gone.release}" if gone else "removal announced"

def _aufs(ctx: Context, path: tuple, one: bool) -> None:
    if one:
        ctx.report("warning", "the aufs snapshotter is deprecated since containerd 1.5 and "
                              "removed in 2.0", path, suggestion='use "overlayfs"')
    else:
        ctx.report("error", f"the aufs snapshotter was removed in containerd 2.0: image pulls "
                            f"and pods that need it fail on {_removed(ctx)}", path,
                   suggestion='use "overlayfs"')

def removed_plugins(ctx: Context) -> dict[str, tuple[str, str]]:
    """{name as this file writes it: (URI, removing release)} of the plugins the target release
    no longer has and that went nowhere (the schemas' x-containerd-former-plugins, from the key
    inventories' changes.json); version 1 files name them by short ID."""
    key = ctx.target.line if ctx.target.reads >= 3 else ctx.target.reads
    former = schema(key).get("properties", {}).get("plugins", {}).get(
        "x-containerd-former-plugins", {})
    out = {uri: (uri, e["removed_in"]) for uri, e in former.items()
           if not e.get("moved_to") and e.get("removed_in")}
    if ctx.version == 1:
        v1 = schema(1).get("properties", {}).get("plugins", {}).get("properties", {})
        for short, node in v1.items():
            uri = node.get("x-containerd-plugin", {}).get("uri")
            if uri in out:
                out[short] = out[uri]
    return out

def _plugins(ctx: Context, one: bool) -> None:
    """A removed plugin's table on the target release: its settings do nothing (2.x decodes no
    table for a plugin it does not have). The author meant them, so the node differs from the
    file: an error."""
    plugins = ctx.get(("plugins",))
    if not isinstance(plugins, dict) or one:
        return
    v1 = schema(1).get("properties", {}).get("plugins", {}).get("properties", {})
    for name, (uri, release) in removed_plugins(ctx).items():
        table = plugins.get(name)
        if not isinstance(table, dict) or ("." not in name) != (ctx.version == 1):
            continue
        node = v1.get(name) or next((n for n in v1.values()
                                     if n.get("x-containerd-plugin", {}).get("uri") == uri), {})
        what = node.get("description", uri).split(". ")[0].rstrip(".")
        keys = ", ".join(sorted(table)) or "(empty)"
        ctx.report("error", f"plugin {uri} ({what}) was removed in containerd {release}: "
                            f"{_removed(ctx)} has no such plugin, so this table and its "
                            f"settings ({keys}) do nothing", ("plugins", name),
                   suggestion="remove the table, and configure what replaced it")
    if ctx.version and ctx.version >= 3:
        snap = ctx.get(IMG + ("snapshotter",))
        if snap == "aufs":
            _aufs(ctx, IMG + ("snapshotter",), one)

def _registry(ctx: Context, one: bool) -> None:
    base = ctx.images_root + ("registry",)
    registry = ctx.get(base)
    if not isinstance(registry, dict):
        return
    if registry.get("mirrors"):
        extra = "" if one or not ctx.target.has("cni-bin-dirs") else \
            "; on 2.1+ it also makes CRI pull without the transfer service"
        ctx.report("warning", "registry.mirrors is deprecated since containerd 1.5 (still read "
                              "by 2.4, whose release notes postpone the removal without naming "
                              "a release)" + extra, base + ("mirrors",),
                   suggestion="write hosts.toml files under registry.config_path", claim=False)
    configs = registry.get("configs")
    if isinstance(configs, dict) and configs:
        auth = False
        for host, entry in configs.items():
            if not isinstance(entry, dict):
                continue
            auth = auth or "auth" in entry
            if "tls" in entry:
                path = base + ("configs", host, "tls")
                if one:
                    ctx.report("warning", "registry.configs.*.tls is deprecated since "
                                          "containerd 1.5 and removed in 2.0", path,
                               suggestion="ca, client and skip_verify in a hosts.toml under "
                                          "registry.config_path")
                else:
                    ctx.report("error", f"registry.configs.*.tls was removed in containerd "
                                        f"2.0: {_removed(ctx)} ignores it, so pulls from "
                                        f"{host} lose these TLS settings", path,
                               suggestion="ca, client and skip_verify in a hosts.toml under "
                                          "registry.config_path")
        if auth:
            ctx.report("warning", "registry.configs (auth) is deprecated since containerd 1.5 "
                                  "(still read by 2.4; it is the only place for static "
                                  "credentials)", base + ("configs",),
                       suggestion="use image pull secrets", claim=False)
    if registry.get("auths"):
        ctx.report("warning", "registry.auths is deprecated since containerd 1.3 (still read "
                              "by 2.4)", base + ("auths",), suggestion="use image pull secrets",
                   claim=False)

def _cni(ctx: Context) -> None:
    if (ctx.version or 0) < 3 or not ctx.target.has("cni-bin-dirs"):
        return
    base = RT + ("cni",)
    cni = ctx.get(base)
    if not isinstance(cni, dict) or not cni.get("bin_dir"):
        return
    path = base + ("bin_dir",)
    bin_dirs = cni.get("bin_dirs")
    conv = (path, base + ("bin_dirs",), "wrap_list", (), False)
    gone = _removed_key(ctx, path)
    if gone is not None and (bin_dirs is None or bin_dirs == DEFAULT_CNI_BIN_DIRS
                             or bin_dirs == []):
        ctx.report("error", f"cni.bin_dir was removed in containerd {gone.release} "
                            f"({gone.source}): {_removed(ctx)} ignores it and looks for the "
                            f"CNI plugins in bin_dirs", path, suggestion="use bin_dirs = [...]",
                   fix=Fix("bin_dir -> bin_dirs", converts=(conv,),
                           drops=() if bin_dirs is None else (base + ("bin_dirs",),)))
    elif bin_dirs is None:
        ctx.report("warning", f"cni.bin_dir is deprecated since containerd 2.1 "
                              f"({_later(path)})", path, suggestion="use bin_dirs = [...]",
                   fix=Fix("bin_dir -> bin_dirs", converts=(conv,)))
    elif bin_dirs == DEFAULT_CNI_BIN_DIRS or bin_dirs == []:
        ctx.report("warning", "cni.bin_dir is deprecated since containerd 2.1; it replaces the "
                              "default bin_dirs here", path, suggestion="keep only bin_dirs",
                   fix=Fix("bin_dir -> bin_dirs", converts=(conv,),
                           drops=(base + ("bin_dirs",),)))
    else:
        ctx.report("error", "cni.bin_dir and cni.bin_dirs are both set: containerd 2.1+ fails "
                            "to load the CRI runtime plugin ('`cni.bin_dir` and `cni.bin_dirs` "
                            "cannot be set at the same time')", path,
                   suggestion="keep only bin_dirs")

def _plugin_dir(ctx: Context, one: bool) -> None:
    if "plugin_dir" not in ctx.tree:
        return
    value = ctx.tree["plugin_dir"]
    path = ("plugin_dir",)
    fix = Fix("remove the empty plugin_dir", drops=(path,)) if value == "" else None
    if one:
        if value:
            ctx.report("warning", "plugin_dir (Go plugin libraries) is deprecated; containerd "
                                  "2.1 removed it", path, suggestion="use external (proxy) "
                                                                     "plugins")
        return
    if not ctx.target.has("plugin-dir-removed"):
        ctx.report("warning", "plugin_dir is deprecated in containerd 2.0 and removed in 2.1",
                   path, suggestion="use external (proxy) plugins", fix=fix)
    else:
        ctx.report("warning", f"plugin_dir was removed in containerd 2.1: {_removed(ctx)} "
                              f"ignores it (and logs 'Ignoring unknown key')", path,
                   suggestion="use external (proxy) plugins", fix=fix)

def _tracing(ctx: Context) -> None:
    plugins = ctx.get(("plugins",))
    if not isinstance(plugins, dict):
        return
    for names, keys, what in (((catalog.plugin("otlp"), "otlp"),
                               ("endpoint", "protocol", "insecure"), "the otlp tracing processor"),
                              ((catalog.plugin("tracing"), "tracing"),
                               ("service_name", "sampling_ratio"), "the tracing service")):
        for name in names:
            table = plugins.get(name)
            if not isinstance(table, dict) or ("." not in name and ctx.version != 1):
                continue
            set_keys = [k for k in keys if k in table]
            gone = _removed_key(ctx, ("plugins", catalog.plugin(names[1]),
                                      set_keys[0])) if set_keys else None
            if gone is not None:
                ctx.report("warning", f"{set_keys[0]} of {what} was removed in containerd "
                                      f"{gone.release} ({gone.source}): {_removed(ctx)} "
                                      f"ignores it", ("plugins", name, set_keys[0]),
                           suggestion=f"use {gone.use}")
            elif set_keys:
                later = _later(("plugins", catalog.plugin(names[1]), set_keys[0]))
                ctx.report("warning", f"configuring {what} in config.toml is deprecated since "
                                      f"containerd 1.6 ({later})",
                           ("plugins", name, set_keys[0]),
                           suggestion="use the OTEL_* environment variables", claim=False)

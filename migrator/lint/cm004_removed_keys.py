"""CM004 removed-key: keys and values that the target release deprecated or removed.

From: containerd's deprecation list (`pkg/deprecation/deprecation.go` at v1.7.34, v2.0.0-v2.3.4;
facts §6.1), RELEASES.md@v2.0.0 ("Removed": the legacy CRI keys, runtime v1, runc v1, aufs,
CriuPath) and the CRI validation that rejects some of them in 1.x
(`pkg/cri/config/config.go@v1.7.34` `ValidatePluginConfig`, facts §3.10, E39):

| key / value | deprecated | removed | 1.x | 2.x |
|---|---|---|---|---|
| `systemd_cgroup` | 1.3 | 2.0 | CRI fails to load unless the default runtime is `io.containerd.runtime.v1.linux` | ignored |
| `containerd.untrusted_workload_runtime` | 1.2 | 2.0 | becomes `runtimes.untrusted` | ignored |
| `containerd.default_runtime` | 1.3 | 2.0 | becomes `runtimes.default` + `default_runtime_name = "default"` | ignored |
| `runtimes.*.runtime_engine`, `runtime_root`, `containerd.no_pivot` | 1.3 | 2.0 | CRI fails to load unless the runtime is v1.linux | ignored |
| `runtime_type = "io.containerd.runtime.v1.linux"` / `"io.containerd.runc.v1"` | 1.4 | 2.0 | works | pods fail |
| aufs (plugin table, `snapshotter = "aufs"`), `io.containerd.runtime.v1.linux` table | 1.5 | 2.0 | works | no such plugin: the table and its settings do nothing (error, from the schemas' former plugins), snapshotter missing |
| runc option `CriuPath` | 1.7 | 2.0 | works | ignored |
| `registry.mirrors`, `registry.configs`, `registry.auths` | 1.5 / 1.3 | announced for 2.4 | works | works (forces local pulls on 2.1+) |
| `registry.configs.*.tls` | 1.5 | 2.0 | works | ignored |
| `cni.bin_dir` (version 3+) | 2.1 | announced for 2.4 | — | replaced by `bin_dirs`; both set: CRI fails to load |
| `plugin_dir` | 2.0 | 2.1 | works | ignored from 2.1 |
| `disable_cgroup` | — | 2.0 | works | ignored |
| `enable_cdi = false` | 2.3 | announced | — | works, deprecated |
| otlp `endpoint`/`protocol`/`insecure`, tracing `service_name`/`sampling_ratio` | 1.6 | announced for 2.4 | works | works |
| runc options `TaskApiAddress`, `TaskApiVersion` | 2.3 | — | — | works, deprecated |

Applies to: config versions 1-4; severities follow the target release: a deprecation is a
warning, a removal that breaks pods or the CRI plugin is an error.

Fixes (only where the result means what containerd already did): remove keys whose value is
the default (`systemd_cgroup = false`, an empty `runtime_engine`, ...); move
`untrusted_workload_runtime` / `default_runtime` to `runtimes.untrusted` / `runtimes.default`
(+ `default_runtime_name = "default"`), which is what 1.x did with them; `runtime_type =
"io.containerd.runc.v1"` -> `"io.containerd.runc.v2"` when the target is 2.x (same options type);
version 3+ `cni.bin_dir` -> `bin_dirs = [bin_dir]` on 2.1+ (what 2.1+ does at start).
"""
from __future__ import annotations

from typing import Any

from migrator.core import catalog
from migrator.core.paths import dotted
from migrator.lint.base import (
    GRPC_CRI,
    LINUX_V1,
    RUNC_V1,
    RUNC_V2,
    Context,
    Fix,
    rule,
)
from migrator.lint.cm004_outside_cri import (  # noqa: F401
    DEFAULT_CNI_BIN_DIRS,
    _aufs,
    _cni,
    _later,
    _plugin_dir,
    _plugins,
    _registry,
    _removed,
    _removed_key,
    _tracing,
    removed_plugins,
)


def _roots(ctx: Context) -> list[tuple]:
    roots = [ctx.runtime_root]
    if (ctx.version or 0) >= 3:
        roots.append(GRPC_CRI)   # version 2 leftovers that the v2 -> v3 rules drop
    return roots


def default_runtime_type(ctx: Context, root: tuple) -> str:
    """The runtime_type of the default runtime as the CRI plugin of the target sees it."""
    containerd = ctx.get(root + ("containerd",), {})
    if not isinstance(containerd, dict):
        return RUNC_V2
    legacy = containerd.get("default_runtime")
    if ctx.target.is_1x() and isinstance(legacy, dict) and legacy.get("runtime_type"):
        return str(legacy["runtime_type"])
    name = containerd.get("default_runtime_name") or "runc"
    runtimes = containerd.get("runtimes")
    table = runtimes.get(name) if isinstance(runtimes, dict) else None
    if isinstance(table, dict):
        return str(table.get("runtime_type") or ("" if ctx.target.is_1x() or name != "runc"
                                                   else RUNC_V2))
    return RUNC_V2 if name == "runc" else ""


@rule("CM004", "removed-key",
      "a key or value the target release deprecated or removed, with its replacement")
def check(ctx: Context) -> None:
    one = ctx.target.is_1x()
    for root in _roots(ctx):
        _cri_top(ctx, root, one)
        _containerd(ctx, root, one)
        _runtimes(ctx, root, one)
    _plugins(ctx, one)
    _registry(ctx, one)
    _cni(ctx)
    _plugin_dir(ctx, one)
    _tracing(ctx)


def _cri_top(ctx: Context, root: tuple, one: bool) -> None:
    table = ctx.get(root)
    if not isinstance(table, dict):
        return
    if "systemd_cgroup" in table:
        path = root + ("systemd_cgroup",)
        value = table["systemd_cgroup"]
        use = "set SystemdCgroup = true in containerd.runtimes.<name>.options"
        if value is not True:
            ctx.report("warning", "systemd_cgroup is deprecated since containerd 1.3 and removed "
                                  "in 2.0; false is its default, so it can go", path,
                       suggestion="remove it", fix=Fix("remove systemd_cgroup = false",
                                                       drops=(path,)))
        elif one and default_runtime_type(ctx, root) != LINUX_V1:
            ctx.report("error", f"systemd_cgroup = true only works with the "
                                f"{LINUX_V1} default runtime: containerd 1.x fails to load the "
                                f"CRI plugin ('`systemd_cgroup` only works for runtime "
                                f"{LINUX_V1}')", path, suggestion=use)
        elif one:
            ctx.report("warning", "systemd_cgroup is deprecated since containerd 1.3 and "
                                  "removed in 2.0", path, suggestion=use)
        else:
            ctx.report("error", f"systemd_cgroup was removed in containerd 2.0: "
                                f"{_removed(ctx)} ignores it, so containers do not get systemd "
                                f"cgroups", path, suggestion=use)
    if "disable_cgroup" in table and not one:
        path = root + ("disable_cgroup",)
        fix = Fix("remove disable_cgroup = false", drops=(path,)) \
            if table["disable_cgroup"] is False else None
        ctx.report("warning", f"disable_cgroup was removed in containerd 2.0: {_removed(ctx)} "
                              f"ignores it", path, suggestion="use cgroup v2 delegation; remove "
                                                              "the key", fix=fix)
    gone = _removed_key(ctx, root + ("enable_cdi",))
    if "enable_cdi" in table and gone is not None and root == ctx.runtime_root:
        path = root + ("enable_cdi",)
        ctx.report("error" if table["enable_cdi"] is False else "warning",
                   f"enable_cdi was removed in containerd {gone.release} ({gone.effect}; "
                   f"{gone.source})", path, suggestion="remove it",
                   fix=Fix("remove enable_cdi", drops=(path,))
                   if table["enable_cdi"] is not False else None)
    elif table.get("enable_cdi") is False and ctx.target.has("enable-cdi-deprecated") and \
            root == ctx.runtime_root:
        ctx.report("warning", "enable_cdi = false is deprecated in containerd 2.3 (CDI is "
                              "meant to be always on); it still disables CDI",
                   root + ("enable_cdi",), suggestion="remove it when CDI can stay enabled")


def _containerd(ctx: Context, root: tuple, one: bool) -> None:
    base = root + ("containerd",)
    containerd = ctx.get(base)
    if not isinstance(containerd, dict):
        return
    runtimes = containerd.get("runtimes") if isinstance(containerd.get("runtimes"), dict) else {}
    fixable_here = root == ctx.runtime_root
    for legacy, name, since in (
            ("untrusted_workload_runtime", "untrusted",
             catalog.since("untrusted-workload-runtime-deprecated")),
            ("default_runtime", "default", catalog.since("default-runtime-deprecated"))):
        table = containerd.get(legacy)
        if not isinstance(table, dict):
            continue
        path = base + (legacy,)
        rtype = table.get("runtime_type") or ""
        use = (f"define it as [{dotted(base + ('runtimes', name))}]" +
               (' and set default_runtime_name = "default"' if name == "default" else ""))
        if not rtype:
            ctx.report("warning", f"{legacy} is deprecated since containerd {since} and "
                                  f"removed in 2.0; without runtime_type it was never used",
                       path, suggestion="remove it", fix=Fix(f"remove {legacy}", drops=(path,)))
            continue
        fix = None
        if name not in runtimes and fixable_here:
            sets: tuple = ()
            if name == "default":
                sets = ((base + ("default_runtime_name",), "default"),)
            fix = Fix(f"move {legacy} to runtimes.{name}",
                      moves=((path, base + ("runtimes", name)),), sets=sets)
        if one and name == "untrusted" and name in runtimes:
            ctx.report("error", "untrusted_workload_runtime and runtimes.untrusted are both "
                                "set: containerd 1.x fails to load the CRI plugin "
                                "('conflicting definitions')", path,
                       suggestion="keep only runtimes.untrusted")
        elif one:
            ctx.report("warning", f"{legacy} is deprecated since containerd {since} and removed "
                                  f"in 2.0 (1.x turns it into runtimes.{name})", path,
                       suggestion=use, fix=fix)
        else:
            what = ("pods that ask for the untrusted runtime fail" if name == "untrusted" else
                    "pods run with the runtime default_runtime_name names instead")
            ctx.report("error", f"{legacy} was removed in containerd 2.0: {_removed(ctx)} "
                                f"ignores it, so {what}", path, suggestion=use, fix=fix)
    if "no_pivot" in containerd:
        path = base + ("no_pivot",)
        use = "set NoPivotRoot = true in the runc runtime's options"
        if containerd["no_pivot"] is not True:
            ctx.report("warning", "no_pivot is deprecated and removed in containerd 2.0; false "
                                  "is its default", path, suggestion="remove it",
                       fix=Fix("remove no_pivot = false", drops=(path,)))
        elif one and default_runtime_type(ctx, root) != LINUX_V1:
            ctx.report("error", f"no_pivot = true only works with the {LINUX_V1} default "
                                f"runtime: containerd 1.x fails to load the CRI plugin", path,
                       suggestion=use)
        else:
            ctx.report("warning", "no_pivot was removed in containerd 2.0"
                                  + ("" if one else f": {_removed(ctx)} ignores it"), path,
                       suggestion=use)
    for key in ("snapshotter",):
        if containerd.get(key) == "aufs":
            _aufs(ctx, base + (key,), one)


def _runtime_type(ctx: Context, path: tuple, rtype: Any, one: bool) -> None:
    if rtype not in (LINUX_V1, RUNC_V1):
        return
    what = f"runtime v1 ({LINUX_V1})" if rtype == LINUX_V1 else \
        "the runc v1 shim"
    if one:
        ctx.report("warning", f"{what} is deprecated since containerd 1.4 and removed in 2.0",
                   path, suggestion=f'use runtime_type = "{RUNC_V2}"')
        return
    fix = None
    if rtype == RUNC_V1:
        fix = Fix(f"use {RUNC_V2}", sets=((path, RUNC_V2),))
    ctx.report("error", f"{what} was removed in containerd 2.0: pods using this runtime fail "
                        f"to start on {_removed(ctx)}", path,
               suggestion=f'use runtime_type = "{RUNC_V2}"'
                          + (" (its options need moving: runtime_engine -> BinaryName, "
                             "runtime_root -> Root)" if rtype == LINUX_V1 else ""), fix=fix)


def _runtimes(ctx: Context, root: tuple, one: bool) -> None:
    base = root + ("containerd",)
    containerd = ctx.get(base)
    if not isinstance(containerd, dict):
        return
    tables: list[tuple[tuple, dict]] = []
    runtimes = containerd.get("runtimes")
    if isinstance(runtimes, dict):
        tables += [(base + ("runtimes", n), t) for n, t in runtimes.items() if isinstance(t, dict)]
    for legacy in ("default_runtime", "untrusted_workload_runtime"):
        if isinstance(containerd.get(legacy), dict):
            tables.append((base + (legacy,), containerd[legacy]))
    for path, table in tables:
        rtype = table.get("runtime_type")
        _runtime_type(ctx, path + ("runtime_type",), rtype, one)
        for key, option in (("runtime_engine", "BinaryName"), ("runtime_root", "Root")):
            if key not in table:
                continue
            where = path + (key,)
            use = f"set options.{option} of a {RUNC_V2} runtime"
            if not table[key]:
                ctx.report("warning", f"{key} is deprecated since containerd 1.3 and removed in "
                                      f"2.0; it is empty here", where, suggestion="remove it",
                           fix=Fix(f"remove the empty {key}", drops=(where,)))
            elif one and rtype != LINUX_V1:
                ctx.report("error", f"{key} only works for runtime {LINUX_V1}: containerd 1.x "
                                    f"fails to load the CRI plugin ('`{key}` only works for "
                                    f"runtime {LINUX_V1}')", where, suggestion=use)
            else:
                ctx.report("warning", f"{key} is deprecated since containerd 1.3 and removed in 2.0"
                                      + ("" if one else f": {_removed(ctx)} ignores it"),
                           where, suggestion=use)
        if table.get("snapshotter") == "aufs":
            _aufs(ctx, path + ("snapshotter",), one)
        options = table.get("options")
        if not isinstance(options, dict):
            continue
        criu = options.get("CriuPath")
        if criu and (not one or ctx.target.has("runc-options-criu-deprecated")):
            ctx.report("warning", "the runc option CriuPath is deprecated since containerd 1.7 "
                                  "and removed in 2.0" + ("" if one else
                                                           f": {_removed(ctx)} ignores it"),
                       path + ("options", "CriuPath"), suggestion="put the criu binary in $PATH")
        if ctx.target.has("runc-task-api-deprecated"):
            for key in ("TaskApiAddress", "TaskApiVersion"):
                if key in options:
                    ctx.report("warning", f"the runc option {key} is deprecated since "
                                          f"containerd 2.3", path + ("options", key),
                               suggestion="set task_api_address on CreateTaskRequest instead")



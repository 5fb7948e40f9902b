"""CM001 runtime-option-level: a shim option written directly under `runtimes.<name>`.

From: the CRI runtime config (`pkg/cri/config/config.go@v1.7.34` `Runtime`,
`internal/cri/config/config.go@v2.0.0`): the shim's options (runc: `SystemdCgroup`,
`BinaryName`, `Root`, ...) are read only from `runtimes.<name>.options`. Written one level up,
containerd 1.x drops them silently and 2.x logs "Ignoring unknown key in TOML for plugin" and
drops them; `SystemdCgroup` lost this way is the classic cgroup-driver mismatch with the kubelet
(facts §3.5, §5.2).

Applies to: config versions 1-4, every release; the runtime tables of `plugins.cri`
(version 1), `plugins."io.containerd.grpc.v1.cri"` (version 2; also `default_runtime` and
`untrusted_workload_runtime`) and `plugins."io.containerd.cri.v1.runtime"` (versions 3 and 4).

Fix: move the key into `options` (spelled as the option is), unless `options` already sets it
to another value.
"""
from __future__ import annotations

from migrator.lint.base import (
    CRI_V1,
    GRPC_CRI,
    RT,
    Context,
    Fix,
    rule,
    schema,
    table_schema,
)


def _option_names() -> dict[str, str]:
    runtime = table_schema(schema(3), RT + ("containerd", "runtimes", "x")) or {}
    options = runtime.get("properties", {}).get("options", {})
    names = set(options.get("properties", {})) | {"CriuPath"}
    runtime_keys = {k.lower() for k in runtime.get("properties", {})}
    runtime_keys |= {"runtime_engine", "runtime_root", "sandbox_mode"}
    return {n.lower(): n for n in names if n.lower() not in runtime_keys}


def runtime_definitions(ctx: Context) -> list[tuple[tuple, dict]]:
    """Every CRI runtime table in the file, wherever a version puts one."""
    out = []
    for root in (CRI_V1, GRPC_CRI, RT):
        containerd = ctx.get(root + ("containerd",))
        if not isinstance(containerd, dict):
            continue
        runtimes = containerd.get("runtimes")
        if isinstance(runtimes, dict):
            for name, table in runtimes.items():
                if isinstance(table, dict):
                    out.append((root + ("containerd", "runtimes", name), table))
        if root != RT:
            for legacy in ("default_runtime", "untrusted_workload_runtime"):
                if isinstance(containerd.get(legacy), dict):
                    out.append((root + ("containerd", legacy), containerd[legacy]))
    return out


@rule("CM001", "runtime-option-level",
      "a shim option (SystemdCgroup, BinaryName, ...) directly under runtimes.<name> instead "
      "of runtimes.<name>.options")
def check(ctx: Context) -> None:
    names = _option_names()
    for path, table in runtime_definitions(ctx):
        options = table.get("options")
        for key, value in table.items():
            if not isinstance(key, str) or key.lower() not in names or isinstance(value, dict):
                continue
            option = names[key.lower()]
            where = path + (key,)
            dest = path + ("options", option)
            fix = None
            if options is None or isinstance(options, dict):
                have = options.get(option) if isinstance(options, dict) else None
                other = [k for k in (options or {}) if k.lower() == option.lower() and k != option]
                if have is None and not other:
                    fix = Fix(f"move {key} into options", moves=((where, dest),))
                elif have == value:
                    fix = Fix(f"remove {key}: options.{option} already says the same",
                              drops=(where,))
            severity = "error" if option in ("SystemdCgroup", "BinaryName", "Root") else "warning"
            how = ("silently" if ctx.target.is_1x() else
                   "with an 'Ignoring unknown key' warning")
            ctx.report(severity,
                       f"{key} is a shim option written directly under runtime {path[-1]!r}: "
                       f"containerd reads shim options only from options, so containerd "
                       f"{ctx.target.label} drops it {how}",
                       where, suggestion=f"move it to [{_header(path + ('options',))}] as "
                                         f"{option}", fix=fix)


def _header(path: tuple) -> str:
    from migrator.core.paths import dotted
    return dotted(path)

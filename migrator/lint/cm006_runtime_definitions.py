"""CM006 runtime-definitions: runtimes the CRI plugin cannot use.

From: CRI runtime validation, `pkg/cri/config/config.go@v1.7.34` `ValidatePluginConfig` and
`internal/cri/config/config.go@v2.0.0`...`@v2.3.4` `ValidateRuntimeConfig`; runtime options
decoding, `getRuntimeOptionsType` (`internal/cri/config/config.go@v2.1.9`,
`pkg/cri/server/helpers.go@v1.7.34`); the default runtime map (facts §5.2, E31):

* `default_runtime_name` naming no runtime: "no corresponding runtime configured in
  `containerd.runtimes` for `containerd` `default_runtime_name`", and an empty one:
  "`default_runtime_name` is empty". The CRI plugin fails to load. containerd 1.x knows only the
  file's runtimes once the file defines any (the built-in `runc` is then gone); 2.x merges the
  file's runtimes into its defaults, so `runc` always exists.
* a runtime without `runtime_type`: its `options` are decoded as generic CRI runtime options
  (TypeUrl, ConfigPath, ConfigBody), so runc options such as `SystemdCgroup` are ignored, and
  the task runs with the client's default runtime. In 2.x a table named `runc` inherits its
  type from the built-in default.
* `privileged_without_host_devices_all_devices_allowed = true` without
  `privileged_without_host_devices = true`: the CRI plugin fails to load (1.7+, 2.x).

Applies to: config versions 1-4, every release (the checks run when the CRI plugin starts,
so `config dump` never shows them). Runtimes defined in imported files count when the imports
can be read next to the file.

No fix: which runtime (or type) was meant is not in the file.
"""
from __future__ import annotations

from migrator.core import catalog
from migrator.lint.base import RUNC_V2, Context, rule
from migrator.lint.cm011_imports import imported

GENERIC_OPTIONS = {"typeurl", "configpath", "configbody"}


def _runtime_names(tree: dict) -> set[str]:
    names: set[str] = set()
    for root in (("plugins", "cri"), ("plugins", catalog.plugin("cri")),
                 ("plugins", catalog.plugin("cri_runtime"))):
        cur = tree
        for k in root + ("containerd", "runtimes"):
            cur = cur.get(k) if isinstance(cur, dict) else None
        if isinstance(cur, dict):
            names.update(n for n, t in cur.items() if isinstance(t, dict))
    return names


@rule("CM006", "runtime-definitions",
      "default_runtime_name naming no defined runtime, a runtime without runtime_type, or "
      "runtime flags the CRI plugin rejects")
def check(ctx: Context) -> None:
    base = ctx.runtime_root + ("containerd",)
    containerd = ctx.get(base)
    if not isinstance(containerd, dict):
        return
    runtimes = containerd.get("runtimes") if isinstance(containerd.get("runtimes"), dict) else {}
    others, complete = imported(ctx)
    names = set(n for n, t in runtimes.items() if isinstance(t, dict))
    for tree in others:
        names |= _runtime_names(tree)
    one = ctx.target.is_1x()
    if not one or not names:
        names.add("runc")  # 2.x merges into its defaults; 1.x keeps them if none is defined
    if "default_runtime_name" in containerd:
        path = base + ("default_runtime_name",)
        name = containerd["default_runtime_name"]
        legacy = containerd.get("default_runtime")
        overridden = one and isinstance(legacy, dict) and legacy.get("runtime_type")
        if name == "" and not overridden:
            ctx.report("error", "default_runtime_name is empty: the CRI plugin fails to load "
                                "('`default_runtime_name` is empty')", path,
                       suggestion='name a runtime, e.g. "runc", or remove the key')
        elif isinstance(name, str) and name not in names and not overridden:
            severity = "error" if complete else "warning"
            where = "" if complete else " (unless an import that cannot be read here defines it)"
            defined = ", ".join(sorted(names)) or "none"
            ctx.report(severity, f"default_runtime_name = {name!r} names no defined runtime"
                                 f"{where}: containerd {ctx.target.label} fails to load the CRI "
                                 f"plugin ('no corresponding runtime configured in "
                                 f"`containerd.runtimes`')", path,
                       suggestion=f"define [{'.'.join(_q(p) for p in base)}.runtimes.{_q(name)}]"
                                  f" or use one of: {defined}")
    for name, table in runtimes.items():
        if not isinstance(table, dict):
            continue
        path = base + ("runtimes", name)
        if table.get("privileged_without_host_devices_all_devices_allowed") is True and \
                table.get("privileged_without_host_devices") is not True:
            ctx.report("error", "privileged_without_host_devices_all_devices_allowed requires "
                                "privileged_without_host_devices = true: the CRI plugin fails "
                                "to load", path + (
                                    "privileged_without_host_devices_all_devices_allowed",),
                       suggestion="set privileged_without_host_devices = true", claim=False)
        if table.get("runtime_type"):
            continue
        if not one and name == "runc":
            continue  # inherits io.containerd.runc.v2 from the built-in runc runtime
        options = table.get("options")
        runc_keys = [k for k in (options or {}) if isinstance(k, str)
                     and k.lower() not in GENERIC_OPTIONS] if isinstance(options, dict) else []
        if runc_keys:
            ctx.report("error", f"runtime {name!r} has no runtime_type, so its options are "
                                f"decoded as generic CRI options and "
                                f"{', '.join(runc_keys[:3])} "
                                f"{'is' if len(runc_keys) == 1 else 'are'} ignored", path,
                       suggestion=f'set runtime_type, e.g. "{RUNC_V2}"', claim=False)
        else:
            ctx.report("warning", f"runtime {name!r} has no runtime_type: containerd runs its "
                                  f"default shim ({RUNC_V2}) for it", path,
                       suggestion=f'set runtime_type, e.g. "{RUNC_V2}"', claim=False)


def _q(part: str) -> str:
    from migrator.core.paths import dotted
    return dotted((part,))

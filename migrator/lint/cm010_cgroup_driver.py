"""CM010 cgroup-driver: containerd's runc runtimes and the kubelet disagree on the cgroup driver.

From: the runc shim options (`SystemdCgroup`, `api/types/runc/options/oci.proto`) and the
kubelet's `cgroupDriver` (KubeletConfiguration v1beta1; its default is `cgroupfs`, kubeadm
writes `systemd` since Kubernetes 1.22). When they differ, the kubelet and runc manage the pod
cgroups in two hierarchies: resource accounting is wrong and nodes turn unstable under
pressure; kubeadm's preflight and the Kubernetes docs call it a misconfiguration. containerd
2.0+ also reports the driver to the kubelet through the CRI `RuntimeConfig` call, taken from
the default runtime (first), then the other `io.containerd.runc.v2` runtimes with an options
table (`internal/cri/server/runtime_config_linux.go@v2.0.0`, facts §5.2); kubelets that take
the driver from the runtime (KubeletCgroupDriverFromCRI) then follow containerd, and an unset
`SystemdCgroup` means cgroupfs.

Which runtimes exist: containerd 1.x uses only the file's runtimes once it defines any (else the
built-in `runc`); 2.x merges the file's runtimes into its built-in `runc` (facts E31).

Applies to: config versions 1-4, every release; with `--kubelet-config` (error per runc runtime
that disagrees). Without it: runc runtimes that disagree with the default runtime (warning).

Fix (with --kubelet-config): set `SystemdCgroup` in each disagreeing runc runtime's options to
what the kubelet uses (on 1.x, a built-in runc runtime is written out with its runtime_type).
"""
from __future__ import annotations

import copy
from typing import Any

from migrator.checks.validate import reads_spelling
from migrator.lint.base import RUNC_V1, RUNC_V2, Context, Fix, rule

SYSTEMD_CGROUP = "SystemdCgroup"   # the runc Options field (no toml tag)


def _merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def effective_runtimes(ctx: Context) -> tuple[dict[str, dict], set[str]]:
    """(runtimes as the target reads them, names defined in the file)."""
    base = ctx.runtime_root + ("containerd", "runtimes")
    file_rt = ctx.get(base)
    file_rt = {k: v for k, v in file_rt.items() if isinstance(v, dict)} \
        if isinstance(file_rt, dict) else {}
    builtin = {"runc": {"runtime_type": RUNC_V2, "options": {}}}
    if ctx.target.is_1x():
        return (copy.deepcopy(file_rt) if file_rt else builtin), set(file_rt)
    return _merge(builtin, file_rt), set(file_rt)


def systemd_value(options: Any, one: bool = False) -> tuple[str | None, Any]:
    """(key as written, value) of SystemdCgroup in an options table, in any spelling the
    release matches (2.x: any case, so `systemdCgroup` counts; 1.x: go-toml v1's spellings)."""
    if not isinstance(options, dict):
        return None, None
    for k, v in options.items():
        if isinstance(k, str) and reads_spelling(SYSTEMD_CGROUP, k, one):
            return k, v
    return None, None


def driver(table: dict, one: bool = False) -> str:
    _, value = systemd_value(table.get("options"), one)
    return "systemd" if value is True else "cgroupfs"


def runc_runtimes(ctx: Context) -> tuple[list[tuple[str, dict]], set[str], str]:
    runtimes, in_file = effective_runtimes(ctx)
    types = (RUNC_V2, RUNC_V1) if ctx.target.is_1x() else (RUNC_V2,)
    default = ctx.get(ctx.runtime_root + ("containerd", "default_runtime_name")) or "runc"
    names = sorted(runtimes, key=lambda n: (n != default, n))
    return ([(n, runtimes[n]) for n in names if runtimes[n].get("runtime_type") in types],
            in_file, default)


@rule("CM010", "cgroup-driver",
      "SystemdCgroup of the runc runtimes disagrees with the kubelet's cgroupDriver "
      "(--kubelet-config)")
def check(ctx: Context) -> None:
    if ctx.version is None:
        return
    one = ctx.target.is_1x()
    runcs, in_file, default = runc_runtimes(ctx)
    if not runcs:
        return
    base = ctx.runtime_root + ("containerd", "runtimes")
    if ctx.kubelet is None:
        reference = driver(runcs[0][1], one)
        for name, table in runcs[1:]:
            if driver(table, one) != reference:
                key, _ = systemd_value(table.get("options"), one)
                where = base + (name, "options", key) if key else base + (name,)
                ctx.report("warning", f"runc runtime {name!r} uses the {driver(table, one)} cgroup "
                                      f"driver but the default runtime {runcs[0][0]!r} uses "
                                      f"{reference}: the kubelet can match only one of them",
                           where, suggestion="set the same SystemdCgroup in every runc "
                                             "runtime", claim=False)
        return
    want = ctx.kubelet["cgroupDriver"]
    told = "" if ctx.kubelet.get("explicit") else " (its default: the file does not set it)"
    for name, table in runcs:
        have = driver(table, one)
        if have == want:
            continue
        key, _ = systemd_value(table.get("options"), one)
        target = base + (name, "options", "SystemdCgroup")
        sets: tuple = ((base + (name, "options", key or "SystemdCgroup"), want == "systemd"),)
        if name in in_file:
            where = base + (name, "options", key) if key else base + (name,)
            at = None
        else:
            where = ctx.runtime_root + ("containerd", "default_runtime_name")
            at = ctx.position(where) if ctx.has(where) else (1, 1)
            if ctx.target.is_1x():
                sets = ((base + (name, "runtime_type"), table.get("runtime_type", RUNC_V2)),
                        (target, want == "systemd"))
        fix = Fix(f"set SystemdCgroup = {str(want == 'systemd').lower()} in runtime {name}",
                  sets=sets)
        builtin = "" if name in in_file else " (the built-in runc runtime)"
        ctx.report("error", f"the kubelet uses the {want} cgroup driver{told} "
                            f"({ctx.kubelet['file']}), but containerd's runc runtime "
                            f"{name!r}{builtin} uses {have}"
                            f"{_unset(table, ctx.target.label) if key is None else ''}: pods get "
                            f"their cgroups managed two ways and nodes turn unstable",
                   where, at=at,
                   suggestion=f"SystemdCgroup = {str(want == 'systemd').lower()} in "
                              f"runtimes.{name}.options, or cgroupDriver: {have} for the "
                              f"kubelet", fix=fix, claim=False)


def _unset(table: dict, label: str) -> str:
    """Why SystemdCgroup counts as unset: absent, or written in a spelling the release does not
    match (`SystemdCGroup` on 1.x)."""
    other, _ = systemd_value(table.get("options"))
    if other is not None:
        return f" ({other} is not a spelling containerd {label} matches)"
    return " (SystemdCgroup is not set)"

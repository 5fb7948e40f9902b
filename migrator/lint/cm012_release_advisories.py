"""CM012 release-advisory: config patterns that meet a known bug of the target release.

From: facts §8 (containerd bugs, each with its source and experiment):

* B3 (2.0-2.2): a file without `version` (schema 1) is forced to version 3 before any plugin
  migration, so every CRI setting in `[plugins.cri]` is lost (sandbox image, SystemdCgroup,
  mirrors, CNI dirs). 2.3 migrates it. Error.
* B8 (2.2.0-2.2.1): the default `config_path` is non-empty and 2.2.0's migration turns an
  explicit `""` of a version 2 file into it, so any `registry.mirrors` makes the CRI image plugin
  (and all of CRI) fail to load. Only a version 3 file with an explicit `config_path = ""`
  works; fixed in 2.2.2. Error for 2.2.0/2.2.1, warning for the 2.2 line.
* B1 (2.0-2.2): a runtime's `snapshotter` never reaches the image service (containerd's own
  migration writes `runtime_platform` instead of `runtime_platforms`, and 2.0-2.2 do not copy
  it at start), so images for that runtime are unpacked with the default snapshotter while its
  containers expect the runtime's. Error; in a version 3 file the fix adds
  `runtime_platforms.<runtime>.snapshotter`, which 2.3 does by itself at start.
* B2 (2.x reading a version 2 file): `containerd.snapshotter`, `disable_snapshot_annotations`
  and `discard_unpacked_layers` are migrated only when the same table has
  `containerd.runtimes`; otherwise they are lost without a warning. Error.
* B6 (2.3, version 1-3 files): the shim-manager migration runs again and replaces
  `io.containerd.shim.v1.manager` whenever `io.containerd.runtime.v2.task` exists, so
  `sched_core = true` no longer becomes `SCHED_CORE=1`, and a version 3 manager's `env` and
  `socket_dir` are wiped (every 2.0-2.2 `config default` has a task section). Error.
* B10 (2.0.0-2.0.1, version 2 files): the CRI split copies the whole old table into the
  runtime plugin (an existing runtime table is discarded) and 2.0.0 loses the streaming server
  settings. Warning.
* B5 (2.x): a UTF-8 byte-order mark: every 2.x release refuses the file. Error; the fix removes
  it (1.x reads the file the same either way).
* go-cni (2.0.1-2.0.2, containerd #11186): go-cni v1.1.11 deadlocks with several CNI plugins,
  and nodes go NotReady after a reboot (Cilium plus Multus); 2.0.3 has the fix. Warning when
  the target is one of those patches and the CRI is not disabled.
* §1.5 (1.6.0-1.6.28, 1.7.0-1.7.15): relative glob imports are resolved against containerd's
  working directory instead of the file's directory. Warning.

Applies to: the releases named per advisory (a target given as a line, 2.2, gets a warning
when only some of its patches are affected).
"""
from __future__ import annotations

import os

from migrator.core import catalog
from migrator.core.paths import dotted
from migrator.lint.base import CRI_V1, GRPC_CRI, IMG, RT, Context, Fix, rule
from migrator.lint.cm007_cri_disabled import CRI_PLUGINS

SHIM = ("plugins", catalog.plugin("shim_manager"))
TASK = ("plugins", catalog.plugin("runtime_v2_task"))
IMAGE_KEYS = ("snapshotter", "disable_snapshot_annotations", "discard_unpacked_layers")
STREAM_KEYS = ("stream_server_address", "stream_server_port", "stream_idle_timeout",
               "enable_tls_streaming", "x509_key_pair_streaming")


@rule("CM012", "release-advisory",
      "a config pattern that meets a known bug of the target release")
def check(ctx: Context) -> None:
    if ctx.had_bom and not ctx.target.is_1x():
        ctx.report("error", f"the file starts with a UTF-8 byte-order mark: containerd "
                            f"{ctx.target.label} refuses it ('invalid character at start of "
                            f"key', facts B5)", at=(1, 1),
                   suggestion="remove the byte-order mark", fix=Fix("remove the BOM",
                                                                   strip_bom=True))
    if ctx.version is None:
        return
    _b3(ctx)
    _b8(ctx)
    _b1(ctx)
    _b2(ctx)
    _b6(ctx)
    _b10(ctx)
    _relative_globs(ctx)
    _go_cni(ctx)


def _b3(ctx: Context) -> None:
    t = ctx.target
    if ctx.version != 1 or t.affected("B3") is False:
        return
    cri = ctx.get(CRI_V1)
    if isinstance(cri, dict) and cri:
        ctx.report("error", f"containerd {t.label} forces a file without `version` to version 3 "
                            f"before migrating its plugins, so every setting in plugins.cri "
                            f"is lost (facts B3)", CRI_V1, claim=False,
                   suggestion="add version = 2 with plugin URIs: containerd-migrate --to 2 "
                              "(or --containerd " + t.line + ")")


def _b8(ctx: Context) -> None:
    t = ctx.target
    hit = t.affected("B8")
    if hit is False:
        return
    registry = ctx.get(ctx.images_root + ("registry",))
    if not isinstance(registry, dict) or not registry.get("mirrors"):
        return
    if registry.get("config_path"):
        return  # CM005 already says it never loads
    if ctx.version >= 3 and "config_path" in registry:
        return  # an explicit "" in a version 3 file survives 2.2.0
    path = ctx.images_root + ("registry", "mirrors")
    severity = "error" if hit else "warning"
    which = t.label if hit else " and ".join(dict.fromkeys(catalog.line(t.line).advisory(
        "B8").affected))
    ctx.report(severity, f"containerd {which} set a default registry.config_path (and 2.2.0's "
                         f"migration rewrites an explicit \"\"), so with mirrors the CRI image "
                         f"plugin fails to load (facts B8; fixed in 2.2.2)", path, claim=False,
               suggestion="use 2.2.2 or later, convert the mirrors to hosts.toml, or write a "
                          "version 3 file with config_path = \"\"")


def _b1(ctx: Context) -> None:
    t = ctx.target
    if t.affected("B1") is False or ctx.version < 2:
        return
    root = GRPC_CRI if ctx.version == 2 else RT
    runtimes = ctx.get(root + ("containerd", "runtimes"))
    if not isinstance(runtimes, dict):
        return
    platforms = ctx.get(IMG + ("runtime_platforms",)) or {}
    for name, table in runtimes.items():
        if not isinstance(table, dict) or not table.get("snapshotter"):
            continue
        snap = table["snapshotter"]
        have = platforms.get(name) if isinstance(platforms, dict) else None
        if isinstance(have, dict) and have.get("snapshotter") == snap:
            continue
        path = root + ("containerd", "runtimes", name, "snapshotter")
        fix = None
        if ctx.version >= 3 and not (isinstance(have, dict) and "snapshotter" in have):
            fix = Fix(f"add runtime_platforms.{name}.snapshotter",
                      sets=((IMG + ("runtime_platforms", name, "snapshotter"), snap),))
        suggestion = (f"set {dotted(IMG + ('runtime_platforms', name, 'snapshotter'))} = "
                      f"{snap!r}" if ctx.version >= 3 else
                      f"containerd-migrate --containerd {t.line} writes it for you")
        ctx.report("error", f"runtime {name!r} uses snapshotter {snap!r}, but containerd "
                            f"{t.label} pulls its images with the default snapshotter: the "
                            f"runtime's snapshotter reaches the image service only through "
                            f"runtime_platforms (facts B1; 2.3 copies it at start)", path,
                   claim=False, suggestion=suggestion, fix=fix)


def _b2(ctx: Context) -> None:
    if ctx.version != 2 or ctx.target.is_1x():
        return
    containerd = ctx.get(GRPC_CRI + ("containerd",))
    if not isinstance(containerd, dict) or "runtimes" in containerd:
        return
    for key in IMAGE_KEYS:
        if key in containerd:
            ctx.report("error", f"containerd {ctx.target.label} migrates containerd.{key} of "
                                f"a version 2 file only when the same table has "
                                f"containerd.runtimes; here it is lost without a warning "
                                f"(facts B2)", GRPC_CRI + ("containerd", key), claim=False,
                       suggestion=f"containerd-migrate --containerd {ctx.target.line} (moves it "
                                  f"to {dotted(IMG + (key,))})")


def _b6(ctx: Context) -> None:
    if not ctx.target.has("per-file-migration") or ctx.version >= 4:
        return
    task = ctx.get(TASK)
    if not isinstance(task, dict):
        return
    if task.get("sched_core") is True:
        ctx.report("error", f"containerd {ctx.target.label} runs the shim-manager migration "
                            f"again and replaces {SHIM[1]}, so sched_core "
                            f"= true no longer turns SCHED_CORE=1 on (facts B6)",
                   TASK + ("sched_core",), claim=False,
                   suggestion=f"containerd-migrate --containerd {ctx.target.line} (writes "
                              f"version 4 with env = [\"SCHED_CORE=1\"])")
    shim = ctx.get(SHIM)
    if ctx.version == 3 and isinstance(shim, dict) and (shim.get("env") or
                                                        shim.get("socket_dir")):
        ctx.report("error", f"containerd {ctx.target.label} migrates this version 3 file at "
                            f"start and replaces {SHIM[1]} because "
                            f"{TASK[1]} exists: its env and socket_dir are "
                            f"wiped (facts B6)", SHIM, claim=False,
                   suggestion=f"containerd-migrate --containerd {ctx.target.line} (version 4 "
                              f"is not migrated)")


def _b10(ctx: Context) -> None:
    t = ctx.target
    if ctx.version != 2 or t.affected("B10") is False:
        return
    cri = ctx.get(GRPC_CRI)
    if not isinstance(cri, dict):
        return
    if isinstance(ctx.get(RT), dict):
        ctx.report("warning", "containerd 2.0.0-2.0.1 replace an existing "
                              f"{RT[1]} table with the whole version 2 CRI "
                              "table (facts B10)", RT, claim=False,
                   suggestion="use 2.0.2 or later, or keep the settings in one place")
    lost = [k for k in STREAM_KEYS if k in cri]
    if lost and t.affected("B10-streaming") is not False:
        ctx.report("warning", f"containerd 2.0.0 loses {', '.join(lost)} when it migrates a "
                              f"version 2 file (facts B10)", GRPC_CRI + (lost[0],), claim=False,
                   suggestion="use 2.0.1 or later")


def _relative_globs(ctx: Context) -> None:
    t = ctx.target
    hit = t.affected("relative-glob-imports")
    if hit is False:
        return
    imports = ctx.tree.get("imports")
    if not isinstance(imports, list):
        return
    for i, raw in enumerate(imports):
        if isinstance(raw, str) and "*" in raw and not os.path.isabs(raw):
            which = t.label if hit else "-".join(catalog.line(t.line).advisory(
                "relative-glob-imports").affected)
            ctx.report("error" if hit else "warning",
                       f"containerd {which} resolve the relative glob {raw!r} against the "
                       f"working directory, not this file's directory (fixed in 1.6.29 and "
                       f"1.7.16)", ("imports", i), at=ctx.entry_position("imports", i),
                       claim=False, suggestion="use an absolute path")


def _go_cni(ctx: Context) -> None:
    """Not a config pattern: the CNI library of these patches, which any CRI node uses."""
    t = ctx.target
    if t.affected("go-cni-deadlock") is not True:
        return  # a whole line would flag every file: only a named patch is judged
    disabled = ctx.tree.get("disabled_plugins")
    if isinstance(disabled, list) and set(disabled) & set(CRI_PLUGINS):
        return
    advisory = catalog.line(t.line).advisory("go-cni-deadlock")
    assert advisory is not None
    ctx.report("warning", f"containerd {t.label}: {advisory.what} ({advisory.source})",
               at=(1, 1), suggestion=f"use containerd {advisory.fixed} or later")

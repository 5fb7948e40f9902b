"""CM007 cri-disabled: the CRI plugins listed in `disabled_plugins` on a Kubernetes node.

From: plugin loading (`services/server/server.go@v1.7.34`, `cmd/containerd/server/server.go
@v2.0.0`): a disabled plugin is not loaded, and the kubelet cannot talk to containerd. Docker's
packaging ships `disabled_plugins = ["cri"]` (facts §5.2, E41), and nodes that were Docker hosts
keep it. In 2.x the CRI is four plugins: `io.containerd.grpc.v1.cri` (the gRPC service),
`io.containerd.cri.v1.images`, `io.containerd.cri.v1.runtime` and the pod sandbox controller
`io.containerd.podsandbox.controller.v1.podsandbox`; disabling any of them breaks pods.

Applies to: config versions 1-4, every release, with `--kubernetes` (error). Without it, on 2.x
targets, a note that disabling only `io.containerd.grpc.v1.cri` no longer turns all of CRI off
(info): the image and runtime plugins still load (E41).

Fix (with --kubernetes): remove those entries from disabled_plugins.
"""
from __future__ import annotations

from migrator.core import catalog
from migrator.lint.base import Context, Fix, rule

CRI_PLUGINS = ("cri", catalog.plugin("cri"), catalog.plugin("cri_images"),
               catalog.plugin("cri_runtime"), catalog.plugin("podsandbox"))
SPLIT = CRI_PLUGINS[2:]


@rule("CM007", "cri-disabled",
      "CRI disabled in disabled_plugins on a Kubernetes node (--kubernetes)")
def check(ctx: Context) -> None:
    value = ctx.tree.get("disabled_plugins")
    if not isinstance(value, list):
        return
    hits = [(i, v) for i, v in enumerate(value) if v in CRI_PLUGINS]
    if not hits:
        return
    if ctx.kubernetes:
        fix = Fix("enable the CRI plugins", entries=tuple((v, ()) for _, v in hits))
        for i, name in hits:
            ctx.report("error", f"disabled_plugins lists {name!r}: the kubelet cannot run pods "
                                f"through this containerd", ("disabled_plugins", i),
                       at=ctx.entry_position("disabled_plugins", i),
                       suggestion=f"remove {name!r} from disabled_plugins", fix=fix, claim=False)
        return
    if ctx.target.is_1x():
        return
    names = {v for _, v in hits}
    if names & set(CRI_PLUGINS[:2]) and not names & set(SPLIT):
        i, name = next((i, v) for i, v in hits if v in CRI_PLUGINS[:2])
        ctx.report("info", f"disabling {name} in containerd "
                           f"{ctx.target.label} only stops the CRI gRPC service: the image and "
                           f"runtime plugins and the pod sandbox controller still load",
                   ("disabled_plugins", i), at=ctx.entry_position("disabled_plugins", i),
                   suggestion="also list " + ", ".join(repr(n) for n in SPLIT) +
                              " to turn all of CRI off", claim=False)

"""CM009 sandbox-image: a sandbox (pause) image reference without a registry host or a tag.

From: image reference normalization (`github.com/distribution/reference` `ParseNormalizedNamed`,
used by the CRI image service in 1.x and 2.x): a name without a registry host means Docker Hub
(`pause:3.9` is `docker.io/library/pause:3.9`), and a name without a tag or digest means
`:latest`. The sandbox image is pulled for every pod (and pinned: the kubelet's image GC skips
it); when the reference does not name what the node can pull, no pod starts. The defaults are
`registry.k8s.io/pause:3.8` (1.7) ... `:3.10.2` (2.3) (facts §5.2).

`pinned_images` (versions 3 and 4) is a free map: a key meant as `sandbox` (its version 2 name
`sandbox_image`, or a close spelling) pins an extra image and the default sandbox image stays
(`config dump` of 2.0.11, 2.1.9, 2.3.4), so the nodes pull the wrong pause image: an error.

Applies to: `sandbox_image` of the CRI plugin (config versions 1 and 2) and
`pinned_images.sandbox` of `io.containerd.cri.v1.images` (versions 3 and 4); every release.
A registry is suggested only where the name shows it (`pause` is the Kubernetes image;
`kubesphere/pause` is on Docker Hub).

Fix: rename a pinned_images key meant as `sandbox` (when `sandbox` is not set). No fix for the
reference itself: the intended registry and tag are not in the file.
"""
from __future__ import annotations

import difflib

from migrator.lint.base import GRPC_CRI, IMG, Context, Fix, rule, schema, table_schema

_CUTOFF = 0.6


_K8S_PAUSE = "pause"   # registry.k8s.io/pause, the default of every release (facts §5.2)


def split_reference(ref: str) -> tuple[str | None, str, str | None, str | None]:
    """(host, path, tag, digest) of an image reference, without normalizing."""
    name, _, digest = ref.partition("@")
    host = None
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, name = first, rest
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    return host, name, tag, (digest or None)


def _pinned(ctx: Context) -> None:
    """Keys of `pinned_images` other than the ones containerd uses. It is a free map in 2.x, so
    `sandbox_image` (the version 2 name) pins an extra image under that name and the default
    sandbox image stays (`config dump` of 2.0.11, 2.1.9 and 2.3.4 show `sandbox` at the default
    next to `sandbox_image`)."""
    table = IMG + ("pinned_images",)
    pinned = ctx.get(table)
    node = table_schema(schema(ctx.version or 3), table) or {}
    known = list(node.get("properties", {}))
    if not isinstance(pinned, dict) or not known:
        return
    for key, value in pinned.items():
        if key in known or not isinstance(key, str):
            continue
        meant = [k for k in known if _former(ctx, k) == key] or \
            difflib.get_close_matches(key, known, n=1, cutoff=_CUTOFF)
        path = table + (key,)
        if not meant:
            ctx.report("warning", f"pinned_images.{key} is not a name containerd uses "
                                  f"({', '.join(known)}): it only keeps {value!r} from garbage "
                                  f"collection", path)
            continue
        fix = (Fix(f"rename pinned_images.{key} to {meant[0]}",
                   moves=((path, table + (meant[0],)),)) if meant[0] not in pinned else None)
        ctx.report("error", f"pinned_images.{key} is not pinned_images.{meant[0]}: containerd "
                            f"pins an extra image named {key!r} and keeps its default "
                            f"{meant[0]} image", path,
                   suggestion=f"write pinned_images.{meant[0]}", fix=fix)


def _former(ctx: Context, key: str) -> str | None:
    """The version 2 name of pinned_images.<key> (the migration rules read backwards)."""
    try:
        back = ctx.mapper(ctx.version or 3, 2).target(IMG + ("pinned_images", key)).path
    except (KeyError, ValueError):
        return None
    return back[-1] if back and tuple(back[:-1]) == GRPC_CRI else None


@rule("CM009", "sandbox-image",
      "sandbox (pause) image without a registry host or tag; pinned_images keys that are not "
      "the sandbox image")
def check(ctx: Context) -> None:
    if (ctx.version or 0) >= 3:
        _pinned(ctx)
        path = IMG + ("pinned_images", "sandbox")
    else:
        path = ctx.images_root + ("sandbox_image",)
    ref = ctx.get(path)
    if not isinstance(ref, str) or not ref.strip() or "{{" in ref or "$" in ref:
        return
    host, name, tag, digest = split_reference(ref.strip())
    if host is None:
        full = f"docker.io/{'library/' if '/' not in name else ''}{name}"
        # suggest a registry only where the name shows it: the Kubernetes image is plain
        # `pause`; a namespaced name (kubesphere/pause) lives on Docker Hub
        where = (f"registry.k8s.io/{name}" if name == _K8S_PAUSE else full)
        ctx.report("warning", f"sandbox image {ref!r} names no registry, so it is pulled from "
                              f"{full}; if that is not where the pause image is, no pod starts",
                   path, suggestion=f"write the registry, e.g. {where}"
                                    f"{':' + tag if tag else ''}")
    if tag is None and digest is None:
        ctx.report("warning", f"sandbox image {ref!r} has no tag, so it means :latest, which "
                              f"changes under the node or may not exist at all", path,
                   suggestion="pin a tag, e.g. :3.10")

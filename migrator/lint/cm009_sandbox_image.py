"""CM009 sandbox-image: a sandbox (pause) image reference without a registry host or a tag.

From: image reference normalization (`github.com/distribution/reference` `ParseNormalizedNamed`,
used by the CRI image service in 1.x and 2.x): a name without a registry host means Docker Hub
(`pause:3.9` is `docker.io/library/pause:3.9`), and a name without a tag or digest means
`:latest`. The sandbox image is pulled for every pod (and pinned: the kubelet's image GC skips
it); when the reference does not name what the node can pull, no pod starts. The defaults are
`registry.k8s.io/pause:3.8` (1.7) ... `:3.10.2` (2.3) (facts §5.2).

Applies to: `sandbox_image` of the CRI plugin (config versions 1 and 2) and
`pinned_images.sandbox` of `io.containerd.cri.v1.images` (versions 3 and 4); every release.

No fix: the intended registry and tag are not in the file.
"""
from __future__ import annotations

from migrator.lint.base import IMG, Context, rule


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


@rule("CM009", "sandbox-image",
      "sandbox (pause) image without a registry host or tag")
def check(ctx: Context) -> None:
    if (ctx.version or 0) >= 3:
        path = IMG + ("pinned_images", "sandbox")
    else:
        path = ctx.images_root + ("sandbox_image",)
    ref = ctx.get(path)
    if not isinstance(ref, str) or not ref.strip() or "{{" in ref or "$" in ref:
        return
    host, name, tag, digest = split_reference(ref.strip())
    if host is None:
        full = f"docker.io/{'library/' if '/' not in name else ''}{name}"
        ctx.report("warning", f"sandbox image {ref!r} names no registry, so it is pulled from "
                              f"{full}; if that is not where the pause image is, no pod starts",
                   path, suggestion=f"write the registry, e.g. registry.k8s.io/{name}"
                                    f"{':' + tag if tag else ''}")
    if tag is None and digest is None:
        ctx.report("warning", f"sandbox image {ref!r} has no tag, so it means :latest, which "
                              f"changes under the node or may not exist at all", path,
                   suggestion="pin a tag, e.g. :3.10")

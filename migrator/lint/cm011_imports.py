"""CM011 imports: `imports` that containerd cannot load as written.

From: the config loaders, `services/server/config/config.go@v1.7.34` `LoadConfig` and
`cmd/containerd/server/config/config.go@v2.0.0`...`@v2.3.4` (`resolveImports`,
`LoadConfig[WithPlugins]`); facts §1.2, §1.5, B9, E15:

* a non-glob import that does not exist: every release refuses to start ("open FILE: no such
  file or directory"; checked by starting the daemons 1.6.39 ... 2.3.4 with a missing import,
  relative and absolute, in version 2 and 3 files: each exits 1 at once,
  tests/lint/test_field_evidence.py). containerd 2.x `config dump` hides this: it ignores "not
  exist" errors. Relative paths are resolved against the importing file's directory.
* a drop-in whose `version` is higher than the root file's: 2.3.0-2.3.4 and 2.4.0-beta.0 refuse
  to start ("drop-in config version D higher than root config version R"; 2.3.5 reverted the
  check, containerd #13995, and 2.4.0 no longer has it: no finding for those targets); 2.0-2.2
  migrate the merged files once at the highest version, so the root's version 2 CRI settings are
  lost (B9); 1.6.32+/1.7.17+ refuse any file above version 2. A drop-in below the root's version is migrated with the
  merged set by 2.0-2.2 (2.3 migrates each file on its own).

Applies to: config versions 1-4, every release. Globs are expanded relative to the file's
directory; absolute paths are checked on this machine, which may not be the node, so a missing
absolute import is a warning.

No fix.
"""
from __future__ import annotations

import glob
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from migrator.core import catalog
from migrator.core import rules as rules_mod
from migrator.lint.base import Context, rule


def _every_release() -> str:
    lines = list(rules_mod.release_lines())
    return f"containerd {lines[0]}-{lines[-1]}"


@dataclass
class Import:
    index: int
    raw: str
    pattern: bool
    absolute: bool
    files: list[Path]          # files found
    missing: Path | None       # a non-glob path that does not exist
    checkable: bool            # whether this machine can say what the import holds


def resolve(ctx: Context) -> list[Import]:
    if "imports" in ctx.cache:
        return ctx.cache["imports"]
    out: list[Import] = []
    value = ctx.tree.get("imports")
    if isinstance(value, list):
        for i, raw in enumerate(value):
            if not isinstance(raw, str) or not raw:
                continue
            absolute = os.path.isabs(raw)
            pattern = "*" in raw
            if not absolute and ctx.base_dir is None:
                out.append(Import(i, raw, pattern, absolute, [], None, False))
                continue
            path = Path(os.path.normpath(raw if absolute else ctx.base_dir / raw))
            if pattern:
                files = [Path(p) for p in sorted(glob.glob(str(path)))]
                out.append(Import(i, raw, True, absolute, files, None, not absolute))
            elif os.path.lexists(path):  # False too for a name the system refuses (> 255 bytes)
                out.append(Import(i, raw, False, absolute, [path], None, True))
            else:
                out.append(Import(i, raw, False, absolute, [], path, not absolute))
    ctx.cache["imports"] = out
    return out


def _read(path: Path) -> dict | None:
    from migrator.core import loading
    try:  # regular files only (a FIFO would block), and no tomllib on a hostile key
        text = loading.read_regular(path).decode("utf-8").lstrip("\ufeff")
        if len(text) > loading.MAX_BYTES or loading.long_key(text) is not None:
            return None
        return tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError, ValueError):
        return None


def imported(ctx: Context) -> tuple[list[dict], bool]:
    """The parsed trees of the files the imports name (that exist here), and whether that is
    all of them."""
    if "imported" in ctx.cache:
        return ctx.cache["imported"]
    trees, complete = [], True
    for imp in resolve(ctx):
        if not imp.checkable or imp.missing is not None:
            complete = False
        for f in imp.files:
            tree = _read(f) if os.path.isfile(f) else None  # check() reports what is not
            if tree is None:
                complete = False
            else:
                trees.append(tree)
    ctx.cache["imported"] = (trees, complete)
    return trees, complete


def _version(tree: dict) -> int:
    v = tree.get("version", 0)
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def _refusing() -> str:
    """The releases that refuse a drop-in above the root's version, from the catalog."""
    out = []
    for entry in catalog.lines().values():
        hit = entry.advisory("dropin-version-above-root")
        if hit is not None and hit.affected is not None:
            first, last = hit.affected
            out.append((first if first == last else f"{first}-{last}") +
                       (f" (fixed in {hit.fixed})" if hit.fixed else ""))
    return ", ".join(out)


@rule("CM011", "imports",
      "imports that name a missing file, or a drop-in at a higher config version than the root")
def check(ctx: Context) -> None:
    root_v = _version(ctx.tree)
    for imp in resolve(ctx):
        at = ctx.entry_position("imports", imp.index)
        path = ("imports", imp.index)
        if imp.missing is not None:
            if imp.absolute:
                ctx.report("warning", f"import {imp.raw!r} does not exist on this machine: "
                                      f"where it is missing, {_every_release()} refuse to "
                                      f"start (`config dump` of 2.x does not show it)", path,
                           at=at, suggestion="make sure the node has it, or use a glob "
                                             "(a glob matching nothing is fine)")
            else:
                ctx.report("error", f"import {imp.raw!r} does not exist ({imp.missing}): "
                                    f"{_every_release()} refuse to start ('open ...: no such "
                                    f"file or directory'; `config dump` of 2.x does not show "
                                    f"it)", path, at=at,
                           suggestion="fix the path (relative paths start at this file's "
                                      "directory) or use a glob")
            continue
        for f in imp.files:
            if not os.path.isfile(f):
                ctx.report("error", f"import {imp.raw!r}: {f.name} is not a regular file: "
                                    f"containerd cannot load it (a directory stops it, a FIFO "
                                    f"makes it wait for ever)", path, at=at)
                continue
            tree = _read(f)
            if tree is None:
                ctx.report("error", f"import {imp.raw!r}: {f.name} is not valid TOML (or not "
                                    f"UTF-8): containerd refuses to start", path, at=at)
                continue
            dv = _version(tree)
            # 2.3.5+ and 2.4.0+ migrate each file on its own and accept the pair (#13995)
            reads_it = ctx.target.has("per-file-migration") and \
                ctx.target.affected("dropin-version-above-root") is False
            if root_v and dv > root_v and not reads_it:
                ctx.report("error", f"import {f.name} has version = {dv}, higher than this "
                                    f"file's version = {root_v}: containerd {_refusing()} refuse "
                                    f"to start, 2.0-2.2 migrate both once at version {dv} and "
                                    f"lose this file's version {root_v} settings (facts B9)",
                           path, at=at,
                           suggestion=f"give both files the same version "
                                      f"(containerd-migrate --to {dv})")
            elif not root_v and dv >= 2:
                ctx.report("warning", f"import {f.name} has version = {dv} but this file has "
                                      f"none: containerd 2.0-2.2 force this file to version 3 "
                                      f"and lose its CRI settings (facts B3)", path, at=at,
                           suggestion=f"give this file version = {dv} "
                                      f"(containerd-migrate --to {dv})")
            elif dv and dv < root_v and not ctx.target.is_1x() and \
                    not ctx.target.has("per-file-migration"):
                ctx.report("warning", f"import {f.name} has version = {dv}, lower than this "
                                      f"file's {root_v}: containerd 2.0-2.2 merge the files "
                                      f"and migrate the result once, at the last version seen "
                                      f"(facts §1.5, B9), so mixed versions read unreliably",
                           path, at=at, suggestion=f"containerd-migrate --to {root_v} {f.name}")

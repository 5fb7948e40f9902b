"""CM008 version: a `version` containerd cannot read.

From: the config loaders (facts §1.1, §1.2, E2): `version` is a Go int, so a string or a float
is a decode error and containerd refuses to start (1.x: go-toml v1, 2.x: go-toml v2 "cannot
decode TOML string into struct field config.Config.Version of type int"). The highest version
each release reads: 1.x 2 (1.6.0-1.6.31 and 1.7.0-1.7.16 silently read 3 and 4 as 2, ignoring
every version 3 table; 1.6.32+ and 1.7.17+ refuse them), 2.0-2.2 3, 2.3 4; a higher one is
refused ("expected containerd config version equal to or less than ...").

Also reported: a file without `version` (schema 1: deprecated, 1.x warns at every start, 2.0-2.2
lose its CRI settings, see CM012), and a version below what the target release reads natively
(info: migrated in memory at every start, with a warning in the log).

Applies to: every file and release.

Fix: a version written as a string or float that is a whole number ("2", 2.0) becomes that
integer.
"""
from __future__ import annotations

from migrator.core import catalog
from migrator.lint.base import Context, Fix, rule


@rule("CM008", "version",
      "version not an integer, or above what the target release reads")
def check(ctx: Context) -> None:
    raw = ctx.raw_version
    path = ("version",)
    t = ctx.target
    if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int)):
        fix = None
        if ctx.version is not None and not isinstance(raw, bool):
            fix = Fix(f"write version = {ctx.version}", version=ctx.version)
        ctx.report("error", f"version = {raw!r} is not an integer: containerd refuses to start "
                            f"(cannot decode it into an int)", path,
                   suggestion=f"version = {ctx.version}" if ctx.version else
                   "version = 2 (containerd 1.x), 3 (2.0-2.2) or 4 (2.3)", fix=fix)
        return
    if ctx.version is None:
        ctx.report("error", f"version = {raw} is not a config version any containerd reads "
                            f"(1-{max(catalog.versions())}; containerd {t.label} reads up to "
                            f"{t.reads})", path,
                   suggestion=f"version = {t.reads}")
        return
    if isinstance(raw, int) and raw < 0:
        ctx.report("warning", f"version = {raw} is read as version 1", path,
                   suggestion="version = 2 (or remove it)")
    if ctx.version > t.reads:
        if t.is_1x():
            # patches up to this one read a newer version as 2 (catalog: facts §1.1)
            until = catalog.line(t.line).newer_versions_read_until
            refused = int(until.rsplit(".", 1)[1]) + 1 if until else None
            how = {True: f"containerd {t.label} refuses to start ('unsupported config version')",
                   False: f"containerd {t.label} reads it as version 2 and silently ignores "
                          f"every version {ctx.version} table",
                   None: f"containerd {t.line}.{refused}+ refuses to start, earlier {t.line} "
                         f"patches read it as version 2 and ignore every version "
                         f"{ctx.version} table"}[t.patches(t.line, refused or 0, None)]
        else:
            how = (f"containerd {t.label} refuses to start ('expected containerd config "
                   f"version equal to or less than `{t.reads}`')")
        ctx.report("error", f"version = {ctx.version} is above what containerd {t.label} reads "
                            f"({t.reads}): {how}", path,
                   suggestion=f"containerd-migrate --containerd {t.line} (writes version "
                              f"{t.reads})")
        return
    if ctx.version == 1:
        if not ctx.tree:
            return  # an empty file: containerd's defaults, nothing to say
        where = ctx.position(path) if raw is not None else (1, 1)
        ctx.report("warning", "config version 1 (no `version`, 0 or 1) is deprecated: "
                              "containerd 1.x warns at every start and 2.x converts it at "
                              "every start", path, at=where, claim=raw is not None,
                   suggestion="containerd-migrate --to 2 (or --containerd X.Y)")
    elif ctx.version < t.reads and not t.is_1x():
        ctx.report("info", f"containerd {t.label} migrates a version {ctx.version} file in "
                           f"memory at every start (and logs 'Configuration migrated from "
                           f"version {ctx.version}')", path,
                   suggestion=f"containerd-migrate --containerd {t.line} writes version "
                              f"{t.reads}")

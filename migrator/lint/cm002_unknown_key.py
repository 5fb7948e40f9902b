"""CM002 unknown-key: a key a known table does not have, or a value of the wrong type.

From: the decoders. containerd 1.x (go-toml v1) ignores unknown keys silently; 2.x (go-toml v2,
strict first) logs "Ignoring unknown key in TOML" / "... for plugin" and ignores them (facts
E9). A value of the wrong type is fatal in 2.x ("cannot decode TOML string into struct field
...", E19) and a decode error in 1.x. Runtime `options` are free-form, but a near-miss of an
option name (`SystemdCgroups`) or another spelling than the shims accept is dropped silently.
The checks are the JSON Schemas of this project (schemas/, docs/schemas.md) through
`migrator.validate`, which also gives the did-you-mean; the target release's own schema is used
when it reads the file's version natively (e.g. `cni.bin_dirs` does not exist in 2.0).

Applies to: config versions 1-4, every release; keys that another rule explains (CM001, CM003,
CM004, CM008) are left to it. Unknown plugin tables with URI-like names (external plugins) are
never reported.

Fix: when exactly one known key of the same table is close (same spelling in another case, or
one close match), rename the key, unless that key is already set.
"""
from __future__ import annotations

import difflib

from migrator.lint.base import Context, Fix, rule, schema, table_schema

_CUTOFF = 0.75


def _rename_target(ctx: Context, path: tuple, suggestion: str | None,
                   options: bool) -> str | None:
    """The one key of the same table this key is a misspelling of, or None."""
    key = path[-1]
    if not isinstance(key, str):
        return None
    table = table_schema(schema(ctx.schema_key), path[:-1]) or {}
    known = [k for k in table.get("properties", {})]
    if not known:
        return None
    same_case = [k for k in known if k.lower() == key.lower()]
    if len(same_case) == 1:
        return same_case[0]
    if options and suggestion in known:
        return suggestion
    close = difflib.get_close_matches(key, known, n=3, cutoff=_CUTOFF)
    if len(close) == 1 and (suggestion is None or suggestion == close[0]):
        return close[0]
    return None


@rule("CM002", "unknown-key",
      "unknown key in a known plugin table or in runc options (with did-you-mean), or a value "
      "of the wrong type")
def check(ctx: Context) -> None:
    if ctx.version is None:
        return
    # wrong types first: a value containerd refuses to start with is the finding to keep when
    # the same key has another problem too (a plugin table that is neither a URI nor a table)
    for p in sorted(ctx.problems(), key=lambda p: p.kind != "type"):
        if not p.path or p.path[0] == "version" or ctx.is_claimed(p.path):
            continue
        if p.kind == "type":
            effect = ("the plugin that reads it fails to load" if "duration" in p.message else
                      "containerd refuses to start")
            ctx.report("error", f"{p.message}: {effect}", p.path)
            continue
        options = p.kind == "other" and p.suggestion is not None and "option" in p.message
        if p.kind != "unknown-key" and not options:
            if p.kind == "other":
                ctx.report("warning", p.message, p.path)
            continue
        fix = None
        new = _rename_target(ctx, p.path, p.suggestion, options)
        parent = ctx.get(p.path[:-1])
        if new is not None and isinstance(parent, dict) and new not in parent:
            fix = Fix(f"rename {p.path[-1]} to {new}", moves=((p.path, p.path[:-1] + (new,)),))
        suggestion = None
        if p.suggestion:
            suggestion = f"did you mean {p.suggestion}?"
            if new is not None and fix is None:
                suggestion += f" ({new} is already set)"
        message = p.message
        if "(did you mean" in message:
            message = message[:message.index(" (did you mean")]
        effect = (f"containerd {ctx.target.label} ignores it silently" if ctx.target.is_1x() else
                  f"containerd {ctx.target.label} logs 'Ignoring unknown key' and ignores it")
        if not options:
            message = f"{message}: {effect}"
        ctx.report("warning", message, p.path, suggestion=suggestion, fix=fix)

"""CM002 unknown-key: a key a known table does not have, a runtime option the shim does not
read, or a value of the wrong type.

From: the decoders. containerd 1.x (go-toml v1) ignores unknown keys silently; 2.x (go-toml v2,
strict first) logs "Ignoring unknown key in TOML" / "... for plugin" and ignores them (facts
E9). A value of the wrong type is fatal in 2.x ("cannot decode TOML string into struct field
...", E19) and a decode error in 1.x. The checks are the JSON Schemas of this project (schemas/,
docs/schemas.md, generated from the key inventories) through `migrator.checks.validate`, which also
gives the did-you-mean. Which keys count: with --containerd, the target release's (a 2.x target
reading an older version asks its own schema at the key's migrated place, so `slow_chown` in a
version 2 file is fine for 2.0+); without it, every release that reads the file's version
natively. A key only other releases read is named so, without a did-you-mean.

Runtime options: the runc shim's options are a known set (closed in the schemas by an if/then on
runtime_type); the CRI plugin drops any other name, so a typo (`SystemdCgroups`) leaves the
option at its default: an error. Another case of an option name is matched by 2.x (go-toml v2)
and by 1.x only in go-toml v1's spellings (an error for 1.x otherwise). runc options under a
runtime with its own shim (runsc, kata) reach it only as TypeUrl/ConfigPath/ConfigBody
(`getRuntimeOptionsType`, internal/cri/config/config.go@v2.1.9): a warning.

Applies to: config versions 1-4, every release; keys that another rule explains (CM001, CM003,
CM004, CM008) are left to it. Unknown plugin tables with URI-like names (external plugins) are
never reported.

Fix: when exactly one known key of the same table is close (same spelling in another case, or
one close match), rename the key, unless that key is already set.
"""
from __future__ import annotations

import difflib

from migrator.core import rules as rules_mod
from migrator.lint.base import Context, Fix, rule, schema, schema_knows, table_schema

_CUTOFF = 0.75


def judged_by(ctx: Context) -> int | str:
    """The schema a key is judged by: the target release's own when --containerd names a release
    that reads this config version natively; otherwise the config version's, which is every key
    that some release reading this version natively knows. A release that reads the file through
    its in-memory migration is asked separately (`_read_by_target`)."""
    if ctx.target.explicit and ctx.version == ctx.target.reads and (ctx.version or 0) >= 2:
        return ctx.target.line
    return ctx.version or 2


def _mapped(ctx: Context, path: tuple, to: int) -> tuple | None:
    """Where a key of this file is after containerd's migration to config version `to`."""
    if ctx.version is None or to == ctx.version:
        return path
    if to < ctx.version:
        return None
    target = ctx.mapper(ctx.version, to).target(path)
    return tuple(target.path) if target.path is not None else None


def _knows(ctx: Context, line: str, path: tuple) -> bool:
    reads = rules_mod.release_lines()[line]
    mapped = _mapped(ctx, path, reads)
    return mapped is not None and schema_knows(schema(line), mapped)


def _read_by_target(ctx: Context, path: tuple) -> bool:
    """An explicit target that reads a newer config version (2.x reading a version 2 file)
    migrates the file in memory and reads the key with its own key set."""
    t = ctx.target
    return t.explicit and ctx.version is not None and t.reads > ctx.version and \
        _knows(ctx, t.line, path)


def lines_reading(ctx: Context, path: tuple) -> list[str]:
    """The release lines (from the key inventories behind the schemas) that read this key."""
    return [line for line in rules_mod.release_lines() if _knows(ctx, line, path)]


def _rename_target(ctx: Context, path: tuple, suggestion: str | None,
                   options: bool) -> str | None:
    """The one key of the same table this key is a misspelling of, or None."""
    key = path[-1]
    if not isinstance(key, str):
        return None
    table = table_schema(schema(judged_by(ctx)), path[:-1]) or {}
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


def _span(lines: list[str]) -> str:
    return lines[0] if len(lines) == 1 else f"{lines[0]}-{lines[-1]}"


def _option_table(ctx: Context, table: tuple) -> dict | None:
    """The option sets ({runtime_type: names}) when `table` is a runtime's options table."""
    node = table_schema(schema(judged_by(ctx)), table)
    sets = node.get("x-containerd-option-sets") if isinstance(node, dict) else None
    return sets if isinstance(sets, dict) and sets else None


@rule("CM002", "unknown-key",
      "unknown key in a known plugin table or in a runtime's options (with did-you-mean), or a "
      "value of the wrong type")
def check(ctx: Context) -> None:
    if ctx.version is None:
        return
    # wrong types first: a value containerd refuses to start with is the finding to keep when
    # the same key has another problem too (a plugin table that is neither a URI nor a table)
    for p in sorted(ctx.problems(judged_by(ctx)), key=lambda p: p.kind != "type"):
        if not p.path or p.path[0] == "version" or ctx.is_claimed(p.path):
            continue
        if p.kind == "type":
            effect = ("the plugin that reads it fails to load" if "duration" in p.message else
                      "containerd refuses to start")
            ctx.report("error", f"{p.message}: {effect}", p.path)
            continue
        options = p.kind == "other" and p.suggestion is not None and "option" in p.message
        if options and _option_table(ctx, p.path[:-1]) is not None and \
                p.path[:-2] in dict(_runc_tables(ctx)):
            continue  # _spellings judges the runc option names
        if p.kind != "unknown-key" and not options:
            if p.kind == "other":
                ctx.report("warning", p.message, p.path)
            continue
        if p.kind == "unknown-key" and _option_table(ctx, p.path[:-1]) is None and \
                _read_by_target(ctx, p.path):
            continue
        _unknown(ctx, p, options)
    _spellings(ctx)
    _foreign_options(ctx)


def _unknown(ctx: Context, p, options: bool) -> None:
    message = p.message
    if "(did you mean" in message:
        message = message[:message.index(" (did you mean")]
    closed = _option_table(ctx, p.path[:-1]) is not None
    elsewhere = [] if closed or p.kind != "unknown-key" else lines_reading(ctx, p.path)
    if p.kind == "unknown-key" and elsewhere:
        # a real key of another release: no did-you-mean, say who reads it
        who = "target" if ctx.target.explicit else "releases that read this version natively"
        later = [line for line in elsewhere if ctx.target.before(line)]
        hint = (f"if the node runs containerd {later[0]} or later, lint with --containerd "
                f"{later[0]}" if later else
                f"containerd {elsewhere[-1]} was the last to read it: remove it")
        ctx.report("warning", f"{message}: containerd {_span(elsewhere)} reads it, but not the "
                              f"{who} ({_judge(ctx)})", p.path, suggestion=hint)
        return
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
    if p.kind == "unknown-key" and closed and _former_runc_option(ctx, p.path):
        return  # an option an older release had (CriuPath): CM004 says what became of it
    if p.kind == "unknown-key" and closed:
        # the runc options are a known set: a typo turns the option off (SystemdCgroups leaves
        # systemd cgroups off, the kubelet mismatch that crash-loops pods)
        ctx.report("error", f"{message}: the runc shim's options have no such name, so the "
                            f"CRI plugin drops it silently and the option keeps its default",
                   p.path, suggestion=suggestion, fix=fix)
        return
    effect = (f"containerd {_judge(ctx)} ignores it silently" if ctx.target.is_1x() else
              f"containerd {_judge(ctx)} logs 'Ignoring unknown key' and ignores it")
    if not options:
        message = f"{message}: {effect}"
    ctx.report("warning", message, p.path, suggestion=suggestion, fix=fix)


def _judge(ctx: Context) -> str:
    if ctx.target.explicit or ctx.version is None:
        return ctx.target.label
    lines = [line for line, v in rules_mod.release_lines().items() if v == ctx.version]
    return _span(lines) if lines else ctx.target.label


def _foreign_options(ctx: Context) -> None:
    """Options of one shim under a runtime of another (`SystemdCgroup` under runsc or kata):
    the CRI plugin decodes the options of a runtime_type without its own options type into
    the generic one (TypeUrl, ConfigPath, ConfigBody) and drops the rest (getRuntimeOptionsType,
    internal/cri/config/config.go@v2.1.9)."""
    for path, table in ctx.runtime_tables():
        opts, rtype = table.get("options"), table.get("runtime_type")
        sets = _option_table(ctx, path + ("options",))
        if not isinstance(opts, dict) or not isinstance(rtype, str) or sets is None or \
                rtype in sets or "*" not in sets:
            continue
        generic = {n.lower() for n in sets["*"]}
        for key in opts:
            if not isinstance(key, str) or key.lower() in generic:
                continue
            owners = sorted(t for t, names in sets.items()
                            if t != "*" and key.lower() in {n.lower() for n in names})
            if not owners or ctx.is_claimed(path + ("options", key)):
                continue
            ctx.report("warning", f"option {key!r} of runtime {path[-1]!r} is an option of "
                                  f"{', '.join(owners)}: the CRI plugin passes the {rtype} shim "
                                  f"only {', '.join(sorted(sets['*']))} and drops it",
                       path + ("options", key),
                       suggestion=f"set it in the {rtype} shim's own configuration "
                                  f"(ConfigPath)")


def _runc_tables(ctx: Context) -> list[tuple[tuple, set[str]]]:
    """(runtime path, runc option names) of the runtimes whose options the runc shim decodes
    (2.x: a `runc` runtime without runtime_type inherits the built-in runc.v2)."""
    out = []
    for path, table in ctx.runtime_tables():
        sets = _option_table(ctx, path + ("options",)) or {}
        runc = sorted(t for t in sets if ".runc." in t)
        rtype = table.get("runtime_type")
        if rtype is None and path[-1] == "runc" and not ctx.target.is_1x():
            rtype = runc[-1] if runc else None
        if rtype in runc:
            out.append((path, set(sets[rtype])))
    return out


def _spellings(ctx: Context) -> None:
    """runc option names in another case. 2.x matches them in any case (go-toml v2; the 2.3
    dump of `systemdCgroup = true` shows it next to the default `SystemdCgroup = false`);
    1.x (go-toml v1) only the exact name, all lower, all upper or a lower-case first letter,
    and drops any other spelling: there it is a typo in a known option set."""
    from migrator.checks.validate import reads_spelling
    one = ctx.target.is_1x()
    for path, names in _runc_tables(ctx):
        opts = ctx.get(path + ("options",))
        if not isinstance(opts, dict):
            continue
        lower = {n.lower(): n for n in names}
        for key in opts:
            if not isinstance(key, str) or key in names or key.lower() not in lower:
                continue
            canon = lower[key.lower()]
            where = path + ("options", key)
            fix = (Fix(f"rename {key} to {canon}", moves=((where, path + ("options", canon)),))
                   if canon not in opts else None)
            if reads_spelling(canon, key, one):
                ctx.report("warning", f"option {key!r} is the runc option {canon!r} in another "
                                      f"case: containerd {ctx.target.label} reads it, but tools "
                                      f"and 2.x's merged options (next to the default {canon}) "
                                      f"do not", where, suggestion=f"write {canon}", fix=fix)
            else:
                ctx.report("error", f"option {key!r} is not how containerd "
                                    f"{ctx.target.label} spells the runc option {canon!r} "
                                    f"(go-toml v1 matches only the exact name, all lower case, "
                                    f"all upper case or a lower-case first letter): the CRI "
                                    f"plugin drops it and {canon} keeps its default", where,
                           suggestion=f"write {canon}", fix=fix)


def _former_runc_option(ctx: Context, path: tuple) -> bool:
    """Whether some release's runc options type has this name (a removed option, not a typo)."""
    keys: list[int | str] = [ctx.version or 2] + list(rules_mod.release_lines())
    for key in keys:
        reads = key if isinstance(key, int) else rules_mod.release_lines()[key]
        table = _mapped(ctx, path[:-1], reads)
        node = table_schema(schema(key), table) if table is not None else None
        sets = node.get("x-containerd-option-sets", {}) if isinstance(node, dict) else {}
        if any(path[-1] in names for t, names in sets.items() if ".runc." in t):
            return True
    return False

"""The report stage's parts: schema findings (input problems are warnings, the output may only
repeat them) and the drops, each with its rule and line."""
from __future__ import annotations

from migrator.core import engine, loading, rules
from migrator.core.errors import ConfigError, InternalError, LossError
from migrator.core.paths import dotted
from migrator.core.results import Change, Finding
from migrator.pipeline.index import DocIndex


def _schema_findings(loaded: loading.Loaded, plan: engine.Plan, output: dict, target: int | str,
                     file: str, downgrade: bool = False,
                     index: DocIndex | None = None,
                     output_problems: list | None = None) -> list[Finding]:
    """Input problems are warnings; the output may only repeat them, never add its own."""
    from migrator.checks import losses, validate
    index = index or DocIndex(loaded)
    problems = index.problems()
    found = [Finding("warning", "schema", p.message, dotted(p.path),
                     *index.position(p.path)) for p in problems]
    read_here = losses.plugins_read(loaded.version)
    for name in loaded.tree.get("plugins", {}):
        if name in losses.known_plugins() and name not in read_here:
            native = rules.native_release(loaded.version) or f"version {loaded.version}"
            message = f"containerd {native} ignores this table: plugin {name} does not exist there"
            if loaded.version == 1:  # the plugin exists: 1.x only knows it by its short ID
                message = (f"containerd 1.x reads the plugin tables of a version 1 file by short "
                           f"ID and ignores {name}")
                if "version" not in loaded.tree:  # a drop-in, most likely
                    message += ("; a drop-in without a version line is read at the root "
                                "config's version: add that version line")
            found.append(Finding("warning", "not-read", message, dotted(("plugins", name)),
                                 *index.position(("plugins", name))))
    carried = {p.path for p in problems}
    read = losses.plugins_read(loaded.version)
    out_problems = output_problems if output_problems is not None else \
        validate.validate(output, target)
    if not out_problems:
        return found
    sources = {}
    for path, placed in plan.placed.items():
        sources.setdefault(path, placed.source)
    below = engine.under({p.path for p in out_problems}, sources.items())
    carried_below = _prefixes(carried)
    for p in out_problems:
        # the values placed at or below the problem, or the one value (an array, a table moved
        # whole) that holds it
        origin = below.get(p.path) or [sources[p.path[:n]] for n in range(len(p.path) - 1, 0, -1)
                                       if p.path[:n] in sources][:1]
        if any(engine.has_prefix_in(src, carried) or src in carried_below
               or not losses._read(src, read) for src in origin):
            continue  # the input already had this problem (or containerd never read it)
        if p.kind == "unknown-key" and p.path[:1] in (("disabled_plugins",),
                                                      ("required_plugins",)):
            # a version 1 entry is matched against plugin IDs, a version 2+ one must be a URI
            # (containerd 1.x refuses anything else); no rule knows this ID's URI
            line, col = (index or DocIndex(loaded)).position(p.path[:1])
            raise ConfigError(f"{p.message}; write the plugin's URI in the version "
                              f"{loaded.version} file, or remove the entry",
                              file=file, line=line, col=col)
        if downgrade:  # an older release cannot take what the newer file says
            raise LossError(f"containerd {target} cannot read this: {p.message}", [], file=file)
        raise InternalError(f"{file}: the migrated file fails the target schema: {p.message}")
    return found


def _prefixes(paths: set[tuple]) -> set[tuple]:
    """Every proper prefix of the paths: a value whose path is one holds a problem inside."""
    return {path[:n] for path in paths for n in range(1, len(path))}


def _drops(plan: engine.Plan, index: DocIndex, lost: set[tuple]) -> list[Change]:
    out: list[Change] = []
    seen: set[tuple] = set()
    for d in plan.dropped:
        rule = d.rule
        prefix = d.path[:len(rule.src.segments)] if rule is not None and rule.kind == "drop" \
            else d.path
        label = rule.id if rule else ("unset" if d.reason == "removed on request" else
                                      "loss" if d.path in lost else "conflict")
        key = (label, prefix)
        if key in seen:
            continue
        seen.add(key)
        line = index.drop_line(prefix)
        reason = d.reason + (f"; use {rule.use} instead" if rule is not None and rule.use
                             else "")
        out.append(Change("dropped", label, reason,
                          from_path=dotted(prefix), from_line=line, from_key=prefix,
                          release=rule.release if rule else None,
                          source=rule.source if rule else None))
    return out

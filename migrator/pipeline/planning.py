"""The plan stage's parts: what the caller removes, what a target refuses, spellings, losses."""
from __future__ import annotations

from migrator.core import engine, loading
from migrator.core.errors import ConfigError
from migrator.core.paths import dotted
from migrator.pipeline.index import DocIndex


def _spelling(target: int | str):
    """(table, key) -> the target's name for a key written in another case (`spell` rules),
    from the target's schema, that is from containerd's key inventory."""
    from migrator.checks import losses, validate
    schema = losses.schema(target)
    return lambda table, key: validate.option_spelling(schema, table, key)


def _remainder_at(plan: engine.Plan, source: tuple, target: tuple) -> bool:
    """Whether target holds what a split leaves of source, the split's other part going on."""
    return any(t.stays and t.path == target for t in plan.mapper.targets(source)) and \
        (source, plan.mapper.target(source).path) in plan.values


def _plan(loaded: loading.Loaded, chain: list, drops: dict | None, values: dict,
          index: DocIndex, file: str, spelling, strays: dict,
          lost_parts: dict | None = None) -> engine.Plan:
    try:
        return engine.plan(loaded.tree, chain, drops, sets=values, spelling=spelling,
                           strays=strays, lost_parts=lost_parts)
    except engine.ShapeConflict as exc:  # a value of the wrong shape where a table must be
        line, col = index.position(exc.source, below=True)
        raise ConfigError(exc.message, file=file, line=line, col=col) from None
    except ConfigError as exc:  # a key to set where the file holds a table
        raise exc.with_file(file) from None


def _refuse_sets_on_arrays_of_tables(plan: engine.Plan, loaded: loading.Loaded, file: str) -> None:
    """A value to set where the file has `[[...]]` headers: the emitter edits values, it does
    not turn headers into a key."""
    if not plan.overrides:
        return
    headers = {st.path[:-1]: st for st in loaded.doc.statements if st.kind == "array_table"}
    for target in plan.overrides:
        placed = plan.placed.get(target)
        st = headers.get(placed.source) if placed is not None else None
        if st is not None:
            raise ConfigError(f"cannot set {dotted(target)}: the file writes it as an array of "
                              f"tables ([[...]] headers); edit those lines by hand",
                              file=file, line=st.line, col=st.col)


def _refuse_undecodable(loaded: loading.Loaded, index: DocIndex, file: str) -> None:
    """A value of a type containerd refuses to start with (migrator.checks.decoding) is bad input: the
    migrated file could only carry it, and nothing would read either."""
    from migrator.checks import decoding
    refused = decoding.refusals(loaded.tree, loaded.version, index.problems())
    if refused:
        line, col = index.position(refused[0].path, below=True)
        raise ConfigError(refused[0].message, file=file, line=line, col=col)


def _refused_plugin_tables(loaded: loading.Loaded, to: int) -> dict[tuple, str]:
    """containerd 1.x refuses a version 2 file whose plugin table is not keyed by a URI
    ("invalid plugin key URI"); 2.x ignores such a table. Going down to 2, it goes."""
    if to != 2 or loaded.version < 3:
        return {}
    plugins = loaded.tree.get("plugins", {})
    return {("plugins", name): "a plugin table not keyed by a plugin URI: containerd 1.x "
            "refuses the whole file, 2.x ignored the table" for name in plugins
            if "." not in name}


def _unset_sources(tree: dict, chain: list, paths: set[tuple]) -> dict[tuple, str]:
    """Input leaves that land at or below a key the caller removes."""
    if not paths:
        return {}
    mapper = engine.Mapper(chain, tree=tree)
    out: dict[tuple, str] = {}

    def walk(table: dict, prefix: tuple) -> None:
        # tables too: an inline table (`tls = {...}`) is one statement that must go whole
        for key, value in table.items():
            path = prefix + (key,)
            target = mapper.target(path).path
            if target is not None and any(target[:len(p)] == p for p in paths):
                out[path] = "removed on request"
            elif isinstance(value, dict):
                walk(value, path)
    walk(tree, ())
    return out


def _losses(plan: engine.Plan, loaded: loading.Loaded, release: str | None, to: int,
            index: DocIndex | None = None) -> list:
    from migrator.checks import losses
    found = [losses.Loss(d.path, (), d.reason) for d in plan.dropped if d.loss]
    if release is None:
        return found
    try:
        from migrator.checks import validate  # noqa: F401
    except ImportError:  # schemas not built yet: only the rules' own losses count
        return found
    index = index or DocIndex(loaded)
    problems = {p.path for p in index.problems()}
    found += losses.find(plan, problems, release, loaded.version)
    if to < loaded.version:  # upward, a missing plugin is the rules' business (and warned)
        seen = {x.source for x in found}
        found += [x for x in losses.references(plan, release) if x.source not in seen]
    return found

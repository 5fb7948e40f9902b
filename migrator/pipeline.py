"""load -> plan (rules) -> emit -> verify -> validate -> report."""
from __future__ import annotations

import tomllib

from migrator.checks import accounting, mixed
from migrator.core import catalog, engine, loading, rules
from migrator.core.errors import ConfigError, LossError
from migrator.core.paths import dotted
from migrator.core.results import Change, Finding, MigrationResult
from migrator.core.secrets import secret_values
from migrator.emit.emitter import Emitter


class InternalError(RuntimeError):
    """The emitted text does not mean what the rules computed: a bug, never written out."""


def supported_versions() -> tuple[int, ...]:
    """The config versions the rules connect, oldest first: (1, 2, 3, 4)."""
    return rules.known_versions()


def resolve_target(to: int | None, containerd: str | None) -> tuple[int, str | None]:
    """`--to` and `--containerd` agree, or it is a usage error (exit 2)."""
    known = supported_versions()
    lines = rules.release_lines()
    if containerd is not None:
        try:  # a line, or one of its patches ("2.4.1"): the line's spellings
            containerd = catalog.parse_release(containerd)[0]
        except ValueError:
            raise ConfigError(f"unknown containerd release line {containerd!r} (known: "
                              f"{', '.join(lines)})") from None
        if to is not None and to != lines[containerd]:
            raise ConfigError(f"containerd {containerd} reads config version "
                              f"{lines[containerd]}, not {to}")
        return lines[containerd], containerd
    if to is None:
        raise ConfigError("say which version to migrate to (--to N or --containerd X.Y)")
    if to not in known:
        raise ConfigError(f"unsupported target version {to} (this tool knows "
                          f"{', '.join(map(str, known))})")
    return to, rules.native_release(to)


UNSET = object()  # as a value in `sets`: remove the key


def migrate(text: str | bytes, to: int | None = None, *, containerd: str | None = None,
            allow_loss: bool = False, file: str = "<string>",
            sets: dict[tuple, object] | None = None,
            loaded: loading.Loaded | None = None) -> MigrationResult:
    """Migrate a config to a version (`to`) or to what a containerd release line reads.

    `sets` maps key paths of the target version to values to write there (UNSET removes),
    so one pass can edit and migrate; untouched lines stay as they are. `loaded`: `text`
    already loaded (a feature that read it to plan its edits), so it is parsed once."""
    try:
        to, release = resolve_target(to, containerd)
    except ConfigError as exc:
        raise exc.with_file(file) from None
    if loaded is None:
        loaded = loading.load(text, file, supported_versions())
    result = MigrationResult(text=loaded.text, source_version=loaded.version,
                             target_version=to, input_text=_as_text(text), file=file,
                             secrets=frozenset(secret_values(loaded.tree)))
    if loaded.had_bom:
        result.changes.append(Change(
            "encoding", "utf8-bom", "UTF-8 byte-order mark removed: containerd 2.x refuses a "
            "file that starts with one", from_line=1, release=catalog.since("bom-refused")))
    index = _DocIndex(loaded)
    _refuse_undecodable(loaded, index, file)
    chain = rules.chain(loaded.version, to, release)
    strays = mixed.strays(loaded, to, release, index.problems)
    if not chain and not sets and not strays and containerd is None:
        return result  # (a named release of the same version may still not read every key)
    values = {p: v for p, v in (sets or {}).items() if v is not UNSET}
    removed = _unset_sources(loaded.tree, chain, {p for p, v in (sets or {}).items()
                                                  if v is UNSET})
    removed.update(_refused_plugin_tables(loaded, to))
    spelling = _spelling(release or to)
    chains = {path: steps for path, (_, steps) in strays.items()}
    plan = _plan(loaded, chain, removed or None, values, index, file, spelling, chains)
    _refuse_sets_on_arrays_of_tables(plan, loaded, file)
    found = _losses(plan, loaded, release, to, index)
    lost = [x for x in found if not x.default]
    if lost and not allow_loss:
        raise LossError(f"containerd {release or 'version ' + str(to)} cannot express "
                        f"{len(lost)} setting(s): " + "; ".join(
                            loss.format(index.line(loss.source)) for loss in lost),
                        lost, file=file)
    # a list that names a lost plugin keeps its other entries (rules/plugin-references.toml)
    rewrites = {x.target: x.keep for x in found if x.keep is not None}
    if found:
        why = {x.source: x.why + (" (its value is the default, so nothing changes)"
                                  if x.default else "") for x in found if x.keep is None}
        # what a split leaves at its source goes alone: the part with a target form stays
        parts = {x.source: f"{why.pop(x.source)}; the part that has a form in the target "
                 f"went to {dotted(plan.mapper.target(x.source).path or ())}" for x in found
                 if x.keep is None and _remainder_at(plan, x.source, x.target)}
        plan = _plan(loaded, chain, {**removed, **why}, {**values, **rewrites}, index, file,
                     spelling, chains, parts)
    version = to if (to >= 2 or "version" in loaded.tree) else None
    if not chain and result.text == loaded.text and not plan.overrides and not plan.added \
            and not plan.dropped and not strays:
        return result
    from migrator.checks.losses import schema
    emitter = Emitter(loaded.doc, plan, loaded.tree, version, schema(release or to))
    result.text = emitter.run()
    expected = dict(plan.expected)
    for table in emitter.kept_tables():
        engine.ensure_table(expected, table)
    if version is not None:
        expected["version"] = version
    output_tree = _verify(result.text, expected, file)
    result.changes.extend(emitter.changes)
    result.changes.extend(_drops(plan, index, {x.source for x in found} if found else set()))
    result.changes.extend(Change("set", "set", "set on request", to_path=dotted(path),
                                 to_key=path)
                          for path in plan.overrides if path not in rewrites)
    result.changes.extend(Change("dropped", "loss", x.why + "; those entries go, the others "
                                 "stay", from_path=dotted(x.source),
                                 from_line=index.line(x.source), from_key=x.source)
                          for x in found if x.keep is not None)
    result.changes.sort(key=lambda c: (c.kind not in ("encoding", "header"), c.from_line or 0))
    lost = accounting.unaccounted(loaded.tree, output_tree, plan, result.changes)
    if lost:
        raise InternalError(f"{file}: " + "; ".join(lost))
    result.findings.extend(_schema_findings(loaded, plan, output_tree, release or to, file,
                                            downgrade=to < loaded.version, index=index))
    result.findings.extend(plan.findings)
    result.findings.extend(mixed.findings(loaded, strays, index.position))
    if release is not None and to > loaded.version:  # going down, these are losses
        from migrator.checks import losses
        result.findings.extend(Finding("warning", "plugin-reference", x.why, dotted(x.source),
                                       *index.position(x.source))
                               for x in losses.references(plan, release))
    return result


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
          index: "_DocIndex", file: str, spelling, strays: dict,
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


def _refuse_undecodable(loaded: loading.Loaded, index: "_DocIndex", file: str) -> None:
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
            index: "_DocIndex | None" = None) -> list:
    from migrator.checks import losses
    found = [losses.Loss(d.path, (), d.reason) for d in plan.dropped if d.loss]
    if release is None:
        return found
    try:
        from migrator.checks import validate  # noqa: F401
    except ImportError:  # schemas not built yet: only the rules' own losses count
        return found
    index = index or _DocIndex(loaded)
    problems = {p.path for p in index.problems()}
    found += losses.find(plan, problems, release, loaded.version)
    if to < loaded.version:  # upward, a missing plugin is the rules' business (and warned)
        seen = {x.source for x in found}
        found += [x for x in losses.references(plan, release) if x.source not in seen]
    return found


def _schema_findings(loaded: loading.Loaded, plan: engine.Plan, output: dict, target: int | str,
                     file: str, downgrade: bool = False,
                     index: "_DocIndex | None" = None) -> list[Finding]:
    """Input problems are warnings; the output may only repeat them, never add its own."""
    from migrator.checks import losses, validate
    index = index or _DocIndex(loaded)
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
    out_problems = validate.validate(output, target)
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
            line, col = (index or _DocIndex(loaded)).position(p.path[:1])
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


class _DocIndex:
    """Lookups into the input that the report needs for many paths: built once per migration
    (lazily), so that each lookup costs a few dict probes instead of a scan of the document."""

    def __init__(self, loaded: loading.Loaded) -> None:
        self.loaded = loaded
        self._problems: list | None = None
        self._first: dict[tuple, int] | None = None      # exact path -> first statement
        self._first_kv: dict[tuple, int] | None = None   # exact path -> first key/value
        self._under: dict[tuple, int] | None = None      # any prefix -> first statement below

    def problems(self) -> list:
        """The input's schema problems (validated once, used by the losses and the report)."""
        if self._problems is None:
            from migrator.checks import validate
            self._problems = validate.validate(self.loaded.tree, self.loaded.version)
        return self._problems

    def _exact(self) -> tuple[dict[tuple, int], dict[tuple, int]]:
        if self._first is None or self._first_kv is None:
            first: dict[tuple, int] = {}
            first_kv: dict[tuple, int] = {}
            for i, st in enumerate(self.loaded.doc.statements):
                first.setdefault(st.path, i)
                if st.kind == "keyvalue":
                    first_kv.setdefault(st.path, i)
            self._first, self._first_kv = first, first_kv
        return self._first, self._first_kv

    def position(self, path: tuple, below: bool = False) -> tuple[int | None, int | None]:
        """Line and column of the statement that writes path, or the closest table above it
        (the longest statement path that is a prefix of path; the first such statement); with
        `below`, a statement under path comes before one above it (`[[a.b]]` writes a.b[0])."""
        first, _ = self._exact()
        for n in range(len(path), -1, -1):
            i = first.get(path[:n])
            if i is None and below and n == len(path):
                i = self._first_under().get(path)
            if i is not None:
                st = self.loaded.doc.statements[i]
                return st.line, st.col
        return None, None

    def line(self, path: tuple) -> int | None:
        """The line of the first key/value statement at path or above it."""
        _, first_kv = self._exact()
        hits = [i for n in range(len(path) + 1) if (i := first_kv.get(path[:n])) is not None]
        return self.loaded.doc.statements[min(hits)].line if hits else None

    def _first_under(self) -> dict[tuple, int]:
        """Any path prefix -> the first statement at or below it."""
        if self._under is None:
            under: dict[tuple, int] = {}
            for i, st in enumerate(self.loaded.doc.statements):
                for n in range(len(st.path), -1, -1):
                    key = st.path[:n]
                    if key in under:
                        break  # and so are all shorter prefixes, from an earlier statement
                    under[key] = i
            self._under = under
        return self._under

    def drop_line(self, prefix: tuple) -> int | None:
        """The line of the first statement at or below prefix, or of a key/value above it
        (an inline table that holds it)."""
        _, first_kv = self._exact()
        hits = [i for n in range(len(prefix) + 1) if (i := first_kv.get(prefix[:n])) is not None]
        below = self._first_under().get(prefix)
        if below is not None:
            hits.append(below)
        return self.loaded.doc.statements[min(hits)].line if hits else None


def _position(loaded: loading.Loaded, path: tuple) -> tuple[int | None, int | None]:
    return _DocIndex(loaded).position(path)


def _line(loaded: loading.Loaded, path: tuple) -> int | None:
    return _DocIndex(loaded).line(path)


def _as_text(text: str | bytes) -> str:
    if isinstance(text, bytes):
        return text.decode("utf-8", errors="replace")
    return text


def _verify(text: str, expected: dict, file: str) -> dict:
    try:
        got = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InternalError(f"{file}: emitted TOML does not parse ({exc}); nothing written")
    if accounting.nan_safe(got) != accounting.nan_safe(expected):
        from deepdiff import DeepDiff
        diff = DeepDiff(expected, got, verbose_level=1)
        raise InternalError(f"{file}: emitted TOML differs from the plan: {diff}")
    return got


def _drops(plan: engine.Plan, index: _DocIndex, lost: set[tuple]) -> list[Change]:
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


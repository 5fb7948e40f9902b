"""One file through the pipeline: load -> plan -> emit -> verify -> account -> report.

`Migration.run()` calls each stage once, in that order; each stage reads what the ones before
it left on the object. Features contribute to the plan instead of running the pipeline again:
`sets` (key paths of the target version to values; UNSET removes) carry `--set` edits and the
registry keys `--hosts-dir` moves, and `loaded` is the file a feature already read.
"""
from __future__ import annotations

from migrator.checks import accounting, mixed, verify
from migrator.core import catalog, engine, loading, rules
from migrator.core.errors import ConfigError, InternalError, LossError
from migrator.core.paths import dotted
from migrator.core.results import Change, Finding, MigrationResult
from migrator.core.secrets import secret_values
from migrator.emit.emitter import Emitter
from migrator.pipeline import planning, reporting
from migrator.pipeline.index import DocIndex
from migrator.pipeline.target import UNSET, resolve_target, supported_versions


class _Done(Exception):
    """A stage found nothing left to do: the result stands as it is."""


class Migration:
    def __init__(self, text: str | bytes, to: int | None = None, *,
                 containerd: str | None = None, allow_loss: bool = False,
                 file: str = "<string>", sets: dict[tuple, object] | None = None,
                 loaded: loading.Loaded | None = None) -> None:
        self.text, self.file, self.allow_loss = text, file, allow_loss
        self.containerd, self.sets = containerd, sets or {}
        try:
            self.to, self.release = resolve_target(to, containerd)
        except ConfigError as exc:
            raise exc.with_file(file) from None
        self.loaded = loaded

    def run(self) -> MigrationResult:
        try:
            self.load()
            self.plan()
            self.emit()
        except _Done:
            return self.result
        self.verify()
        self.account()
        return self.report()

    # -- load: bytes, text, tree, source map; what no release can read is refused here ------
    def load(self) -> None:
        if self.loaded is None:
            self.loaded = loading.load(self.text, self.file, supported_versions())
        loaded = self.loaded
        self.result = MigrationResult(
            text=loaded.text, source_version=loaded.version, target_version=self.to,
            input_text=_as_text(self.text), file=self.file,
            secrets=frozenset(secret_values(loaded.tree)))
        if loaded.had_bom:
            self.result.changes.append(Change(
                "encoding", "utf8-bom", "UTF-8 byte-order mark removed: containerd 2.x refuses "
                "a file that starts with one", from_line=1, release=catalog.since("bom-refused")))
        self.index = DocIndex(loaded)
        planning._refuse_undecodable(loaded, self.index, self.file)

    # -- plan: where every key goes, the contributed edits, and what the target cannot hold --
    def plan(self) -> None:
        loaded, to, release, file = self.loaded, self.to, self.release, self.file
        assert loaded is not None
        self.chain = rules.chain(loaded.version, to, release)
        self.strays = mixed.strays(loaded, to, release, self.index.problems)
        if not self.chain and not self.sets and not self.strays and self.containerd is None:
            raise _Done  # (a named release of the same version may still not read every key)
        values = {p: v for p, v in self.sets.items() if v is not UNSET}
        removed = planning._unset_sources(loaded.tree, self.chain,
                                          {p for p, v in self.sets.items() if v is UNSET})
        removed.update(planning._refused_plugin_tables(loaded, to))
        spelling = planning._spelling(release or to)
        chains = {path: steps for path, (_, steps) in self.strays.items()}
        plan = planning._plan(loaded, self.chain, removed or None, values, self.index, file,
                              spelling, chains)
        planning._refuse_sets_on_arrays_of_tables(plan, loaded, file)
        found = planning._losses(plan, loaded, release, to, self.index)
        lost = [x for x in found if not x.default]
        if lost and not self.allow_loss:
            raise LossError(f"containerd {release or 'version ' + str(to)} cannot express "
                            f"{len(lost)} setting(s): " + "; ".join(
                                loss.format(self.index.line(loss.source)) for loss in lost),
                            lost, file=file)
        # a list that names a lost plugin keeps its other entries (rules/plugin-references.toml)
        self.rewrites = {x.target: x.keep for x in found if x.keep is not None}
        if found:  # the losses were allowed: the plan drops them, each with its reason
            why = {x.source: x.why + (" (its value is the default, so nothing changes)"
                                      if x.default else "") for x in found if x.keep is None}
            # what a split leaves at its source goes alone: the part with a target form stays
            parts = {x.source: f"{why.pop(x.source)}; the part that has a form in the target "
                     f"went to {dotted(plan.mapper.target(x.source).path or ())}"
                     for x in found if x.keep is None
                     and planning._remainder_at(plan, x.source, x.target)}
            plan = planning._plan(loaded, self.chain, {**removed, **why},
                                  {**values, **self.rewrites}, self.index, file, spelling,
                                  chains, parts)
        self.found, self.engine_plan = found, plan

    # -- emit: the plan written into the original text --------------------------------------
    def emit(self) -> None:
        loaded, plan, to = self.loaded, self.engine_plan, self.to
        assert loaded is not None
        self.version = to if (to >= 2 or "version" in loaded.tree) else None
        if not self.chain and self.result.text == loaded.text and not plan.overrides \
                and not plan.added and not plan.dropped and not self.strays:
            raise _Done
        from migrator.checks.losses import schema
        self.emitter = Emitter(loaded.doc, plan, loaded.tree, self.version,
                               schema(self.release or to))
        self.result.text = self.emitter.run()
        # what the later stages need of the emitter; its blocks and units go now (the peak of a
        # large file is the account stage, where everything else is still held)
        self.kept_tables, self.emitted_changes = self.emitter.kept_tables(), self.emitter.changes
        del self.emitter

    # -- verify: the text, parsed again, means what the plan says ----------------------------
    def verify(self) -> None:
        expected = dict(self.engine_plan.expected)
        added = [engine.ensure_table(expected, table) for table in self.kept_tables]
        # the plan's tree is the output's, less the version line (which the schema holds):
        # what the target's schema finds in one it finds in the other
        self.output_is_plan = not any(added)
        if self.version is not None:
            expected["version"] = self.version
        self.output_tree = verify.verify(self.result.text, expected, self.file)

    # -- account: every input leaf is in the output or in the changes -----------------------
    def account(self) -> None:
        result, plan, index, found = self.result, self.engine_plan, self.index, self.found
        result.changes.extend(self.emitted_changes)
        result.changes.extend(reporting._drops(plan, index, {x.source for x in found}))
        result.changes.extend(Change("set", "set", "set on request", to_path=dotted(path),
                                     to_key=path)
                              for path in plan.overrides if path not in self.rewrites)
        result.changes.extend(Change("dropped", "loss", x.why + "; those entries go, the "
                                     "others stay", from_path=dotted(x.source),
                                     from_line=index.line(x.source), from_key=x.source)
                              for x in found if x.keep is not None)
        result.changes.sort(key=lambda c: (c.kind not in ("encoding", "header"),
                                           c.from_line or 0))
        assert self.loaded is not None
        lost = accounting.unaccounted(self.loaded.tree, self.output_tree, plan, result.changes)
        if lost:
            raise InternalError(f"{self.file}: " + "; ".join(lost))

    # -- report: warnings about the input and the output -------------------------------------
    def report(self) -> MigrationResult:
        loaded, result, to, release = self.loaded, self.result, self.to, self.release
        assert loaded is not None
        # the plan's problems, when the loss check found them for this very tree; the output has
        # the version line, so what the schema said of the plan's goes
        known = self.engine_plan.problems.get(release or to) if self.output_is_plan else None
        if known is not None and self.version is not None:
            known = [p for p in known if p.path != ("version",)]
        result.findings.extend(reporting._schema_findings(
            loaded, self.engine_plan, self.output_tree, release or to, self.file,
            downgrade=to < loaded.version, index=self.index, output_problems=known))
        result.findings.extend(self.engine_plan.findings)
        result.findings.extend(mixed.findings(loaded, self.strays, self.index.position))
        if release is not None and to > loaded.version:  # going down, these are losses
            from migrator.checks import losses
            result.findings.extend(Finding("warning", "plugin-reference", x.why,
                                           dotted(x.source), *self.index.position(x.source))
                                   for x in losses.references(self.engine_plan, release))
        return result


def _as_text(text: str | bytes) -> str:
    if isinstance(text, bytes):
        return text.decode("utf-8", errors="replace")
    return text

"""How the oracle tests judge: containerd's dumps must agree except where the report says why."""
from __future__ import annotations

from migrator import oracle
from migrator.engine import Mapper
from migrator.report import MigrationResult, parse_dotted
from migrator.rules import PLUGIN_LISTS, RuleSet


def allowed_differences(result: MigrationResult, chain: list[RuleSet]) -> set[tuple]:
    """Key paths where containerd's reading may differ, each declared by the report."""
    allowed: set[tuple] = set()
    without_drops = Mapper([RuleSet(s.from_version, s.to_version, s.title,
                                    tuple(r for r in s.rules if r.kind != "drop"))
                            for s in chain])
    differs = {r.id for step in chain for r in step.rules if r.differs}
    for finding in result.findings:
        if (finding.code in differs or finding.code == "not-read") and finding.path:
            allowed.add(parse_dotted(finding.path))
            group = finding.code.split("/")[0]
            for rule in (r for step in chain for r in step.rules if r.id.split("/")[0] == group):
                for pattern in (rule.src, rule.dst):
                    if pattern is not None and not any("*" in s for s in pattern.segments):
                        allowed.add(pattern.segments)
        if finding.code == "version-mix" and finding.path:
            # a key of an older version in this file: containerd of the file's version
            # warns and ignores it (2.1.9 config dump, tests/test_oracle_engine_cases.py); the
            # output gives it effect, so the readings differ where that version reads it
            path = parse_dotted(finding.path)
            allowed.add(path)
            allowed.update(t for step in _upward_steps()
                           if (t := Mapper([step]).target(path).path) is not None)
    for change in result.changes:
        if change.kind == "dropped" and change.from_path:
            path = parse_dotted(change.from_path)
            allowed.add(path)
            would_be = without_drops.target(path).path
            if would_be is not None:
                allowed.add(would_be)
            if path[:1] == ("plugins",):  # containerd prints an emptied table as {}
                allowed.add(path[:-1] if len(path) > 2 else path)
        if not change.differs:
            continue
        group = change.rule.split("/")[0]
        for step in chain:  # the whole group's keys: its rules describe one behaviour together
            for rule in step.rules:
                if rule.id.split("/")[0] == group:
                    for pattern in (rule.src, rule.dst):
                        if pattern is not None and not any("*" in s for s in pattern.segments):
                            allowed.add(pattern.segments)
        if change.kind == "renamed" and change.from_path and \
                change.from_path.startswith("plugins.") and "." not in change.from_path[8:]:
            # a 1.x plugin ID that containerd 2.x guesses as io.containerd.grpc.v1.<id>
            allowed.add(("plugins", "io.containerd.grpc.v1." + change.from_path[8:]))
        if change.from_path and change.from_path.split(" ")[0] in PLUGIN_LISTS:
            allowed.update((name,) for name in PLUGIN_LISTS)
            for name in (change.to_path or "").split(" ", 1)[1].split(", "):
                allowed.add(("plugins", name.strip('"')))
            old = change.from_path.split(" ", 1)[1].strip('"')
            allowed.add(("plugins", old))
            continue
        for text in (change.from_path, change.to_path):
            if text:
                path = parse_dotted(text)
                allowed.add(path)
                if change.kind == "copied":
                    allowed.add(path[:-1])  # the new table brings its defaults along
    return spread(allowed, chain)


def _upward_steps() -> list[RuleSet]:
    from migrator import rules
    return [rs for (a, b), rs in sorted(rules.rule_sets().items()) if b > a]


def declared_renames(result: MigrationResult) -> dict[str, list[str]]:
    """disabled_plugins / required_plugins entries the report says were renamed."""
    out: dict[str, list[str]] = {}
    for c in result.changes:
        if c.kind == "renamed" and c.from_path and c.from_path.split(" ")[0] in PLUGIN_LISTS:
            old = c.from_path.split(" ", 1)[1].strip('"')
            out[old] = [n.strip('"') for n in (c.to_path or "").split(" ", 1)[1].split(", ")]
    return out


def spread(allowed: set[tuple], chain: list[RuleSet]) -> set[tuple]:
    """The same paths in every version along the chain (containerd 1.x dumps a version 1 file
    with version 2 names, for example), drop rules ignored: a dropped key's old home counts."""
    out = set(allowed)
    for n in range(1, len(chain) + 1):
        mapper = Mapper([RuleSet(s.from_version, s.to_version, s.title,
                                 tuple(r for r in s.rules if r.kind != "drop"))
                         for s in chain[:n]])
        for path in allowed:
            target = mapper.target(path).path
            if target is not None:
                out.add(target)
    return out


def flagged_keys(result: MigrationResult) -> set[str]:
    """Last key names of the input problems the report flagged (unknown keys carried along)."""
    return {parse_dotted(f.path)[-1] for f in result.findings
            if f.code == "schema" and f.path}


def carried(warning: str, keys: set[str]) -> bool:
    """containerd's unknown-key warning for a key the report already flagged in the input."""
    if "Ignoring unknown key" not in warning or "key=" not in warning:
        return False
    key = warning.split("key=", 1)[1].split(" plugin=")[0].strip('"').split(" ")[-1]
    return key in keys


def judge(line: str, before_text: str, after_text: str, allowed: set[tuple],
          renames: dict[str, list[str]] | None = None,
          renames_after: dict[str, list[str]] | None = None, expected: str | None = None,
          flagged: set[str] = frozenset()) -> None:
    """`expected`: a warning the output may add (containerd's own notice for version 1)."""
    oracle.require_containerd(line)
    before = oracle.dump(line, before_text)
    after = oracle.dump(line, after_text)
    assert after.returncode == 0, after.stderr
    assert before.returncode == 0, before.stderr
    # a 1.x dump of a version 1 file prints the short names as written (facts B15): apply the
    # renames the report declares, and nothing else
    for dump, table in ((before, renames), (after, renames_after)):
        for name in PLUGIN_LISTS:
            if table and isinstance(dump.config.get(name), list):
                dump.config[name] = [n for e in dump.config[name] for n in table.get(e, [e])]
    differences = oracle.compare(before.config, after.config, allowed=allowed)
    assert differences == [], differences
    new = [w for w in oracle.new_warnings(before, after)
           if not (expected and expected in w) and not carried(w, set(flagged))]
    assert new == [], new

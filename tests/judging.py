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
        if finding.code in differs and finding.path:
            allowed.add(parse_dotted(finding.path))
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
    return allowed


def declared_renames(result: MigrationResult) -> dict[str, list[str]]:
    """disabled_plugins / required_plugins entries the report says were renamed."""
    out: dict[str, list[str]] = {}
    for c in result.changes:
        if c.kind == "renamed" and c.from_path and c.from_path.split(" ")[0] in PLUGIN_LISTS:
            old = c.from_path.split(" ", 1)[1].strip('"')
            out[old] = [n.strip('"') for n in (c.to_path or "").split(" ", 1)[1].split(", ")]
    return out


def judge(line: str, before_text: str, after_text: str, allowed: set[tuple],
          renames: dict[str, list[str]] | None = None) -> None:
    oracle.require_containerd(line)
    before = oracle.dump(line, before_text)
    after = oracle.dump(line, after_text)
    assert after.returncode == 0, after.stderr
    assert before.returncode == 0, before.stderr
    if renames:  # a 1.x dump of a version 1 file prints the short names as written (facts B15)
        for name in PLUGIN_LISTS:
            if isinstance(before.config.get(name), list):
                before.config[name] = [n for e in before.config[name]
                                       for n in renames.get(e, [e])]
    assert oracle.compare(before.config, after.config, allowed=allowed) == []
    assert oracle.new_warnings(before, after) == []

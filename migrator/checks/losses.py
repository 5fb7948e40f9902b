"""What the target cannot express: settings a downgrade (or an older release) would lose.

A setting is lost when the output would hold it at a key the target release does not read:
an unknown key in a plugin table it knows, or a table of a plugin that exists in some other
release but not in the target (containerd 1.7 silently ignores `io.containerd.cri.v1.images`).
Unknown keys that the input already had are not losses: they were never read to begin with.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from migrator.core import catalog
from migrator.core.engine import Plan, has_prefix_in, under
from migrator.core.paths import dotted
from migrator.core.resources import package_path
from migrator.speed.cache import compiled


@dataclass(frozen=True)
class Loss:
    source: tuple        # the input key that would be lost
    target: tuple        # where the rules would put it
    why: str
    default: bool = False  # the value is the source's default: dropping it changes nothing
    keep: object = None    # for a list that names plugins: what remains without the lost names

    def format(self, line: int | None) -> str:
        where = f"line {line}: " if line else ""
        return f"{where}{dotted(self.source)}: {self.why}"


def find(plan: Plan, input_problems: set[tuple], release: str, source_version: int) -> list[Loss]:
    source_schema = schema(source_version)
    read_by_source = plugins_read(source_version)
    by_target = {path: placed.source for path, placed in plan.placed.items()
                 if placed.source and _read(placed.source, read_by_source)}
    known_elsewhere = known_plugins() - known_plugins(release)
    losses: dict[tuple, Loss] = {}
    for path, source in by_target.items():
        if len(path) > 1 and path[0] == "plugins" and path[1] in known_elsewhere:
            why = f"containerd {release} has no plugin {path[1]}"
            if _unknown_key(source, input_problems):  # say so: "no plugin" alone misleads
                why = (f"an unknown key, which no containerd reads (see the warning), in plugin "
                       f"{path[1]}, which containerd {release} does not have")
            losses[source] = Loss(source, path, why)
    unknown = [p for p in problems(plan, release) if p.kind == "unknown-key"]
    # the targets below each problem, found in one pass (not one scan of the plan per problem)
    below = under({p.path for p in unknown}, ((path, (path, source))
                                              for path, source in by_target.items()))
    for problem in unknown:
        for path, source in below.get(problem.path, ()):
            if source in losses:
                continue
            if _carried(source, input_problems):
                continue
            why = f"containerd {release} does not read {dotted(problem.path)}"
            gone = catalog.removal(str(release), problem.path)
            if gone is not None:  # say why, from the catalog
                why += f" ({gone.effect or 'removed in ' + str(gone.release)}; {gone.source})"
            losses[source] = Loss(source, path, why)
    return [Loss(x.source, x.target, x.why, _is_default(source_schema, x.source,
                                                        _get(plan, x.target)))
            for x in losses.values()]


def problems(plan: Plan, target: int | str) -> list:
    """The target schema's problems with the planned tree, validated once per plan and target:
    the output means what the plan says, so the report asks again instead of validating it."""
    from migrator.checks import validate
    hit = plan.problems.get(target)
    if hit is None:
        hit = plan.problems[target] = validate.validate(plan.expected, target)
    return hit


def references(plan: Plan, release: str) -> list[Loss]:
    """Settings whose value names a plugin that the release does not have but another release
    has (rules/plugin-references.toml): a list loses the entries, a single name the setting."""
    missing = known_plugins() - known_plugins(release)
    out: list[Loss] = []
    by_plugin = _references()
    for path, placed in plan.placed.items():
        for pattern, kind, why in by_plugin.get(path[:2], ()):
            if len(pattern) < len(path) or not _fits(pattern[:len(path)], path):
                continue
            rest = pattern[len(path):]
            value = placed.value
            items = value if isinstance(value, list) else [value]
            bad = [i for i in items if any(
                isinstance(n, str) and (f"{kind}.{n}" if kind else n) in missing
                for n in _names(i, rest[1:] if rest else ()))]
            if not bad or (rest and not isinstance(value, list)):
                continue
            names = sorted({n for i in bad for n in _names(i, rest[1:] if rest else ())})
            left = [i for i in items if i not in bad]
            keep = left if isinstance(value, list) and left else None
            out.append(Loss(placed.source, path, f"it names {', '.join(names)}: containerd "
                            f"{release} has no such plugin, and {why}", keep=keep))
            break
    return out


def _fits(pattern: tuple, path: tuple) -> bool:
    return all(p == "*" or p == k for p, k in zip(pattern, path))


def _names(item: object, rest: tuple) -> list:
    """The value at `rest` inside an item (an array-of-tables entry), or the item itself."""
    for key in rest:
        if not isinstance(item, dict):
            return []
        item = item.get(key)
    return [item]


@cache
def _references() -> dict[tuple, list[tuple[tuple, str, str]]]:
    """(path pattern, plugin type, why) by the pattern's first two segments (a plugin's table)."""
    import tomllib

    from migrator.core.paths import parse_dotted
    data = tomllib.loads((package_path("rules") / "plugin-references.toml").read_text())
    out: dict[tuple, list[tuple[tuple, str, str]]] = {}
    for ref in data["reference"]:
        for text in ref["paths"]:
            pattern = parse_dotted(text)
            out.setdefault(pattern[:2], []).append((pattern, ref["type"], ref["why"]))
    return out


def _get(plan: Plan, target: tuple) -> object:
    placed = plan.placed.get(target)
    return placed.value if placed is not None else _NONE


_NONE = object()


def _is_default(schema: dict, path: tuple, value: object) -> bool:
    """Whether containerd of the source version would use this value anyway."""
    from migrator.core.paths import node_at
    node = node_at(schema, path)
    if node is None:
        return False
    if "default" in node:
        return node["default"] == value
    return value in ("", 0, False, [], {})  # Go zero values are containerd's unset
def _read(source: tuple, plugins: set[str]) -> bool:
    """Only what the source's containerd read can be lost (1.x ignores URI tables in v1)."""
    return len(source) < 2 or source[0] != "plugins" or source[1] in plugins


@cache
def schema(version: int | str) -> dict:
    """The schema of a version or release line, shared: read it, never change it."""
    from migrator.checks import validate
    return validate._load(validate._key(version))


@cache
def plugins_read(version: int | str) -> frozenset[str]:
    """Plugin table names a config version or release line reads, from its schema."""
    from migrator.checks import validate
    names = _plugin_names().get(validate._key(version))
    if names is None:
        return frozenset(schema(version)["properties"]["plugins"].get("properties", {}))
    return frozenset(names)


@cache
def _plugin_names() -> dict[str, tuple[str, ...]]:
    """The plugin names of every schema file, kept in the compiled cache: a run that needs
    them for all release lines reads one small file instead of ten schemas (~2 MB of JSON)."""
    from migrator.checks import validate
    files = sorted({*validate.VERSION_FILES.values(), *validate.LINE_FILES.values()})

    def build() -> dict[str, tuple[str, ...]]:
        return {name: tuple(validate._load(name)["properties"]["plugins"].get("properties", {}))
                for name in files}
    try:
        data = compiled("plugins", [Path(__file__)] + [validate.schemas_dir() / name
                                                      for name in files], build)
        return {str(k): tuple(map(str, v)) for k, v in data.items()}
    except Exception:  # an entry that is not ours: ask the schemas
        return {}


@cache
def known_plugins(release: str | None = None) -> frozenset[str]:
    """Plugin URIs a release line has (all lines when None)."""
    from migrator.core import rules
    lines = [release] if release else list(rules.release_lines())
    return frozenset().union(*(plugins_read(line) for line in lines))


def _unknown_key(source: tuple, input_problems: set[tuple]) -> bool:
    """An unknown key of a plugin the source knows (not a whole plugin it does not know)."""
    return any(len(p) > 2 and source[:len(p)] == p for p in input_problems)


def _carried(source: tuple, input_problems: set[tuple]) -> bool:
    return has_prefix_in(source, input_problems)

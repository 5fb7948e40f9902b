"""Keys of an older config version in a file (issue 18): a `version = 3` header over version 2
CRI keys, a `version = 4` file with the top-level [grpc] table. containerd of the file's version
ignores them (2.x warns about unknown keys; 2.3 says nothing about the old server tables), and
they can only mean the older key, so the migration takes each through the steps from the
version that has it and says so (`version-mix` warnings). Nothing is guessed: a key that no
older version knows stays where it is.
"""
from __future__ import annotations

from typing import Callable

from migrator.core import engine, rules
from migrator.core.loading import Loaded
from migrator.core.paths import dotted, node_at
from migrator.core.results import Finding


def strays(loaded: Loaded, to: int, release: str | None,
           problems: Callable[[], list]) -> dict[tuple, tuple[int, list]]:
    """Keys of an older version in a file of version N >= 3 (a `version = 3` header over
    version 2 CRI keys): containerd N's release ignores them with an unknown-key warning, and
    they mean one thing, the key of the newest older version (2 at the oldest) that has it.
    Each goes where the target reads that key: (that version, the steps from it). A key no
    such version knows is not guessed at. (A version 2 file is not read this way: 1.x refuses
    version 1 plugin names in it, and its version 3 tables are plugins 1.x does not have, not
    misplaced keys.)"""
    version = loaded.version
    if version < 3 or version - 1 not in rules.known_versions():
        return {}
    # only a key that some step into this version moves can be one (cheaper than validating)
    into = engine.Mapper(rules.chain(2, version))
    if all(into.target(path).path == path for path, _ in engine.leaves(loaded.tree)):
        return {}
    unknown = [p.path for p in problems() if p.kind == "unknown-key"]
    out: dict[tuple, tuple[int, list]] = {}
    out.update((path, (version - 1, rules.chain(version - 1, to, release)))
               for path in _moved_on(loaded.tree, version))
    for older in range(version - 1, 1, -1):
        unknown = [path for path in unknown if path not in out]
        if not unknown or older not in rules.known_versions():
            break
        for path in _known_to(loaded.tree, older, unknown):
            out[path] = (older, rules.chain(older, to, release))
    return out


def _moved_on(tree: dict, version: int) -> list[tuple]:
    """Keys that version N's schema still lists, as deprecated, and that the step into version
    N moves to a new home: containerd N decodes them and never uses them (version 4's top-level
    [grpc], [ttrpc], [metrics], debug.address; facts B13, 2.3.4 config dump)."""
    from migrator.checks import losses
    step = rules.rule_sets().get((version - 1, version))
    if step is None:
        return []
    schema, mapper = losses.schema(version), engine.Mapper([step], tree=tree)
    out = []
    for path, _ in engine.leaves(tree):
        if not step.lookup(path):
            continue
        node = node_at(schema, path)
        target = mapper.target(path)
        if node is not None and node.get("deprecated") and target.path not in (None, path) \
                and target.rule is not None and target.rule.kind in ("move", "convert"):
            out.append(path)
    return out


def _known_to(tree: dict, version: int, paths: list[tuple]) -> list[tuple]:
    """The paths a version's schema has: in a plugin table of that version (the plugins map
    itself is open), with no problem for that version at or above the key (one below it, a
    typo, travels with its table)."""
    from migrator.checks import losses, validate
    schema, plugins = losses.schema(version), losses.plugins_read(version)
    problems = [p.path for p in validate.validate(tree, version) if p.kind == "unknown-key"]
    return [path for path in paths
            if not (path[:1] == ("plugins",) and (len(path) < 2 or path[1] not in plugins))
            and node_at(schema, path) is not None
            and not any(path[:len(o)] == o for o in problems)]


def findings(loaded: Loaded, strays: dict,
             position: Callable[[tuple], tuple]) -> list[Finding]:
    return [Finding("warning", "version-mix", f"a version {older} key in a version "
                    f"{loaded.version} file: containerd {rules.native_release(loaded.version)} "
                    f"ignores it there; the target gets it where it reads the version {older} key",
                    dotted(path), *position(path)) for path, (older, _) in strays.items()]

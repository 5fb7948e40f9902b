"""What a lint rule sees and produces: the context, findings, fixes and the rule registry.

A rule is a function `check(ctx)` registered with `@rule("CM0NN", "name", "summary")` in its own
module (see `migrator/lint/registry.py` for the list). It reads the parsed file through `ctx`
(`ctx.tree`, `ctx.version`, `ctx.target`, ...) and calls `ctx.report(...)` once per problem,
with a `Fix` when there is a safe one. A fix is data, not code: `migrator/lint/fix.py` applies it
with the migration engine and the emitter, so comments, key order and quoting survive, and the
result is parsed again and must mean exactly what the fix says.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from migrator.core import catalog, source
from migrator.core import rules as rules_mod
from migrator.core.paths import dotted
from migrator.core.secrets import cut, redact_urls
from migrator.lint.target import Target

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

# Where the CRI settings live in each config version.
CRI_V1 = ("plugins", "cri")
GRPC_CRI = ("plugins", catalog.plugin("cri"))
RT = ("plugins", catalog.plugin("cri_runtime"))
IMG = ("plugins", catalog.plugin("cri_images"))
RUNC_V2 = catalog.runtime("runc_v2")
RUNC_V1 = catalog.runtime("runc_v1")
LINUX_V1 = catalog.runtime("linux_v1")

_MISSING = object()


# ---------------------------------------------------------------------------------------------
# fixes and findings


@dataclass(frozen=True)
class Fix:
    """An edit, in the coordinates of the file as it is. All parts are applied in one pass.

    moves:    (from, to) key paths; a table path moves everything below it
    converts: (from, to, transform, args, backwards) with a transform of migrator/transforms.py
    drops:    key paths to remove (comments stay)
    sets:     (path, value) to write, in the coordinates after the moves
    entries:  (name, new names) for disabled_plugins / required_plugins entries ((): remove)
    version:  a new `version = N` header
    strip_bom: remove a leading UTF-8 byte-order mark
    """
    description: str
    moves: tuple[tuple[tuple, tuple], ...] = ()
    converts: tuple[tuple[tuple, tuple, str, tuple[str, ...], bool], ...] = ()
    drops: tuple[tuple, ...] = ()
    sets: tuple[tuple[tuple, Any], ...] = ()
    entries: tuple[tuple[str, tuple[str, ...]], ...] = ()
    version: int | None = None
    strip_bom: bool = False


@dataclass
class Finding:
    id: str
    name: str
    severity: Severity
    message: str
    suggestion: str | None = None
    line: int | None = None
    col: int | None = None
    fixable: bool = False
    path: str | None = None
    fix: Fix | None = field(default=None, repr=False, compare=False)

    def format(self, file: str) -> str:
        text = f"{file}:{self.line or 1}:{self.col or 1}: {self.id} {self.severity} {self.message}"
        if self.suggestion:
            text += f" ({self.suggestion})"
        return text

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "severity": self.severity,
                "message": self.message, "suggestion": self.suggestion, "line": self.line,
                "col": self.col, "fixable": self.fixable, "path": self.path}


# ---------------------------------------------------------------------------------------------
# the target release


# ---------------------------------------------------------------------------------------------
# the context


@dataclass
class Context:
    file: str
    text: str
    had_bom: bool
    tree: dict
    doc: source.Document
    raw_version: Any              # the `version` value as written (None when absent)
    version: int | None           # 1..4 as containerd reads it; None when no release can
    target: Target
    kubernetes: bool = False
    kubelet: dict | None = None   # {"cgroupDriver": ..., "file": ...}
    base_dir: Path | None = None  # directory of the file (imports), None for stdin/strings
    findings: list[Finding] = field(default_factory=list)
    claimed: set[tuple] = field(default_factory=set)
    current: "LintRule | None" = None
    cache: dict = field(default_factory=dict)

    # -- schema problems and rule mapping ----------------------------------------------------
    @property
    def schema_key(self) -> int | str:
        """The schema to check against: the target release's own when it reads this version
        natively (stricter: keys of that release only), else the config version's."""
        if self.version is not None and self.version == self.target.reads and \
                self.version >= 2:
            return self.target.line
        return self.version or 2

    def problems(self, key: int | str | None = None) -> list:
        from migrator.checks import validate
        key = self.schema_key if key is None else key
        if ("problems", key) not in self.cache:
            tree = dict(self.tree)
            if "version" in tree and self.version is not None:
                tree["version"] = self.version
            self.cache[("problems", key)] = validate.validate(tree, key)
        return self.cache[("problems", key)]

    def mapper(self, source: int, target: int):
        """The migration rules from one config version to another, over this file's keys
        (an upward chain uses the target release's spellings when it reads `target`)."""
        from migrator.core.engine import Mapper
        if ("mapper", source, target) not in self.cache:
            release = self.target.line if self.target.reads == target else None
            self.cache[("mapper", source, target)] = Mapper(
                rules_mod.chain(source, target, release), tree=self.tree)
        return self.cache[("mapper", source, target)]

    # -- reporting ---------------------------------------------------------------------------
    def report(self, severity: Severity, message: str, path: tuple | None = None, *,
               suggestion: str | None = None, fix: Fix | None = None,
               at: tuple[int | None, int | None] | None = None, claim: bool = True) -> Finding:
        assert self.current is not None
        line, col = at if at is not None else (self.position(path) if path is not None
                                                 else (None, None))
        # messages quote values: never a URL's user information, never a 10 MB line
        message = cut(redact_urls(message))
        suggestion = cut(redact_urls(suggestion)) if suggestion is not None else None
        finding = Finding(self.current.id, self.current.name, severity, message, suggestion,
                          line, col, False, dotted(path) if path else None, fix)
        self.findings.append(finding)
        if claim and path is not None:
            self.claimed.add(tuple(path))
        return finding

    def claim(self, path: tuple) -> None:
        self.claimed.add(tuple(path))

    def is_claimed(self, path: tuple) -> bool:
        """Whether a finding already claimed this path, a table above it or a key below it."""
        path = tuple(path)
        if any(path[:i] in self.claimed for i in range(1, len(path) + 1)):
            return True
        below = self.cache.get("claimed-prefixes")
        if below is None or below[0] != len(self.claimed):  # claims only grow
            below = (len(self.claimed), {c[:i] for c in self.claimed for i in range(1, len(c))})
            self.cache["claimed-prefixes"] = below
        return path in below[1]

    # -- positions ---------------------------------------------------------------------------
    def position(self, path: tuple) -> tuple[int | None, int | None]:
        """Where a key path is written: its own statement, else the first statement inside it,
        else the closest enclosing one."""
        path = tuple(path)
        doc = self.doc
        st = doc.at(path) or doc.inside(path) or doc.enclosing(path[:-1])
        return self._where(st) if st else (None, None)

    def _where(self, st: source.Statement) -> tuple[int, int]:
        """A header's position is its opening bracket; a key's, the key."""
        if st.kind != "keyvalue":
            bracket = self.doc.text.find("[", st.start, st.key_start)
            if bracket >= 0:
                return self.doc.position(bracket)
        return st.line, st.col

    def entry_position(self, key: str, index: int) -> tuple[int | None, int | None]:
        """Where entry `index` of a top-level array such as disabled_plugins is written."""
        st = next((s for s in self._statements_at((key,)) if s.kind == "keyvalue"), None)
        if st is None:
            return None, None
        if st.elements and index < len(st.elements):
            return self.doc.position(st.elements[index][0])
        return st.line, st.col

    def _statements_at(self, path: tuple) -> list[source.Statement]:
        if "statements-at" not in self.cache:
            at: dict[tuple, list[source.Statement]] = {}
            for s in self.doc.statements:
                at.setdefault(s.path, []).append(s)
            self.cache["statements-at"] = at
        return self.cache["statements-at"].get(path, [])

    # -- reading -----------------------------------------------------------------------------
    def get(self, path: tuple, default: Any = None) -> Any:
        cur: Any = self.tree
        for k in path:
            if not isinstance(cur, dict) or k not in cur:
                return default
            cur = cur[k]
        return cur

    def has(self, path: tuple) -> bool:
        return self.get(path, _MISSING) is not _MISSING

    # -- where things are in this file's version ---------------------------------------------
    @property
    def runtime_root(self) -> tuple:
        return runtime_root(self.version)

    @property
    def images_root(self) -> tuple:
        return images_root(self.version)

    def runtime_tables(self) -> list[tuple[tuple, dict]]:
        """(path, table) of every CRI runtime definition containerd reads in this version."""
        out = []
        containerd = self.runtime_root + ("containerd",)
        runtimes = self.get(containerd + ("runtimes",))
        if isinstance(runtimes, dict):
            for name, table in runtimes.items():
                if isinstance(table, dict):
                    out.append((containerd + ("runtimes", name), table))
        return out


def runtime_root(version: int | None) -> tuple:
    return _version(version).cri_runtime


def images_root(version: int | None) -> tuple:
    return _version(version).cri_images


def _version(version: int | None) -> catalog.Version:
    known = catalog.versions()
    return known.get(version or 2) or known[max(known)]


def leaves(value: Any, prefix: tuple = ()) -> list[tuple[tuple, Any]]:
    from migrator.core.engine import leaves as _leaves
    if not isinstance(value, dict) or not value:
        return [(prefix, value)]
    return _leaves(value, prefix)


def nodes(value: Any, prefix: tuple) -> list[tuple]:
    """Every key path at or below prefix (tables and leaves)."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(nodes(v, prefix + (k,)))
    return out


# ---------------------------------------------------------------------------------------------
# schemas


@functools.cache
def schema(version: int | str) -> dict:
    from migrator.checks import validate
    return validate.load_schema(version)


def schema_knows(root: dict, path: tuple) -> bool:
    """Whether a schema describes a key path: through named properties, maps (tables whose keys
    are free, such as runtimes) and open tables (runtime options). Plugin tables count only
    when the schema names them."""
    node = root
    for i, key in enumerate(path):
        if not isinstance(node, dict):
            return False
        if isinstance(key, int):
            node = node.get("items", {})
            continue
        props = node.get("properties", {})
        if key in props:
            node = props[key]
            continue
        if i == 1 and path[0] == "plugins":
            return False
        extra = node.get("additionalProperties", True)
        if extra is False:
            return False
        if extra is True:
            return True
        node = extra
    return True


def table_schema(root: dict, path: tuple) -> dict | None:
    from migrator.core.paths import node_at
    return node_at(root, path)


# ---------------------------------------------------------------------------------------------
# the registry


@dataclass(frozen=True)
class LintRule:
    id: str
    name: str
    summary: str
    check: Callable[[Context], None]
    module: str
    doc: str


REGISTRY: dict[str, LintRule] = {}


def rule(rule_id: str, name: str, summary: str) -> Callable[[Callable[[Context], None]],
                                                          Callable[[Context], None]]:
    def register(func: Callable[[Context], None]) -> Callable[[Context], None]:
        import sys
        module = sys.modules[func.__module__]
        REGISTRY[rule_id] = LintRule(rule_id, name, summary, func, func.__module__,
                                     (module.__doc__ or "").strip())
        return func
    return register

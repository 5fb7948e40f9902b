"""Check a parsed config tree against the generated JSON Schemas (schemas/*.json).

    problems = validate(tree, 3)        # config version 1..4
    problems = validate(tree, line)     # exactly the keys of one release line, e.g. 2.1 or v2.1.9

Each SchemaProblem has the key path from the root (list indexes as ints), a one-line message,
a suggestion and a kind:

* "unknown-key": a key a closed (Go struct) table does not have, one problem per key. The
  suggestion is, in this order: the same key in another case or a close spelling in the same
  table ("sandbox_image"); the key one table deeper ("options.SystemdCgroup"); or, as a full
  dotted path from the root (it starts with `plugins.` or names a top-level table), the key in an
  enclosing table or the only place the schema has it. Keys and plugin tables that an older
  release had and that moved or went away (changes.json) say so instead of guessing, e.g.
  `sandbox_image` in a version 3 `io.containerd.grpc.v1.cri` -> plugins."io.containerd.cri.v1.
  images".pinned_images.sandbox. Short plugin IDs (`[plugins.cri]`) in a version 2+ file and
  `disabled_plugins` entries that are not URIs are reported here too.
* "type": a value of the wrong TOML type, or a string that is not a Go duration.
* "refused": never made here; migrator.checks.decoding marks the type problems that containerd refuses
  to start with.
* "other": everything else (version constant, missing `version`), and option-name lint:

Runtime `options` tables are free-form in containerd (decoded by the shim's options type). Where
`runtime_type` is a runc shim the schemas close them with an if/then (this module evaluates
if/then like jsonschema does), so a name the runc options do not have is an "unknown-key"; an
option name in another case is not (2.x matches any case), and is left to the option lint. On
top of the schema this module reports, as kind "other", option keys of the open tables that are
not option names but are close to one (`SystemdCgroups`, or a case variant such as
`SystemdCGroup` that go-toml v1 does not match): 1.x drops such keys silently, and 2.x keeps a
case variant next to the default spelling in the merged options.

Unknown plugin tables with URI-like names are never reported (external and newer plugins).
"""
from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Literal

from migrator.checks.spelling import (  # noqa: F401
    _go_toml_v1_names,
    _is_1x,
    _lowered,
    option_spelling,
    reads_spelling,
)
from migrator.checks.suggest import _close, _suggest, _suggest_elsewhere, suggest  # noqa: F401
from migrator.core import catalog
from migrator.core.paths import dotted
from migrator.core.resources import data_path
from migrator.core.secrets import redact
from migrator.speed import cache, schema_walker

ProblemKind = Literal["unknown-key", "type", "refused", "other"]

VERSION_FILES = {n: v.schema for n, v in catalog.versions().items()}
LINES = tuple(catalog.lines())
LINE_FILES = {name: entry.schema for name, entry in catalog.lines().items()}

_CUTOFF = 0.75
_OPTION_CUTOFF = 0.85


@dataclass(frozen=True)
class SchemaProblem:
    path: tuple
    message: str
    suggestion: str | None = None
    kind: ProblemKind = "other"

    def format(self) -> str:
        return self.message


# ---------------------------------------------------------------------------------------------
# loading


def schemas_dir() -> Path:
    """migrator/_data/schemas in a wheel install, <repo>/schemas in a checkout."""
    return data_path("schemas")


def _key(version: int | str) -> str:
    """Normalise a config version (3, "3", "v3") or a release (2.1, v2.1.9) to a file name."""
    if isinstance(version, bool):
        raise ValueError(f"not a config version or release line: {version!r}")
    if isinstance(version, int):
        if version in VERSION_FILES:
            return VERSION_FILES[version]
        raise ValueError(f"unknown config version {version} "
                         f"(known: {', '.join(map(str, VERSION_FILES))})")
    text = str(version).strip().lower().removeprefix("v")
    if text.isdigit() and int(text) in VERSION_FILES:
        return VERSION_FILES[int(text)]
    try:
        return LINE_FILES[catalog.parse_release(text)[0]]
    except ValueError:
        pass
    raise ValueError(f"unknown config version or release line {version!r} "
                     f"(known: {min(VERSION_FILES)}-{max(VERSION_FILES)}, "
                     f"{', '.join(LINE_FILES)})")


def schema_path(version: int | str) -> Path:
    return schemas_dir() / _key(version)


@functools.lru_cache(maxsize=None)
def _load(name: str) -> dict:
    return _compiled(name)[0]


@functools.lru_cache(maxsize=None)
def _compiled(name: str) -> tuple[dict, bool]:
    """(the schema, whether the schema walker can check it), kept in the compiled cache
    (migrator.speed.cache: marshal reads the schema in half the time of json, and the keyword
    survey of `_fast` is done once per schema file, not once per process)."""
    def build() -> tuple[dict, bool]:
        with open(schemas_dir() / name, encoding="utf-8") as fh:
            schema = json.load(fh)
        return schema, schema_walker.supported(schema)
    data = cache.compiled(f"schema-{name.removesuffix('.json')}",
                          [schemas_dir() / name, Path(__file__)], build)
    if not (isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], dict)):
        return build()  # an entry that is not ours after all
    return data[0], data[1] is True


def load_schema_cached(version: int | str) -> dict:
    """The schema as a dict, shared: callers must not modify it."""
    return _load(_key(version))


def load_schema(version: int | str) -> dict:
    """The schema as a dict (a copy: callers may modify it)."""
    return copy.deepcopy(_load(_key(version)))


@functools.lru_cache(maxsize=None)
def _validator(name: str):
    from jsonschema import (
        Draft202012Validator,  # imported here: keeps `import migrator` fast
    )
    return Draft202012Validator(_load(name))


# ---------------------------------------------------------------------------------------------
# the schemas' own subset of JSON Schema: migrator.speed.schema_walker, else jsonschema


def _fast(name: str) -> bool:
    """Whether every subschema of this schema keeps to the keywords the walker implements."""
    return _compiled(name)[1]


def _iter_errors(name: str, tree: Any) -> Iterable[Any]:
    if not _fast(name):
        return _validator(name).iter_errors(tree)
    return schema_walker.iter_errors(_load(name), tree)


# ---------------------------------------------------------------------------------------------
# validation


def validate(tree: dict, version: int | str) -> list[SchemaProblem]:
    """All schema problems of `tree` (a dict as tomllib returns it), sorted by key path."""
    name = _key(version)
    schema = _load(name)
    problems: list[SchemaProblem] = []
    for err in _iter_errors(name, tree):
        problems.extend(_convert(err, schema))
    problems.extend(_option_lint(tree, schema, (), _is_1x(schema)))
    if isinstance(tree, dict):
        problems.extend(_former_plugins(tree, schema))
    unknown = {p.path for p in problems if p.kind == "unknown-key"}
    seen: set[tuple] = set()
    out = []
    for p in problems:
        k = (p.path, p.message)
        if p.kind == "other" and p.path in unknown:
            continue  # an option-name near miss the schema already reports (closed options)
        if k not in seen:
            seen.add(k)
            out.append(p)
    out.sort(key=lambda p: (tuple(str(x) for x in p.path), p.message))
    return out


def _where(path: Iterable[Any]) -> str:
    path = tuple(path)
    return dotted(path) if path else "the top level"


def _quote(suggestion: str) -> str:
    """A key in double quotes; a dotted path (already quoting its parts) as is."""
    return suggestion if suggestion.startswith("plugins.") or '"' in suggestion \
        else json.dumps(suggestion)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def _show(path: tuple, value: Any) -> str:
    kind = _type_name(value)  # of the value itself: a redacted secret is shown as a string
    if isinstance(value, (dict, list)):
        return kind
    text = json.dumps(redact(path, value), default=str, ensure_ascii=False)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{kind} {text}"


_EXPECTED = {"string": "a string", "integer": "an integer", "boolean": "a boolean (true/false)",
             "number": "a number", "object": "a table", "array": "an array"}


def _convert(err, root: dict) -> list[SchemaProblem]:
    path = tuple(err.absolute_path)
    kw = err.validator
    schema_path = list(err.relative_schema_path)
    if kw == "additionalProperties" and err.validator_value is False:
        props = err.schema.get("properties", {})
        former = err.schema.get("x-containerd-former-keys", {})
        out = []
        lowered = _lowered(props) if err.schema.get("x-containerd-case-insensitive") else {}
        for key in err.instance:
            if key in props or (isinstance(key, str) and key.lower() in lowered):
                continue  # another case of an option name: _option_lint says what it does
            msg = f"unknown key {json.dumps(key)} in {_where(path)}"
            if key in former:
                suggestion, why = _former(former[key])
                msg += f" ({why})"
            else:
                suggestion = _suggest(key, err.schema) or _suggest_elsewhere(key, path, root)
                if suggestion:
                    msg += f" (did you mean {_quote(suggestion)}?)"
            out.append(SchemaProblem(path + (key,), msg, suggestion, "unknown-key"))
        return out
    if "propertyNames" in schema_path:
        return [_plugin_name_problem(path, err.instance, root)]
    if kw == "type":
        expected = err.validator_value
        expected = " or ".join(_EXPECTED.get(t, t) for t in
                               (expected if isinstance(expected, list) else [expected]))
        return [SchemaProblem(path, f"{_where(path)} must be {expected}, got "
                                    f"{_show(path, err.instance)}", None, "type")]
    if kw in ("const", "enum") and path == ("version",):
        want = err.validator_value if kw == "const" else " or ".join(map(str, err.validator_value))
        return [SchemaProblem(path, f"version must be {want} for this schema, got "
                                    f"{_show(path, err.instance)}", None, "other")]
    if kw == "required":
        missing = [k for k in err.validator_value if k not in err.instance]
        out = []
        for key in missing:
            msg = f"missing key {json.dumps(key)} in {_where(path)}"
            if path == () and key == "version":
                msg += " (without it containerd reads the file as version 1)"
            out.append(SchemaProblem(path + (key,), msg, None, "other"))
        return out
    if kw in ("minimum", "maximum") and isinstance(err.instance, int):
        return [SchemaProblem(path, f"{_where(path)} must be a Go duration such as \"10s\"; "
                                    f"containerd accepts an integer only when it is 0, got "
                                    f"{_show(path, err.instance)}", None, "type")]
    if kw == "pattern":
        if len(path) >= 1 and path[0] in ("disabled_plugins", "required_plugins"):
            return [_plugin_name_problem(path, err.instance, root, entry=True)]
        if "ns|us" in err.validator_value:
            return [SchemaProblem(path, f"{_where(path)} must be a Go duration such as \"10s\" "
                                        f"or \"1m30s\", got {_show(path, err.instance)}",
                                  None, "type")]
    return [SchemaProblem(path, f"{_where(path)}: {err.message}", None, "other")]


def _former(entry: dict) -> tuple[str | None, str]:
    """(suggestion, explanation) for a key or plugin that an older containerd had here."""
    when = f"containerd {entry['removed_in']}"
    if entry.get("moved_to"):
        return entry["moved_to"], f"{when} moved it to {entry['moved_to']}"
    if entry.get("note"):
        return None, f"{when} replaced it: {entry['note']}"
    return None, f"removed in {when}"


def _former_plugins(tree: dict, root: dict) -> list[SchemaProblem]:
    """Plugin tables this version no longer has (renamed or removed): ignored by containerd."""
    plugins = tree.get("plugins")
    schema = root.get("properties", {}).get("plugins", {})
    former = schema.get("x-containerd-former-plugins", {})
    if not isinstance(plugins, dict) or not former:
        return []
    out = []
    for name in plugins:
        if name in former:
            suggestion, why = _former(former[name])
            out.append(SchemaProblem(
                ("plugins", name), f"plugin table {json.dumps(name)} in plugins is not a plugin "
                f"of this version ({why})", suggestion, "unknown-key"))
    return out


def _plugin_name_problem(path: tuple, plugin: str, root: dict, *,
                         entry: bool = False) -> SchemaProblem:
    names = root["properties"]["plugins"].get("x-containerd-v1-names", {})
    uris = names.get(plugin)
    suggestion = None
    if uris:
        # cri in a version 3+ file: the runtime table holds most of what a v1 cri table held.
        suggestion = next((u for u in uris if u.endswith("cri.v1.runtime")), uris[0])
    elif plugin.endswith("-service"):
        suggestion = catalog.plugin("service_prefix") + plugin
    one = root.get("x-containerd-lines", [""])[0].startswith("1.")
    effect = ("containerd 1.x refuses to start" if one else
              ("containerd 2.x refuses to start" if entry else "containerd 2.x ignores the table"))
    if entry:
        msg = f"{json.dumps(plugin)} in {_where(path[:1])} is not a plugin URI ({effect})"
        out_path = path
    else:
        msg = (f"plugin table {json.dumps(plugin)} in {_where(path)} is not a plugin URI "
               f"({effect}; short plugin IDs only work in version 1 files)")
        out_path = path + (plugin,)
    if suggestion:
        msg += f" (did you mean {json.dumps(suggestion)}?)"
    return SchemaProblem(out_path, msg, suggestion, "unknown-key")



# ---------------------------------------------------------------------------------------------
# free-form tables (runtime options)



def _option_lint(value: Any, schema: dict, path: tuple, v1: bool) -> list[SchemaProblem]:
    """Walk tree and schema together; in open tables with listed keys, flag near-misses."""
    if not isinstance(value, dict) or not isinstance(schema, dict):
        return []
    out: list[SchemaProblem] = []
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    if props and extra is True:
        lower = _lowered(props)
        for key in value:
            if key in props or not isinstance(key, str):
                continue
            if key.lower() in lower:
                hit = lower[key.lower()]
                if v1 and key in _go_toml_v1_names(hit):
                    continue
                if v1:
                    msg = (f"option {json.dumps(key)} in {_where(path)} is not the option name "
                           f"{json.dumps(hit)}: containerd 1.x only accepts the exact name, all "
                           f"lower case, all upper case or a lower-case first letter, and drops "
                           f"other spellings silently")
                else:
                    msg = (f"option {json.dumps(key)} in {_where(path)} differs from the option "
                           f"name {json.dumps(hit)} only in case: containerd 2.x matches it, but "
                           f"the merged options can then hold both spellings (e.g. next to the "
                           f"default runc options); write {json.dumps(hit)}")
            else:
                close = _close(key, list(props), n=1, cutoff=_OPTION_CUTOFF)
                if not close:
                    continue
                hit = close[0]
                msg = (f"option {json.dumps(key)} in {_where(path)} is not an option name that "
                       f"containerd's shims read; it is dropped silently "
                       f"(did you mean {json.dumps(hit)}?)")
            out.append(SchemaProblem(path + (key,), msg, hit, "other"))
    for key, sub in value.items():
        if key in props:
            child = props[key]
        elif isinstance(extra, dict):
            child = extra
        else:
            continue
        if isinstance(sub, dict):
            out.extend(_option_lint(sub, child, path + (key,), v1))
        elif isinstance(sub, list) and isinstance(child.get("items"), dict):
            for i, item in enumerate(sub):
                out.extend(_option_lint(item, child["items"], path + (key, i), v1))
    return out



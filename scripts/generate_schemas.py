#!/usr/bin/env python3
"""Generate the JSON Schemas (draft 2020-12) for containerd config.toml from the key inventory.

Inputs: the inventory of ../shared/spec/keys (one containerd-<line>.json per release line plus
changes.json) and schemas/descriptions.json (hand-written one-line descriptions).

Outputs (in schemas/, deterministic: sorted keys, indent=2, trailing newline):

* containerd-config-v1.json .. -v4.json: one per config schema version. v1 and v2 are the union
  of the 1.6 and 1.7 keys (v1 keys plugin tables by their short ID), v3 the union of 2.0-2.2,
  v4 is 2.3.
* containerd-<line>.json for 1.6 .. 2.3: exactly the keys of that release line (URI-keyed).

    python scripts/generate_schemas.py [--keys DIR] [--out DIR] [--check]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from migrator.core import catalog  # noqa: E402  (the release lines and their facts, as data)
BASE_ID = "https://containerd-migrate.dev/schemas/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

LINES = tuple(catalog.lines())
VERSION_LINES = {n: v.lines for n, v in catalog.versions().items()}

# Go time.ParseDuration: "0", or one or more <decimal><unit> (optionally signed). Empty = unset.
DURATION_PATTERN = r"^([-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+))?$"
# Plugin keys/entries that containerd can match (facts §1.2) are catalog data:
# plugin_key_pattern and disabled_pattern of each version and line.

Field = dict[str, Any]


def default_keys_dir() -> Path:
    env = os.environ.get("CONTAINERD_SHARED")
    base = Path(env) if env else REPO.parent / "shared"
    return base / "spec" / "keys"


# ---------------------------------------------------------------------------------------------
# inventory


@dataclass
class Inventory:
    lines: dict[str, dict]                      # line -> containerd-<line>.json
    presence: dict[tuple, list[str]]            # (scope, path) -> lines having it
    moved: dict[tuple, tuple[str, str]]         # (scope, path) -> (line it left, destination)
    gone: dict[tuple, str]                      # (scope, path) -> last line that had it

    @classmethod
    def load(cls, keys: Path) -> "Inventory":
        lines = {}
        gone: dict[tuple, str] = {}
        for line in LINES:
            with open(keys / catalog.line(line).inventory, encoding="utf-8") as fh:
                lines[line] = json.load(fh)
            # keys the release notes remove from a line whose inventory (a pre-release) still
            # has them: the line's schema goes by the notes (the catalog records which)
            for change in catalog.line(line).removed:
                if change.release and catalog.release_key(change.release) > \
                        catalog.release_key(catalog.line(line).tag):
                    if _remove(lines[line], change.plugin or "", tuple(change.key.split("."))):
                        gone[(change.plugin or "", tuple(change.key.split(".")))] = \
                            LINES[LINES.index(line) - 1]
        presence: dict[tuple, list[str]] = {}
        for line, inv in lines.items():
            for scope, fields in _scopes(inv):
                if scope != "":
                    presence.setdefault((scope, ()), []).append(line)
                for path in _flatten(fields, ()):
                    presence.setdefault((scope, path), []).append(line)
        moved: dict[tuple, tuple[str, str]] = {}
        with open(keys / "changes.json", encoding="utf-8") as fh:
            changes = json.load(fh)
        for entry in changes:
            if entry["change"] != "removed":
                continue
            src = entry["transition"].split("->")[0].strip().lstrip("v")
            src_line = ".".join(src.split(".")[:2])
            scope = "" if entry["scope"] == "(top level)" else entry["scope"]
            dests = {}
            for m in entry.get("moved_to", []):
                left, _, right = m.partition("->")
                dests[left.strip()] = right.strip()
            if entry.get("whole_plugin"):
                if "(plugin)" in dests:
                    moved[(scope, ())] = (src_line, dests["(plugin)"])
                else:
                    gone[(scope, ())] = src_line
                continue
            for key in entry["keys"]:
                path = tuple(key.split("."))
                if key in dests:
                    moved[(scope, path)] = (src_line, dests[key])
                else:
                    gone[(scope, path)] = src_line
        return cls(lines, presence, moved, gone)


def _remove(inv: dict, scope: str, path: tuple) -> bool:
    fields = inv["top_level"] if scope == "" else inv["plugins"].get(scope, {})
    for part in path[:-1]:
        fields = fields.get(part, {}).get("fields", {})
    return fields.pop(path[-1], None) is not None


def _scopes(inv: dict):
    yield "", inv["top_level"]
    for uri, fields in inv["plugins"].items():
        yield uri, fields


def _flatten(fields: dict[str, Field], path: tuple):
    for key, f in fields.items():
        p = path + (key,)
        yield p
        if "fields" in f:
            yield from _flatten(f["fields"], p)
        for spec in f.get("variants", {}).values():
            for name in spec.get("fields", {}):
                if name not in f.get("fields", {}):
                    yield p + (name,)
        if (f["type"].startswith("map<") and not f["type"].startswith("map<string,table")
                and isinstance(f.get("default"), dict)):
            for name in f["default"]:
                yield p + (name,)
        for sub in ("values", "items"):
            if sub in f and "fields" in f[sub]:
                yield from _flatten(f[sub]["fields"], p + ("*",))


# ---------------------------------------------------------------------------------------------
# descriptions


class Descriptions:
    def __init__(self, data: dict):
        self.top = data.get("top_level", {})
        self.plugins = data.get("plugins", {})
        self.suffix = data.get("by_suffix", {})
        self.used: set[tuple] = set()

    def get(self, scope: str, path: tuple) -> str | None:
        dotted = ".".join(path) if path else "(plugin)"
        table = self.top if scope == "" else self.plugins.get(scope, {})
        if dotted in table:
            self.used.add(("exact", scope, dotted))
            return table[dotted]
        best = None
        for suf, text in self.suffix.items():
            segs = tuple(suf.split("."))
            if path and len(segs) <= len(path) and path[-len(segs):] == segs:
                if best is None or len(segs) > len(best[0]):
                    best = (segs, text, suf)
        if best:
            self.used.add(("suffix", "", best[2]))
            return best[1]
        return None

    def unused(self) -> list[str]:
        out = []
        for key in self.top:
            if ("exact", "", key) not in self.used:
                out.append(f"top_level {key}")
        for uri, table in self.plugins.items():
            for key in table:
                if ("exact", uri, key) not in self.used:
                    out.append(f"plugins {uri} {key}")
        for key in self.suffix:
            if ("suffix", "", key) not in self.used:
                out.append(f"by_suffix {key}")
        return out


# ---------------------------------------------------------------------------------------------
# schema building


GENERIC_OPTIONS = "*"   # the options type of every runtime_type without its own


def _option_sets(entries: list[tuple[str, Field]]) -> dict[str, list[str]]:
    """{runtime_type: option names} from the inventories' options variants (union over the
    lines); the type CRI decodes the options of any other runtime_type into is under "*"."""
    sets: dict[str, set[str]] = {}
    for _, f in entries:
        for variant, spec in f.get("variants", {}).items():
            names = set(spec.get("fields", {}))
            if variant.startswith("any other"):
                sets.setdefault(GENERIC_OPTIONS, set()).update(names)
                continue
            for rt in variant.split("|"):
                sets.setdefault(rt.strip().split(" ")[0], set()).update(names)
    return {k: sorted(v) for k, v in sorted(sets.items())}


def _closed_options(props: dict) -> dict:
    """A runtime table whose `options` hold the runc shim's options: an if/then that closes
    `options` to exactly those names when runtime_type is a runc shim (the CRI decodes them
    into the runc Options struct and drops any other key silently). Other runtime types keep
    the open table (their shims define the options)."""
    options, rtype = props.get("options"), props.get("runtime_type")
    if not isinstance(options, dict) or rtype is None:
        return {}
    sets = options.get("x-containerd-option-sets", {})
    runc = sorted(t for t in sets if ".runc." in t)
    if not runc:
        return {}
    names = sorted({n for t in runc for n in sets[t]})
    return {"if": {"properties": {"runtime_type": {"enum": runc}}, "required": ["runtime_type"]},
            "then": {"properties": {"options": {
                "properties": {n: {} for n in names}, "additionalProperties": False,
                "x-containerd-case-insensitive": "2.x matches option names in any case"}}}}


def _line_list(lines: list[str]) -> str:
    """['2.1', '2.2', '2.3'] -> '2.1-2.3'; ['1.6', '2.0'] -> '1.6, 2.0'."""
    idx = sorted(LINES.index(x) for x in lines)
    runs: list[list[int]] = []
    for i in idx:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return ", ".join(LINES[r[0]] if len(r) == 1 else f"{LINES[r[0]]}-{LINES[r[-1]]}"
                     for r in runs)


def _next_line(line: str) -> str | None:
    i = LINES.index(line)
    return LINES[i + 1] if i + 1 < len(LINES) else None


_TYPE_WORDS = {"string": "String", "integer": "Integer", "boolean": "Boolean", "float": "Number",
               "duration-string": "Go duration string (e.g. \"10s\", \"1m30s\")",
               "any": "Any value",
               "table": "Table"}


def _type_label(t: str) -> str:
    if t in _TYPE_WORDS:
        return _TYPE_WORDS[t]
    if t.startswith("array<"):
        return "List of " + _type_label(t[6:-1]).lower()
    if t.startswith("map<string,"):
        return "Table of " + _type_label(t[11:-1]).lower() + " values keyed by any name"
    return t


def _fmt_default(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else "see `default`"


def _dotted(path: tuple) -> str:
    out = []
    for part in path:
        bare = part == "*" or (part and all(c.isalnum() or c in "-_" for c in part)
                               and part.isascii())
        out.append(part if bare else json.dumps(part))
    return ".".join(out)


def _struct_order(orders: list[list[str]]) -> list[str]:
    """containerd's own key order (the Go struct's, as the inventory lists it), newest line
    first; a key only older lines have goes right after its predecessor there. The emitter puts
    a key it moves into an existing table at this position."""
    out = list(orders[-1]) if orders else []
    for order in reversed(orders[:-1]):
        for i, key in enumerate(order):
            if key not in out:
                prev = next((k for k in reversed(order[:i]) if k in out), None)
                out.insert(out.index(prev) + 1 if prev is not None else 0, key)
    return out


def _former_entry(src: str, dest: str | None, scope: str, path: tuple) -> dict:
    """{'removed_in': '2.0', 'moved_to': 'plugins."x".key' | absent, 'note': raw text}."""
    entry: dict[str, Any] = {"removed_in": _next_line(src)}
    if dest is None:
        return entry
    raw = dest
    if dest.startswith("(plugin)"):
        dest = dest.split("->", 1)[1].strip()
    words = dest.split()
    if len(words) == 1 and words[0].startswith("io.containerd."):
        entry["moved_to"] = _dotted(("plugins", words[0]) + path)
    elif len(words) == 2 and words[0].startswith("io.containerd.") and "=" not in dest:
        entry["moved_to"] = _dotted(("plugins", words[0]) + tuple(words[1].split(".")))
    else:
        entry["note"] = raw
    return entry


def _scalar_schema(t: str) -> dict:
    if t == "string":
        return {"type": "string"}
    if t == "integer":
        return {"type": "integer"}
    if t == "boolean":
        return {"type": "boolean"}
    if t == "float":
        return {"type": "number"}
    if t == "duration-string":
        return {"type": "string", "pattern": DURATION_PATTERN}
    if t == "table":
        return {"type": "object"}
    if t == "any":
        return {}
    if t.startswith("array<"):
        return {"type": "array", "items": _scalar_schema(t[6:-1])}
    if t.startswith("map<string,"):
        return {"type": "object", "additionalProperties": _scalar_schema(t[11:-1])}
    raise ValueError(f"unknown inventory type {t!r}")


class Builder:
    """Builds one schema from the inventories of `lines` (a union when several)."""

    def __init__(self, inv: Inventory, desc: Descriptions, lines: tuple[str, ...], *,
                 union: bool, problems: list[str]):
        self.inv = inv
        self.desc = desc
        self.lines = lines
        self.union = union
        self.problems = problems

    # -- annotations -------------------------------------------------------------------------

    def _annotate(self, schema: dict, scope: str, path: tuple, entries: list[tuple[str, Field]],
                  type_name: str) -> dict:
        latest = entries[-1][1]
        key = (scope, path)
        everywhere = self.inv.presence.get(key, [line for line, _ in entries])
        defaults = {line: f["default"] for line, f in entries if "default" in f}
        deprecated_texts = [f["deprecated"] for _, f in entries if f.get("deprecated")]
        gone = self.inv.gone.get(key)
        gone_here = gone is not None and gone in self.lines
        moved = self.inv.moved.get(key)

        our = self.desc.get(scope, path)
        parts = []
        if our:
            parts.append(our)
        else:
            parts.append(_type_label(type_name) + ".")
            if defaults:
                last = defaults[list(defaults)[-1]]
                if len({json.dumps(v, sort_keys=True) for v in defaults.values()}) == 1:
                    parts.append(f"Default: {_fmt_default(last)}.")
                else:
                    parts.append("Default: " + "; ".join(
                        f"{_fmt_default(v)} in {line}" for line, v in defaults.items()) + ".")
            parts.append(f"Read by containerd {_line_list(everywhere)}.")
        if not our:
            if deprecated_texts:
                parts.append(f"Deprecated: {deprecated_texts[-1]}.")
            elif gone_here:
                parts.append(f"Deprecated: removed in containerd {_next_line(gone)} without a "
                             "successor.")
            if moved and moved[0] in self.lines:
                parts.append(f"containerd {_next_line(moved[0])} moves it to {moved[1]}.")
        schema["description"] = " ".join(parts)
        if deprecated_texts:
            schema["x-containerd-deprecated"] = deprecated_texts[-1]

        if defaults and path != ("version",):
            schema["default"] = defaults[list(defaults)[-1]]
            if len({json.dumps(v, sort_keys=True) for v in defaults.values()}) > 1:
                schema["x-containerd-defaults"] = defaults
        if deprecated_texts or gone_here:
            schema["deprecated"] = True
        schema["x-containerd-lines"] = sorted(everywhere, key=LINES.index)
        first = min(everywhere, key=LINES.index)
        if first != LINES[0]:
            schema["x-containerd-since"] = first
        last = max(everywhere, key=LINES.index)
        if _next_line(last):
            schema["x-containerd-removed"] = _next_line(last)
        if moved:
            schema["x-containerd-moved-to"] = moved[1]
        patches = sorted({f["since_patch"] for _, f in entries if f.get("since_patch")})
        if patches:
            schema["x-containerd-since-patch"] = patches
        notes = []
        for _, f in entries:
            for n in f.get("notes", []):
                if n not in notes:
                    notes.append(n)
        if notes:
            schema["$comment"] = " | ".join(notes)
        return schema

    # -- nodes -------------------------------------------------------------------------------

    def field(self, scope: str, path: tuple, entries: list[tuple[str, Field]]) -> dict:
        """Schema of one key, merging the same key of several lines (ordered oldest first)."""
        types = {f["type"] for _, f in entries}
        if len(types) > 1:
            self.problems.append(f"type differs between lines at {scope or '(top)'} "
                                 f"{'.'.join(path)}: {sorted(types)}; using the latest")
        t = entries[-1][1]["type"]
        schema = self.value(scope, path, entries)
        return self._annotate(schema, scope, path, entries, t)

    def value(self, scope: str, path: tuple, entries: list[tuple[str, Field]]) -> dict:
        """Schema of a value (no key annotations): tables, maps, arrays, scalars."""
        t = entries[-1][1]["type"]
        latest = entries[-1][1]
        if t == "table":
            go_type = latest.get("go_type", "")
            if go_type.startswith("map") or "variants" in latest:
                return self.free_form(scope, path, entries)
            if "fields" not in latest and not any("fields" in f for _, f in entries):
                return {"type": "object"}
            return self.table(scope, path, [(line, f.get("fields", {})) for line, f in entries])
        if t.startswith("map<string,"):
            vals = [(line, f["values"]) for line, f in entries if "values" in f]
            if not vals:
                return _scalar_schema(t)
            schema = {"type": "object",
                      "additionalProperties": self.value(scope, path + ("*",), vals)}
            if not t.startswith("map<string,table"):
                # Scalar maps with well-known keys (pinned_images.sandbox, timeouts): list the
                # keys of the printed default for completion; any other key stays valid.
                names = sorted({k for _, f in entries if isinstance(f.get("default"), dict)
                                for k in f["default"]})
                props = {}
                for name in names:
                    sub = [(line, {**v, "default": f["default"][name]}) for (line, f), (_, v)
                           in zip(entries, [(line, f.get("values", {})) for line, f in entries])
                           if isinstance(f.get("default"), dict) and name in f["default"]]
                    props[name] = self._annotate(
                        self.value(scope, path + (name,), sub), scope, path + (name,), sub,
                        sub[-1][1]["type"])
                if props:
                    schema["properties"] = props
            return schema
        if t == "duration-string" and latest.get("go_type", "string") != "string":
            return self.duration_type(latest.get("go_type") == "time.Duration")
        if t.startswith("array<"):
            items = [(line, f["items"]) for line, f in entries if "items" in f]
            if items:
                return {"type": "array", "items": self.value(scope, path + ("*",), items)}
            return _scalar_schema(t)
        return _scalar_schema(t)

    def duration_type(self, plain: bool = False) -> dict:
        """A Go duration type with UnmarshalText (int64 underneath), not a plain string.

        go-toml v2 (2.x) hands any value's raw text to UnmarshalText, so an integer only parses
        when it is 0 ("0" is a valid Go duration); so does go-toml v1 (1.x) for a type with its
        own UnmarshalText (the gc scheduler's delays: `schedule_delay = 5` stops 1.6.39 and
        1.7.34 with "missing unit in duration", tests/data/type_refusals.json), while a plain
        time.Duration (NRI's timeouts) takes an integer as nanoseconds."""
        schema = {"type": ["string", "integer"], "pattern": DURATION_PATTERN}
        if "go-toml/v2" in self.inv.lines[self.lines[0]]["decoder"] or not plain:
            schema.update({"minimum": 0, "maximum": 0})
            schema["x-containerd-integer"] = "only 0 (UnmarshalText parses the integer's text)"
        else:
            schema["x-containerd-integer"] = "nanoseconds (go-toml v1)"
        return schema

    def table(self, scope: str, path: tuple, tables: list[tuple[str, dict[str, Field]]]) -> dict:
        """A Go struct: closed, one property per key of any line."""
        names = sorted({k for _, fields in tables for k in fields})
        props = {}
        for name in names:
            entries = [(line, fields[name]) for line, fields in tables if name in fields]
            props[name] = self.field(scope, path + (name,), entries)
        schema = {"type": "object", "properties": props, "additionalProperties": False,
                  "x-containerd-order": _struct_order([list(fields) for _, fields in tables])}
        closed = _closed_options(props)
        if closed:
            schema.update(closed)
        former = self.former(scope, path, set(names))
        if former:
            schema["x-containerd-former-keys"] = former
        return schema

    def former(self, scope: str, path: tuple, names: set[str]) -> dict:  # noqa: D401
        """Keys an older line had in this table and that left it before this schema's lines
        (from changes.json): the validator explains them instead of guessing a spelling."""
        last = LINES.index(self.lines[-1])
        out = {}
        for (sc, p), (src, dest) in self.inv.moved.items():
            if (sc == scope and len(p) == len(path) + 1 and p[:-1] == path and p
                    and p[-1] not in names and LINES.index(src) < last):
                out[p[-1]] = _former_entry(src, dest, scope, p)
        for (sc, p), src in self.inv.gone.items():
            if (sc == scope and len(p) == len(path) + 1 and p[:-1] == path and p
                    and p[-1] not in names and LINES.index(src) < last):
                out[p[-1]] = _former_entry(src, None, scope, p)
        return dict(sorted(out.items()))

    def free_form(self, scope: str, path: tuple, entries: list[tuple[str, Field]]) -> dict:
        """Runtime options: any keys; the known option names are listed for completion."""
        known: dict[str, list[tuple[str, Field, str]]] = {}
        for line, f in entries:
            for name, sub in f.get("fields", {}).items():
                known.setdefault(name, []).append((line, sub, "runc"))
            for variant, spec in sorted(f.get("variants", {}).items()):
                for name, sub in spec.get("fields", {}).items():
                    if name not in f.get("fields", {}):
                        known.setdefault(name, []).append((line, sub, variant))
        props = {}
        for name in sorted(known):
            subs = known[name]
            by_line: dict[str, Field] = {}
            variants = []
            for line, sub, variant in subs:
                by_line.setdefault(line, sub)
                if variant not in variants:
                    variants.append(variant)
            line_entries = sorted(by_line.items(), key=lambda x: LINES.index(x[0]))
            types = {s["type"] for _, s in line_entries}
            schema = self.value(scope, path + (name,), line_entries) if len(types) == 1 else {}
            schema = self._annotate(schema, scope, path + (name,), line_entries,
                                    line_entries[-1][1]["type"])
            if variants != ["runc"]:
                schema["x-containerd-runtime-types"] = sorted(
                    "io.containerd.runc.v1 | io.containerd.runc.v2" if v == "runc" else v
                    for v in variants)
            if self.desc.get(scope, path + (name,)) is None:
                which = ("runc option" if "runc" in variants else
                         "Option for " + " and ".join(sorted(
                             "other runtime types (generic runtime options)"
                             if v == "any other runtime_type" else v for v in variants)))
                schema["description"] = f"{which}: {schema['description']}"
            props[name] = schema
        return {"type": "object", "properties": props, "additionalProperties": True,
                "x-containerd-option-sets": _option_sets(entries)}

    # -- plugins -----------------------------------------------------------------------------

    def plugin(self, uri: str) -> dict:
        tables = [(line, self.inv.lines[line]["plugins"][uri]) for line in self.lines
                  if uri in self.inv.lines[line]["plugins"]]
        schema = self.table(uri, (), tables)
        metas = [self.inv.lines[line]["plugin_meta"].get(uri, {}) for line, _ in tables]
        meta = metas[-1]
        key = (uri, ())
        everywhere = self.inv.presence.get(key, [line for line, _ in tables])
        our = self.desc.get(uri, ())
        notes = [m.get("note") for m in metas if m.get("note")]
        gone = self.inv.gone.get(key)
        moved = self.inv.moved.get(key)
        text = our or (f"Configuration of plugin {uri} ({meta.get('platform', 'all')} "
                       f"platforms). Read by containerd {_line_list(everywhere)}.")
        if not our and notes:
            text += f" {notes[-1][0].upper()}{notes[-1][1:]}."
        if moved and moved[0] in self.lines:
            text += f" containerd {_next_line(moved[0])} moves it to {moved[1]}."
        schema["description"] = text
        if gone is not None and gone in self.lines:
            schema["deprecated"] = True
        schema["x-containerd-lines"] = sorted(everywhere, key=LINES.index)
        first = min(everywhere, key=LINES.index)
        if first != LINES[0]:
            schema["x-containerd-since"] = first
        last = max(everywhere, key=LINES.index)
        if _next_line(last):
            schema["x-containerd-removed"] = _next_line(last)
        if moved:
            schema["x-containerd-moved-to"] = moved[1]
        schema["x-containerd-plugin"] = {
            "uri": uri,
            "go_type": meta.get("go_type"),
            "platform": meta.get("platform"),
        }
        if meta.get("config_v1_name"):
            schema["x-containerd-plugin"]["v1_name"] = meta["config_v1_name"]
        return schema

    def plugin_uris(self) -> list[str]:
        return sorted({u for line in self.lines for u in self.inv.lines[line]["plugins"]})

    def v1_names(self) -> dict[str, list[str]]:
        out: dict[str, set[str]] = {}
        for line in self.lines:
            for uri, meta in self.inv.lines[line]["plugin_meta"].items():
                if meta.get("config_v1_name"):
                    out.setdefault(meta["config_v1_name"], set()).add(uri)
        return {k: sorted(v) for k, v in sorted(out.items())}

    # -- document ----------------------------------------------------------------------------

    def document(self, *, file_name: str, title: str, config_version: int, v1_keys: bool,
                 plugin_key_pattern: str | None, disabled_pattern: str | None) -> dict:
        tops = [(line, self.inv.lines[line]["top_level"]) for line in self.lines]
        root = self.table("", (), tops)
        props = root["properties"]

        version = props["version"]
        for k in ("default", "x-containerd-defaults"):
            version.pop(k, None)
        if v1_keys:
            version["enum"] = [0, 1]
            version["description"] = (
                "Config schema version: absent, 0 or 1 for this layout (plugin tables keyed by "
                "short plugin IDs). containerd 1.x reads it natively; 2.x rewrites the plugin "
                "names and migrates the file in memory on every start.")
        else:
            version["const"] = config_version
            version["default"] = config_version

        plugins = props["plugins"]
        known = {}
        uris = self.plugin_uris()
        if v1_keys:
            for uri in uris:
                names = {self.inv.lines[line]["plugin_meta"][uri].get("config_v1_name")
                         for line in self.lines if uri in self.inv.lines[line]["plugin_meta"]}
                names.discard(None)
                if len(names) != 1:
                    self.problems.append(f"{uri}: config_v1_name {sorted(names)} in {self.lines}")
                    continue
                name = names.pop()
                if name in known:
                    self.problems.append(f"v1 name {name!r} used by two plugins")
                    continue
                known[name] = self.plugin(uri)
        else:
            for uri in uris:
                known[uri] = self.plugin(uri)
        plugins["properties"] = known
        if not v1_keys:
            last = LINES.index(self.lines[-1])
            former = {}
            for (sc, p), (src, dest) in self.inv.moved.items():
                if p == () and sc not in known and LINES.index(src) < last:
                    former[sc] = _former_entry(src, dest, sc, p)
            for (sc, p), src in self.inv.gone.items():
                if p == () and sc not in known and LINES.index(src) < last:
                    former[sc] = _former_entry(src, None, sc, p)
            if former:
                plugins["x-containerd-former-plugins"] = dict(sorted(former.items()))
        plugins["additionalProperties"] = {
            "type": "object",
            "description": "A plugin this schema does not know (external or newer); not checked.",
        }
        if plugin_key_pattern:
            plugins["propertyNames"] = {"pattern": plugin_key_pattern}
        if not v1_keys:
            plugins["x-containerd-v1-names"] = self.v1_names()
        if disabled_pattern:
            for key in ("disabled_plugins", "required_plugins"):
                if key in props:
                    props[key]["items"]["pattern"] = disabled_pattern

        doc = {
            "$schema": DRAFT,
            "$id": BASE_ID + file_name,
            "title": title,
            "description": (
                f"Keys of containerd config.toml (version {config_version if not v1_keys else 1}) "
                f"as read by containerd {_line_list(list(self.lines))}. Generated by "
                "scripts/generate_schemas.py from the containerd key inventory; do not edit."),
            "type": "object",
            "properties": props,
            "additionalProperties": False,
            "x-containerd-config-version": 1 if v1_keys else config_version,
            "x-containerd-lines": list(self.lines),
            "x-containerd-tags": {line: self.inv.lines[line]["release"] for line in self.lines},
        }
        if not v1_keys:
            doc["required"] = ["version"]
        if "x-containerd-former-keys" in root:
            doc["x-containerd-former-keys"] = root["x-containerd-former-keys"]
        return doc


# ---------------------------------------------------------------------------------------------
# driver


def build_all(keys: Path, descriptions: Path) -> tuple[dict[str, dict], list[str]]:
    inv = Inventory.load(keys)
    with open(descriptions, encoding="utf-8") as fh:
        desc = Descriptions(json.load(fh))
    problems: list[str] = []
    out: dict[str, dict] = {}
    for v, lines in VERSION_LINES.items():
        b = Builder(inv, desc, lines, union=len(lines) > 1, problems=problems)
        pattern = catalog.version(v).plugin_key_pattern
        disabled = catalog.version(v).disabled_pattern
        name = catalog.version(v).schema
        out[name] = b.document(
            file_name=name,
            title=f"containerd config.toml version {v} (containerd {_line_list(list(lines))})",
            config_version=v, v1_keys=(v == min(VERSION_LINES)), plugin_key_pattern=pattern,
            disabled_pattern=disabled)
    for line in LINES:
        b = Builder(inv, desc, (line,), union=False, problems=problems)
        cv = inv.lines[line]["config_version"]
        pattern = catalog.line(line).plugin_key_pattern
        disabled = catalog.line(line).disabled_pattern
        name = catalog.line(line).schema
        out[name] = b.document(
            file_name=name,
            title=f"containerd {line} config.toml (version {cv}, {inv.lines[line]['release']})",
            config_version=cv, v1_keys=False, plugin_key_pattern=pattern,
            disabled_pattern=disabled)
    for entry in desc.unused():
        problems.append(f"descriptions.json entry matches no key: {entry}")
    return out, problems


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def count_keys(schema: dict) -> int:
    """Number of named properties, recursively (map values and list items included)."""
    n = 0
    stack = [schema]
    while stack:
        s = stack.pop()
        if not isinstance(s, dict):
            continue
        props = s.get("properties", {})
        n += len(props)
        stack.extend(props.values())
        for k in ("additionalProperties", "items"):
            if isinstance(s.get(k), dict):
                stack.append(s[k])
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keys", type=Path, default=default_keys_dir(),
                    help="key inventory directory (default: ../shared/spec/keys)")
    ap.add_argument("--out", type=Path, default=REPO / "schemas", help="output directory")
    ap.add_argument("--descriptions", type=Path, default=None,
                    help="descriptions file (default: <repo>/schemas/descriptions.json)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if a file in --out differs from the generated one")
    ap.add_argument("--strict", action="store_true",
                    help="exit 2 when the generator noticed inventory/description problems")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    descriptions = args.descriptions or REPO / "schemas" / "descriptions.json"
    if not (args.keys / catalog.line(LINES[0]).inventory).is_file():
        print(f"inventory not found in {args.keys}", file=sys.stderr)
        return 3
    schemas, problems = build_all(args.keys, descriptions)
    for p in problems:
        print(f"note: {p}", file=sys.stderr)
    differs = []
    for name, schema in sorted(schemas.items()):
        text = render(schema)
        target = args.out / name
        if args.check:
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                differs.append(name)
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        if not args.quiet:
            print(f"{target}: {count_keys(schema)} keys")
    if differs:
        print("out of date: " + ", ".join(differs), file=sys.stderr)
        return 1
    if args.strict and problems:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The JSON Schema walker that stands in for jsonschema on the generated schemas.

    supported(schema)              # whether every subschema keeps to the keywords below
    iter_errors(schema, instance)  # [Error], what Draft202012Validator(schema).iter_errors gives

The generated schemas (schemas/*.json) use a dozen keywords of draft 2020-12. For them
`iter_errors` yields what jsonschema's Draft202012Validator.iter_errors yields (same keyword,
value, instance, schema, path and message, per jsonschema 4's _keywords.py and type checker),
without importing jsonschema (~0.1 s) or building a validator object per subschema. A schema
that uses any other validation keyword, a boolean subschema or an unknown type is not
`supported`: its caller asks jsonschema itself. tests/test_speed_equivalence.py holds the two
to the same answers.
"""
from __future__ import annotations

import numbers
import re
from collections.abc import Mapping, Sequence
from typing import Any

Schema = dict[str, Any]
KeyPath = tuple[Any, ...]

_JSONSCHEMA_2020_12 = frozenset({
    "$dynamicRef", "$ref", "additionalProperties", "allOf", "anyOf", "const", "contains",
    "dependentRequired", "dependentSchemas", "enum", "exclusiveMaximum", "exclusiveMinimum",
    "format", "if", "items", "maxContains", "maxItems", "maxLength", "maxProperties", "maximum",
    "minContains", "minItems", "minLength", "minProperties", "minimum", "multipleOf", "not",
    "oneOf", "pattern", "patternProperties", "prefixItems", "properties", "propertyNames",
    "required", "type", "unevaluatedItems", "unevaluatedProperties", "uniqueItems"})
_SUPPORTED = frozenset({"type", "properties", "additionalProperties", "items", "pattern",
                        "minimum", "maximum", "propertyNames", "const", "required", "enum",
                        "if", "then"})
_TYPES = frozenset({"array", "boolean", "integer", "null", "number", "object", "string"})


class Error:
    """The attributes of a jsonschema ValidationError that `_convert` reads."""
    __slots__ = ("message", "validator", "validator_value", "instance", "schema",
                 "absolute_path", "relative_schema_path")

    def __init__(self, message: str, validator: str, value: Any, instance: Any, schema: Schema,
                 path: KeyPath, names: bool) -> None:
        self.message = message
        self.validator = validator
        self.validator_value = value
        self.instance = instance
        self.schema = schema
        self.absolute_path = path
        # only "is it below propertyNames" is ever asked of the schema path
        self.relative_schema_path = ("propertyNames", validator) if names else (validator,)


def supported(schema: Schema) -> bool:
    """Whether `iter_errors` can check this schema (else: jsonschema)."""
    def ok(node: Any) -> bool:
        if not isinstance(node, dict):
            return False  # a boolean subschema
        for k, v in node.items():
            if k in _JSONSCHEMA_2020_12 and k not in _SUPPORTED:
                return False
        types = node.get("type")
        if types is not None and not all(
                isinstance(t, str) and t in _TYPES
                for t in (types if isinstance(types, list) else [types])):
            return False
        if "pattern" in node and not isinstance(node["pattern"], str):
            return False
        subs = list(node.get("properties", {}).values()) if isinstance(
            node.get("properties", {}), dict) else [None]
        for k in ("items", "propertyNames", "if", "then"):
            if k in node:
                subs.append(node[k])
        if isinstance(node.get("additionalProperties"), dict):
            subs.append(node["additionalProperties"])
        return all(ok(sub) for sub in subs)
    return ok(schema)


_NODES: dict[int, tuple[Schema, KeyPath]] = {}
_PATTERNS: dict[str, re.Pattern[str]] = {}


def _keywords(node: Schema) -> KeyPath:
    hit = _NODES.get(id(node))
    if hit is None or hit[0] is not node:
        hit = _NODES[id(node)] = (node, tuple((k, v) for k, v in node.items() if k in _SUPPORTED))
    return hit[1]


def _is_type(instance: Any, name: str) -> bool:
    if name == "object":
        return isinstance(instance, dict)
    if name == "string":
        return isinstance(instance, str)
    if name == "boolean":
        return isinstance(instance, bool)
    if name == "array":
        return isinstance(instance, list)
    if isinstance(instance, bool):
        return False  # bool is an int in Python, not in JSON Schema
    if name == "integer":
        return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())
    if name == "number":
        return isinstance(instance, numbers.Number)
    return instance is None  # "null"


def _equal(one: Any, two: Any) -> bool:
    """jsonschema's `equal`: like ==, but True is not 1 and False is not 0, also inside."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(k in two and _equal(v, two[k])
                                            for k, v in one.items())
    if isinstance(one, bool) or isinstance(two, bool):
        return one is two
    return bool(one == two)


def _errors(node: Schema, instance: Any, path: KeyPath, names: bool, out: list[Error]) -> None:
    for k, v in _keywords(node):
        if k == "properties":
            if isinstance(instance, dict):
                for prop, sub in v.items():
                    if prop in instance:
                        _errors(sub, instance[prop], path + (prop,),
                                names or prop == "propertyNames", out)
        elif k == "type":
            types = v if isinstance(v, list) else [v]
            if not any(_is_type(instance, t) for t in types):
                out.append(Error(f"{instance!r} is not of type "
                                  f"{', '.join(repr(t) for t in types)}",
                                  k, v, instance, node, path, names))
        elif k == "additionalProperties":
            if not isinstance(instance, dict):
                continue
            props = node.get("properties", {})
            extras = [p for p in instance if p not in props]
            if isinstance(v, dict):
                for extra in extras:
                    _errors(v, instance[extra], path + (extra,), names, out)
            elif not v and extras:
                shown = sorted(extras, key=str)
                out.append(Error("Additional properties are not allowed (%s %s unexpected)" % (
                    ", ".join(repr(e) for e in shown), "was" if len(shown) == 1 else "were"),
                    k, v, instance, node, path, names))
        elif k == "items":
            if isinstance(instance, list):
                for i, item in enumerate(instance):
                    _errors(v, item, path + (i,), names, out)
        elif k == "pattern":
            if isinstance(instance, str):
                rx = _PATTERNS.get(v)
                if rx is None:
                    rx = _PATTERNS[v] = re.compile(v)
                if not rx.search(instance):
                    out.append(Error(f"{instance!r} does not match {v!r}", k, v, instance,
                                      node, path, names))
        elif k in ("minimum", "maximum"):
            if _is_type(instance, "number"):
                if k == "minimum" and instance < v:
                    out.append(Error(f"{instance!r} is less than the minimum of {v!r}", k, v,
                                      instance, node, path, names))
                elif k == "maximum" and instance > v:
                    out.append(Error(f"{instance!r} is greater than the maximum of {v!r}", k,
                                      v, instance, node, path, names))
        elif k == "propertyNames":
            if isinstance(instance, dict):
                for prop in instance:
                    _errors(v, prop, path, True, out)
        elif k == "const":
            if not _equal(instance, v):
                out.append(Error(f"{v!r} was expected", k, v, instance, node, path, names))
        elif k == "enum":
            if all(not _equal(each, instance) for each in v):
                out.append(Error(f"{instance!r} is not one of {v!r}", k, v, instance, node,
                                  path, names))
        elif k == "if":
            # if/then (the runc options closed by runtime_type): `then` applies where `if` holds
            then = node.get("then")
            if isinstance(then, dict):
                probe: list[Error] = []
                _errors(v, instance, path, names, probe)
                if not probe:
                    _errors(then, instance, path, names, out)
        elif k == "required":
            if isinstance(instance, dict):
                for prop in v:
                    if prop not in instance:
                        out.append(Error(f"{prop!r} is a required property", k, v, instance,
                                          node, path, names))


def iter_errors(schema: Schema, instance: Any) -> list[Error]:
    """The errors of `instance`, as Draft202012Validator(schema).iter_errors finds them; only
    for a schema that is `supported`."""
    out: list[Error] = []
    _errors(schema, instance, (), False, out)
    return out

"""A small structural type vocabulary: what a document fragment, an argument or an output may be.

Action types and Cloudflare operations declare their arguments and outputs with
it, and the spec compiler checks every value, reference and expectation
against those declarations without running anything. It is plain data, with
no pydantic, so declaring costs nothing at import.

Types are JSON Schema's names (``string``, ``integer``, ``number``, ``boolean``,
``null``, ``array``, ``object``); an empty set means anything. An object either
has known keys (``record``: any other key is an error) or open keys whose
values share one shape (``mapping``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator, Mapping

from ops.documents.problem import Path_, did_you_mean

__all__ = ["ANY", "BOOLEAN", "INTEGER", "NUMBER", "STRING", "Shape", "array", "check_value", "from_json_schema",
           "mapping", "nullable", "one_of", "optional", "record", "secret", "shape_of_value", "walk"]


@dataclass(frozen=True)
class Shape:
    types: frozenset[str] = frozenset()
    keys: Mapping[str, Shape] | None = field(default=None, compare=False)
    values: Shape | None = None  # an open object's values, or an array's items
    required: bool = True  # as a key of a record
    secret: bool = False  # carries a secret: only a secret param may fill it

    def get(self, key: str) -> Shape | None:
        """The shape at ``key`` (a digit indexes an array); None when nothing can be there."""
        if not self.types:
            return ANY
        if "object" in self.types:
            if self.keys is not None:
                return self.keys.get(key)
            return self.values or ANY
        if "array" in self.types and key.isdigit():
            return self.values or ANY
        return None

    def at(self, path: list[str]) -> tuple[Shape | None, int]:
        """The shape at a dotted path, and how many of its parts exist (all of them when found)."""
        current: Shape | None = self
        for index, part in enumerate(path):
            below = current.get(part) if current is not None else None
            if below is None:
                return None, index
            current = below
        return current, len(path)

    def known_keys(self) -> list[str]:
        return sorted(self.keys) if self.keys is not None else []

    def admits(self, other: Shape) -> bool:
        """Whether a value of shape ``other`` may be given where this shape is wanted."""
        if not self.types or not other.types:
            return True
        wanted = self.types | ({"integer"} if "number" in self.types else set())
        return bool(other.types & wanted)

    def describe(self) -> str:
        if not self.types:
            return "anything"
        names = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
                 "null": "null", "array": "a list", "object": "a mapping"}
        return " or ".join(names.get(t, t) for t in sorted(self.types, key=_ORDER.index))


_ORDER = ["string", "integer", "number", "boolean", "array", "object", "null"]
ANY = Shape()
STRING = Shape(frozenset({"string"}))
INTEGER = Shape(frozenset({"integer"}))
NUMBER = Shape(frozenset({"number"}))
BOOLEAN = Shape(frozenset({"boolean"}))


def record(**keys: Shape) -> Shape:
    return Shape(frozenset({"object"}), keys=dict(keys))


def mapping(values: Shape = ANY) -> Shape:
    return Shape(frozenset({"object"}), values=values)


def array(items: Shape = ANY) -> Shape:
    return Shape(frozenset({"array"}), values=items)


def nullable(shape: Shape) -> Shape:
    return replace(shape, types=shape.types | {"null"}) if shape.types else shape


def secret(shape: Shape) -> Shape:
    """An argument that carries a secret (in a pydantic model: ``json_schema_extra={"secret": True}``)."""
    return replace(shape, secret=True)


def optional(shape: Shape) -> Shape:
    """A record key that may be left out."""
    return replace(shape, required=False)


def one_of(*shapes: Shape) -> Shape:
    if any(not s.types for s in shapes):
        return ANY
    keyed = [s for s in shapes if s.keys is not None or s.values is not None]
    base = keyed[0] if keyed else shapes[0]
    return replace(base, types=frozenset().union(*(s.types for s in shapes)))


def shape_of_value(value: Any) -> Shape:
    """The shape of a literal value."""
    if value is None:
        return Shape(frozenset({"null"}))
    for kind, python in (("boolean", bool), ("integer", int), ("number", float), ("string", str), ("array", list),
                         ("object", dict)):
        if isinstance(value, python):
            return Shape(frozenset({kind}))
    return ANY


def from_json_schema(schema: Mapping[str, Any], defs: Mapping[str, Any] | None = None) -> Shape:
    """The shape a JSON Schema (as pydantic writes it) describes: types, properties, required, items."""
    defs = defs if defs is not None else schema.get("$defs", {})
    shape = _from_json_schema(schema, defs)
    return replace(shape, secret=True) if schema.get("secret") is True else shape


def _from_json_schema(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Shape:
    if "$ref" in schema:
        return from_json_schema(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return one_of(*(from_json_schema(s, defs) for s in schema[combinator]))
    if "const" in schema or "enum" in schema:
        values = schema.get("enum", [schema.get("const")])
        return one_of(*(shape_of_value(v) for v in values)) if values else ANY
    kind = schema.get("type")
    types = frozenset(kind if isinstance(kind, list) else [kind] if kind else [])
    if "object" in types and "properties" in schema:
        required = set(schema.get("required", []))
        keys = {name: replace(from_json_schema(prop, defs), required=name in required)
                for name, prop in schema["properties"].items()}
        if schema.get("additionalProperties", False) is False:
            return Shape(types, keys=keys)
    if "object" in types:
        extra = schema.get("additionalProperties")
        return Shape(types, values=from_json_schema(extra, defs) if isinstance(extra, dict) else ANY)
    if "array" in types:
        items = schema.get("items")
        return Shape(types, values=from_json_schema(items, defs) if isinstance(items, dict) else ANY)
    return Shape(types)


Typeof = Callable[[str], "Shape | None"]


def check_value(value: Any, shape: Shape, path: Path_, typeof: Typeof, *, literals: bool = True) -> Iterator[tuple[Path_, str]]:
    """Where ``value`` does not fit ``shape``, with what is wrong.

    ``typeof(text)`` gives the shape a string resolves to when it holds a
    reference (a template), or None when it is literal text. With
    ``literals=False`` only references are checked (the literals were checked
    elsewhere, e.g. by the JSON Schema).
    """
    if isinstance(value, str):
        resolved = typeof(value)
        if resolved is not None:
            if not shape.admits(resolved):
                yield path, f"{value.strip()} is {resolved.describe()}, but this takes {shape.describe()}"
            return
    if literals and not shape.admits(shape_of_value(value)):
        yield path, f"expected {shape.describe()}, got {shape_of_value(value).describe()}"
        return
    if isinstance(value, dict):
        yield from _check_mapping(value, shape, path, typeof, literals)
    elif isinstance(value, list) and shape.values is not None:
        for index, item in enumerate(value):
            yield from check_value(item, shape.values, (*path, index), typeof, literals=literals)


def _check_mapping(value: dict[str, Any], shape: Shape, path: Path_, typeof: Typeof, literals: bool) -> Iterator[tuple[Path_, str]]:
    if shape.keys is None:
        if shape.values is not None:
            for key, item in value.items():
                yield from check_value(item, shape.values, (*path, key), typeof, literals=literals)
        return
    for key, item in value.items():
        below = shape.keys.get(key)
        if below is None:
            if literals:
                yield (*path, key), f"unknown key {key!r}{did_you_mean(key, shape.keys) or '; known: ' + ', '.join(shape.keys)}"
            continue
        yield from check_value(item, below, (*path, key), typeof, literals=literals)
    if literals:
        missing = [k for k, s in shape.keys.items() if s.required and k not in value]
        for key in missing:
            yield path, f"missing required key {key!r}"


def walk(value: Any, shape: Shape, path: Path_) -> Iterator[tuple[Path_, Any, Shape]]:
    """Each part of ``value`` with the shape declared for it, outermost first."""
    yield path, value, shape
    if isinstance(value, dict):
        for key, item in value.items():
            below = shape.get(str(key))
            if below is not None:
                yield from walk(item, below, (*path, key))
    elif isinstance(value, list) and shape.values is not None:
        for index, item in enumerate(value):
            yield from walk(item, shape.values, (*path, index))

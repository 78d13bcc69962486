"""YAML to plain data plus the position of every node, under a node and a depth budget.

The document is built straight from ruamel.yaml's event stream, never through
its composer or constructor, so nothing is materialised that the budgets have
not paid for: each node costs one, an alias costs the size of what it repeats
(an alias bomb stops at the alias whose expansion crosses the budget), and
nesting stops at the node that is one level too deep. Only YAML's core tags
(``!!str``, ``!!int``, ``!!float``, ``!!bool``, ``!!null``, ``!!seq``,
``!!map``, ``!!merge``) are accepted; any other tag (``!!python/…``,
``!custom``) is an error. Scalars are resolved by the YAML 1.2 core schema
(``yes`` is a string).

Merge keys (``<<: *defaults`` or ``<<: [*a, *b]``) work as in ruamel.yaml's
own loader: the mapping's own keys win, then the merged mappings in order.
What an alias or a merge repeats keeps the positions of where it is written,
so a problem in a shared block is reported at the anchor's line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ops.documents.problem import DocumentError, Path_, Problem
from ops.documents.source import Source, read_text

__all__ = ["Budget", "Document", "load_yaml", "parse_yaml"]

CORE = "tag:yaml.org,2002:"
_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
# YAML's printable set (1.2, 5.1): anything else is refused by the reader, so find it first, with its position.
_UNPRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_FLOW_SIGNIFICANT = re.compile(r"""[\[\]{}"'#\n]""")
_OPENS = ("while parsing a flow mapping", "while parsing a flow sequence", "while scanning a quoted scalar")


@dataclass(frozen=True)
class Budget:
    max_bytes: int
    max_nodes: int
    max_depth: int


@dataclass
class Document:
    name: str
    data: Any = None
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)  # a key's, or a list item's
    scalars: dict[Path_, tuple[int, int]] = field(default_factory=dict)  # where a one-line scalar's text starts


def load_yaml(path: Path, budget: Budget, *, what: str, display: str | None = None, root: Path | None = None) -> Document:
    """Read and parse one YAML file; a ``DocumentError`` names the first problem and where it is."""
    return parse_yaml(read_text(path, max_bytes=budget.max_bytes, what=what, display=display, root=root), budget)


def parse_yaml(source: Source, budget: Budget) -> Document:
    _refuse_unprintable(source)
    _refuse_deep_flow(source, budget.max_depth)
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    document = Document(source.name)
    builder = _Builder(source.name, budget, document)
    try:
        document.data = builder.stream(iter(YAML(typ="safe", pure=True).parse(source.text)))
    except MarkedYAMLError as exc:
        raise DocumentError(_syntax(source.name, exc, builder.long_quote)) from None
    except YAMLError as exc:
        raise DocumentError(Problem(source.name, 1, 1, "$", f"YAML syntax: {_first_line(str(exc))}")) from None
    return document


class _Builder:
    def __init__(self, name: str, budget: Budget, document: Document) -> None:
        self.name = name
        self.budget = budget
        self.positions = document.positions
        self.scalars = document.scalars
        self.nodes = 0
        self.long_quote: tuple[int, int, int] | None = None  # the last quoted scalar over lines: start line, col, end line
        self.anchors: dict[str, _Anchor] = {}
        self.placed: list[tuple[Path_, bool, tuple[int, int]]] = []  # (path, is a scalar's start, position), in order

    def stream(self, events: Iterator[Any]) -> Any:
        data = None
        documents = 0
        for event in events:
            kind = type(event).__name__
            if kind == "DocumentStartEvent":
                documents += 1
                if documents > 1:
                    raise self.error(event, "a second YAML document (---); one file holds one document")
                data = self.node(next(events), events, (), 1)[0]
        return data

    def node(self, event: Any, events: Iterator[Any], path: Path_, depth: int) -> tuple[Any, int, int]:
        """(value, nodes it holds, its height) for the node that starts with ``event``."""
        kind = type(event).__name__
        if depth > self.budget.max_depth:
            raise self.error(event, f"nested more than {self.budget.max_depth} levels deep; flatten the structure")
        if kind == "AliasEvent":
            return self.alias(event, path, depth)
        self.spend(event, 1)
        start = len(self.placed)
        if kind == "ScalarEvent":
            built: tuple[Any, int, int] = (self.scalar(event), 1, 1)
            line, col = _at(event)
            if event.end_mark is not None and event.end_mark.line + 1 == line:
                self.place(path, (line, col + (1 if event.style in ("'", '"') else 0)), scalar=True)
            elif event.end_mark is not None and event.style in ("'", '"'):
                self.long_quote = (line, col, event.end_mark.line + 1)
        elif kind == "SequenceStartEvent":
            self.check_tag(event, "seq")
            built = self.sequence(events, path, depth)
        elif kind == "MappingStartEvent":
            self.check_tag(event, "map")
            built = self.mapping(events, path, depth)
        else:
            raise self.error(event, f"unexpected {kind}")
        if event.anchor is not None:
            cut = len(path)
            inside = [(where[cut:], scalar, at) for where, scalar, at in self.placed[start:]]
            self.anchors[event.anchor] = _Anchor(*built, _at(event), inside)
        return built

    def place(self, path: Path_, at: tuple[int, int], *, scalar: bool = False) -> None:
        (self.scalars if scalar else self.positions)[path] = at
        self.placed.append((path, scalar, at))

    def sequence(self, events: Iterator[Any], path: Path_, depth: int) -> tuple[Any, int, int]:
        items: list[Any] = []
        size, height = 1, 1
        for event in events:
            if type(event).__name__ == "SequenceEndEvent":
                break
            child = (*path, len(items))
            self.place(child, _at(event))
            value, n, h = self.node(event, events, child, depth + 1)
            items.append(value)
            size, height = size + n, max(height, h + 1)
        return items, size, height

    def mapping(self, events: Iterator[Any], path: Path_, depth: int) -> tuple[Any, int, int]:
        out: dict[str, Any] = {}
        merged: list[_Anchor] = []
        merge_at: tuple[int, int] | None = None
        size, height = 1, 1
        for event in events:
            if type(event).__name__ == "MappingEndEvent":
                break
            if _is_merge_key(event):
                if merge_at is not None:
                    raise self.error(event, f"a second merge key << (the first at line {merge_at[0]}); "
                                            "merge several mappings with one: <<: [*a, *b]")
                self.spend(event, 1)
                merge_at = _at(event)
                merged = self.merge_sources(next(events), events, path, depth)
                size += sum(m.size for m in merged)
                height = max([height, *(m.height for m in merged)])
                continue
            key = self.key(event)
            child = (*path, key)
            if key in out:
                line, _ = self.positions[child]
                raise self.error(event, f"duplicate key {key!r} (first at line {line}); keep one")
            self.place(child, _at(event))
            value, n, h = self.node(next(events), events, child, depth + 1)
            out[key] = value
            size, height = size + n, max(height, h + 1)
        for source in merged:  # the mapping's own keys win, then the earlier merged mapping
            for key, value in source.value.items():
                if key not in out:
                    out[key] = value
                    self.relocate(source, (key,), path)
        return out, size, height

    def merge_sources(self, event: Any, events: Iterator[Any], path: Path_, depth: int) -> list[_Anchor]:
        """The mappings a merge key names: one alias or mapping, or a list of them (ruamel.yaml's rule)."""
        kind = type(event).__name__
        if kind == "SequenceStartEvent":
            self.check_tag(event, "seq")
            self.spend(event, 1)
            sources: list[_Anchor] = []
            for item in events:
                if type(item).__name__ == "SequenceEndEvent":
                    return sources
                sources.append(self.merge_source(item, events, path, depth))
        return [self.merge_source(event, events, path, depth)]

    def merge_source(self, event: Any, events: Iterator[Any], path: Path_, depth: int) -> _Anchor:
        kind = type(event).__name__
        if kind == "AliasEvent":
            self.alias(event, None, depth)
            source = self.anchors[event.anchor]
        else:
            scratch = (*path, _MERGE)
            start = len(self.placed)
            value, size, height = self.node(event, events, scratch, depth)
            inside = [(where[len(scratch):], scalar, at) for where, scalar, at in self.placed[start:]]
            for where, scalar, _ in self.placed[start:]:
                (self.scalars if scalar else self.positions).pop(where, None)
            del self.placed[start:]  # placed again where its keys are merged
            source = _Anchor(value, size, height, _at(event), inside)
        if not isinstance(source.value, dict):
            found = "a list" if isinstance(source.value, list) else "a plain value"
            raise self.error(event, f"<< merges a mapping (or a list of mappings), but this is {found}; "
                                    "point it at a mapping: <<: *defaults")
        return source

    def relocate(self, source: _Anchor, prefix: Path_, path: Path_) -> None:
        """Place what ``source`` holds under ``prefix`` at ``path``, where it was written."""
        cut = len(prefix)
        for where, scalar, at in source.inside:
            if where[:cut] == prefix:
                self.place((*path, *where), at, scalar=scalar)

    def key(self, event: Any) -> str:
        kind = type(event).__name__
        if kind == "AliasEvent" and event.anchor in self.anchors and not isinstance(self.anchors[event.anchor].value, (dict, list)):
            return str(self.anchors[event.anchor].value)
        if kind != "ScalarEvent":
            raise self.error(event, "a key must be a plain value, not a list or a mapping")
        self.spend(event, 1)
        self.check_tag(event, "str")
        return str(event.value)

    def alias(self, event: Any, path: Path_ | None, depth: int) -> tuple[Any, int, int]:
        if event.anchor not in self.anchors:
            raise self.error(event, f"*{event.anchor} refers to no anchor; define &{event.anchor} before it")
        anchor = self.anchors[event.anchor]
        line, col = anchor.where
        if depth + anchor.height - 1 > self.budget.max_depth:
            raise self.error(event, f"expanding *{event.anchor} (anchored at {line}:{col}) nests more than "
                                    f"{self.budget.max_depth} levels deep; flatten the structure")
        self.nodes += anchor.size
        if self.nodes > self.budget.max_nodes:
            raise self.error(event, f"expanding *{event.anchor} (anchored at {line}:{col}) makes more than "
                                    f"{self.budget.max_nodes:,} values, an alias bomb; remove the anchors and aliases that multiply")
        if path is not None:
            self.relocate(anchor, (), path)
        return anchor.value, anchor.size, anchor.height

    def spend(self, event: Any, cost: int) -> None:
        self.nodes += cost
        if self.nodes > self.budget.max_nodes:
            raise self.error(event, f"more than {self.budget.max_nodes:,} values; a document this big is a mistake: "
                                    "remove the bulk")

    def scalar(self, event: Any) -> Any:
        tag = event.tag
        value: str = event.value
        if tag is None or tag == "!":
            plain = event.implicit[0] and event.style is None
            return _resolve(value) if plain and tag is None else value
        short = self.check_tag(event, "str", "int", "float", "bool", "null")
        converted: Any = _resolve(value) if short != "str" else value
        wanted: dict[str, type | tuple[type, ...]] = {"int": int, "float": (int, float), "bool": bool,
                                                      "null": type(None), "str": str}
        if not isinstance(converted, wanted[short]) or (short in ("int", "float") and isinstance(converted, bool)):
            raise self.error(event, f"!!{short} {value!r} is not a valid {short}")
        return float(str(converted)) if short == "float" else converted

    def check_tag(self, event: Any, *allowed: str) -> str:
        tag = event.tag
        if tag is None or tag == "!":
            return allowed[0]
        if tag.startswith(CORE) and tag[len(CORE):] in allowed:
            return str(tag[len(CORE):])
        shown = "!!" + tag[len(CORE):] if tag.startswith(CORE) else tag
        raise self.error(event, f"unknown tag {shown}; tags are not allowed here: write plain values")

    def error(self, event: Any, message: str) -> DocumentError:
        line, col = _at(event)
        return DocumentError(Problem(self.name, line, col, "$", message))


@dataclass(frozen=True)
class _Anchor:
    """An anchored node: its value, the values it holds, its height, where it is, and the positions inside it."""

    value: Any
    size: int
    height: int
    where: tuple[int, int]
    inside: list[tuple[Path_, bool, tuple[int, int]]]


_MERGE = "<<"  # where an inline mapping after << is built before its keys are merged


def _is_merge_key(event: Any) -> bool:
    if type(event).__name__ != "ScalarEvent" or event.value != "<<" or event.style is not None:
        return False
    return event.tag in (None, CORE + "merge")


def _at(event: Any) -> tuple[int, int]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _resolve(value: str) -> Any:
    if _NULL.fullmatch(value):
        return None
    if _BOOL.fullmatch(value):
        return value.lower() == "true"
    if _INT.fullmatch(value):
        return int(value, 0) if value[:2] in ("0o", "0x") else int(value, 10)
    if _FLOAT.fullmatch(value):
        lowered = value.lower()
        return float(lowered.replace(".", "")) if lowered.endswith((".inf", ".nan")) else float(value)
    return value


def _refuse_unprintable(source: Source) -> None:
    found = _UNPRINTABLE.search(source.text)
    if found is not None:
        line, col = _line_col(source.text, found.start())
        raise DocumentError(Problem(source.name, line, col, "$", f"a control character (U+{ord(found.group()):04X}) "
                                                                 "YAML does not allow; remove it"))


def _refuse_deep_flow(source: Source, max_depth: int) -> None:
    """Find `[`/`{` nested too deep in one pass over the significant characters only.

    ruamel's scanner looks up to 1,024 characters ahead for every open flow
    collection (each might be a key), so deep flow nesting is slow to parse; this
    finds it first, without parsing.
    """
    text = source.text
    depth, quote, comment = 0, "", False
    for match in _FLOW_SIGNIFICANT.finditer(text):
        char, pos = match.group(), match.start()
        before = text[pos - 1] if pos else "\n"
        if comment:
            comment = char != "\n"
        elif quote:
            if char == quote and not (quote == '"' and _escaped(text, pos)):
                quote = ""
        elif char in "\"'":
            quote = char if before in " \t[{,:\n" else ""
        elif char == "#":
            comment = before in " \t\n"
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                line, col = _line_col(text, pos)
                raise DocumentError(Problem(source.name, line, col, "$",
                                            f"nested more than {max_depth} levels deep; flatten the structure"))
        elif char in "]}":
            depth = max(0, depth - 1)


def _escaped(text: str, pos: int) -> bool:
    backslashes = 0
    while pos - backslashes - 1 >= 0 and text[pos - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _line_col(text: str, pos: int) -> tuple[int, int]:
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _syntax(name: str, exc: Any, long_quote: tuple[int, int, int] | None) -> Problem:
    """A parser error at the right place: where an unclosed construct opens, and where the parser gave up."""
    problem = _first_line(exc.problem or "invalid YAML")
    gave_up, opened = exc.problem_mark, exc.context_mark
    if long_quote is not None and gave_up is not None and long_quote[2] == gave_up.line + 1:
        line, col, end = long_quote
        return Problem(name, line, col, "$", f"YAML syntax: the quoted string that opens here runs on to line {end}, "
                                             f"where the parser gave up at {end}:{gave_up.column + 1} ({problem}); "
                                             "is its closing quote missing?")
    if exc.context in _OPENS and opened is not None and gave_up is not None and gave_up.line != opened.line:
        construct = exc.context.split(" ", 2)[2]
        return Problem(name, opened.line + 1, opened.column + 1, "$",
                       f"YAML syntax: {construct} opens here and is never closed; the parser gave up at "
                       f"{gave_up.line + 1}:{gave_up.column + 1}: {problem}")
    mark = gave_up or opened
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    context = f"{exc.context} at {opened.line + 1}:{opened.column + 1}: " if exc.context and opened is not None else (
        f"{exc.context}: " if exc.context else "")
    return Problem(name, line, col, "$", f"YAML syntax: {context}{problem}")


def _first_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else text
    return first.rstrip(":").strip()

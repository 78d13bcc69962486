"""JSON and JSONC (``//`` and ``/* */`` comments, trailing commas) with the position of every key.

One recursive-descent parser keeps each key's (line, column) and each value's
``[start, end)`` offsets, so a config's problems are located and ``edit`` can
replace one value's text in place, keeping comments and layout. Errors are a
``DocumentError`` at the line and column where parsing stopped, with the JSON
path of the value being read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ops.documents.problem import DocumentError, Path_, Problem, json_path
from ops.documents.source import Source

__all__ = ["MAX_DEPTH", "Parsed", "parse_jsonc"]

MAX_DEPTH = 64


@dataclass
class Parsed:
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)  # where each key (or list item) is written
    spans: dict[Path_, tuple[int, int]] = field(default_factory=dict)      # each value's [start, end) offsets


def parse_jsonc(source: Source, *, what: str = "document") -> Parsed:
    return _Parser(source, what).parse()


class _Parser:
    def __init__(self, source: Source, what: str) -> None:
        self.text, self.name, self.what, self.i = source.text, source.name, what, 0
        self.path: Path_ = ()
        self.parsed = Parsed(None)

    def parse(self) -> Parsed:
        self._skip()
        if self.i >= len(self.text):
            self._fail(f"the {self.what} is empty; it must be a JSON object")
        self.parsed.data = self._value((), 0)
        self._skip()
        if self.i < len(self.text):
            self._fail(f"unexpected {self.text[self.i]!r} after the end of the {self.what}")
        return self.parsed

    def _where(self, at: int | None = None) -> tuple[int, int]:
        at = self.i if at is None else at
        line = self.text.count("\n", 0, at) + 1
        return line, at - (self.text.rfind("\n", 0, at) + 1) + 1

    def _fail(self, message: str) -> None:
        line, col = self._where()
        raise DocumentError(Problem(self.name, line, col, json_path(self.path), message))

    def _skip(self) -> None:
        text = self.text
        while self.i < len(text):
            if text[self.i] in " \t\r\n":
                self.i += 1
            elif text.startswith("//", self.i):
                end = text.find("\n", self.i)
                self.i = len(text) if end < 0 else end
            elif text.startswith("/*", self.i):
                end = text.find("*/", self.i + 2)
                if end < 0:
                    self._fail("a /* comment is never closed; close it with */")
                self.i = end + 2
            else:
                return

    def _value(self, key: Path_, depth: int) -> Any:
        start, outer, self.path = self.i, self.path, key
        value = self._parse_value(key, depth)
        self.parsed.spans[key] = (start, self.i)
        self.path = outer
        return value

    def _parse_value(self, key: Path_, depth: int) -> Any:
        if depth > MAX_DEPTH:
            self._fail(f"nested more than {MAX_DEPTH} levels deep; flatten the structure")
        ch = self.text[self.i] if self.i < len(self.text) else ""
        if ch == "{":
            return self._object(key, depth)
        if ch == "[":
            return self._array(key, depth)
        if ch == '"':
            return self._string()
        return self._literal()

    def _object(self, key: Path_, depth: int) -> dict[str, Any]:
        self.i += 1
        out: dict[str, Any] = {}
        while True:
            self._skip()
            if self._peek("}"):
                return out
            if self.i >= len(self.text) or self.text[self.i] != '"':
                self._fail("expected a quoted key or }")
            start = self.i
            name = self._string()
            self.parsed.positions[(*key, name)] = self._where(start)
            self._skip()
            if not self._peek(":", consume=True):
                self._fail(f"expected ':' after the key {name!r}")
            self._skip()
            out[name] = self._value((*key, name), depth + 1)
            self._skip()
            if self._peek("}"):
                return out
            if not self._peek(",", consume=True):
                self._fail("expected ',' or '}'")

    def _array(self, key: Path_, depth: int) -> list[Any]:
        self.i += 1
        out: list[Any] = []
        while True:
            self._skip()
            if self._peek("]"):
                return out
            self.parsed.positions[(*key, len(out))] = self._where()
            out.append(self._value((*key, len(out)), depth + 1))
            self._skip()
            if self._peek("]"):
                return out
            if not self._peek(",", consume=True):
                self._fail("expected ',' or ']'")

    def _peek(self, ch: str, consume: bool = False) -> bool:
        if self.i < len(self.text) and self.text[self.i] == ch:
            if ch in "}]" or consume:
                self.i += 1
            return True
        return False

    def _string(self) -> str:
        start, self.i = self.i, self.i + 1
        while self.i < len(self.text):
            ch = self.text[self.i]
            if ch == "\\":
                self.i += 2
                continue
            if ch == '"':
                self.i += 1
                try:
                    value: str = json.loads(self.text[start:self.i])
                    return value
                except json.JSONDecodeError as exc:
                    self.i = start
                    self._fail(f"invalid string: {exc.msg}")
            if ch == "\n":
                break
            self.i += 1
        self.i = start
        self._fail("a string is never closed; close it with \" on the same line")
        return ""

    def _literal(self) -> Any:
        start = self.i
        while self.i < len(self.text) and self.text[self.i] not in ",]} \t\r\n/":
            self.i += 1
        word = self.text[start:self.i]
        if word in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[word]
        try:
            return json.loads(word)
        except json.JSONDecodeError:
            self.i = start
            self._fail(f"unexpected {word[:20] or self.text[start:start + 1]!r}: expected a value")
        return None

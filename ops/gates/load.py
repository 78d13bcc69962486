"""Parse wrangler configs into data plus the position (line, column) of every key.

TOML values come from tomllib; positions from a small TOML lexer that follows
table headers, arrays of tables, keys and inline tables (it never interprets
values). JSON and JSONC (comments, trailing commas) go through one
position-keeping recursive-descent parser. Every parse error becomes a
``ConfigError`` naming the file, line and column.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.errors import ConfigError

Key = tuple[str | int, ...]
MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64


@dataclass
class Config:
    path: Path
    data: dict[str, Any]
    positions: dict[Key, tuple[int, int]] = field(default_factory=dict)

    def where(self, key: Key) -> tuple[int, int]:
        """Where ``key`` is written; else where its first written member is (``[[a.b]]`` writes ``a`` only
        through ``a.b``); else its nearest written parent; else the file's start."""
        for end in range(len(key), 0, -1):
            prefix = key[:end]
            if prefix in self.positions:
                return self.positions[prefix]
            inside = [at for written, at in self.positions.items() if written[:end] == prefix]
            if inside:
                return min(inside)
        return (1, 1)


def load_config(path: Path) -> Config:
    text = _read(path)
    if path.suffix == ".toml":
        return _toml(path, text)
    data, positions = JsoncParser(text, path).parse()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1:1: a wrangler config is an object at the top level")
    return Config(path, data, positions)


def _read(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{path}:1:1: the config is {len(raw):,} bytes; wrangler configs are small: check the file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(f"{path}:{line}:{col}: invalid UTF-8; save the config as UTF-8") from None


def _toml(path: Path, text: str) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}; fix the TOML syntax") from None
    except RecursionError:
        raise ConfigError(f"{path}:1:1: nested too deeply") from None
    return Config(path, data, TomlLocator(text).locate())


class TomlLocator:
    """Positions of TOML keys: headers, AoT items, assignments, inline-table members."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.positions: dict[Key, tuple[int, int]] = {}
        self.aot_counts: dict[Key, int] = {}

    def locate(self) -> dict[Key, tuple[int, int]]:
        table: Key = ()
        index = 0
        while index < len(self.lines):
            raw = self.lines[index]
            stripped = raw.lstrip()
            col = len(raw) - len(stripped) + 1
            if stripped.startswith("[["):
                path = _dotted(stripped[2:stripped.find("]]")])
                count = self.aot_counts.get(path, 0)
                self.aot_counts[path] = count + 1
                table = (*path, count)
                self.positions.setdefault(path, (index + 1, col))
                self.positions[table] = (index + 1, col)
            elif stripped.startswith("["):
                table = _dotted(stripped[1:stripped.find("]")])
                self.positions.setdefault(table, (index + 1, col))
            elif stripped and not stripped.startswith("#") and "=" in stripped:
                key_text = _key_part(stripped)
                key = (*table, *_dotted(key_text))
                self.positions.setdefault(key, (index + 1, col))
                value = stripped[stripped.find("=", len(key_text)) + 1:]
                index = self._value(key, value, index, raw.find(value.lstrip()) + 1 if value.strip() else col)
            index += 1
        return self.positions

    def _value(self, key: Key, value: str, index: int, col: int) -> int:
        """Record array items and inline-table members; return the last line the value spans."""
        text, line = value, index
        if text.lstrip().startswith(('"""', "'''")):
            quote = text.lstrip()[:3]
            if text.count(quote) < 2:
                line += 1
                while line < len(self.lines) and quote not in self.lines[line]:
                    line += 1
            return line
        if not text.lstrip().startswith(("[", "{")):
            return line
        scanner = _Scanner(self, key, index, col, text)
        while scanner.depth > 0 and line + 1 < len(self.lines):
            line += 1
            scanner.feed(self.lines[line], line, 0)
        return line


class _Scanner:
    """Walks a bracketed TOML value across lines, recording item and member positions."""

    def __init__(self, loc: TomlLocator, key: Key, line: int, col: int, text: str) -> None:
        self.loc, self.depth = loc, 0
        self.stack: list[tuple[str, Key, int]] = []
        self.key = key
        self.item: list[int] = []
        self.expect_member = False
        offset = len(loc.lines[line]) - len(text.lstrip())
        self.feed(text.lstrip(), line, offset)

    def feed(self, text: str, line: int, offset: int) -> None:
        i, quote = 0, ""
        while i < len(text):
            ch = text[i]
            if quote:
                if ch == "\\" and quote == '"':
                    i += 2
                    continue
                if ch == quote:
                    quote = ""
                i += 1
                continue
            if ch in "\"'":
                quote = ch
            elif ch == "#":
                return
            elif ch in "[{":
                self._open(ch, line, offset + i)
            elif ch in "]}":
                self.depth -= 1
                self.stack.pop()
            elif ch == "," and self.stack and self.stack[-1][0] == "[":
                self.stack[-1] = ("[", self.stack[-1][1], self.stack[-1][2] + 1)
            elif ch not in " \t" and self.stack and self.stack[-1][0] == "{" and self.expect_member:
                name = _key_part(text[i:])
                self.loc.positions.setdefault((*self.stack[-1][1], *_dotted(name)), (line + 1, offset + i + 1))
                self.expect_member = False
                i += len(name)
                continue
            if ch in "{,":
                self.expect_member = bool(self.stack) and self.stack[-1][0] == "{"
            i += 1

    def _open(self, ch: str, line: int, col: int) -> None:
        path: Key = self.key
        if self.stack:
            kind, parent, count = self.stack[-1]
            path = (*parent, count) if kind == "[" else parent
        if self.stack and self.stack[-1][0] == "[":
            self.loc.positions.setdefault(path, (line + 1, col + 1))
        self.stack.append((ch, path, 0))
        self.depth += 1
        self.expect_member = ch == "{"


def _key_part(text: str) -> str:
    out, quote = "", ""
    for ch in text:
        if quote:
            out += ch
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "=}, \t" and out.strip():
            if ch in " \t" and not out.endswith("."):
                rest = text[len(out):].lstrip()
                if rest.startswith("."):
                    out += ch
                    continue
            break
        out += ch
    return out.strip()


def _dotted(text: str) -> Key:
    parts, current, quote = [], "", ""
    for ch in text.strip():
        if quote:
            if ch == quote:
                quote = ""
            else:
                current += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return tuple(p for p in parts if p)


class JsoncParser:
    """JSON with // and /* */ comments and trailing commas, keeping every key's position."""

    def __init__(self, text: str, path: Path) -> None:
        self.text, self.path, self.i = text, path, 0
        self.positions: dict[Key, tuple[int, int]] = {}
        self.spans: dict[Key, tuple[int, int]] = {}  # each value's [start, end) offsets, for in-place edits

    def parse(self) -> tuple[Any, dict[Key, tuple[int, int]]]:
        self._skip()
        if self.i >= len(self.text):
            self._fail("the config is empty; it must be a JSON object")
        value = self._value((), 0)
        self._skip()
        if self.i < len(self.text):
            self._fail(f"unexpected {self.text[self.i]!r} after the end of the config")
        return value, self.positions

    def _where(self, at: int | None = None) -> tuple[int, int]:
        at = self.i if at is None else at
        line = self.text.count("\n", 0, at) + 1
        return line, at - (self.text.rfind("\n", 0, at) + 1) + 1

    def _fail(self, message: str) -> None:
        line, col = self._where()
        raise ConfigError(f"{self.path}:{line}:{col}: {message}")

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
                    self._fail("a /* comment is never closed")
                self.i = end + 2
            else:
                return

    def _value(self, key: Key, depth: int) -> Any:
        start = self.i
        value = self._parse_value(key, depth)
        self.spans[key] = (start, self.i)
        return value

    def _parse_value(self, key: Key, depth: int) -> Any:
        if depth > MAX_DEPTH:
            self._fail(f"nested more than {MAX_DEPTH} levels deep")
        ch = self.text[self.i] if self.i < len(self.text) else ""
        if ch == "{":
            return self._object(key, depth)
        if ch == "[":
            return self._array(key, depth)
        if ch == '"':
            return self._string()
        return self._literal()

    def _object(self, key: Key, depth: int) -> dict[str, Any]:
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
            self.positions[(*key, name)] = self._where(start)
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

    def _array(self, key: Key, depth: int) -> list[Any]:
        self.i += 1
        out: list[Any] = []
        while True:
            self._skip()
            if self._peek("]"):
                return out
            self.positions[(*key, len(out))] = self._where()
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
        self._fail("a string is never closed")
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

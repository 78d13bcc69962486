"""TOML with the position of every key: tomllib for the values, a small lexer for where keys are written.

The lexer follows table headers, arrays of tables, keys and inline tables (it
never interprets values). A syntax error is a ``DocumentError`` at the line and
column tomllib names.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from ops.documents.problem import DocumentError, Path_, Problem
from ops.documents.source import Source

__all__ = ["Parsed", "TomlLocator", "parse_toml"]

_AT = re.compile(r" \(at line (\d+), column (\d+)\)$")
_AT_END = " (at end of document)"


@dataclass
class Parsed:
    data: dict[str, Any]
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)


def parse_toml(source: Source) -> Parsed:
    try:
        data = tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:
        raise DocumentError(_syntax(source, str(exc))) from None
    except RecursionError:
        raise DocumentError(Problem(source.name, 1, 1, "$", "nested too deeply; flatten the structure")) from None
    return Parsed(data, TomlLocator(source.text).locate())


def _syntax(source: Source, message: str) -> Problem:
    at = _AT.search(message)
    if at is not None:
        line, col, message = int(at.group(1)), int(at.group(2)), message[:at.start()]
    elif message.endswith(_AT_END):
        lines = source.text.splitlines() or [""]
        line, col, message = len(lines), len(lines[-1]) + 1, message[:-len(_AT_END)] + " at the end of the file"
    else:
        line, col = 1, 1
    return Problem(source.name, line, col, "$", f"{message}; fix the TOML syntax")


class TomlLocator:
    """Positions of TOML keys: headers, AoT items, assignments, inline-table members."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.positions: dict[Path_, tuple[int, int]] = {}
        self.aot_counts: dict[Path_, int] = {}

    def locate(self) -> dict[Path_, tuple[int, int]]:
        table: Path_ = ()
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

    def _value(self, key: Path_, value: str, index: int, col: int) -> int:
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

    def __init__(self, loc: TomlLocator, key: Path_, line: int, col: int, text: str) -> None:
        self.loc, self.depth = loc, 0
        self.stack: list[tuple[str, Path_, int]] = []
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
        path: Path_ = self.key
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


def _dotted(text: str) -> Path_:
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

"""A small GraphQL reader for the queries the analytics emulator answers (one query operation),
and what its datasets share: arguments, ordering, times.

It reads the executable subset of the GraphQL grammar (June 2018 spec, section
2): an optional ``query Name($var: Type = default, …)`` header, fields with
aliases, arguments and sub-selections, and values (variables, numbers,
strings, booleans, null, enums, lists, objects). Fragments, directives,
mutations and subscriptions are refused with a message.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r'''
    (?P<skip>[\s,\ufeff]+|\#[^\n]*)
  | (?P<block>"""(?:[^"\\]|\\.|"(?!""))*""")
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
  | (?P<spread>\.\.\.)
  | (?P<punct>[!$():=@\[\]{}|&])
''', re.VERBOSE)


class GraphQLSyntaxError(ValueError):
    pass


class QueryError(Exception):
    """A query the API would refuse: answered as a GraphQL error at ``path``."""

    def __init__(self, message: str, path: list[str | int] | None = None) -> None:
        super().__init__(message)
        self.path = path


@dataclass
class Field:
    name: str
    alias: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    selections: list[Field] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass(frozen=True)
class Variable:
    name: str


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise GraphQLSyntaxError(f"unexpected character {text[pos]!r} at offset {pos}")
        pos = match.end()
        kind = match.lastgroup or ""
        if kind != "skip":
            tokens.append((kind, match.group()))
    return tokens


class _Reader:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("eof", "")

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        got_kind, got = self.peek()
        if (value is not None and got != value) or (kind is not None and got_kind != kind):
            raise GraphQLSyntaxError(f"expected {value or kind}, found {got or 'the end of the query'!r}")
        self.pos += 1
        return got

    def at(self, value: str) -> bool:
        return self.peek()[1] == value and self.peek()[0] in ("punct", "spread", "name")


def parse(text: str) -> tuple[list[Field], dict[str, Any]]:
    """The top-level fields of the one query, and the defaults of its variables."""
    r = _Reader(text)
    defaults: dict[str, Any] = {}
    kind, word = r.peek()
    if kind == "name":
        if word != "query":
            raise GraphQLSyntaxError(f"only queries are supported, not {word!r}")
        r.take()
        if r.peek()[0] == "name":
            r.take()
        if r.at("("):
            r.take("(")
            while not r.at(")"):
                r.take("$")
                name = r.take(kind="name")
                r.take(":")
                _type(r)
                if r.at("="):
                    r.take("=")
                    defaults[name] = _value(r, const=True)
            r.take(")")
    selections = _selections(r)
    if r.peek()[0] != "eof":
        raise GraphQLSyntaxError("one operation per request; found more after the query")
    return selections, defaults


def _type(r: _Reader) -> None:
    if r.at("["):
        r.take("[")
        _type(r)
        r.take("]")
    else:
        r.take(kind="name")
    if r.at("!"):
        r.take("!")


def _selections(r: _Reader) -> list[Field]:
    r.take("{")
    fields: list[Field] = []
    while not r.at("}"):
        if r.peek()[0] == "spread":
            raise GraphQLSyntaxError("fragments are not supported here")
        name = r.take(kind="name")
        alias = None
        if r.at(":"):
            r.take(":")
            alias, name = name, r.take(kind="name")
        args: dict[str, Any] = {}
        if r.at("("):
            r.take("(")
            while not r.at(")"):
                arg = r.take(kind="name")
                r.take(":")
                args[arg] = _value(r)
            r.take(")")
        if r.at("@"):
            raise GraphQLSyntaxError("directives are not supported here")
        fields.append(Field(name, alias, args, _selections(r) if r.at("{") else []))
    r.take("}")
    if not fields:
        raise GraphQLSyntaxError("a selection set cannot be empty")
    return fields


def _value(r: _Reader, const: bool = False) -> Any:
    kind, token = r.peek()
    if token == "$" and not const:
        r.take("$")
        return Variable(r.take(kind="name"))
    r.take()
    if kind == "number":
        return float(token) if any(c in token for c in ".eE") else int(token)
    if kind == "string":
        return json.loads(token)
    if kind == "block":
        return token[3:-3]
    if kind == "name":
        return {"true": True, "false": False, "null": None}.get(token, token)
    if token == "[":
        items = []
        while not r.at("]"):
            items.append(_value(r, const))
        r.take("]")
        return items
    if token == "{":
        obj = {}
        while not r.at("}"):
            key = r.take(kind="name")
            r.take(":")
            obj[key] = _value(r, const)
        r.take("}")
        return obj
    raise GraphQLSyntaxError(f"unexpected {token!r} where a value belongs")


def resolve(value: Any, variables: dict[str, Any]) -> Any:
    """A value with its variables substituted; an input field whose variable is unset is left out (spec 5.6.1)."""
    if isinstance(value, Variable):
        return variables.get(value.name)
    if isinstance(value, list):
        return [resolve(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, variables) for k, v in value.items()
                if not (isinstance(v, Variable) and v.name not in variables)}
    return value


def only(f: Field, parent: str, allowed: set[str], path: list[str | int]) -> list[Field]:
    """``f``'s selections, each one of ``allowed``; else a QueryError naming the first other one."""
    for child in f.selections:
        if child.name not in allowed:
            raise QueryError(f'unknown field "{child.name}" on "{parent}" (the sandbox answers {", ".join(sorted(allowed))})',
                             [*path, child.key])
    if not f.selections:
        raise QueryError(f'"{parent}" needs a selection', path)
    return f.selections


def dataset_args(f: Field, variables: dict[str, Any], dataset: str, max_limit: int,
                 path: list[str | int]) -> dict[str, Any]:
    """A dataset's arguments (limit, filter, orderBy), resolved; a QueryError for any other or a bad limit."""
    args: dict[str, Any] = resolve(f.args, variables)
    unknown = set(args) - {"limit", "filter", "orderBy"}
    if unknown:
        raise QueryError(f'unknown argument "{sorted(unknown)[0]}" on "{dataset}"', path)
    limit = args.get("limit")
    if not isinstance(limit, int) or not 0 < limit <= max_limit:
        raise QueryError(f"limit must be an integer from 1 to {max_limit}", path)
    return args


def order(rows: list[dict[str, Any]], order_by: Any, blocks: dict[str, Field], aggregates: tuple[str, ...],
          path: list[str | int]) -> list[dict[str, Any]]:
    """Sort by ``orderBy: [datetime_ASC, sum_requests_DESC, …]``: selected dimensions or ``aggregates`` blocks' fields only."""
    for key in reversed(order_by if isinstance(order_by, list) else [order_by]):
        spec, _, direction = str(key).rpartition("_")
        block, _, name = spec.partition("_") if spec.startswith(tuple(f"{a}_" for a in aggregates)) else ("dimensions", "", spec)
        chosen = {c.name: c.key for c in blocks[block].selections} if block in blocks else {}
        if direction not in ("ASC", "DESC") or name not in chosen:
            raise QueryError(f'cannot order by "{key}": order by a selected dimension or '
                             f'{" or ".join(aggregates)} field, with _ASC or _DESC', path)
        out_block, out_name = blocks[block].key, chosen[name]
        rows.sort(key=lambda r: r[out_block][out_name], reverse=direction == "DESC")
    return rows


def epoch(value: Any) -> float:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise QueryError(f"{value!r} is not a Time (RFC 3339, e.g. 2026-01-01T00:00:00Z)") from None


def stamp(moment: float, cut: int) -> str:
    """A time as the datasets' ``datetime`` (19), ``datetimeMinute`` (16), ``datetimeHour`` (13) or ``date`` (10)."""
    text = datetime.fromtimestamp(moment, timezone.utc).isoformat()[:cut]
    return text + {19: "Z", 16: ":00Z", 13: ":00:00Z", 10: ""}[cut]

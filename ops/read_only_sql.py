"""Is this SQL a read? A small SQLite tokenizer that answers for the `d1` probe and the D1 transport wall.

A read is exactly one statement (a trailing `;` and comments are allowed) that is
one of:

- `SELECT …` or `VALUES …`;
- `WITH … SELECT …`: the verb that follows the common table expressions, at
  parenthesis depth 0, must be SELECT or VALUES (`WITH x AS (…) DELETE …` is a write);
- `EXPLAIN [QUERY PLAN] <a read>`;
- `PRAGMA name`, `PRAGMA name(arg)` or `PRAGMA schema.name` for a pragma on the
  read-only list below, never `PRAGMA name = value`.

Anything else, or text that does not tokenize (an unterminated string or comment),
is refused. The spec's declared effect is never consulted: the SQL is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["NotARead", "Token", "is_read", "require_read", "split_statements", "statement_texts", "tokenize"]

READ_VERBS = frozenset({"SELECT", "VALUES"})
# PRAGMAs that only report (sqlite.org/pragma.html). `PRAGMA name = v` and, for a setting,
# `PRAGMA name(v)` write, so only the ones that take an argument as a query may have one.
READ_PRAGMAS_WITH_ARG = frozenset({
    "foreign_key_check", "foreign_key_list", "index_info", "index_list", "index_xinfo", "integrity_check",
    "quick_check", "table_info", "table_list", "table_xinfo",
})
READ_PRAGMAS = READ_PRAGMAS_WITH_ARG | frozenset({
    "application_id", "collation_list", "compile_options", "data_version", "database_list", "encoding",
    "foreign_keys", "freelist_count", "function_list", "journal_mode", "module_list", "page_count", "page_size",
    "pragma_list", "schema_version", "user_version",
})

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_NUMBER = re.compile(r"(?:0[xX][0-9A-Fa-f]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
_PARAM = re.compile(r"\?\d*|[:@$][A-Za-z0-9_]+")
_CLOSING = {"'": "'", '"': '"', "`": "`", "[": "]"}


class NotARead(ValueError):
    """The SQL is not a single read statement; the message says why."""


@dataclass(frozen=True)
class Token:
    kind: str   # word | string | ident | number | param | punct
    text: str
    depth: int  # parentheses open before this token
    pos: int = 0  # offset in the SQL text

    @property
    def keyword(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def tokenize(sql: str) -> list[Token]:
    """Tokens of SQLite SQL, comments dropped. Raises NotARead for text SQLite would not parse."""
    tokens: list[Token] = []
    depth, i, n = 0, 0, len(sql)
    while i < n:
        ch = sql[i]
        if (space := _SPACE.match(sql, i)) is not None:
            i = space.end()
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end < 0:
                raise NotARead("an unterminated /* comment")
            i = end + 2
        elif ch in _CLOSING or (ch in "xX" and sql.startswith("'", i + 1)):
            start = i + 1 if ch in "xX" else i
            i = _quoted_end(sql, start)
            tokens.append(Token("string" if sql[start] == "'" else "ident", sql[start:i], depth, start))
        elif (word := _WORD.match(sql, i)) is not None:
            tokens.append(Token("word", word.group(), depth, i))
            i = word.end()
        elif (number := _NUMBER.match(sql, i)) is not None:
            tokens.append(Token("number", number.group(), depth, i))
            i = number.end()
        elif (param := _PARAM.match(sql, i)) is not None:
            tokens.append(Token("param", param.group(), depth, i))
            i = param.end()
        else:
            if ch == ")":
                depth -= 1
                if depth < 0:
                    raise NotARead("a `)` without its `(`")
            tokens.append(Token("punct", ch, depth, i))
            if ch == "(":
                depth += 1
            i += 1
    if depth:
        raise NotARead("a `(` without its `)`")
    return tokens


def _quoted_end(sql: str, start: int) -> int:
    """The index after the quoted token opening at ``start`` (doubled quotes escape themselves)."""
    close = _CLOSING[sql[start]]
    i = start + 1
    while True:
        end = sql.find(close, i)
        if end < 0:
            raise NotARead(f"an unterminated {sql[start]}…{close} starting at offset {start}")
        if close != "]" and sql.startswith(close * 2, end):
            i = end + 2
            continue
        return end + 1


def split_statements(sql: str) -> list[list[Token]]:
    """The statements of ``sql`` as token lists, split at `;` (empty statements dropped)."""
    statements: list[list[Token]] = [[]]
    for token in tokenize(sql):
        if token.kind == "punct" and token.text == ";":
            statements.append([])
        else:
            statements[-1].append(token)
    return [s for s in statements if s]


def statement_texts(sql: str) -> list[str]:
    """The text of each statement in ``sql``, without its `;` (what SQLite runs one at a time)."""
    texts, start = [], 0
    for token in tokenize(sql):
        if token.kind == "punct" and token.text == ";":
            texts.append(sql[start:token.pos])
            start = token.pos + 1
    texts.append(sql[start:])
    return [t.strip() for t in texts if tokenize(t)]


def require_read(sql: str) -> str:
    """The statement's kind (`SELECT`, `WITH`, `EXPLAIN`, `PRAGMA`, `VALUES`) if it is a read; else NotARead."""
    statements = split_statements(sql)
    if not statements:
        raise NotARead("no SQL statement")
    if len(statements) > 1:
        raise NotARead(f"{len(statements)} statements; a probe runs exactly one read")
    tokens = statements[0]
    _require_read_tokens(tokens)
    return tokens[0].keyword


def is_read(sql: str) -> bool:
    try:
        require_read(sql)
    except NotARead:
        return False
    return True


def _require_read_tokens(tokens: list[Token]) -> None:
    verb = tokens[0].keyword
    if verb in READ_VERBS:
        return
    if verb == "WITH":
        _require_cte_read(tokens)
    elif verb == "EXPLAIN":
        rest = tokens[1:]
        if len(rest) >= 2 and rest[0].keyword == "QUERY" and rest[1].keyword == "PLAN":
            rest = rest[2:]
        if not rest:
            raise NotARead("EXPLAIN of nothing")
        _require_read_tokens(rest)
    elif verb == "PRAGMA":
        _require_pragma_read(tokens[1:])
    else:
        shown = verb or tokens[0].text
        raise NotARead(f"{shown} is not a read; a probe runs SELECT, WITH … SELECT, EXPLAIN or a read-only PRAGMA")


def _require_cte_read(tokens: list[Token]) -> None:
    for token in tokens[1:]:
        if token.depth == 0 and token.keyword in READ_VERBS | {"INSERT", "UPDATE", "DELETE", "REPLACE"}:
            if token.keyword in READ_VERBS:
                return
            raise NotARead(f"WITH … {token.keyword} is a write")
    raise NotARead("WITH without a SELECT after its common table expressions")


def _require_pragma_read(tokens: list[Token]) -> None:
    if len(tokens) >= 3 and tokens[1].text == ".":
        tokens = tokens[2:]  # schema.name
    if not tokens or tokens[0].kind != "word":
        raise NotARead("PRAGMA without a name")
    name = tokens[0].text.lower()
    if any(t.text == "=" for t in tokens):
        raise NotARead(f"PRAGMA {name} = … changes a setting")
    if name not in READ_PRAGMAS:
        raise NotARead(f"PRAGMA {name} is not on the read-only list ({', '.join(sorted(READ_PRAGMAS))})")
    if len(tokens) > 1 and (name not in READ_PRAGMAS_WITH_ARG or tokens[1].text != "("):
        raise NotARead(f"PRAGMA {name} with an argument changes a setting")

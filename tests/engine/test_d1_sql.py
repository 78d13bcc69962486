"""The read-only SQL judge behind the `d1` probe and the D1 transport wall, row by row."""

from __future__ import annotations

import re

import pytest

from ops.read_only_sql import NotARead, is_read, require_read, statement_texts

READS = [
    ("SELECT 1", "SELECT"),
    ("select 1;", "SELECT"),
    ("SELECT 1; -- a trailing comment", "SELECT"),
    ("/* lead */ SELECT id FROM users WHERE email = ?", "SELECT"),
    ("SELECT replace(title, 'a', 'b') FROM manuscripts", "SELECT"),  # REPLACE the function, not the statement
    ("SELECT 'x; DROP TABLE users' AS s", "SELECT"),
    ('SELECT "update" FROM t', "SELECT"),
    ("VALUES (1), (2)", "VALUES"),
    ("WITH x AS (SELECT 1) SELECT * FROM x", "WITH"),
    ("WITH RECURSIVE c(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM c WHERE n < 5) SELECT n FROM c", "WITH"),
    ("EXPLAIN QUERY PLAN SELECT * FROM users", "EXPLAIN"),
    ("PRAGMA table_info(users)", "PRAGMA"),
    ("PRAGMA main.table_list", "PRAGMA"),
    ("PRAGMA user_version", "PRAGMA"),
    ("PRAGMA quick_check", "PRAGMA"),
]

WRITES = [
    ("DELETE FROM users", "DELETE is not a read"),
    ("INSERT INTO t VALUES (1)", "INSERT is not a read"),
    ("REPLACE INTO t VALUES (1)", "REPLACE is not a read"),
    ("UPDATE t SET a = 1", "UPDATE is not a read"),
    ("DROP TABLE users", "DROP is not a read"),
    ("CREATE TABLE t (a)", "CREATE is not a read"),
    ("ATTACH DATABASE 'x' AS y", "ATTACH is not a read"),
    ("VACUUM", "VACUUM is not a read"),
    ("SELECT 1; DELETE FROM users", "2 statements"),
    ("SELECT 1; SELECT 2", "2 statements"),
    ("WITH x AS (SELECT 1) DELETE FROM users WHERE id IN x", "WITH … DELETE is a write"),
    ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", "WITH … INSERT is a write"),
    ("EXPLAIN DELETE FROM users", "DELETE is not a read"),
    ("PRAGMA user_version = 7", "changes a setting"),
    ("PRAGMA foreign_keys(0)", "with an argument changes a setting"),
    ("PRAGMA journal_mode(DELETE)", "with an argument changes a setting"),
    ("PRAGMA writable_schema", "not on the read-only list"),
    ("SELECT 'unterminated", "unterminated"),
    ("SELECT 1 /* open", "unterminated /* comment"),
    ("SELECT (1", "without its `)`"),
    ("", "no SQL statement"),
    ("-- only a comment", "no SQL statement"),
]


@pytest.mark.parametrize(("sql", "kind"), READS)
def test_reads_pass(sql: str, kind: str) -> None:
    assert require_read(sql) == kind and is_read(sql)


@pytest.mark.parametrize(("sql", "why"), WRITES)
def test_anything_else_is_refused_with_the_reason(sql: str, why: str) -> None:
    with pytest.raises(NotARead, match=re.escape(why)):
        require_read(sql)
    assert not is_read(sql)


def test_statements_split_at_semicolons_outside_strings_and_comments() -> None:
    sql = "CREATE TABLE t (a); INSERT INTO t VALUES ('x;y'); -- note;\nSELECT * FROM t;"
    assert statement_texts(sql) == ["CREATE TABLE t (a)", "INSERT INTO t VALUES ('x;y')", "-- note;\nSELECT * FROM t"]

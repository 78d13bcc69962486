"""The `d1` probe against the emulator's D1 (real SQLite), and the transport wall behind it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from ops import http
from ops.actions.base import Context
from ops.actions.d1 import D1Action, D1Args
from ops.errors import DryRunViolation, InputError
from ops.sandbox.emulator import EmulatorHandle, start_emulator
from ops.targets import Target

ACCOUNT, TOKEN = "5a4db0c5000000000000000000000000", "d1-probe-token-0000"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorHandle]:
    handle = start_emulator(tmp_path / "state.json", account_id=ACCOUNT, token=TOKEN)
    yield handle
    handle.stop()


def _api(emulator: EmulatorHandle, method: str, path: str, body: object = None) -> object:
    response = httpx.request(method, f"{emulator.api_base_url}/accounts/{ACCOUNT}{path}", json=body,
                             headers={"Authorization": f"Bearer {TOKEN}"})
    doc = response.json()
    assert doc["success"], doc
    return doc["result"]


@pytest.fixture
def database(emulator: EmulatorHandle) -> str:
    created = _api(emulator, "POST", "/d1/database", {"name": "manuscripts"})
    uuid = str(created["uuid"])  # type: ignore[index]
    _api(emulator, "POST", f"/d1/database/{uuid}/query",
         {"sql": "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); "
                 "INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com')"})
    return uuid


def _ctx(emulator: EmulatorHandle, tmp_path: Path, *, dry_run: bool = True, config: str = "") -> Context:
    wrangler = None
    if config:
        wrangler = tmp_path / "wrangler.toml"
        wrangler.write_text(config, encoding="utf-8")
    target = Target("test", emulator.api_base_url, ACCOUNT, "manuscript-api", "http://127.0.0.1:9", token=TOKEN,
                    wrangler_config=wrangler)
    return Context(target, dry_run=dry_run)


def _posts(emulator: EmulatorHandle) -> list[str]:
    return [r["path"] for r in emulator.emulator.requests if r["method"] == "POST"]


def test_a_select_reads_rows_by_database_name(emulator: EmulatorHandle, database: str, tmp_path: Path) -> None:
    out = D1Action().run(D1Args(database="manuscripts", sql="SELECT count(*) AS n FROM users WHERE email LIKE ?",
                                params=["%@example.com"]), _ctx(emulator, tmp_path))
    assert out["ok"] and out["database"] == database and out["kind"] == "SELECT"
    assert out["rows"] == [{"n": 2}] and out["first"] == {"n": 2} and out["row_count"] == 1


def test_the_binding_in_the_wrangler_config_names_the_database(emulator: EmulatorHandle, database: str,
                                                               tmp_path: Path) -> None:
    config = f'name = "manuscript-api"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "ms"\ndatabase_id = "{database}"\n'
    out = D1Action().run(D1Args(database="DB", sql="SELECT 1 AS one"), _ctx(emulator, tmp_path, config=config))
    assert out["rows"] == [{"one": 1}] and out["database"] == database


def test_rows_beyond_max_rows_are_counted_not_kept(emulator: EmulatorHandle, database: str, tmp_path: Path) -> None:
    out = D1Action().run(D1Args(database=database, sql="SELECT email FROM users ORDER BY id", max_rows=1),
                         _ctx(emulator, tmp_path))
    assert out["rows"] == [{"email": "a@example.com"}] and out["row_count"] == 2 and out["truncated"]


def test_an_sql_error_is_an_observation(emulator: EmulatorHandle, database: str, tmp_path: Path) -> None:
    out = D1Action().run(D1Args(database=database, sql="SELECT * FROM missing_table"), _ctx(emulator, tmp_path))
    assert out["ok"] is False and out["code"] == 7500 and "no such table: missing_table" in out["error"]


def test_an_unknown_database_name_is_bad_input(emulator: EmulatorHandle, database: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no database 'nope'"):
        D1Action().run(D1Args(database="nope", sql="SELECT 1"), _ctx(emulator, tmp_path))


@pytest.mark.parametrize("dry_run", [True, False])
@pytest.mark.parametrize("sql", ["DELETE FROM users", "SELECT 1; DROP TABLE users",
                                 "WITH x AS (SELECT 1) DELETE FROM users", "PRAGMA user_version = 9"])
def test_a_write_is_refused_before_any_request_in_plans_and_runs_alike(
        emulator: EmulatorHandle, database: str, tmp_path: Path, sql: str, dry_run: bool) -> None:
    before = _posts(emulator)
    with pytest.raises(InputError, match="d1: refused"):
        D1Action().run(D1Args(database=database, sql=sql), _ctx(emulator, tmp_path, dry_run=dry_run))
    with pytest.raises(InputError, match="d1: refused"):
        D1Action().preflight(D1Args(database=database, sql=sql))
    assert _posts(emulator) == before
    count = _api(emulator, "POST", f"/d1/database/{database}/query", {"sql": "SELECT count(*) AS n FROM users"})
    assert count[0]["results"] == [{"n": 2}]  # type: ignore[index]


def _recording() -> tuple[list[str], httpx.MockTransport]:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path} {request.content.decode()}")
        return httpx.Response(200, json={"success": True, "errors": [], "messages": [], "result": []})

    return sent, httpx.MockTransport(handler)


QUERY = "http://127.0.0.1:9/client/v4/accounts/a/d1/database/db/query"


@pytest.mark.parametrize("body", [{"sql": "DROP TABLE users"}, {"sql": "SELECT 1; DELETE FROM users"},
                                  {"batch": [{"sql": "SELECT 1"}]}, {"sql": "SELECT 1", "batch": []}, ["SELECT 1"]])
def test_the_d1_transport_refuses_any_body_that_is_not_one_read(body: object) -> None:
    sent, transport = _recording()
    with http.client(read_only=True, d1_reads=True, transport=transport) as c, pytest.raises(DryRunViolation):
        c.post(QUERY, content=json.dumps(body))
    assert sent == []


def test_the_d1_transport_passes_a_read_and_nothing_else_mutating() -> None:
    sent, transport = _recording()
    with http.client(read_only=True, d1_reads=True, transport=transport) as c:
        c.post(QUERY, json={"sql": "SELECT 1", "params": []})
        c.post(QUERY.replace("/query", "/raw"), json={"sql": "PRAGMA table_list"})
        for method, url in [("POST", QUERY.replace("/query", "/export")), ("POST", QUERY.replace("/db/query", "")),
                            ("DELETE", QUERY.replace("/query", "")), ("PUT", QUERY)]:
            with pytest.raises(DryRunViolation):
                c.request(method, url, json={"sql": "SELECT 1"})
    assert [s.split(" ")[1].rsplit("/", 1)[1] for s in sent] == ["query", "raw"]


def test_a_client_not_marked_for_d1_refuses_even_a_read_query() -> None:
    sent, transport = _recording()
    with http.client(read_only=True, transport=transport) as c, pytest.raises(DryRunViolation):
        c.post(QUERY, json={"sql": "SELECT 1"})
    assert sent == [] and not http.is_read_only_request("POST", "/client/v4/accounts/a/d1/database/db/query")
    assert http.is_read_only_request("POST", "/client/v4/accounts/a/d1/database/db/query", d1_reads=True)


WRITE_SPEC = """\
name: d1-write
summary: A spec that tries to write through the read-only d1 action.
symptoms: [someone wants to clean up a table at 3 a.m.]
steps:
  - name: purge
    action: d1
    effect: write
    with: {database: DB, sql: "DELETE FROM sessions"}
    undo: nothing
undo:
  - name: nothing
    action: noop
    with: {reason: a test}
verify:
  deadline: 2
  checks:
    - name: gone
      action: d1
      with: {database: DB, sql: "SELECT count(*) AS n FROM sessions"}
      expect: {first.n: 0}
"""


@pytest.mark.parametrize("flags", [["--dry-run"], ["--yes"]])
def test_a_declared_write_through_d1_is_refused_by_the_engine_run(flags: list[str], workspace: Any) -> None:
    workspace.add_spec(WRITE_SPEC, "d1-write.yaml")
    done = workspace.inv("remediate.d1-write", *flags)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "d1: refused 'DELETE FROM sessions': DELETE is not a read" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize(("body", "reads"), [
    ({"sql": "SELECT 1"}, True), ({"batch": [{"sql": "SELECT 1"}, {"sql": "PRAGMA table_list"}]}, True),
    ({"sql": "SELECT 1; SELECT 2"}, True), ({"sql": "SELECT 1; DELETE FROM t"}, False),
    ({"batch": [{"sql": "SELECT 1"}, {"sql": "INSERT INTO t VALUES (1)"}]}, False), ({"sql": 5}, False), ("junk", False),
])
def test_the_emulator_can_tell_a_reading_query_from_a_writing_one(body: object, reads: bool) -> None:
    from ops.sandbox.emulator.d1 import only_reads

    assert only_reads(json.dumps(body).encode()) is reads

"""D1 on real SQLite: the routes `wrangler d1 create / list / info / execute --remote` use.

Shapes, from cloudflare-typescript ``src/resources/d1/database/database.ts`` and
wrangler 4.86 (``src/d1/{create,list,utils,execute}.ts`` in ``wrangler-dist/cli.js``):

- POST ``/d1/database`` ``{name, primary_location_hint?, jurisdiction?}`` creates one
  (error 7502 when the name is taken, which wrangler reports as "A database with
  that name already exists"); GET ``/d1/database`` (served by ``list_d1``)
  lists ``{uuid, name, version, created_at, jurisdiction}`` from the same state.
- GET / DELETE ``/d1/database/{id}``: wrangler looks a database up by id or name.
- POST ``/d1/database/{id}/query`` ``{sql, params?}`` or ``{batch: [{sql, params?}]}``:
  the result is one ``{results: [row objects], success, meta}`` per statement; the
  statements of one request run in one transaction, as D1 runs a batch.
  ``/raw`` answers ``results: {columns, rows}`` instead.

Each database is a SQLite file beside the state file (``d1/<uuid>.sqlite3``).
``meta.rows_read`` is the number of rows returned (SQLite does not count rows
scanned the way D1 bills them); ``rows_written`` is SQLite's change count.
Errors use D1's codes: 7404 for an unknown database, 7500 for SQL that fails.

A sandbox scenario can set a database's conditions (``state.data["d1_conditions"][uuid]``, through the
admin route ``PUT /__emulator/d1-conditions/{uuid}``; a reset clears them): ``unavailable`` makes every
query fail as D1 does when it cannot be reached, and ``scan_ms`` (table -> ms) is what a full scan of that
table costs the data plane at production size: a Worker's read whose query plan SCANs the table waits that
long (the D1 API's own reads do not, so a probe's EXPLAIN QUERY PLAN answers at once).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from ops.read_only_sql import NotARead, is_read, statement_texts
from ops.sandbox.emulator.routing import TS, ApiFailure, Reply, Request, paged, route
from ops.sandbox.emulator.state import State, new_id, now

QueryJob = tuple[str, list[Any]]


@route("POST", "/d1/database", f"{TS}d1/database/database.ts DatabaseCreateParams; the answer as {TS}d1/d1.ts D1")
def create_database(state: State, req: Request) -> Reply:
    body = req.json() or {}
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ApiFailure(400, 7400, "a database needs a name")
    if any(db["name"] == name for db in state.data["d1"]):
        raise ApiFailure(400, 7502, "A database with that name already exists")
    uuid = new_id()
    database = {"uuid": uuid, "name": name, "version": "production", "created_at": now(),
                "jurisdiction": body.get("jurisdiction")}
    _file(state, uuid).unlink(missing_ok=True)
    state.data["d1"].append(database)
    state.save()
    return 200, {**database, "created_in_region": "ENAM", "num_tables": 0, "file_size": 0}, None


@route("GET", "/d1/database/{db}", f"{TS}d1/database/database.ts get (D1)")
def get_database(state: State, req: Request) -> Reply:
    database = _database(state, req.params["db"])
    path = _file(state, database["uuid"])
    return 200, {**database, "num_tables": _table_count(path), "file_size": path.stat().st_size if path.exists() else 0,
                 "read_replication": {"mode": "disabled"}}, None


@route("DELETE", "/d1/database/{db}", f"{TS}d1/database/database.ts delete")
def delete_database(state: State, req: Request) -> Reply:
    database = _database(state, req.params["db"])
    state.data["d1"].remove(database)
    _file(state, database["uuid"]).unlink(missing_ok=True)
    state.save()
    return 200, None, None


@route("POST", "/d1/database/{db}/query", f"{TS}d1/database/database.ts query (QueryResult)")
def query(state: State, req: Request) -> Reply:
    return 200, _execute(state, req, raw=False), None


@route("POST", "/d1/database/{db}/raw", f"{TS}d1/database/database.ts raw (RawResponse)")
def raw(state: State, req: Request) -> Reply:
    return 200, _execute(state, req, raw=True), None


def only_reads(body: bytes) -> bool:
    """Whether a query body runs nothing but reads: for the request record's `mutating` flag."""
    import json

    try:
        jobs = _jobs(json.loads(body or b"null"))
    except (ValueError, ApiFailure):
        return False
    return all(is_read(sql) for sql, _ in jobs)


def _database(state: State, key: str) -> dict[str, Any]:
    for database in state.data["d1"]:
        if key in (database.get("uuid"), database.get("name")):
            found: dict[str, Any] = database
            return found
    raise ApiFailure(404, 7404, f"The database {key} could not be found")


def _file(state: State, uuid: str) -> Path:
    return state.path.parent / "d1" / f"{uuid}.sqlite3"


def _jobs(body: Any) -> list[QueryJob]:
    """Each statement to run with its params, from `{sql, params}` or `{batch: [...]}`."""
    entries = body.get("batch") if isinstance(body, dict) and "batch" in body else [body]
    if not isinstance(entries, list) or not entries:
        raise ApiFailure(400, 7400, "the body needs `sql` (with optional `params`) or a non-empty `batch`")
    jobs: list[QueryJob] = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("sql"), str):
            raise ApiFailure(400, 7400, "each query needs `sql`, a string")
        params = entry.get("params") or []
        if not isinstance(params, list):
            raise ApiFailure(400, 7400, "`params` must be a list")
        try:
            texts = statement_texts(entry["sql"])
        except NotARead as exc:  # the tokenizer's "does not parse" verdict
            raise ApiFailure(400, 7500, f"{exc}: SQLITE_ERROR") from None
        if params and len(texts) > 1:
            raise ApiFailure(400, 7500, "params bind one statement; send a batch for several")
        jobs.extend((text, params) for text in texts)
    if not jobs:
        raise ApiFailure(400, 7500, "No SQL statements detected.")
    return jobs


UNREACHABLE = "Network connection lost."  # the facade in the shim says D1_ERROR first, as D1 does


def conditions(state: State, uuid: str) -> dict[str, Any]:
    found: dict[str, Any] = state.data.get("d1_conditions", {}).get(uuid) or {}
    return found


def set_conditions(state: State, uuid: str, change: Any) -> tuple[int, Any]:
    """The admin route: ``{"unavailable": bool, "scan_ms": {table: ms}}`` for one database ({} clears them)."""
    if not isinstance(change, dict) or set(change) - {"unavailable", "scan_ms"}:
        return 400, {"error": "send {\"unavailable\": true|false, \"scan_ms\": {\"table\": ms}}"}
    scan = change.get("scan_ms", {})
    if not isinstance(change.get("unavailable", False), bool) or not isinstance(scan, dict) or not all(
            isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for k, v in scan.items()):
        return 400, {"error": "unavailable is true or false; scan_ms maps a table name to milliseconds >= 0"}
    with state.lock:
        state.data.setdefault("d1_conditions", {})[uuid] = {"unavailable": change.get("unavailable", False),
                                                            "scan_ms": dict(scan)}
        state.save()
    return 200, state.data["d1_conditions"][uuid]


def _scan_cost_ms(connection: sqlite3.Connection, sql: str, params: list[Any], scan_ms: dict[str, float]) -> float:
    """What the statement's full-table scans cost at production size (its query plan's SCAN rows)."""
    if not scan_ms or not is_read(sql):
        return 0.0
    plan = connection.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return sum(scan_ms.get(str(row[-1]).split()[1], 0.0) for row in plan
               if str(row[-1]).startswith("SCAN ") and len(str(row[-1]).split()) > 1)


def _execute(state: State, req: Request, *, raw: bool, cost: list[float] | None = None) -> list[dict[str, Any]]:
    database = _database(state, req.params["db"])
    if conditions(state, database["uuid"]).get("unavailable"):
        raise ApiFailure(503, 7500, UNREACHABLE)
    jobs = _jobs(req.json())
    path = _file(state, database["uuid"])
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN")
        try:
            scan_ms = conditions(state, database["uuid"]).get("scan_ms") or {}
            if cost is not None:
                cost.append(sum(_scan_cost_ms(connection, sql, params, scan_ms) for sql, params in jobs))
            results = [_run(connection, sql, params, raw) for sql, params in jobs]
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            connection.execute("ROLLBACK")
            raise ApiFailure(400, 7500, f"{exc}: SQLITE_ERROR") from None
    finally:
        connection.close()
    size = path.stat().st_size
    for result in results:
        result["meta"]["size_after"] = size
    return results


def _run(connection: sqlite3.Connection, sql: str, params: list[Any], raw: bool) -> dict[str, Any]:
    started = time.perf_counter()
    before = connection.total_changes
    cursor = connection.execute(sql, params)
    rows = [[_value(v) for v in row] for row in cursor.fetchall()]
    columns = [d[0] for d in cursor.description or ()]
    elapsed = round((time.perf_counter() - started) * 1000, 3)
    changes = connection.total_changes - before
    meta = {"served_by_primary": True, "duration": elapsed, "changes": changes, "last_row_id": cursor.lastrowid or 0,
            "changed_db": changes > 0, "rows_read": len(rows), "rows_written": changes,
            "timings": {"sql_duration_ms": elapsed}}
    results: Any = {"columns": columns, "rows": rows} if raw else [dict(zip(columns, row)) for row in rows]
    return {"results": results, "success": True, "meta": meta}


def _value(value: Any) -> Any:
    return list(value) if isinstance(value, bytes) else value


def _table_count(path: Path) -> int:
    if not path.exists():
        return 0
    connection = sqlite3.connect(path)
    try:
        count: int = connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        return count
    finally:
        connection.close()


def bridge(state: State, what: str, body: bytes) -> tuple[int, Any]:
    """The sandbox Workers' D1 binding (the shim's facade), on the same SQLite as the API: ``d1/<id>/query``.

    Not a Cloudflare route: the data plane's own access, so neither authenticated, nor faulted,
    nor recorded as an API request. It answers ``{results}`` (one per statement, as ``/query``)
    or ``{error}`` with the message D1 would give, which the facade throws as ``D1_ERROR``.
    """
    parts = what.split("/")
    if len(parts) != 3 or parts[2] != "query":
        return 404, {"error": f"no D1 bridge route {what!r}"}
    request = Request("POST", f"/d1/database/{parts[1]}/query", {}, {}, body, {"db": parts[1]})
    cost: list[float] = []
    try:
        with state.lock:
            results = _execute(state, request, raw=False, cost=cost)
    except ApiFailure as failure:
        return failure.status, {"error": failure.message, "code": failure.code}
    if sum(cost):  # outside the lock: a slow query holds up its own caller, not the whole account
        time.sleep(sum(cost) / 1000)
    return 200, {"results": results}


@route("GET", "/d1/database",
       f"{TS}d1/database/database.ts DatabaseListResponse")
def list_d1(state: State, req: Request) -> Reply:
    items = list(state.data["d1"])
    if req.query.get("name"):
        items = [d for d in items if d.get("name") == req.query["name"]]
    return paged(items, req)



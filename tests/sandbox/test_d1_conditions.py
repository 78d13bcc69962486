"""The emulator's per-database D1 conditions: an unavailable database fails every query (API and data plane), a
table's full scan costs a Worker's read its scan_ms (judged from the query plan), and a reset clears them."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from ops.sandbox.emulator import EmulatorHandle

from tests.engine.test_d1_probe import ACCOUNT, TOKEN, emulator  # noqa: F401 (the fixture)


def _query(emulator: EmulatorHandle, database: str, sql: str) -> httpx.Response:
    return httpx.post(f"{emulator.api_base_url}/accounts/{ACCOUNT}/d1/database/{database}/query", json={"sql": sql},
                      headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)


def _bridge(emulator: EmulatorHandle, database: str, sql: str) -> httpx.Response:
    return httpx.post(f"{emulator.url}/__emulator/d1/{database}/query", json={"batch": [{"sql": sql}]}, timeout=30)


def _conditions(emulator: EmulatorHandle, database: str, body: Any) -> httpx.Response:
    return httpx.put(f"{emulator.url}/__emulator/d1-conditions/{database}", json=body, headers=emulator.admin_headers,
                     timeout=10)


@pytest.fixture
def database(emulator: EmulatorHandle) -> str:
    created = httpx.post(f"{emulator.api_base_url}/accounts/{ACCOUNT}/d1/database", json={"name": "greyhaven-db"},
                         headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).json()["result"]["uuid"]
    assert _query(emulator, created, "CREATE TABLE t (id INTEGER PRIMARY KEY, owner INTEGER)").status_code == 200
    return str(created)


def test_an_unavailable_database_fails_every_query_until_it_is_lifted(emulator: EmulatorHandle, database: str) -> None:
    assert _conditions(emulator, database, {"unavailable": True}).status_code == 200
    refused = _query(emulator, database, "SELECT 1")
    assert refused.status_code == 503 and refused.json()["errors"][0]["message"] == "Network connection lost."
    assert _bridge(emulator, database, "SELECT 1").json() == {"error": "Network connection lost.", "code": 7500}
    _conditions(emulator, database, {"unavailable": False})
    assert _query(emulator, database, "SELECT 1").status_code == 200


def test_a_full_scan_costs_the_data_plane_its_scan_ms_and_an_index_does_not(emulator: EmulatorHandle,
                                                                            database: str) -> None:
    _conditions(emulator, database, {"scan_ms": {"t": 400}})
    started = time.monotonic()
    assert _bridge(emulator, database, "SELECT id FROM t WHERE owner = 1").status_code == 200
    assert time.monotonic() - started >= 0.4  # SCAN t
    _query(emulator, database, "CREATE INDEX idx_t_owner ON t(owner)")
    plan = _query(emulator, database, "EXPLAIN QUERY PLAN SELECT id FROM t WHERE owner = 1").json()["result"]
    assert "USING COVERING INDEX idx_t_owner" in plan[0]["results"][0]["detail"] or \
        "USING INDEX idx_t_owner" in plan[0]["results"][0]["detail"]
    httpx.post(f"{emulator.url}/__emulator/reset", headers=emulator.admin_headers, timeout=10)
    state = httpx.get(f"{emulator.url}/__emulator/state", headers=emulator.admin_headers, timeout=10).json()
    assert state.get("d1_conditions") in (None, {})


@pytest.mark.parametrize("body", [{"unavailable": "yes"}, {"scan_ms": {"t": -1}}, {"slow": True}, []])
def test_a_bad_condition_is_refused_with_what_to_send(emulator: EmulatorHandle, database: str, body: Any) -> None:
    answer = _conditions(emulator, database, body)
    assert answer.status_code == 400 and "unavailable" in answer.json()["error"]

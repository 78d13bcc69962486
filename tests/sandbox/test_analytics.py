"""The recording proxy, the emulator's GraphQL Analytics API and its ingestion lag, and the client in ops.cloudflare.analytics.

A loopback "Worker" (real HTTP) stands behind a real recording proxy; the
emulator answers GraphQL from what the proxy saw.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import httpx
import pytest

from ops.cloudflare import CloudflareClient, RetryPolicy
from ops.cloudflare.analytics import invocations, summarize
from ops.errors import ApiError
from ops.sandbox.constants import ACCOUNT_ID
from ops.sandbox.emulator import start_emulator
from ops.sandbox.emulator.__main__ import load_seed

ACCOUNT, TOKEN, SCRIPT = ACCOUNT_ID, "analytics-test-token", "loop-api"
SEED = {"scripts": {SCRIPT: {"deployments": [{"versions": [{"version_id": "v-live", "percentage": 100}]}]}}}
QUERY = """query($a: string!, $s: string, $since: Time, $until: Time) { viewer { accounts(filter: {accountTag: $a}) {
  workersInvocationsAdaptive(limit: 100, filter: {scriptName: $s, datetime_geq: $since, datetime_leq: $until}) {
    sum { requests errors subrequests } quantiles { wallTimeP50 wallTimeP99 } dimensions { scriptVersion status }
  } } } }"""


RUNNING: dict[str, str] = {}  # what the loop Worker's "shim" says it runs (/__sandbox/version), when set


class LoopWorker(BaseHTTPRequestHandler):
    """Answers by path: /ok 200, /deliberate-500 500, /threw (as the sandbox shim marks an exception), /hang never."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/__sandbox/version":
            body = json.dumps(RUNNING).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path == "/hang":
            time.sleep(30)
            return
        status, headers = {"/deliberate-500": (500, {}),
                           "/threw": (500, {"x-sandbox-invocation-status": "scriptThrewException",
                                            "x-sandbox-version-id": "v-shim"})}.get(self.path, (200, {}))
        body = json.dumps({"path": self.path, "header": self.headers.get("x-probe")}).encode()
        self.send_response(status)
        for key, value in {**headers, "x-own": "kept", "content-length": str(len(body))}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    worker = ThreadingHTTPServer(("127.0.0.1", 0), LoopWorker)
    worker.daemon_threads = True
    threading.Thread(target=worker.serve_forever, daemon=True).start()
    state = tmp_path_factory.mktemp("emulator") / "state.json"
    emulator = start_emulator(state, seed={**(load_seed("default") or {}), **SEED}, token=TOKEN)
    proxy = emulator.add_proxy(SCRIPT, f"http://127.0.0.1:{worker.server_address[1]}")
    yield emulator, proxy.url
    emulator.stop()
    worker.shutdown()
    worker.server_close()


@pytest.fixture
def world(shared: tuple[Any, str]) -> tuple[Any, str]:
    emulator, _ = shared
    httpx.delete(f"{emulator.url}/__emulator/invocations").raise_for_status()
    httpx.put(f"{emulator.url}/__emulator/analytics", json={"lag_seconds": 0}).raise_for_status()
    return shared


def graphql(emulator: Any, query: str = QUERY, **variables: Any) -> dict[str, Any]:
    response = httpx.post(f"{emulator.api_base_url}/graphql", headers={"Authorization": f"Bearer {TOKEN}"},
                          json={"query": query, "variables": {"a": ACCOUNT, "s": SCRIPT, **variables}}, timeout=10)
    assert response.status_code == 200  # GraphQL errors come in a 200, as Cloudflare sends them
    body: dict[str, Any] = response.json()
    return body


def groups(emulator: Any) -> dict[tuple[str, str], dict[str, Any]]:
    rows = graphql(emulator)["data"]["viewer"]["accounts"][0]["workersInvocationsAdaptive"]
    return {(r["dimensions"]["scriptVersion"], r["dimensions"]["status"]): r for r in rows}


def client(emulator: Any) -> CloudflareClient:
    return CloudflareClient(ACCOUNT, TOKEN, base_url=emulator.api_base_url, retry=RetryPolicy(attempts=1), timeout=5)


def test_the_proxy_forwards_unchanged_and_records_what_analytics_would(world: tuple[Any, str]) -> None:
    emulator, url = world
    ok = httpx.get(f"{url}/ok", headers={"x-probe": "p1"}, timeout=5)
    assert ok.status_code == 200 and ok.json() == {"path": "/ok", "header": "p1"} and ok.headers["x-own"] == "kept"
    assert httpx.post(f"{url}/deliberate-500", content=b"x" * 10, timeout=5).status_code == 500
    threw = httpx.get(f"{url}/threw", timeout=5)
    assert threw.status_code == 500 and "x-sandbox-invocation-status" not in threw.headers  # the shim's marks stay inside
    seen = groups(emulator)
    # A deliberate 500 is a successful invocation: Cloudflare's status is the invocation's, not HTTP's.
    assert seen[("v-live", "success")]["sum"] == {"requests": 2, "errors": 0, "subrequests": 0}
    assert seen[("v-shim", "scriptThrewException")]["sum"]["errors"] == 1
    assert 0 < seen[("v-live", "success")]["quantiles"]["wallTimeP50"] < 5_000_000  # microseconds


def test_a_request_never_answered_is_recorded_when_the_client_gives_up(world: tuple[Any, str]) -> None:
    emulator, url = world
    RUNNING["version_id"] = "v-old"  # wrangler dev still runs the old version a moment after a deploy
    try:
        time.sleep(0.3)  # the proxy polls what runs every 0.1 s
        with pytest.raises(httpx.ReadTimeout):  # the connection was accepted; the answer never came
            httpx.get(f"{url}/hang", timeout=httpx.Timeout(0.6, connect=2))
    finally:
        RUNNING.clear()
    deadline = time.monotonic() + 5
    while ("v-old", "clientDisconnected") not in groups(emulator) and time.monotonic() < deadline:
        time.sleep(0.05)
    hung = groups(emulator)[("v-old", "clientDisconnected")]  # the version that ran, not the control plane's
    assert hung["sum"]["requests"] == 1 and hung["sum"]["errors"] == 0  # not an error, as on Cloudflare
    assert hung["quantiles"]["wallTimeP99"] >= 600_000  # it shows in wall time


def test_ingestion_lag_hides_recent_invocations_until_it_is_lifted(world: tuple[Any, str]) -> None:
    emulator, url = world
    httpx.put(f"{emulator.url}/__emulator/analytics", json={"lag_seconds": 120}).raise_for_status()
    httpx.get(f"{url}/ok", timeout=5)
    assert groups(emulator) == {}
    assert httpx.get(f"{emulator.url}/__emulator/analytics").json() == {"lag_seconds": 120.0, "recorded": 1, "wall_time_p95": False}
    httpx.put(f"{emulator.url}/__emulator/analytics", json={"lag_seconds": 0}).raise_for_status()
    assert groups(emulator)[("v-live", "success")]["sum"]["requests"] == 1
    assert httpx.put(f"{emulator.url}/__emulator/analytics", json={"lag_seconds": -1}).status_code == 400


@pytest.mark.parametrize(("query", "message", "path"), [
    ("{ viewer { zones { x } } }", 'unknown field "zones" on "viewer"', ["viewer", "zones"]),
    ('{ viewer { accounts(filter: {accountTag: "%s"}) { httpRequestsAdaptiveGroups(limit: 1) { count } } } }' % ACCOUNT,
     'unknown field "httpRequestsAdaptiveGroups"', ["viewer", "accounts", 0, "httpRequestsAdaptiveGroups"]),
    ('{ viewer { accounts(filter: {accountTag: "0000"}) { workersInvocationsAdaptive(limit: 1) { sum { requests } } } } }',
     "does not have access to the path", ["viewer", "accounts"]),
    ('{ viewer { accounts(filter: {accountTag: "%s"}) { workersInvocationsAdaptive(limit: 1) { quantiles { cpuTimeP50 } } } } }' % ACCOUNT,
     'unknown field "cpuTimeP50" on "quantiles" (the sandbox measures no CPU time)', None),
    ('{ viewer { accounts(filter: {accountTag: "%s"}) { workersInvocationsAdaptive { sum { requests } } } } }' % ACCOUNT,
     "limit must be an integer", None),
    ('{ viewer { accounts(filter: {accountTag: "%s"}) { workersInvocationsAdaptive(limit: 1, filter: {host: "x"}) { sum { requests } } } } }' % ACCOUNT,
     'unknown filter field "host"', None),
    ('{ viewer { accounts(filter: {accountTag: "%s"}) { workersInvocationsAdaptive(limit: 1, orderBy: [sum_errors_DESC]) { sum { requests } } } } }' % ACCOUNT,
     'cannot order by "sum_errors_DESC"', None),
    ("mutation { x }", "error parsing the query: only queries are supported", None),
    ("{ viewer { ", "error parsing the query: expected name", None),
])
def test_anything_else_is_a_graphql_error_in_cloudflares_shape(world: tuple[Any, str], query: str, message: str,
                                                               path: list[Any] | None) -> None:
    emulator, _ = world
    answer = graphql(emulator, query)
    assert answer["data"] is None and len(answer["errors"]) == 1
    error = answer["errors"][0]
    assert set(error) == {"message", "path", "extensions"} and set(error["extensions"]) == {"timestamp"}
    assert error["message"].startswith(message), error["message"]
    if path is not None:
        assert error["path"] == path


def test_groups_are_ordered_and_limited(world: tuple[Any, str]) -> None:
    emulator, url = world
    for path in ("/ok", "/ok", "/threw"):
        httpx.get(f"{url}{path}", timeout=5)
    query = ('{ viewer { accounts(filter: {accountTag: "%s"}) { workersInvocationsAdaptive(limit: %d, orderBy: [sum_requests_%s]) '
             "{ total: sum { n: requests } dimensions { status } } } } }")
    rows = graphql(emulator, query % (ACCOUNT, 2, "ASC"))["data"]["viewer"]["accounts"][0]["workersInvocationsAdaptive"]
    assert [(r["dimensions"]["status"], r["total"]["n"]) for r in rows] == [("scriptThrewException", 1), ("success", 2)]
    rows = graphql(emulator, query % (ACCOUNT, 1, "DESC"))["data"]["viewer"]["accounts"][0]["workersInvocationsAdaptive"]
    assert rows == [{"total": {"n": 2}, "dimensions": {"status": "success"}}]


def test_a_bad_token_is_refused(world: tuple[Any, str]) -> None:
    emulator, _ = world
    answer = httpx.post(f"{emulator.api_base_url}/graphql", json={"query": QUERY}, headers={"Authorization": "Bearer nope"}).json()
    assert answer["data"] is None and answer["errors"][0]["message"].startswith("not authorized")


def test_the_client_folds_the_answer_into_one_dict(world: tuple[Any, str]) -> None:
    emulator, url = world
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    for path in ("/ok", "/ok", "/deliberate-500", "/threw"):
        httpx.get(f"{url}{path}", timeout=5)
    c = client(emulator)
    every = invocations(c, SCRIPT, since=since, until=datetime.now(timezone.utc) + timedelta(seconds=1))
    assert every["requests"] == 4 and every["errors"] == 1 and every["error_rate"] == 0.25
    assert every["status_4xx"] is None and every["status_429"] is None and every["status_5xx"] is None  # not in this dataset
    assert every["by_status"] == {"success": 3, "scriptThrewException": 1}
    assert every["by_version"]["v-live"]["requests"] == 3 and every["by_version"]["v-live"]["error_rate"] == 0.0
    assert 0 < every["wall_ms"]["p50"] <= every["wall_ms"]["p99"] < 5_000  # milliseconds now
    live = invocations(c, SCRIPT, versions=["v-live"], since=since, until=datetime.now(timezone.utc) + timedelta(seconds=1))
    assert live["requests"] == 3 and set(live["by_version"]) == {"v-live"}
    before = invocations(c, SCRIPT, since=since - timedelta(hours=1), until=since)
    assert before["requests"] == 0 and before["error_rate"] is None and before["wall_ms"] == {"p50": None, "p95": None, "p99": None, "tail": None}
    assert every["window"]["since"].endswith("Z")


def test_a_graphql_error_becomes_an_api_error_with_its_message(world: tuple[Any, str]) -> None:
    emulator, _ = world
    c = CloudflareClient("0" * 32, TOKEN, base_url=emulator.api_base_url, retry=RetryPolicy(attempts=1))
    with pytest.raises(ApiError, match="GraphQL Analytics: does not have access to the path"):
        invocations(c, SCRIPT, since=datetime.now(timezone.utc), until=datetime.now(timezone.utc))


def test_a_dry_run_client_may_query_analytics(world: tuple[Any, str]) -> None:
    emulator, url = world
    httpx.get(f"{url}/ok", timeout=5)
    c = CloudflareClient(ACCOUNT, TOKEN, base_url=emulator.api_base_url, read_only=True)
    now = datetime.now(timezone.utc)
    assert invocations(c, SCRIPT, since=now - timedelta(minutes=1), until=now + timedelta(seconds=1))["requests"] == 1
    assert all(not r["mutating"] for r in httpx.get(f"{emulator.url}/__emulator/requests").json())


# Cloudflare docs, "Querying Workers Metrics with GraphQL" (analytics/graphql-api/tutorials/
# querying-workers-metrics): the documented answer, abridged to two of its groups.
DOCUMENTED = {"data": {"viewer": {"accounts": [{"workersInvocationsAdaptive": [
    {"dimensions": {"datetime": "2020-05-04T18:10:35Z", "scriptName": "worker-subrequest-test-client", "status": "success"},
     "quantiles": {"cpuTimeP50": 206, "cpuTimeP99": 206}, "sum": {"errors": 0, "requests": 1, "subrequests": 0}},
    {"dimensions": {"datetime": "2020-05-04T18:10:49Z", "scriptName": "worker-subrequest-test-client", "status": "success"},
     "quantiles": {"cpuTimeP50": 212.5, "cpuTimeP99": 261.19}, "sum": {"errors": 0, "requests": 4, "subrequests": 0}}]}]}},
    "errors": None}


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


def test_the_answer_has_the_documented_shape(world: tuple[Any, str]) -> None:
    emulator, url = world
    httpx.get(f"{url}/ok", timeout=5)
    time.sleep(1.1)  # a second group, one second later
    httpx.get(f"{url}/ok", timeout=5)
    docs_query = """query GetWorkersAnalytics($accountTag: string, $datetimeStart: string, $datetimeEnd: string, $scriptName: string) {
      viewer { accounts(filter: {accountTag: $accountTag}) {
        workersInvocationsAdaptive(limit: 100, filter: {scriptName: $scriptName, datetime_geq: $datetimeStart, datetime_leq: $datetimeEnd}) {
          sum { subrequests requests errors } quantiles { wallTimeP50 wallTimeP99 } dimensions { datetime scriptName status } } } } }"""
    now = datetime.now(timezone.utc)
    answer = graphql(emulator, docs_query, accountTag=ACCOUNT, scriptName=SCRIPT,
                     datetimeStart=(now - timedelta(minutes=1)).isoformat(), datetimeEnd=(now + timedelta(seconds=1)).isoformat())
    documented = json.loads(json.dumps(DOCUMENTED).replace("cpuTime", "wallTime"))  # CPU time is not measured here
    assert _shape(answer) == _shape(documented)
    rows = answer["data"]["viewer"]["accounts"][0]["workersInvocationsAdaptive"]
    assert len(rows) == 2 and all(r["dimensions"]["datetime"].endswith("Z") and len(r["dimensions"]["datetime"]) == 20 for r in rows)


def test_the_documented_answer_folds_too() -> None:
    now = datetime.now(timezone.utc)
    folded = summarize(DOCUMENTED["data"]["viewer"]["accounts"][0]["workersInvocationsAdaptive"], since=now, until=now)  # type: ignore[index]
    assert folded["requests"] == 5 and folded["errors"] == 0 and folded["by_status"] == {"success": 5}
    assert folded["wall_ms"] == {"p50": None, "p95": None, "p99": None, "tail": None}  # that example asked for CPU time only

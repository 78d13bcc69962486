"""Analytics that one field cannot break, judged per live version, within the GraphQL quota.

Each test runs against the emulator's GraphQL API set to one of the two schemas that
public sources disagree on: with ``wallTimeP95`` and without it. Invocations are
added to the emulator's record directly; everything from there on (the query,
introspection, the answer, the actions) is the real path.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from ops.actions.analytics import AnalyticsAction, AnalyticsArgs
from ops.actions.base import Context
from ops.actions.worker_health import WorkerHealthAction, WorkerHealthArgs
from ops.cloudflare import CloudflareClient, RetryPolicy
from ops.cloudflare.analytics import SCHEMA_QUERY, invocations
from ops.engine.outcome import Verdict
from ops.engine.verdict import judge
from ops.sandbox.emulator import EmulatorHandle, start_emulator
from ops.sandbox.emulator.invocations import Invocation
from ops.targets import Target
from tests.sandbox.test_analytics import LoopWorker

ACCOUNT, TOKEN, SCRIPT = "5a4db0c5000000000000000000000000", "schema-test-token", "split-api"
MAIN, CANARY = "a" * 8 + "-0000-4000-8000-" + "0" * 12, "b" * 8 + "-0000-4000-8000-" + "0" * 12
SPLIT = {"scripts": {SCRIPT: {"deployments": [{"id": "d-split", "versions": [
    {"version_id": MAIN, "percentage": 90}, {"version_id": CANARY, "percentage": 10}]}]}}}
DEPLETED = "rate limiter budget depleted, please try again later"  # cloudflare-docs issue 5189


@pytest.fixture(autouse=True)
def fresh_schema_cache() -> None:
    """The schema is cached per account and process; a later test's server may reuse an earlier one's port."""
    from ops.cloudflare import analytics

    analytics._schemas.clear()


@pytest.fixture(scope="module")
def worker() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), LoopWorker)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(params=[False, True], ids=["no-p95", "p95"])
def emulator(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmulatorHandle]:
    """A fresh emulator (its own URL, so the process's schema cache starts empty) serving one schema."""
    handle = start_emulator(tmp_path / "state.json", account_id=ACCOUNT, token=TOKEN, seed=SPLIT)
    httpx.put(f"{handle.url}/__emulator/analytics", json={"wall_time_p95": request.param}).raise_for_status()
    yield handle
    handle.stop()


def p95(emulator: EmulatorHandle) -> bool:
    return bool(emulator.emulator.invocations.wall_time_p95)


def serve(emulator: EmulatorHandle, version: str, count: int, *, errors: int = 0, wall_us: int = 40_000) -> None:
    now = time.time() - 1
    for i in range(count):
        emulator.emulator.invocations.add(Invocation(now, SCRIPT, version, "scriptThrewException" if i < errors else "success",
                                                     500 if i < errors else 200, wall_us + i))


def client(emulator: EmulatorHandle) -> CloudflareClient:
    return CloudflareClient(ACCOUNT, TOKEN, base_url=emulator.api_base_url, retry=RetryPolicy(attempts=3, base_delay=0.01),
                            timeout=5)


def ctx(emulator: EmulatorHandle, worker_url: str) -> Context:
    return Context(Target("test", emulator.api_base_url, ACCOUNT, SCRIPT, worker_url, token=TOKEN), dry_run=True)


def graphql_posts(emulator: EmulatorHandle) -> int:
    return sum(1 for r in emulator.emulator.requests if r["path"] == "/client/v4/graphql")


def window() -> dict[str, datetime]:
    now = datetime.now(timezone.utc)
    return {"since": now - timedelta(minutes=1), "until": now + timedelta(seconds=1)}


# --- the schema decides the fields ------------------------------------------------------------------------------

def test_introspection_names_the_quantiles_of_the_schema_served(emulator: EmulatorHandle) -> None:
    answer = httpx.post(f"{emulator.api_base_url}/graphql", json={"query": SCHEMA_QUERY},
                        headers={"Authorization": f"Bearer {TOKEN}"}).json()
    names = [f["name"] for f in answer["data"]["__type"]["fields"]]
    assert ("wallTimeP95" in names) is p95(emulator) and {"wallTimeP50", "wallTimeP99"} <= set(names)
    unknown = httpx.post(f"{emulator.api_base_url}/graphql", json={"query": '{ __type(name: "Nope") { name } }'},
                         headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert unknown == {"data": {"__type": None}, "errors": None}


def test_a_query_with_a_field_the_schema_lacks_is_refused_whole(emulator: EmulatorHandle) -> None:
    serve(emulator, MAIN, 3)
    query = ('{ viewer { accounts(filter: {accountTag: "%s"}) { workersInvocationsAdaptive(limit: 10) '
             "{ sum { requests } quantiles { wallTimeP50 wallTimeP95 } } } } }" % ACCOUNT)
    answer = httpx.post(f"{emulator.api_base_url}/graphql", json={"query": query},
                        headers={"Authorization": f"Bearer {TOKEN}"}).json()
    if p95(emulator):
        assert answer["errors"] is None
    else:  # no partial answer: the requests that were known are lost with the unknown field
        assert answer["data"] is None and 'unknown field "wallTimeP95"' in answer["errors"][0]["message"]


def test_the_client_asks_only_for_fields_the_schema_has_and_names_the_tail(emulator: EmulatorHandle) -> None:
    serve(emulator, MAIN, 30)
    c = client(emulator)
    seen = invocations(c, SCRIPT, **window())
    assert seen["requests"] == 30
    assert seen["tail_quantile"] == ("p95" if p95(emulator) else "p99")
    wall = seen["wall_ms"]
    assert (wall["p95"] is not None) is p95(emulator)
    assert wall["tail"] == (wall["p95"] if p95(emulator) else wall["p99"]) and wall["tail"] is not None


def test_the_schema_is_asked_once_per_account_and_process(emulator: EmulatorHandle) -> None:
    c = client(emulator)
    invocations(c, SCRIPT, **window())
    assert graphql_posts(emulator) == 2  # introspection, then the query
    invocations(client(emulator), SCRIPT, **window())  # another client of the same account
    assert graphql_posts(emulator) == 3


# --- per version -------------------------------------------------------------------------------------------------

def test_a_bad_ten_percent_canary_is_visible_with_its_share(emulator: EmulatorHandle) -> None:
    serve(emulator, MAIN, 90)
    serve(emulator, CANARY, 25, errors=10)
    serve(emulator, "c" * 8 + "-0000-4000-8000-" + "0" * 12, 50, errors=50)  # an old version: not live, not judged
    out = AnalyticsAction().run(AnalyticsArgs(script=SCRIPT, min_requests=20), ctx(emulator, "http://127.0.0.1:9"))
    by = {v["version"]: v for v in out["versions"]}
    assert set(by) == {MAIN, CANARY}
    assert (by[MAIN]["percentage"], by[MAIN]["requests"], by[MAIN]["error_rate"]) == (90.0, 90, 0.0)
    assert (by[CANARY]["percentage"], by[CANARY]["requests"], by[CANARY]["error_rate"]) == (10.0, 25, 0.4)
    assert out["version"] == CANARY and out["error_rate"] == 0.4 and out["requests"] == 115  # the worst, not the mean
    assert out["wall_tail_quantile"] == ("p95" if p95(emulator) else "p99")
    assert judge(out, {"error_rate": {"<=": 0.05}}, strict_failing=True).verdict is Verdict.FAILED


def test_worker_health_finds_the_bad_canary_although_the_contract_holds(emulator: EmulatorHandle, worker: str) -> None:
    serve(emulator, MAIN, 90)
    serve(emulator, CANARY, 25, errors=10)
    out = WorkerHealthAction().run(WorkerHealthArgs(max_error_rate=0.05), ctx(emulator, worker))
    assert out["answers"] is True and out["healthy"] is False and out["inconclusive"] is None
    assert any(f"version {CANARY} (10% of traffic): error rate 40.0% > 5.0%" in r for r in out["reasons"]), out["reasons"]


def test_a_slow_version_is_named_with_the_quantile_that_judged_it(emulator: EmulatorHandle, worker: str) -> None:
    serve(emulator, MAIN, 30, wall_us=3_000_000)
    serve(emulator, CANARY, 30)
    out = WorkerHealthAction().run(WorkerHealthArgs(max_p95_ms=2000), ctx(emulator, worker))
    assert out["healthy"] is False
    said = "p95 wall time" if p95(emulator) else "p99 wall time"
    assert any(said in r and MAIN in r for r in out["reasons"]), out["reasons"]


# --- an analytics failure erases nothing and concludes nothing ---------------------------------------------------

def test_unreadable_analytics_keep_the_http_answer_and_make_health_inconclusive(emulator: EmulatorHandle,
                                                                                worker: str) -> None:
    serve(emulator, MAIN, 30)
    httpx.put(f"{emulator.url}/__emulator/analytics", json={"fail_next": ["not available for your plan"] * 9}).raise_for_status()
    out = WorkerHealthAction().run(WorkerHealthArgs(), ctx(emulator, worker))
    assert out["http"]["status"] == 200 and out["answers"] is True and out["status"] == 200  # the HTTP observation stays
    assert out["healthy"] is False and "not available for your plan" in (out["analytics_error"] or "")
    assert out["inconclusive"] and judge(out, {"healthy": True}, strict_failing=False).verdict is Verdict.INCONCLUSIVE


def test_a_failing_contract_stays_evidence_when_analytics_fail_too(emulator: EmulatorHandle) -> None:
    httpx.put(f"{emulator.url}/__emulator/analytics", json={"fail_next": ["boom"] * 9}).raise_for_status()
    out = WorkerHealthAction().run(WorkerHealthArgs(timeout=2), ctx(emulator, "http://127.0.0.1:9"))
    assert out["failing"] is True and out["inconclusive"] is None
    assert judge(out, {"healthy": True}, strict_failing=False).verdict is Verdict.FAILED


# --- quotas ------------------------------------------------------------------------------------------------------

def test_a_rate_limited_graphql_answer_is_retried(emulator: EmulatorHandle) -> None:
    serve(emulator, MAIN, 5)
    c = client(emulator)
    invocations(c, SCRIPT, **window())  # the schema, read before the faults
    before = graphql_posts(emulator)
    httpx.put(f"{emulator.url}/__emulator/analytics", json={"fail_next": [DEPLETED]}).raise_for_status()
    assert invocations(c, SCRIPT, **window())["requests"] == 5
    assert graphql_posts(emulator) == before + 2


def test_one_run_reads_the_same_analytics_at_most_every_15_seconds(emulator: EmulatorHandle) -> None:
    serve(emulator, MAIN, 30)
    now = [1000.0]
    c = CloudflareClient(ACCOUNT, TOKEN, base_url=emulator.api_base_url, timeout=5,
                         retry=RetryPolicy(attempts=1, clock=lambda: now[0]))
    context = Context(Target("test", emulator.api_base_url, ACCOUNT, SCRIPT, "http://127.0.0.1:9", token=TOKEN),
                      dry_run=True, _cloudflare=c)
    args = AnalyticsArgs(script=SCRIPT, version=MAIN, since=(datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat())
    first = AnalyticsAction().run(args, context)
    asked = graphql_posts(emulator)
    now[0] += 14
    assert AnalyticsAction().run(args, context) == first and graphql_posts(emulator) == asked
    now[0] += 2
    AnalyticsAction().run(args, context)
    assert graphql_posts(emulator) == asked + 1

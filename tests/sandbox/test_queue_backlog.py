"""A queue's backlog from Cloudflare's GraphQL Analytics (queueBacklogAdaptiveGroups), against the emulator.

The client (``ops.cloudflare.analytics.queue_backlog``) and the ``queues.backlog`` operation
speak real HTTP to a real emulator; the backlog comes from messages pushed through the
Queues API and from the sandbox-only local count a Worker's shim reports.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from ops.cloudflare import CloudflareClient, RetryPolicy, push_messages
from ops.cloudflare import _api
from ops.cloudflare.analytics import queue_backlog
from ops.cloudflare.operations import OPERATIONS
from ops.judge.verdict import Verdict, judge
from ops.sandbox.constants import ACCOUNT_ID
from ops.sandbox.emulator import start_emulator
from ops.sandbox.emulator.__main__ import load_seed

TOKEN = "backlog-test-token"
JOBS, DLQ = "e0a0000000000000000000000000a001", "e0a0000000000000000000000000d001"  # the default seed's queues
DRAINED = {"result.consumer_attached": True, "result.backlog": {"<=": 0}}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Any, CloudflareClient]]:
    emulator = start_emulator(tmp_path / "state.json", seed=load_seed("default"), token=TOKEN)
    client = CloudflareClient(ACCOUNT_ID, TOKEN, base_url=emulator.api_base_url, retry=RetryPolicy(attempts=1), timeout=5)
    yield emulator, client
    client.close()
    emulator.stop()


def now() -> datetime:
    return datetime.now(timezone.utc)


def backlog(c: CloudflareClient, **args: Any) -> dict[str, Any]:
    result: dict[str, Any] = OPERATIONS["queues.backlog"].call(c, name="enrichment-jobs", script="api-worker", **args)
    return result


def report(emulator: Any, queue: str, **counts: Any) -> None:
    httpx.post(f"{emulator.url}/__emulator/queues/{queue}/local", json={"script": "api-worker", **counts},
               timeout=5).raise_for_status()


def test_messages_pushed_through_the_api_are_the_backlog(world: tuple[Any, CloudflareClient]) -> None:
    _, c = world
    push_messages(c, JOBS, [{"body": {"id": i}, "content_type": "json"} for i in range(3)])
    seen = queue_backlog(c, JOBS, since=now() - timedelta(minutes=5), until=now())
    assert seen["messages"] == 3 and seen["bytes"] == 3 * len('{"id": 0}')
    assert seen["sampled_at"].endswith("Z")
    found = backlog(c)
    assert found["consumer_attached"] is False and (found["backlog"], found["backlog_source"]) == (3, "analytics")
    assert judge({"result": found}, DRAINED, strict_failing=True).verdict is Verdict.FAILED


def test_no_sample_in_the_window_is_no_data_and_the_check_is_inconclusive(world: tuple[Any, CloudflareClient]) -> None:
    emulator, c = world
    an_hour_ago = now() - timedelta(hours=1)
    assert queue_backlog(c, JOBS, since=an_hour_ago - timedelta(hours=1), until=an_hour_ago)["messages"] is None
    assert queue_backlog(c, "f" * 32, since=now() - timedelta(minutes=5), until=now())["messages"] is None
    _api.create_consumer(c, JOBS, "api-worker", dead_letter_queue=None, settings={})
    later = (now() + timedelta(minutes=1)).isoformat()  # nothing sampled since then yet
    forbidden = {"forced": [{"method": "GET", "path": "/queues/[^/]+/metrics$", "code": 10000, "status": 403,
                             "message": "Authentication error"}]}
    httpx.put(f"{emulator.url}/__emulator/faults", headers=emulator.admin_headers, json=forbidden, timeout=5).raise_for_status()
    found = backlog(c, since=later)  # and the Queues API's metrics are refused (a token without Queues Read)
    assert "backlog" not in found and "no backlog sample" in found["backlog_unknown"]
    assert "Authentication error" in found["backlog_unknown"]
    judged = judge({"result": found}, DRAINED, strict_failing=True)
    assert judged.verdict is Verdict.INCONCLUSIVE and "result.backlog" in judged.message
    detached = {**found, "consumer_attached": False}  # no backlog data never hides a missing consumer
    assert judge({"result": detached}, DRAINED, strict_failing=True).verdict is Verdict.FAILED


def test_a_workers_local_queue_counts_until_the_worker_reloads(world: tuple[Any, CloudflareClient]) -> None:
    emulator, c = world
    report(emulator, "enrichment-jobs", sent=5, sent_bytes=100)
    report(emulator, "enrichment-jobs", settled=2, settled_bytes=40)
    assert backlog(c)["backlog"] == 3 and backlog(c)["backlog_bytes"] == 60
    _api.create_consumer(c, JOBS, "api-worker", dead_letter_queue="enrichment-dlq", settings={})
    assert backlog(c)["backlog"] == 0  # attaching a consumer reloads wrangler dev, which drops its local queue
    report(emulator, "enrichment-jobs", sent=4, sent_bytes=80)
    dead = {"messages": [{"body": {"id": i}, "content_type": "json"} for i in range(3)]}
    httpx.post(f"{emulator.url}/__emulator/queues/enrichment-dlq/messages", json=dead, timeout=5).raise_for_status()
    assert backlog(c)["backlog"] == 1  # dead letters left the queue for its dead-letter queue
    assert OPERATIONS["queues.backlog"].call(c, name="enrichment-dlq")["backlog"] == 3


def test_a_local_count_names_its_script_and_queue(world: tuple[Any, CloudflareClient]) -> None:
    emulator, c = world
    unnamed = httpx.post(f"{emulator.url}/__emulator/queues/enrichment-jobs/local", json={"sent": 1}, timeout=5)
    assert unnamed.status_code == 400 and "names its script" in unnamed.json()["error"]
    assert httpx.post(f"{emulator.url}/__emulator/queues/no-such-queue/local", json={}, timeout=5).status_code == 404
    assert backlog(c)["backlog"] == 0


def test_with_no_analytics_sample_yet_the_queues_api_metrics_answer(world: tuple[Any, CloudflareClient]) -> None:
    _, c = world
    push_messages(c, JOBS, [{"body": {"id": i}, "content_type": "json"} for i in range(2)])
    metrics = c.result("GET", f"/queues/{JOBS}/metrics")  # QueueGetMetricsResponse
    assert metrics["backlog_count"] == 2 and metrics["backlog_bytes"] == 2 * len('{"id": 0}')
    assert metrics["oldest_message_timestamp_ms"] > 0
    found = backlog(c, since=(now() + timedelta(minutes=1)).isoformat())
    assert (found["backlog"], found["backlog_source"]) == (2, "queues-api")
    assert backlog(c)["backlog_source"] == "analytics"


def test_other_fields_of_the_dataset_are_graphql_errors(world: tuple[Any, CloudflareClient]) -> None:
    emulator, _ = world
    query = """query($a: string!) { viewer { accounts(filter: {accountTag: $a}) {
      queueBacklogAdaptiveGroups(limit: 1, filter: {queueId: "x"}) { avg { concurrency } } } } }"""
    body = httpx.post(f"{emulator.api_base_url}/graphql", headers={"Authorization": f"Bearer {TOKEN}"},
                      json={"query": query, "variables": {"a": ACCOUNT_ID}}, timeout=5).json()
    assert body["data"] is None and 'unknown field "concurrency" on "avg"' in body["errors"][0]["message"]


def test_a_dry_run_client_may_read_the_backlog(world: tuple[Any, CloudflareClient]) -> None:
    emulator, _ = world
    dry = CloudflareClient(ACCOUNT_ID, TOKEN, base_url=emulator.api_base_url, read_only=True)
    assert backlog(dry)["backlog"] == 0
    assert all(not r["mutating"] for r in httpx.get(f"{emulator.url}/__emulator/requests", headers=emulator.admin_headers).json())

"""What broke against production, each with the answer that broke it (issue 12).

Rate limits and request sizes run against the emulator's fault switches and
limits; answers only the real edge gives (HTML 502s, 204s, ``cf-ray``) come from a
scripted loopback server.
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

import ops.cloudflare as cf
from ops.cloudflare import CloudflareClient, RetryPolicy
from ops.cloudflare._client import RequestBudget, parse_retry_after
from ops.cloudflare.operations import attach_consumer, find_queue, replay_queue
from ops.errors import ApiError, InputError, TransportError
from ops.sandbox.emulator import start_emulator
from ops.sandbox.emulator.__main__ import load_seed
from tests.cloudflare.scripted_edge import ScriptedEdge, envelope

ACCOUNT, TOKEN = "5a4db0c5000000000000000000000000", "sandbox-local-token"
JOBS, DLQ, CACHE = "e0a0000000000000000000000000a001", "e0a0000000000000000000000000d001", "b0b0cafe000000000000000000000001"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Any]:
    handle = start_emulator(tmp_path / "state.json", seed=load_seed("default"), token=TOKEN)
    yield handle
    handle.stop()


@pytest.fixture
def edge() -> Iterator[ScriptedEdge]:
    server = ScriptedEdge([(200, {}, envelope([]))])
    yield server
    server.stop()


def client(base_url: str, clock: FakeClock, *, budget: RequestBudget | None = None, attempts: int = 4) -> CloudflareClient:
    policy = RetryPolicy(attempts=attempts, sleep=clock.sleep, rng=random.Random(1), clock=clock)
    return CloudflareClient(ACCOUNT, TOKEN, base_url=base_url, retry=policy, timeout=5,
                            budget=budget or RequestBudget(clock=clock, sleep=clock.sleep))


def faults(handle: Any, **settings: Any) -> None:
    httpx.put(f"{handle.url}/__emulator/faults", headers=handle.admin_headers, json=settings).raise_for_status()


def requests(handle: Any) -> list[dict[str, Any]]:
    return list(httpx.get(f"{handle.url}/__emulator/requests", headers=handle.admin_headers).json())


# --- 429: not processed, so retried for every method; Retry-After up to the step's deadline ---------------

def test_a_rate_limited_post_is_retried_because_it_was_not_processed(emulator: Any, clock: FakeClock) -> None:
    c = client(emulator.api_base_url, clock)
    faults(emulator, forced=[{"method": "POST", "path": "/consumers$", "code": 971, "status": 429,
                              "message": "Please wait and consider throttling your request speed", "times": 2}])
    consumer = cf.create_consumer(c, JOBS, "api-worker")
    assert consumer["script_name"] == "api-worker"
    assert [r["status"] for r in requests(emulator) if r["method"] == "POST"] == [429, 429, 200]


def test_retry_after_is_honoured_beyond_the_old_cap_within_the_deadline(emulator: Any, clock: FakeClock) -> None:
    c = client(emulator.api_base_url, clock)
    faults(emulator, rate_limit_rate=1.0, retry_after=120, seed=1)
    with c.until(600), pytest.raises(ApiError) as caught:
        cf.list_queues(c)
    assert caught.value.status == 429
    assert clock.sleeps == [120.0, 120.0, 120.0]


def test_a_retry_after_past_the_deadline_fails_at_once_and_says_why(emulator: Any, clock: FakeClock) -> None:
    c = client(emulator.api_base_url, clock)
    faults(emulator, rate_limit_rate=1.0, retry_after=300, seed=1)
    with c.until(45), pytest.raises(ApiError) as caught:
        cf.create_consumer(c, JOBS, "api-worker")
    assert clock.sleeps == [] and len(requests(emulator)) == 1
    assert "not retried: the wait of 300 s asked for is longer than the 45 s left to this step" in str(caught.value)


def test_retry_after_as_an_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480.0 - 90) == 90.0
    assert parse_retry_after("17", 0) == 17.0 and parse_retry_after("soon", 0) is None


def test_the_request_budget_slows_down_before_cloudflares_limit(emulator: Any, clock: FakeClock) -> None:
    budget = RequestBudget(limit=5, window=300, clock=clock, sleep=clock.sleep)
    c = client(emulator.api_base_url, clock, budget=budget)
    for _ in range(5):
        cf.list_queues(c)
    assert clock.sleeps == []
    cf.list_queues(c)  # the sixth waits until the first leaves the 300 s window
    assert clock.sleeps == [300.0]
    with c.until(10):
        for _ in range(4):
            cf.list_queues(c)
        with pytest.raises(TransportError, match="sent 5 API requests in 300 s"):
            cf.list_queues(c)


def test_every_client_of_a_run_shares_one_budget(emulator: Any) -> None:
    from ops.cloudflare._client import RUN_BUDGET

    a = CloudflareClient(ACCOUNT, TOKEN, base_url=emulator.api_base_url)
    b = CloudflareClient(ACCOUNT, TOKEN, base_url=emulator.api_base_url)
    before = RUN_BUDGET.used
    cf.list_queues(a)
    cf.list_queues(b)
    assert a.budget is b.budget is RUN_BUDGET and RUN_BUDGET.used == before + 2


# --- answers from the edge: HTML, 204, cf-ray -------------------------------------------------------------

HTML_502 = (502, {"content-type": "text/html; charset=UTF-8", "cf-ray": "8f1c2d3e4a5b6c7d-LHR"},
            b"<!DOCTYPE html><html><head><title>api.cloudflare.com | 502: Bad gateway</title></head><body>...</body></html>")


def test_an_html_502_from_the_edge_is_reported_with_status_and_ray(edge: ScriptedEdge, clock: FakeClock) -> None:
    edge.replies[:] = [HTML_502]
    c = client(edge.api_base_url, clock, attempts=2)
    with pytest.raises(TransportError) as caught:
        cf.list_queues(c)
    text = str(caught.value)
    assert "HTTP 502 (text/html, cf-ray 8f1c2d3e4a5b6c7d-LHR)" in text and "502: Bad gateway" in text
    assert len(edge.seen) == 2  # a GET is retried once here


def test_an_html_503_on_a_post_is_not_repeated(edge: ScriptedEdge, clock: FakeClock) -> None:
    edge.replies[:] = [(503, {"content-type": "text/html", "cf-ray": "1234-SJC"}, b"<html>busy</html>")]
    with pytest.raises(TransportError, match="HTTP 503 .*cf-ray 1234-SJC"):
        cf.create_deployment(client(edge.api_base_url, clock), "api-worker", "v")
    assert len(edge.seen) == 1


def test_api_errors_keep_the_ray(edge: ScriptedEdge, clock: FakeClock) -> None:
    edge.replies[:] = [(403, {"content-type": "application/json", "cf-ray": "7a7a7a7a7a7a7a7a-AMS"},
                        envelope(success=False, code=10000, message="Authentication error"))]
    with pytest.raises(ApiError) as caught:
        cf.list_queues(client(edge.api_base_url, clock))
    assert caught.value.code == 10000 and "cf-ray 7a7a7a7a7a7a7a7a-AMS" in str(caught.value)


def test_an_empty_204_is_an_empty_success(edge: ScriptedEdge, clock: FakeClock) -> None:
    edge.replies[:] = [(204, {"cf-ray": "1-LHR"}, b"")]
    cf.delete_consumer(client(edge.api_base_url, clock), JOBS, "c0ffee")
    assert edge.seen[0][0] == "DELETE"


# --- request sizes -----------------------------------------------------------------------------------------

def test_a_queue_push_is_split_at_256_kb(emulator: Any, clock: FakeClock) -> None:
    c = client(emulator.api_base_url, clock)
    big = [{"body": "x" * 100_000, "content_type": "text"} for _ in range(5)]  # 500 KB in 5 messages
    cf.push_messages(c, DLQ, big)
    pushes = [r for r in requests(emulator) if r["path"].endswith("/messages/batch")]
    assert [r["status"] for r in pushes] == [200, 200, 200]  # 2 + 2 + 1, each under 256 KB
    assert len(cf.peek_messages(c, DLQ)) == 5


def test_a_queue_push_is_split_at_100_messages(emulator: Any, clock: FakeClock) -> None:
    c = client(emulator.api_base_url, clock)
    cf.push_messages(c, DLQ, [{"body": {"n": i}, "content_type": "json"} for i in range(250)])
    assert len([r for r in requests(emulator) if r["path"].endswith("/messages/batch")]) == 3


def test_the_emulator_refuses_a_batch_over_256_kb_as_cloudflare_does(emulator: Any, clock: FakeClock) -> None:
    c = client(emulator.api_base_url, clock)
    with pytest.raises(ApiError) as caught:
        c.request("POST", f"/queues/{DLQ}/messages/batch",
                  json={"messages": [{"body": "x" * 100_000, "content_type": "text"}] * 3})
    assert caught.value.status == 413


def test_a_message_over_128_kb_is_refused_before_anything_is_sent(emulator: Any, clock: FakeClock) -> None:
    with pytest.raises(InputError, match="at most 128 KB"):
        cf.push_messages(client(emulator.api_base_url, clock), DLQ, [{"body": "y" * 130_000, "content_type": "text"}])
    assert requests(emulator) == []


def test_kv_bulk_keeps_each_request_under_the_byte_budget(emulator: Any, clock: FakeClock,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from ops.cloudflare import _api

    monkeypatch.setattr(_api, "KV_BULK_BYTES", 50_000)  # the 100 MB budget, scaled down to test it
    c = client(emulator.api_base_url, clock)
    pairs = [{"key": f"k{i}", "value": "v" * 10_000} for i in range(12)]
    assert cf.kv_bulk_put(c, CACHE, pairs) == 12
    assert len([r for r in requests(emulator) if r["method"] == "PUT"]) == 3  # 4 pairs (~40 KB) a request
    assert len(list(cf.list_kv_keys(c, CACHE))) >= 12


# --- queues: base64 bodies, consumers by script_name/script/service, settings kept --------------------------

def test_a_replay_decodes_base64_json_bodies_and_moves_them(emulator: Any, clock: FakeClock) -> None:
    c = client(emulator.api_base_url, clock)
    cf.push_messages(c, DLQ, [{"body": {"id": f"job-{i}"}, "content_type": "json"} for i in range(3)])
    cf.push_messages(c, DLQ, [{"body": "plain", "content_type": "text"}])
    result = replay_queue(c, "enrichment-dlq", "enrichment-jobs")
    assert (result["moved"], result["kept"]) == (4, 0)
    cf.create_pull_consumer(c, JOBS)
    pulled = cf.pull_messages(c, JOBS, batch_size=10)["messages"]
    bodies = [json.loads(base64.b64decode(m["body"])) if m["metadata"]["CF-Content-Type"] == "json" else m["body"]
              for m in pulled]
    assert bodies == [{"id": "job-0"}, {"id": "job-1"}, {"id": "job-2"}, "plain"]


@pytest.mark.parametrize("field", ["script_name", "script", "service"])
def test_consumers_are_matched_on_any_name_the_api_uses(edge: ScriptedEdge, clock: FakeClock, field: str) -> None:
    queue = {"queue_id": JOBS, "queue_name": "enrichment-jobs",
             "consumers": [{"consumer_id": "c1", "type": "worker", field: "api-worker", "settings": {}}]}
    edge.replies[:] = [(200, {"content-type": "application/json"},
                        envelope([queue], info={"page": 1, "per_page": 100, "total_pages": 1}))]
    found = find_queue(client(edge.api_base_url, clock), "enrichment-jobs", "api-worker")
    assert found["consumer_attached"] is True and found["consumer_id"] == "c1"


def test_reattaching_sends_the_configs_consumer_settings(emulator: Any, clock: FakeClock, tmp_path: Path) -> None:
    config = tmp_path / "wrangler.toml"
    config.write_text('name = "api-worker"\nmain = "src/index.ts"\n\n'
                      '[[env.production.queues.consumers]]\nqueue = "enrichment-jobs"\nmax_batch_size = 25\n'
                      'max_batch_timeout = 2.5\nmax_retries = 7\nretry_delay = 30\nmax_concurrency = 4\n'
                      'dead_letter_queue = "enrichment-dlq"\n', encoding="utf-8")
    c = client(emulator.api_base_url, clock)
    consumer = attach_consumer(c, JOBS, "api-worker", config=str(config), env="production")
    assert consumer["settings"] == {"batch_size": 25, "max_wait_time_ms": 2500, "max_retries": 7,
                                    "retry_delay": 30, "max_concurrency": 4}
    assert consumer["dead_letter_queue"] == "enrichment-dlq"
    with pytest.raises(InputError, match=r"no environment 'staging' in the wrangler config"):
        attach_consumer(c, JOBS, "api-worker", config=str(config), env="staging")


# --- R2: paged, per jurisdiction ------------------------------------------------------------------------

def test_r2_lists_every_page_of_every_jurisdiction(emulator: Any, clock: FakeClock) -> None:
    c = client(emulator.api_base_url, clock)
    for i in range(25):
        c.request("POST", "/r2/buckets", json={"name": f"bucket-{i:02d}"})
    c.request("POST", "/r2/buckets", json={"name": "eu-archive"}, headers={"cf-r2-jurisdiction": "eu"})
    buckets = cf.list_r2(c)
    names = [b["name"] for b in buckets]
    assert {f"bucket-{i:02d}" for i in range(25)} | {"eu-archive"} <= set(names) and len(names) == len(set(names))
    assert [b for b in buckets if b["jurisdiction"] == "eu"][0]["name"] == "eu-archive"
    listed = [r["query"] for r in requests(emulator) if r["method"] == "GET"]
    assert listed == ["per_page=1000", "per_page=1000"]  # one page of each jurisdiction at 1,000 a page

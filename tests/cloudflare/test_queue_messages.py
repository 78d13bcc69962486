"""Queue messages through the client and the emulator: push, peek, pull with leases, ack, and the DLQ replay."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

import ops.cloudflare as cf
from ops.cloudflare import CloudflareClient
from ops.cloudflare.operations import find_queue, peek_queue, replay_queue
from ops.errors import ApiError
from ops.sandbox.emulator import start_emulator
from ops.sandbox.emulator.__main__ import load_seed

ACCOUNT, TOKEN = "5a4db0c5000000000000000000000000", "sandbox-local-token"
JOBS, DLQ = "e0a0000000000000000000000000a001", "e0a0000000000000000000000000d001"


@pytest.fixture
def delivered() -> list[tuple[str, list[dict[str, Any]]]]:
    return []


@pytest.fixture
def client(tmp_path: Path, delivered: list[Any]) -> Iterator[CloudflareClient]:
    handle = start_emulator(tmp_path / "state.json", seed=load_seed("default"), token=TOKEN,
                            on_deliver=lambda queue, messages: delivered.append((queue, messages)))
    c = CloudflareClient(ACCOUNT, TOKEN, base_url=handle.api_base_url, timeout=5)
    c.emulator_url = handle.url  # type: ignore[attr-defined]
    c.admin_headers = handle.admin_headers  # type: ignore[attr-defined]
    yield c
    c.close()
    handle.stop()


def jobs(n: int) -> list[dict[str, Any]]:
    return [{"body": {"id": f"job-{i}", "isbn": f"978{i:010d}"}, "content_type": "json"} for i in range(n)]


def test_pull_needs_an_http_pull_consumer(client: CloudflareClient) -> None:
    cf.push_messages(client, DLQ, jobs(1))
    with pytest.raises(ApiError) as caught:
        cf.pull_messages(client, DLQ)
    assert caught.value.code == 11010


def test_pull_leases_and_ack_removes(client: CloudflareClient) -> None:
    cf.push_messages(client, DLQ, jobs(3) + [{"body": "plain words", "content_type": "text"}])
    cf.create_pull_consumer(client, DLQ)
    first = cf.pull_messages(client, DLQ, batch_size=2, visibility_timeout_ms=60_000)
    assert first["message_backlog_count"] == 4 and len(first["messages"]) == 2
    # The docs' "Content types" of pull consumers: json (the default) and bytes bodies come back base64-encoded.
    assert json.loads(base64.b64decode(first["messages"][0]["body"], validate=True)) == {"id": "job-0", "isbn": "9780000000000"}
    assert first["messages"][0]["metadata"] == {"CF-Content-Type": "json"}
    second = cf.pull_messages(client, DLQ, batch_size=10)
    assert [m["body"] for m in second["messages"]][-1] == "plain words"  # text as it is; leased ones are not pulled again
    acked = cf.ack_messages(client, DLQ, [m["lease_id"] for m in first["messages"]])
    assert acked["ackCount"] == 2 and acked["warnings"] == {}
    assert len(cf.peek_messages(client, DLQ)) == 2


def test_peek_leases_nothing_and_is_not_a_mutation(client: CloudflareClient) -> None:
    cf.push_messages(client, DLQ, jobs(2))
    assert peek_queue(client, "enrichment-dlq")["count"] == 2
    assert peek_queue(client, "enrichment-dlq")["count"] == 2
    seen = httpx.get(f"{client.emulator_url}/__emulator/requests", headers=client.admin_headers).json()  # type: ignore[attr-defined]
    assert [r["mutating"] for r in seen if r["path"].endswith("/peek")] == [False, False]


def test_replay_moves_everything_back_and_returns_the_borrowed_consumer(client: CloudflareClient, delivered: list[Any]) -> None:
    cf.push_messages(client, DLQ, jobs(60))
    cf.push_messages(client, DLQ, jobs(60))
    result = replay_queue(client, "enrichment-dlq", "enrichment-jobs", batch_size=50)
    assert result["moved"] == 120 and result["remaining"] == 0 and result["pull_consumer_added"] is True
    assert find_queue(client, "enrichment-dlq")["pull_consumer_id"] is None  # borrowed, then removed
    assert peek_queue(client, "enrichment-dlq")["count"] == 0
    assert delivered == []  # enrichment-jobs has no Worker consumer in this seed: the messages wait
    assert peek_queue(client, "enrichment-jobs")["count"] == 100  # peek shows at most 100
    cf.create_consumer(client, JOBS, "api-worker")
    assert sum(len(m) for _, m in delivered) == 120 and delivered[0][1][0] == {
        "body": '{"id": "job-0", "isbn": "9780000000000"}', "content_type": "json"}
    assert peek_queue(client, "enrichment-jobs")["count"] == 0


def test_replay_stops_at_the_limit(client: CloudflareClient) -> None:
    cf.push_messages(client, DLQ, jobs(30))
    result = replay_queue(client, "enrichment-dlq", "enrichment-jobs", max_messages=12, batch_size=5)
    assert result["moved"] == 12 and result["remaining"] == 18
    assert peek_queue(client, "enrichment-dlq")["count"] == 18

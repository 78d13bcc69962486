"""A Worker with a compatibility date before 2024-03-18 sends v8-serialised queue messages, which a DLQ
replay keeps back (issue 19, point 9).

workerd's ``queuesJsonMessages`` (src/workerd/io/compatibility-date.capnp) makes JSON the producer's
default from 2024-03-18, or with ``queues_json_messages``; before it, or with
``no_queues_json_messages``, messages are v8. The REST API cannot push v8
(cloudflare-typescript src/resources/queues/messages.ts ``MessageBulkPushParams``), so the replay
must leave them in the dead-letter queue.
"""

from __future__ import annotations


import httpx
import pytest

import ops.cloudflare as cf
from ops.cloudflare import CloudflareClient
from ops.cloudflare.operations import peek_queue, replay_queue
from ops.sandbox.emulator import EmulatorHandle
from tests.cloudflare.uploads import upload

JOBS = "e0a0000000000000000000000000a001"


def dead_letters(emulator: EmulatorHandle, client: CloudflareClient, *, date: str, flags: list[str]) -> None:
    """api-worker consumes enrichment-jobs with enrichment-dlq as its DLQ; three jobs fail their retries."""
    upload(emulator.api_base_url, "api-worker", compatibility_date=date, flags=flags)
    cf.create_consumer(client, JOBS, "api-worker", dead_letter_queue="enrichment-dlq")
    handed = httpx.post(f"{emulator.url}/__emulator/queues/enrichment-dlq/messages",
                        json={"messages": [{"body": {"id": f"job-{i}"}, "content_type": "json"} for i in range(3)]})
    assert handed.json() == {"queued": 3}


@pytest.mark.parametrize(("date", "flags"), [("2024-03-17", []), ("2026-04-01", ["no_queues_json_messages"])])
def test_v8_dead_letters_are_kept_not_moved(emulator: EmulatorHandle, client: CloudflareClient, date: str,
                                            flags: list[str]) -> None:
    dead_letters(emulator, client, date=date, flags=flags)
    assert [m["metadata"]["CF-Content-Type"] for m in cf.peek_messages(client, _dlq(client))] == ["v8"] * 3

    result = replay_queue(client, "enrichment-dlq", "enrichment-jobs")
    assert (result["moved"], result["kept"]) == (0, 3)
    assert peek_queue(client, "enrichment-dlq")["count"] == 3


@pytest.mark.parametrize(("date", "flags"), [("2024-03-18", []), ("2023-01-01", ["queues_json_messages"])])
def test_json_dead_letters_are_moved(emulator: EmulatorHandle, client: CloudflareClient, date: str,
                                     flags: list[str]) -> None:
    dead_letters(emulator, client, date=date, flags=flags)
    result = replay_queue(client, "enrichment-dlq", "enrichment-jobs")
    assert (result["moved"], result["kept"]) == (3, 0)


def _dlq(client: CloudflareClient) -> str:
    return str(next(q["queue_id"] for q in cf.list_queues(client) if q["queue_name"] == "enrichment-dlq"))

"""A reset leaves running the Workers that nothing reached since the last up, and restarts the rest (ops.sandbox.pristine)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from ops.cloudflare import CloudflareClient
from ops.cloudflare._api import kv_bulk_put, list_kv_namespaces
from ops.sandbox import pristine
from ops.sandbox.constants import BOOKS, INFRA, PLAIN
from ops.sandbox.layout import with_client


def running(sb: Any, spec: Any) -> tuple[int | None, str]:
    """The Worker's follower (which owns its wrangler dev) and the id its isolate drew at its first request."""
    return sb.processes.pid(f"worker-{spec.key}"), str(sb.served(spec)["boot"])


def test_a_reset_keeps_an_untouched_worker_and_restarts_one_that_served_a_request(sandbox: Any) -> None:
    sb = sandbox.sandbox
    sb.reset()
    before = {spec.key: running(sb, spec) for spec in (PLAIN, INFRA)}
    assert pristine.untouched(sb, PLAIN) and pristine.untouched(sb, INFRA)
    assert httpx.get(f"{sb.url_of(PLAIN)}/", timeout=10).status_code == 200  # one request, through the proxy
    assert not pristine.untouched(sb, PLAIN) and pristine.untouched(sb, INFRA)
    status = sb.reset()
    assert running(sb, INFRA) == before[INFRA.key]  # the same wrangler dev and the same isolate
    pid, boot = running(sb, PLAIN)
    assert pid != before[PLAIN.key][0] and boot != before[PLAIN.key][1]  # a new one, on fresh local storage
    assert status["healthy"] and all(w["follows_control_plane"] for w in status["parts"]["workers"].values())


def test_a_kv_write_through_the_api_reaches_the_worker_and_counts_as_touching_it(sandbox: Any) -> None:
    sb = sandbox.sandbox
    sb.reset()
    assert pristine.untouched(sb, BOOKS)

    def put(client: CloudflareClient) -> int:
        namespace = next(n["id"] for n in list_kv_namespaces(client) if n["title"] == "api-worker-CACHE")
        return kv_bulk_put(client, namespace, [{"key": "pristine-test", "value": "written"}])

    assert with_client(sb, put) == 1
    deadline = time.monotonic() + 20  # the emulator's bridge hands it to the Worker's local KV from its own thread
    while pristine.untouched(sb, BOOKS):
        assert time.monotonic() < deadline, "the KV write never reached the Worker"
        time.sleep(0.1)
    sb.reset()
    assert pristine.untouched(sb, BOOKS)

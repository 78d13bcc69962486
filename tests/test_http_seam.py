"""The one HTTP seam: in a dry-run no client ops builds can send a mutating request."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ops import http
from ops.cloudflare import CloudflareClient
from ops.errors import DryRunViolation, OpsError

MUTATING = ["POST", "PUT", "PATCH", "DELETE"]


def _recording() -> tuple[list[str], httpx.MockTransport, httpx.AsyncBaseTransport]:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        return httpx.Response(200, json={"success": True, "errors": [], "messages": [], "result": {}})

    return sent, httpx.MockTransport(handler), httpx.MockTransport(handler)


@pytest.mark.parametrize("method", MUTATING)
def test_the_sync_client_refuses_mutations_in_a_dry_run(method: str) -> None:
    sent, transport, _ = _recording()
    with http.client(read_only=True, transport=transport) as c, pytest.raises(DryRunViolation):
        c.request(method, "http://127.0.0.1:9/admin/cache/warm")
    assert sent == []


@pytest.mark.parametrize("method", MUTATING)
def test_the_async_client_refuses_mutations_in_a_dry_run(method: str) -> None:
    sent, _, transport = _recording()

    async def go() -> None:
        async with http.async_client(read_only=True, transport=transport) as c:  # type: ignore[arg-type]
            await c.request(method, "http://127.0.0.1:9/admin/cache/warm")

    with pytest.raises(DryRunViolation):
        asyncio.run(go())
    assert sent == []


@pytest.mark.parametrize("method", MUTATING)
def test_the_cloudflare_client_refuses_mutations_in_a_dry_run(method: str) -> None:
    sent, transport, _ = _recording()
    client = CloudflareClient("a" * 32, "token", base_url="http://127.0.0.1:9/client/v4", read_only=True,
                              transport=transport)
    with pytest.raises(DryRunViolation):
        client._http.request(method, "/accounts/x/workers/scripts/w/deployments")
    assert sent == []


def test_reading_posts_pass_and_reads_pass() -> None:
    sent, transport, _ = _recording()
    with http.client(read_only=True, transport=transport) as c:
        c.get("http://127.0.0.1:9/health")
        c.post("http://127.0.0.1:9/client/v4/accounts/a/queues/q/messages/peek")
        c.post("http://127.0.0.1:9/client/v4/graphql", json={"query": "{ viewer { zones { x } } }"})
    assert sent == ["GET /health", "POST /client/v4/accounts/a/queues/q/messages/peek", "POST /client/v4/graphql"]


def test_the_violation_is_in_the_error_tree() -> None:
    assert issubclass(DryRunViolation, OpsError)


def test_writes_pass_outside_a_dry_run() -> None:
    sent, transport, _ = _recording()
    with http.client(read_only=False, transport=transport) as c:
        c.post("http://127.0.0.1:9/admin/cache/warm")
    assert sent == ["POST /admin/cache/warm"]

"""The one HTTP seam: every request ops makes goes through a client built here.

Actions, the Cloudflare client and cache warming's async batches all get their
``httpx`` clients from ``client()`` and ``async_client()``. In a dry-run (and in
``inv diagnose``) the transport is read-only: it refuses any request that can
change state, whatever the caller believes it is doing. That is the second wall;
the engine, which never runs a ``write`` step in a plan, is the first.

Tests swap the transport (``httpx.MockTransport``) through the ``transport``
argument; the read-only wall still wraps it.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from ops.errors import DryRunViolation

__all__ = ["DEFAULT_TIMEOUT", "READING_POSTS", "SAFE_METHODS", "async_client", "client", "is_read_only_request"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POSTs that only read: Queues' peek returns messages without leasing them, and a
# GraphQL Analytics query (the API has no mutations) reads invocation data.
READING_POSTS = re.compile(r"(/accounts/[^/]+/queues/[^/]+/messages/peek|/client/v4/graphql)$")
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def is_read_only_request(method: str, path: str) -> bool:
    return method in SAFE_METHODS or (method == "POST" and READING_POSTS.search(path) is not None)


def _refuse_unless_reading(request: httpx.Request) -> None:
    if not is_read_only_request(request.method, request.url.path):
        raise DryRunViolation(f"dry-run refused {request.method} {request.url.path}")


class ReadOnlyTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_unless_reading(request)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class AsyncReadOnlyTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_unless_reading(request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def client(*, read_only: bool, timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
           transport: httpx.BaseTransport | None = None, **options: Any) -> httpx.Client:
    """A sync client; ``options`` go to ``httpx.Client`` (base_url, headers, …)."""
    inner = transport or httpx.HTTPTransport(retries=0)
    wall: httpx.BaseTransport = ReadOnlyTransport(inner) if read_only else inner
    return httpx.Client(transport=wall, timeout=timeout, follow_redirects=False, **options)


def async_client(*, read_only: bool, timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
                 limits: httpx.Limits | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 **options: Any) -> httpx.AsyncClient:
    """An async client, for bounded-concurrency batches (cache warming)."""
    inner = transport or httpx.AsyncHTTPTransport(retries=0, limits=limits or httpx.Limits())
    wall: httpx.AsyncBaseTransport = AsyncReadOnlyTransport(inner) if read_only else inner
    return httpx.AsyncClient(transport=wall, timeout=timeout, follow_redirects=False, **options)

"""The one HTTP seam: every request ops makes goes through a client built here.

Actions, the Cloudflare client and cache warming's async batches all get their
``httpx`` clients from ``client()`` and ``async_client()``. In a dry-run (and in
``inv diagnose``) the transport is read-only: it refuses any request that can
change state, whatever the caller believes it is doing. That is the second wall;
the engine, which never runs a ``write`` step in a plan, is the first.

A tail session (what `wrangler tail` opens to stream a Worker's events) is started with a
POST and ended with a DELETE of that session; neither changes the Worker, so both pass
the wall (``is_tail_session``), as a GraphQL query does. Any other POST or DELETE under a
script is refused.

D1 is the one place where a POST carries a read in its body: a client built with
``d1_reads=True`` (read-only, always) also lets through POSTs to a database's
``/query`` and ``/raw`` routes, and only when the JSON body is one ``sql`` (plus
``params``) that ``ops.read_only_sql`` judges a single read. The ``d1`` action
checks the same before it sends; this is the wall behind it.

Tests swap the transport (``httpx.MockTransport``) through the ``transport``
argument; the read-only wall still wraps it.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from ops.errors import DryRunViolation

__all__ = ["D1_QUERY", "DEFAULT_TIMEOUT", "READING_POSTS", "SAFE_METHODS", "TAIL_SESSIONS", "async_client", "client",
           "is_read_only_request", "is_tail_session", "read_only_transport", "scheme_transport"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POSTs that only read: Queues' peek returns messages without leasing them, and a
# GraphQL Analytics query (the API has no mutations) reads invocation data.
READING_POSTS = re.compile(r"(/accounts/[^/]+/queues/[^/]+/messages/peek|/client/v4/graphql)$")
# D1's query routes (cloudflare-typescript src/resources/d1/database/database.ts: `query`, `raw`).
D1_QUERY = re.compile(r"/accounts/[^/]+/d1/database/[^/]+/(query|raw)$")
# Tail sessions (cloudflare-typescript src/resources/workers/scripts/tail.ts: `create` POSTs the
# collection, `delete` DELETEs one session).
TAIL_SESSIONS = re.compile(r"/accounts/[^/]+/workers/scripts/[^/]+/tails$")
TAIL_SESSION = re.compile(r"/accounts/[^/]+/workers/scripts/[^/]+/tails/[^/]+$")
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def is_tail_session(method: str, path: str) -> bool:
    """Starting (POST) or ending (DELETE) a tail session: it reads a Worker's events and changes nothing."""
    return ((method == "POST" and TAIL_SESSIONS.search(path) is not None)
            or (method == "DELETE" and TAIL_SESSION.search(path) is not None))


def is_read_only_request(method: str, path: str, *, d1_reads: bool = False) -> bool:
    """Whether the method and path only read; a D1 query (``d1_reads``) still needs its body checked."""
    if method in SAFE_METHODS or is_tail_session(method, path):
        return True
    return method == "POST" and (READING_POSTS.search(path) is not None
                                 or (d1_reads and D1_QUERY.search(path) is not None))


def _refuse_unless_reading(request: httpx.Request, d1_reads: bool = False) -> None:
    path = request.url.path
    if not is_read_only_request(request.method, path, d1_reads=d1_reads):
        raise DryRunViolation(f"dry-run refused {request.method} {path}")
    if request.method == "POST" and d1_reads and D1_QUERY.search(path):
        _refuse_unless_d1_read(request)


def _refuse_unless_d1_read(request: httpx.Request) -> None:
    import json

    from ops.read_only_sql import NotARead, require_read

    try:
        body = json.loads(request.content or b"null")
    except (ValueError, httpx.RequestNotRead):
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("sql"), str) or set(body) - {"sql", "params"}:
        raise DryRunViolation(f"refused POST {request.url.path}: a D1 read sends one `sql` (and `params`), nothing else")
    try:
        require_read(body["sql"])
    except NotARead as exc:
        raise DryRunViolation(f"refused POST {request.url.path}: not a read ({exc})") from None


class ReadOnlyTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, *, d1_reads: bool = False) -> None:
        self._inner = inner
        self._d1_reads = d1_reads

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_unless_reading(request, self._d1_reads)
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


class _ByScheme(httpx.BaseTransport):
    """httpx's transport, built for the scheme asked for: a plain ``http://`` request (a loopback sandbox, the
    tests) never pays for TLS settings, whose CA bundle takes tens of milliseconds to load; ``https://`` gets
    httpx's verifying default, built on its first request."""

    def __init__(self) -> None:
        self._by_scheme: dict[str, httpx.HTTPTransport] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        scheme = request.url.scheme
        if scheme not in self._by_scheme:
            # verify=False only where no TLS can happen: the https transport always verifies
            self._by_scheme[scheme] = httpx.HTTPTransport(retries=0, verify=scheme != "http")
        return self._by_scheme[scheme].handle_request(request)

    def close(self) -> None:
        for transport in self._by_scheme.values():
            transport.close()


def scheme_transport() -> httpx.BaseTransport:
    """The plain transport ``client()`` uses when given none, for wrapping (``ops.egress``)."""
    return _ByScheme()


def read_only_transport(inner: httpx.BaseTransport | None = None, *, d1_reads: bool = False) -> httpx.BaseTransport:
    """The read-only wall around ``inner``; with ``d1_reads`` it also passes D1 queries whose SQL is one read."""
    return ReadOnlyTransport(inner or _ByScheme(), d1_reads=d1_reads)


def client(*, read_only: bool, timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
           transport: httpx.BaseTransport | None = None, d1_reads: bool = False, **options: Any) -> httpx.Client:
    """A sync client; ``options`` go to ``httpx.Client`` (base_url, headers, …). ``d1_reads`` implies read-only."""
    inner = transport or _ByScheme()
    wall: httpx.BaseTransport = ReadOnlyTransport(inner, d1_reads=d1_reads) if read_only or d1_reads else inner
    return httpx.Client(transport=wall, timeout=timeout, follow_redirects=False, **options)


def async_client(*, read_only: bool, timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
                 limits: httpx.Limits | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 **options: Any) -> httpx.AsyncClient:
    """An async client, for bounded-concurrency batches (cache warming)."""
    inner = transport or httpx.AsyncHTTPTransport(retries=0, limits=limits or httpx.Limits())
    wall: httpx.AsyncBaseTransport = AsyncReadOnlyTransport(inner) if read_only else inner
    return httpx.AsyncClient(transport=wall, timeout=timeout, follow_redirects=False, **options)

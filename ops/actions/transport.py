"""The HTTP transport that actions share, read-only in dry-run.

The engine never runs a ``write`` step in dry-run; this is the second wall: a
dry-run client refuses any request whose method can change state, at the
transport, whatever the action believes it is doing.
"""

from __future__ import annotations

import re

import httpx

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POSTs that only read. Queues' peek returns messages without leasing them.
READING_POSTS = re.compile(r"/accounts/[^/]+/queues/[^/]+/messages/peek$")
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class DryRunViolation(RuntimeError):
    """A mutating request was attempted during a dry-run: a bug, never a user error."""


class ReadOnlyTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method not in SAFE_METHODS and not (request.method == "POST" and READING_POSTS.search(request.url.path)):
            raise DryRunViolation(f"dry-run refused {request.method} {request.url.path}")
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def make_http_client(*, read_only: bool, timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.Client:
    transport: httpx.BaseTransport = httpx.HTTPTransport(retries=0)
    if read_only:
        transport = ReadOnlyTransport(transport)
    return httpx.Client(transport=transport, timeout=timeout, follow_redirects=False)

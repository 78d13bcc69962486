"""Where a request may go: the target's own hosts, and the hosts the target allows.

A target owns two origins, its Worker's URL and its API base URL; ``allowed_hosts``
in targets.toml adds others (``"hooks.slack.com"`` for port 443 or 80, or
``"host:port"``). Two rules follow, enforced at the transport, on the bytes about
to be sent, whatever a spec declared:

- in a dry-run or ``inv diagnose`` (read-only), every request goes to one of them;
- in a run, a request that carries any registered secret (in any encoding the
  redactor knows: raw, percent-encoded, base64, JSON-escaped …) in its URL, a
  header or its body goes to one of them.

A refusal is an ``InputError`` (exit 2) naming the host and how to allow it; the
request is never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import httpx

from ops import redact
from ops.errors import InputError

__all__ = ["AsyncEgressTransport", "Egress", "EgressTransport", "origin", "parse_allowed"]

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def origin(url: str | httpx.URL) -> tuple[str, int] | None:
    """(host, port) of an absolute URL; None when it names no host."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return None
    if not parsed.host:
        return None
    port = parsed.port or DEFAULT_PORTS.get(parsed.scheme)
    return (parsed.host.lower(), port) if port else None


def parse_allowed(entry: str) -> list[tuple[str, int]]:
    """An ``allowed_hosts`` entry as (host, port) pairs: a bare host stands for ports 443 and 80."""
    text = entry.strip().lower()
    host, _, port = text.rpartition(":")
    if host and port.isdigit() and (not host.startswith("[") or host.endswith("]")):
        return [(host.strip("[]"), int(port))]
    return [(text.strip("[]"), 443), (text.strip("[]"), 80)]


@dataclass(frozen=True)
class Egress:
    """The origins a target's requests may reach; ``where`` names the setting to change."""

    origins: frozenset[tuple[str, int]]
    where: str = "targets.toml"

    @classmethod
    def of(cls, own_urls: Iterable[str], allowed: Iterable[str], where: str = "targets.toml") -> Egress:
        found = {o for o in (origin(u) for u in own_urls) if o is not None}
        found |= {pair for entry in allowed for pair in parse_allowed(entry)}
        return cls(frozenset(found), where)

    def allows(self, url: str | httpx.URL) -> bool:
        return origin(url) in self.origins

    def check(self, request: httpx.Request, *, read_only: bool) -> None:
        """Refuse ``request`` (before it is sent) when the rules above forbid it."""
        if self.allows(request.url):
            return
        where = origin(request.url)
        host = f"{where[0]}:{where[1]}" if where else str(request.url.host)
        if read_only:
            raise InputError(f"refused {request.method} to {host}: a dry-run or a diagnosis only reads from the "
                             f"target's own hosts and those it allows (allowed_hosts in {self.where})")
        if _carries_secret(request):
            raise InputError(f"refused {request.method} to {host}: the request carries a secret, and a secret goes "
                             f"only to the target's own hosts (its worker_url and api_base_url) or to those it allows; "
                             f"if {request.url.host} is meant to receive it, add \"{host}\" to allowed_hosts in "
                             f"{self.where}")


def _carries_secret(request: httpx.Request) -> bool:
    texts = [str(request.url), *(f"{name}: {value}" for name, value in request.headers.items())]
    try:
        body = request.content
    except httpx.RequestNotRead:
        return True  # a streamed body cannot be looked at: treat it as carrying one
    texts.append(body.decode("utf-8", "replace"))
    return any(redact.registry.finds(text) for text in texts)


class EgressTransport(httpx.BaseTransport):
    """``inner``, behind the egress rules for one target."""

    def __init__(self, inner: httpx.BaseTransport, egress: Egress, *, read_only: bool) -> None:
        self._inner = inner
        self._egress = egress
        self._read_only = read_only

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._egress.check(request, read_only=self._read_only)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class AsyncEgressTransport(httpx.AsyncBaseTransport):
    """The same rules for an async client (cache warming's concurrent batches)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, egress: Egress, *, read_only: bool) -> None:
        self._inner = inner
        self._egress = egress
        self._read_only = read_only

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._egress.check(request, read_only=self._read_only)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()

"""Live logs: a tail session through the API, the one `wrangler tail` opens, and the events it streams.

As wrangler does it (workers-sdk@f8308360 packages/wrangler/src/tail/createTail.ts, index.ts,
filters.ts; the same in 4.86): POST ``/workers/scripts/{script}/tails`` with the
``TailFilterMessage`` (``{"filters": [...]}``) gives ``{id, url, expires_at}``
(cloudflare-typescript ``src/resources/workers/scripts/tail.ts`` ``TailCreateResponse``);
the WebSocket at ``url`` is opened with the subprotocol ``trace-v1`` and sent
``{"debug": false}``; each message is one JSON event (``TailEventMessage``); the
session is DELETEd at the end, here always (also after an error or Ctrl-C).
Keep-alive pings go every 10 s, as wrangler's; every wait is bounded.

Cloudflare filters by outcome (``ok``, ``canceled``, or ``error`` for ``exception``,
``exceededCpu``, ``exceededMemory``, ``unknown``), method, header, client IP, a text in
the console logs, version and sampling rate. It has no filter by HTTP status: ``4xx`` and
``5xx`` are applied here to what arrives (a ``5xx`` is an answer of 500-599, or an
exception, which Cloudflare answers with a 500 of its own).

Creating and deleting a session changes nothing on the Worker: the read-only transport
lets both through (``ops.http.is_tail_session``), so this runs in dry-runs and diagnoses.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ops.errors import CloudflareError, InputError, TransportError

if TYPE_CHECKING:
    from ops.cloudflare._client import CloudflareClient

Event = dict[str, Any]
TRACE_PROTOCOL = "trace-v1"
PING_S = 10.0            # wrangler's PING_INTERVAL_MS
CONNECT_S = 10.0
CLOSE_S = 3.0
ERROR_OUTCOMES = ("exception", "exceededCpu", "exceededMemory", "unknown")  # wrangler's `--status error`
STATUS_CHOICES = "ok, error, canceled, or an HTTP class such as 5xx or 4xx"
HTTP_CLASS = re.compile(r"^[1-5]xx$")


@dataclass(frozen=True)
class TailFilters:
    """What to see: ``status`` as `inv logs --status` takes it, the rest as `wrangler tail`'s flags."""

    status: tuple[str, ...] = ()
    search: str = ""
    method: tuple[str, ...] = ()
    header: str = ""
    client_ip: tuple[str, ...] = ()
    sampling_rate: float | None = None
    version_id: str = ""

    @classmethod
    def parse(cls, status: str = "", search: str = "", **rest: Any) -> TailFilters:
        chosen = tuple(s.strip().lower() for s in status.split(",") if s.strip())
        for value in chosen:
            if value not in ("ok", "error", "canceled") and not HTTP_CLASS.match(value):
                raise InputError(f"--status {status!r}: {value!r} is not {STATUS_CHOICES}")
        if chosen and any(HTTP_CLASS.match(v) for v in chosen) and any(not HTTP_CLASS.match(v) for v in chosen):
            raise InputError(f"--status {status!r}: give outcomes (ok, error, canceled) or HTTP classes (5xx), not both")
        rate = rest.get("sampling_rate")
        if rate is not None and not 0 < rate < 1:
            raise InputError(f"--sampling-rate {rate}: must be between 0 and 1, as wrangler requires")
        return cls(status=chosen, search=search, **rest)

    def message(self) -> dict[str, Any]:
        """The ``TailFilterMessage``, as wrangler's translateCLICommandToFilterMessage builds it."""
        filters: list[dict[str, Any]] = []
        if self.sampling_rate:
            filters.append({"sampling_rate": self.sampling_rate})
        outcomes = self._outcomes()
        if outcomes:
            filters.append({"outcome": outcomes})
        if self.method:
            filters.append({"method": list(self.method)})
        if self.header:
            key, _, query = self.header.partition(":")
            filters.append({"header": {"key": key.strip(), **({"query": query.strip()} if query else {})}})
        if self.client_ip:
            filters.append({"client_ip": list(self.client_ip)})
        if self.search:
            filters.append({"query": self.search})
        if self.version_id:
            filters.append({"scriptVersion": self.version_id})
        return {"filters": filters}

    def _outcomes(self) -> list[str]:
        outcomes: list[str] = []
        for status in self.status:
            if status == "5xx":  # an exception is a 500 to the client: ask for ok answers and errors alike
                return []
            wanted = {"ok": ["ok"], "canceled": ["canceled"], "error": list(ERROR_OUTCOMES)}.get(status, ["ok"])
            outcomes += [o for o in wanted if o not in outcomes]
        return outcomes

    def keeps(self, event: Event) -> bool:
        """The HTTP-class part of ``status``, which Cloudflare cannot filter on."""
        classes = [s for s in self.status if HTTP_CLASS.match(s)]
        return not classes or any(http_class(event) == c for c in classes)


def http_status(event: Event) -> int | None:
    response = (event.get("event") or {}).get("response") or {}
    status = response.get("status")
    return int(status) if isinstance(status, int) else None


def http_class(event: Event) -> str | None:
    """``5xx`` for an exception too: Cloudflare answers the client with a 500 (error 1101)."""
    status = http_status(event)
    if status is None:
        return "5xx" if event.get("outcome") in ERROR_OUTCOMES else None
    return f"{status // 100}xx"


def stream(client: CloudflareClient, script: str, filters: TailFilters, *, seconds: float,
           on_event: Callable[[Event], None] | None = None, max_events: int | None = None,
           stop: Callable[[], bool] | None = None) -> list[Event]:
    """Open a session, collect its events for ``seconds`` (or until ``max_events``), delete the session."""
    session = client.result("POST", f"/workers/scripts/{script}/tails", json=filters.message())
    if not isinstance(session, dict) or not session.get("url") or not session.get("id"):
        raise TransportError(f"POST /workers/scripts/{script}/tails: no tail session in the answer ({session!r})")
    try:
        return _read(str(session["url"]), filters, seconds, on_event, max_events, stop)
    finally:
        _delete(client, script, str(session["id"]))


def _read(url: str, filters: TailFilters, seconds: float, on_event: Callable[[Event], None] | None,
          max_events: int | None, stop: Callable[[], bool] | None) -> list[Event]:
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
    from websockets.sync.client import connect
    from websockets.typing import Subprotocol

    events: list[Event] = []
    deadline = time.monotonic() + seconds
    try:
        with connect(url, subprotocols=[Subprotocol(TRACE_PROTOCOL)], open_timeout=CONNECT_S, close_timeout=CLOSE_S,
                     ping_interval=PING_S, ping_timeout=PING_S, compression=None, proxy=None,
                     user_agent_header="cfw-remedy") as ws:
            ws.send(json.dumps({"debug": False}))
            while (left := deadline - time.monotonic()) > 0 and not (stop and stop()):
                try:
                    message = ws.recv(timeout=min(left, 0.5))
                except TimeoutError:
                    continue
                event = _parsed(message)
                if event is None or not filters.keeps(event):
                    continue
                events.append(event)
                if on_event is not None:
                    on_event(event)
                if max_events is not None and len(events) >= max_events:
                    break
    except ConnectionClosed as exc:
        if exc.rcvd is None or exc.rcvd.code != 1000:  # 1000: the session ended cleanly (deleted, expired)
            raise TransportError(f"the tail session's WebSocket closed: {exc}") from None
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
        raise TransportError(f"tail session {url}: {type(exc).__name__}: {exc}") from None
    return events


def _parsed(message: str | bytes) -> Event | None:
    try:
        event = json.loads(message)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _delete(client: CloudflareClient, script: str, session_id: str) -> None:
    """Best effort, as wrangler's: a session left behind expires on its own."""
    try:
        client.request("DELETE", f"/workers/scripts/{script}/tails/{session_id}")
    except CloudflareError:
        pass

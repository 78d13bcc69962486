"""Tail sessions: the routes `wrangler tail` calls, and the WebSocket it reads events from.

What wrangler does (workers-sdk@f8308360 packages/wrangler/src/tail/, the same in 4.86's
``wrangler-dist/cli.js``):

- ``createTail.ts``: POST ``/workers/scripts/{script}/tails`` with its ``TailFilterMessage``
  (``{"filters": [...]}``, ``filters.ts``) as the body; the result is ``{id, url,
  expires_at}`` (cloudflare-typescript ``src/resources/workers/scripts/tail.ts``
  ``TailCreateResponse``). It opens ``url`` as a WebSocket with the subprotocol
  ``trace-v1`` ("needs to be `trace-v1` to be accepted") and sends ``{"debug": bool}``.
- ``index.ts``: it pings every 10 s with the payload ``wrangler tail ping`` and expects the
  same pong (``websockets`` answers pings as RFC 6455 says); a close with code 1000 is a
  clean stop; on exit it DELETEs ``/workers/scripts/{script}/tails/{id}``.
- ``printing.ts``: each message is one JSON ``TailEventMessage`` (``tail_events``).

The WebSocket is served on its own loopback port, as Cloudflare serves it on a host of
its own. Filters are applied here, server-side, as Cloudflare applies them. Past
``expires_at`` a session gets no more events and its WebSocket stays open (index.ts: "The
tail backend does not actively close this WebSocket when the expiration time is reached
— log delivery just stops"). Events are
built when the recording proxy sees an answer (``proxy.Exchange``), with the console
lines the sandbox's shim sent back with that answer (so wrangler's own output is never
taken for the Worker's, and concurrent requests keep their own lines). The emulator's own choices: a session lasts ``SESSION_S``, and events that
match a session before its WebSocket connects are kept (up to ``BUFFERED``) and sent on
connect, so that a client never misses a request sent after the session was created.
``debug`` is read and has no effect.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from ops.sandbox.emulator.codes import INVENTIONS
from ops.sandbox.emulator.routing import TS, WRANGLER, ApiFailure, Reply, Request, route
from ops.sandbox.emulator.scripts import _script
from ops.sandbox.emulator.proxy import Exchange
from ops.sandbox.emulator.state import State, hex_id
from ops.sandbox.emulator.tail_events import event_of, passes, valid_filters

if TYPE_CHECKING:
    from websockets.http11 import Request as WsRequest
    from websockets.http11 import Response as WsResponse
    from websockets.sync.server import Server, ServerConnection

TRACE_PROTOCOL = "trace-v1"
SESSION_S = 6 * 3600
BUFFERED = 1000
INVENTIONS.update({
    10080: "a tail session whose filters are not a TailFilterMessage",
    10081: "a tail session that does not exist (or has ended)",
})


@dataclass
class Session:
    id: str
    script: str
    filters: list[dict[str, Any]]
    expires: datetime
    waiting: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=BUFFERED))
    connections: list[ServerConnection] = field(default_factory=list)
    debug: bool = False

    def created(self) -> dict[str, Any]:
        return {"id": self.id, "expires_at": self.expires.isoformat(timespec="seconds").replace("+00:00", "Z")}


class TailHub:
    """One emulator's tail sessions and its WebSocket server."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._due: deque[Exchange] = deque()
        self._wake = threading.Condition(self._lock)
        self._server: Server | None = None
        self._stopped = False
        threading.Thread(target=self._emit_loop, name="tail-events", daemon=True).start()

    # --- sessions -----------------------------------------------------------------------------

    def create(self, script: str, filters: list[dict[str, Any]]) -> dict[str, Any]:
        session = Session(hex_id(), script, filters, datetime.now(timezone.utc) + timedelta(seconds=SESSION_S))
        port = self._serve()
        with self._lock:
            self.sessions[session.id] = session
        return {**session.created(), "url": f"ws://{self.host}:{port}/{session.id}"}

    def delete(self, script: str, session_id: str) -> bool:
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None or session.script != script:
                return False
            del self.sessions[session_id]
            connections = list(session.connections)
        for connection in connections:
            connection.close(1000, "tail deleted")
        return True

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._wake.notify_all()
        if self._server is not None:
            self._server.shutdown()

    # --- events -------------------------------------------------------------------------------

    def exchanged(self, exchange: Exchange) -> None:
        """The recording proxy's observer: the exchange's event is sent from the emitter's thread, in order."""
        with self._lock:
            if not any(s.script == exchange.invocation.script for s in self.sessions.values()):
                return
            self._due.append(exchange)
            self._wake.notify_all()

    def _emit_loop(self) -> None:
        while True:
            with self._lock:
                while not self._stopped and not self._due:
                    self._wake.wait()
                if self._stopped:
                    return
                exchange = self._due.popleft()
            self._emit(exchange)

    def _emit(self, exchange: Exchange) -> None:
        event = event_of(exchange)
        now = datetime.now(timezone.utc)
        with self._lock:  # past its expiry a session gets nothing more, and Cloudflare does not close it either
            sessions = [s for s in self.sessions.values() if s.script == exchange.invocation.script and s.expires > now]
        for session in sessions:
            tail_ip = str(session.connections[0].remote_address[0]) if session.connections else exchange.client_ip
            if passes(event, session.filters, client_ip=exchange.client_ip, tail_ip=tail_ip):
                self._deliver(session, event)

    def _deliver(self, session: Session, event: dict[str, Any]) -> None:
        from websockets.exceptions import ConnectionClosed

        with self._lock:
            connections = list(session.connections)
            if not connections:
                session.waiting.append(event)
                return
        for connection in connections:
            try:
                connection.send(json.dumps(event))
            except ConnectionClosed:
                with self._lock:
                    if connection in session.connections:
                        session.connections.remove(connection)

    # --- the WebSocket ------------------------------------------------------------------------

    def _serve(self) -> int:
        from websockets.sync.server import serve
        from websockets.typing import Subprotocol

        from ops.sandbox.emulator.tail_frames import TolerantConnection

        with self._lock:
            if self._server is None:
                self._server = serve(self._connected, self.host, 0, subprotocols=[Subprotocol(TRACE_PROTOCOL)],
                                     process_request=self._check, compression=None,
                                     create_connection=TolerantConnection)
                threading.Thread(target=self._server.serve_forever, name="tail-websocket", daemon=True).start()
            port: int = self._server.socket.getsockname()[1]
            return port

    def _check(self, connection: ServerConnection, request: WsRequest) -> WsResponse | None:
        offered = request.headers.get("Sec-WebSocket-Protocol") or ""
        if TRACE_PROTOCOL not in [p.strip() for p in offered.split(",")]:
            return connection.respond(HTTPStatus.BAD_REQUEST, f"the subprotocol must be {TRACE_PROTOCOL}\n")
        with self._lock:
            if request.path.strip("/") not in self.sessions:
                return connection.respond(HTTPStatus.NOT_FOUND, "no such tail session\n")
        return None

    def _connected(self, connection: ServerConnection) -> None:
        from websockets.exceptions import ConnectionClosed

        session_id = (connection.request.path if connection.request else "").strip("/")
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None:
                return
            waiting = list(session.waiting)
            session.waiting.clear()
        try:
            for event in waiting:
                connection.send(json.dumps(event))
            with self._lock:
                session.connections.append(connection)
            for message in connection:
                session.debug = _debug_flag(message, session.debug)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                if connection in session.connections:
                    session.connections.remove(connection)


def _debug_flag(message: str | bytes, current: bool) -> bool:
    try:
        body = json.loads(message)
    except ValueError:
        return current
    return bool(body.get("debug")) if isinstance(body, dict) else current


_HUBS: weakref.WeakKeyDictionary[State, TailHub] = weakref.WeakKeyDictionary()


def attach(state: State, host: str = "127.0.0.1") -> TailHub:
    """The tail hub of the emulator that keeps ``state`` (its routes find it through the state)."""
    hub = _HUBS.get(state)
    if hub is None:
        hub = _HUBS[state] = TailHub(host)
    return hub


def detach(state: State) -> None:
    hub = _HUBS.pop(state, None)
    if hub is not None:
        hub.stop()


@route("POST", "/workers/scripts/{script}/tails",
       f"{TS}workers/scripts/tail.ts TailCreateParams/TailCreateResponse; the body is the TailFilterMessage of "
       f"{WRANGLER}tail/createTail.ts createTail and tail/filters.ts")
def create_tail(state: State, req: Request) -> Reply:
    _script(state, req.params["script"])
    filters = valid_filters(req.json())
    if isinstance(filters, str):
        raise ApiFailure(400, 10080, f"Invalid tail filters: {filters}")
    return 200, attach(state).create(req.params["script"], filters), None


@route("DELETE", "/workers/scripts/{script}/tails/{tail}",
       f"{TS}workers/scripts/tail.ts delete/TailDeleteResponse; {WRANGLER}tail/createTail.ts deleteTail")
def delete_tail(state: State, req: Request) -> Reply:
    _script(state, req.params["script"])
    if not attach(state).delete(req.params["script"], req.params["tail"]):
        raise ApiFailure(404, 10081, "Tail not found")
    return 200, None, None

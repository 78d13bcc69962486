"""The emulator's HTTP server: auth, the Cloudflare envelope, faults, and a record of every request."""

from __future__ import annotations

import hmac
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

from ops.sandbox.constants import ACCOUNT_ID, TOKEN
from ops.sandbox.emulator import assets, d1, graphql, kv, queue_messages, queues, r2, routing, scripts, secrets, tail, workflows  # noqa: F401 (they register routes)
from ops.sandbox.emulator.faults import Faults
from ops.sandbox.emulator.invocations import Invocations, wall_time_p95_default
from ops.sandbox.emulator.proxy import ProxyHandle, start_proxy
from ops.sandbox.emulator.state import State, now

PREFIX = "/client/v4/accounts/"
GRAPHQL = "/client/v4/graphql"
ADMIN = "/__emulator/"
# Without the sandbox token: liveness and the live version id (no secret in either), and the Workers' own data
# plane (their D1 and queue bindings, which workerd reaches as a binding would, with no API token).
OPEN_ADMIN = re.compile(r"health|live/[^/]+|d1/.*|queues/.*")


LONG_POLL_MAX_S = 30.0


def admin_headers(token: str) -> dict[str, str]:
    """What the admin routes need: the sandbox's API token."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Emulator:
    state: State
    account_id: str
    token: str
    faults: Faults
    requests: list[dict[str, Any]]
    lock: threading.Lock
    invocations: Invocations = field(default_factory=Invocations)
    changes: dict[str, int] = field(default_factory=dict)  # how often each script's live deployment changed
    changed: threading.Condition = field(default_factory=threading.Condition)

    def live_version(self, script: str) -> str | None:
        with self.state.lock:
            return scripts.live_version_id(self.state.data["scripts"].get(script))

    def live_changed(self, script: str) -> None:
        """After the live folder is written (``on_live_change``): wake whoever waits on this script."""
        with self.changed:
            self.changes[script] = self.changes.get(script, 0) + 1
            self.changed.notify_all()

    def live(self, script: str, after: int | None = None, wait: float = 0.0) -> dict[str, Any]:
        """The live version, a split's other version, and the shares, as the followers and proxies read them.

        ``after`` (a ``change`` this answered before): answer once the live deployment changed since, or after
        ``wait`` seconds, so that a follower learns of a deploy at once without asking twice a second."""
        if after is not None:
            with self.changed:
                self.changed.wait_for(lambda: self.changes.get(script, 0) != after, timeout=min(wait, LONG_POLL_MAX_S))
        with self.state.lock:
            data = self.state.data["scripts"].get(script)
            return {"version_id": scripts.live_version_id(data), "split_version_id": scripts.split_version_id(data),
                    "versions": [{"version_id": v, "percentage": p} for v, p in scripts.live_split(data)],
                    "change": self.changes.get(script, 0)}

    def split(self, script: str) -> list[tuple[str, float]]:
        with self.state.lock:
            return scripts.live_split(self.state.data["scripts"].get(script))

    def record(self, method: str, path: str, query: str, status: int, body: bytes = b"") -> None:
        with self.lock:
            self.requests.append({"ts": now(), "mono": time.monotonic(), "method": method, "path": path,
                                  "query": query, "status": status, "mutating": mutates(method, path, body)})


def mutates(method: str, path: str, body: bytes = b"") -> bool:
    """Whether a request can change state: not a GET or HEAD, and not a POST that only reads
    (a queue peek, a GraphQL query, a D1 query of reads only), nor a tail session's start or end."""
    from ops.http import D1_QUERY, READING_POSTS, is_tail_session

    if method in ("GET", "HEAD") or (method == "POST" and READING_POSTS.search(path)) or is_tail_session(method, path):
        return False
    return not (method == "POST" and D1_QUERY.search(path) and d1.only_reads(body))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: Emulator


class Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        emu = self.server.emulator
        parts = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        if parts.path.startswith(ADMIN):
            what = parts.path[len(ADMIN):]
            if not OPEN_ADMIN.fullmatch(what) and not self._authorized(emu):
                self._send(401, {"error": "the emulator's admin routes need the sandbox token: "
                                          "send Authorization: Bearer <token> (`inv sandbox.status --json` shows it)"})
                return
            self._admin(emu, what, body, parts.query)
            return
        if parts.path == GRAPHQL and self.command == "POST":
            answer = graphql.handle(body, account_id=emu.account_id, invocations=emu.invocations, queues=emu.state,
                                    authorized=self.headers.get("authorization", "") == f"Bearer {emu.token}")
            emu.record(self.command, parts.path, parts.query, 200)
            self._send(200, answer)
            return
        status, payload, extra = self._api(emu, parts.path, parts.query, body)
        if status == 0:
            emu.record(self.command, parts.path, parts.query, 0, body)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        emu.record(self.command, parts.path, parts.query, status, body)
        if isinstance(payload, routing.Raw):
            self._send_raw(status, payload)
            return
        self._send(status, payload, extra)

    def _live(self, emu: Emulator, script: str, params: dict[str, str]) -> None:
        try:
            after = int(params["after"]) if "after" in params else None
            wait = float(params.get("wait", 0))
        except ValueError:
            self._send(400, {"error": "after is a change count and wait a number of seconds"})
            return
        self._send(200, emu.live(script, after, wait))

    def _authorized(self, emu: Emulator) -> bool:
        given = self.headers.get("authorization", "").encode()
        return hmac.compare_digest(given, f"Bearer {emu.token}".encode())

    def _api(self, emu: Emulator, path: str, query: str, body: bytes) -> tuple[int, Any, dict[str, str]]:
        if not path.startswith(PREFIX):
            return 404, _envelope(False, None, [(7000, "No route for that URI")]), {}
        auth = self.headers.get("authorization", "")
        after_account = "/" + path[len(PREFIX):].partition("/")[2]
        if auth != f"Bearer {emu.token}" and not assets.bearer_admits(emu.state, self.command, after_account, auth):
            return 401, _envelope(False, None, [(10000, "Authentication error")]), {}
        account, _, rest = path[len(PREFIX):].partition("/")
        if account != emu.account_id:
            return 403, _envelope(False, None, [(10000, "Authentication error")]), {}
        verdict, detail = emu.faults.decide(self.command, "/" + rest)
        if emu.faults.latency_ms:
            time.sleep(emu.faults.latency_ms / 1000)
        if verdict == "drop":
            return 0, None, {}
        if verdict == "error":
            status, code, message, retry_after = detail
            return status, _envelope(False, None, [(code, message)]), ({"Retry-After": str(retry_after)} if retry_after else {})
        request = routing.Request(self.command, "/" + unquote(rest), dict(parse_qsl(query)),
                              {k.lower(): v for k, v in self.headers.items()}, body, repeated=parse_qs(query))
        try:
            status, result, info = routing.dispatch(emu.state, request)
        except routing.ApiFailure as failure:
            return failure.status, _envelope(False, None, failure.errors), {}
        return status, (result if isinstance(result, routing.Raw) else _envelope(True, result, [], info)), {}

    def _admin(self, emu: Emulator, what: str, body: bytes, query: str) -> None:
        method = self.command
        if what == "health":
            self._send(200, {"ok": True, "account_id": emu.account_id})
        elif what == "requests" and method == "GET":
            with emu.lock:
                self._send(200, list(emu.requests))
        elif what == "requests" and method == "DELETE":
            with emu.lock:
                emu.requests.clear()
            self._send(200, {"ok": True})
        elif what == "faults" and method == "GET":
            self._send(200, emu.faults.as_json())
        elif what == "faults" and method == "PUT":
            emu.faults = Faults.from_json(json.loads(body or b"{}"))
            self._send(200, emu.faults.as_json())
        elif what == "faults" and method == "DELETE":
            emu.faults = Faults()
            self._send(200, emu.faults.as_json())
        elif what == "analytics" and method in ("GET", "PUT"):
            self._analytics(emu, json.loads(body or b"{}") if method == "PUT" else {})
        elif what == "versions" and method in ("GET", "PUT"):
            self._send(*scripts.versions_listing(emu.state, json.loads(body or b"{}") if method == "PUT" else {}))
        elif what == "invocations" and method == "GET":
            self._send(200, emu.invocations.all())
        elif what == "invocations" and method == "DELETE":
            emu.invocations.clear()
            self._send(200, {"ok": True})
        elif what == "reset" and method == "POST":
            emu.invocations.clear()
            emu.invocations.lag_seconds = 0.0
            emu.invocations.wall_time_p95 = wall_time_p95_default()
            emu.invocations.fail_next.clear()
            emu.state.reset()
            with emu.lock:
                emu.requests.clear()
            emu.faults = Faults()
            self._send(200, {"ok": True})
        elif what.startswith("d1-conditions/") and method == "PUT":
            try:
                change = json.loads(body or b"{}")
            except ValueError:
                change = None
            self._send(*d1.set_conditions(emu.state, what.removeprefix("d1-conditions/"), change))
        elif what.startswith("d1/") and method == "POST":
            self._send(*d1.bridge(emu.state, what, body))
        elif what.startswith("queues/") and method == "POST":
            self._send(*queue_messages.bridge(emu.state, what, body))
        elif what.startswith("live/") and method == "GET":
            self._live(emu, what.removeprefix("live/"), dict(parse_qsl(query)))
        elif what == "state":
            with emu.state.lock:
                self._send(200, emu.state.data)
        else:
            self._send(404, {"error": f"no admin endpoint {what!r}"})

    def _analytics(self, emu: Emulator, change: dict[str, Any]) -> None:
        if "lag_seconds" in change:
            lag = change["lag_seconds"]
            if not isinstance(lag, (int, float)) or isinstance(lag, bool) or lag < 0:
                self._send(400, {"error": "lag_seconds must be a number >= 0"})
                return
            emu.invocations.lag_seconds = float(lag)
        if "wall_time_p95" in change:
            if not isinstance(change["wall_time_p95"], bool):
                self._send(400, {"error": "wall_time_p95 must be true or false"})
                return
            emu.invocations.wall_time_p95 = change["wall_time_p95"]
        if "fail_next" in change:
            if not isinstance(change["fail_next"], list) or not all(isinstance(m, str) for m in change["fail_next"]):
                self._send(400, {"error": "fail_next must be a list of GraphQL error messages"})
                return
            emu.invocations.fail_next.extend(change["fail_next"])
        self._send(200, {"lag_seconds": emu.invocations.lag_seconds, "recorded": len(emu.invocations.all()),
                         "wall_time_p95": emu.invocations.wall_time_p95})

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_raw(self, status: int, raw: routing.Raw) -> None:
        self.send_response(status)
        self.send_header("content-type", raw.content_type)
        self.send_header("content-length", str(len(raw.body)))
        for key, value in raw.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


def _envelope(success: bool, result: Any, errors: list[tuple[int, str]], info: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"success": success, "errors": [{"code": c, "message": m} for c, m in errors],
                           "messages": [], "result": result}
    if info is not None:
        doc["result_info"] = info
    return doc


@dataclass
class EmulatorHandle:
    server: _Server
    thread: threading.Thread
    emulator: Emulator
    proxies: dict[str, ProxyHandle] = field(default_factory=dict)

    @property
    def tails(self) -> tail.TailHub:
        return tail.attach(self.emulator.state, str(self.server.server_address[0]))

    def add_proxy(self, script: str, upstream_url: str, *, port: int = 0, host: str = "127.0.0.1",
                  split_dir: Path | None = None) -> ProxyHandle:
        """Start a recording proxy in front of a Worker; its records answer the GraphQL Analytics API and
        make the tail sessions' events, with the console lines the Worker's shim sent back with each answer."""
        proxy = start_proxy(script, upstream_url, self.emulator.invocations, self.emulator.live_version, host=host, port=port,
                            split=self.emulator.split, split_dir=split_dir)
        proxy.server.upstream.observers.append(self.tails.exchanged)
        self.proxies[script] = proxy
        return proxy

    @property
    def admin_headers(self) -> dict[str, str]:
        return admin_headers(self.emulator.token)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.url}/client/v4"

    def stop(self) -> None:
        for proxy in self.proxies.values():
            proxy.stop()
        tail.detach(self.emulator.state)
        self.server.shutdown()
        self.server.server_close()


def start_emulator(state_file: Path, *, host: str = "127.0.0.1", port: int = 0,
                   account_id: str = ACCOUNT_ID, token: str = TOKEN,
                   seed: dict[str, Any] | None = None, on_live_change: Callable[[str, State], None] | None = None,
                   on_deliver: routing.Deliver | None = None, on_kv_write: routing.Deliver | None = None) -> EmulatorHandle:
    state = State(state_file, seed)
    emulator = Emulator(state, account_id, token, Faults(), [], threading.Lock())
    routing.live_hook.clear()
    if on_live_change is not None:
        routing.live_hook.append(lambda script: on_live_change(script, state))
    routing.live_hook.append(emulator.live_changed)  # after the live folder is written
    routing.deliver_hook.clear()
    routing.kv_hook.clear()
    if on_deliver is not None:
        routing.deliver_hook.append(on_deliver)
    if on_kv_write is not None:
        routing.kv_hook.append(on_kv_write)
    server = _Server((host, port), Handler)
    server.emulator = emulator
    thread = threading.Thread(target=server.serve_forever, name="emulator", daemon=True)
    thread.start()
    return EmulatorHandle(server, thread, emulator)

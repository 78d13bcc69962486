"""A recording proxy in front of one sandbox Worker: the target's ``worker_url`` goes through it.

Every request is forwarded unchanged to the Worker's ``wrangler dev``; the
answer comes back unchanged. Each invocation is recorded (``Invocations``) as
Cloudflare's analytics would see it:

- an answer is ``success``, whatever its HTTP status: a Worker that returns a
  500 on purpose did not fail as an invocation (Cloudflare docs, "Metrics and
  analytics", Invocation statuses: "Invocation statuses differ from HTTP status
  codes");
- an uncaught exception is ``scriptThrewException`` (Cloudflare answers error
  1101); the sandbox's entry shim catches it, answers the 500 ``wrangler dev``
  would, and says so in a header (``wrangler dev``'s own answer, a bare 500
  with a stack, looks like any other 500);
- a client that gives up before the Worker answers is ``clientDisconnected``
  (not an error), with the wall time it waited: a hung Worker shows in wall
  time, not in the error rate;
- a Worker the proxy cannot reach at all is ``internalError`` (answered 503).

A split deployment (two versions, by percentage) is served for real: each
request goes at random by the versions' shares either to the Worker's own
``wrangler dev`` (the most weighted version) or to a second one that serves
the split's other version while the split is live (``ops.sandbox.follower``
starts it and writes where it answers into ``live/<script>@split/url``). Until
that second one serves its version, every request goes to the first.
The Worker's console lines come back with the answer they belong to: the shim
keeps each request's lines apart (AsyncLocalStorage) and sends them in a header
the proxy removes (``CONSOLE_HEADER``); the tail sessions put them in the
request's event. Lines logged after the answer (``ctx.waitUntil``) are not seen.

The version is the one that served the request: the sandbox's entry shim
reports it in a response header the proxy removes. Without an answer, it is the
version ``wrangler dev`` was running when the request came in (looked up from the
shim at most ``POLL_S`` before), because right after a deploy the old version
still serves for a moment, and Cloudflare's analytics name the version that ran;
the control plane's live version is the last resort. The proxy looks only while
requests come: a request after a quiet spell (``QUIET_S``) looks before it is
routed, and an idle sandbox sends its Workers nothing.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import http.client
import json
import random
import select
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from ops.sandbox.emulator.invocations import Invocation, Invocations
from ops.sandbox.live import split_url

# Set by the sandbox's entry shim (ops/sandbox/shim.mjs), never passed on.
VERSION_HEADER = "x-sandbox-version-id"
STATUS_HEADER = "x-sandbox-invocation-status"
CONSOLE_HEADER = "x-sandbox-console"
SHIM_HEADERS = frozenset({VERSION_HEADER, STATUS_HEADER, CONSOLE_HEADER})
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "transfer-encoding", "upgrade", "content-length"})
CONNECT_PATIENCE_S = 20.0   # wrangler dev restarts take a few seconds; Cloudflare has no such gap
GIVE_UP_S = 600.0           # a request nobody hangs up on is ended here and recorded as a disconnect
POLL_S = 0.1
QUIET_S = 5.0               # no request for this long: the proxy stops looking until the next one


@dataclass(frozen=True)
class ConsoleLine:
    """One console call of the Worker, as Cloudflare's tail event lists it (``logs[]``)."""

    level: str              # debug | info | log | warn | error
    message: tuple[Any, ...]  # the call's arguments, JSON values
    timestamp: int          # epoch milliseconds, the Worker's clock


@dataclass(frozen=True)
class Console:
    lines: tuple[ConsoleLine, ...] = ()
    truncated: bool = False   # the shim dropped lines that did not fit its header


def console_of(value: str | None) -> Console:
    """The lines the shim sent in ``CONSOLE_HEADER``; a value that does not parse is no lines."""
    if not value:
        return Console()
    try:
        body = json.loads(base64.b64decode(value, validate=True))
        lines = tuple(ConsoleLine(str(x["level"]), tuple(x["message"]), int(x["timestamp"])) for x in body["logs"])
        return Console(lines, bool(body.get("truncated")))
    except (binascii.Error, ValueError, KeyError, TypeError):
        return Console()


@dataclass(frozen=True)
class Exchange:
    """One request through the proxy and what came of it, for the tail sessions (``ops.sandbox.emulator.tail``)."""

    invocation: Invocation
    method: str
    url: str                   # as the client asked for it, with the Host it sent
    headers: dict[str, str]    # the request's, lower-case names
    client_ip: str
    exception: str | None      # the stack the shim answered with, when the Worker threw
    ended: float               # time.monotonic() when the answer (or the hang-up) came
    began: float               # time.monotonic() when the request came in
    console: Console = Console()  # what the Worker logged while it handled this request


@dataclass
class Upstream:
    script: str
    host: str
    port: int
    live_version: Callable[[str], str | None]
    invocations: Invocations
    running: str | None = None  # the version wrangler dev runs, as its shim last said
    stopped: threading.Event = field(default_factory=threading.Event)
    observers: list[Callable[[Exchange], None]] = field(default_factory=list)
    split: Callable[[str], list[tuple[str, float]]] = lambda _: []  # the live deployment's versions and shares
    split_dir: Path | None = None      # live/<script>@split: where the second wrangler dev says it answers
    shares: list[tuple[str, float]] = field(default_factory=list)
    second: tuple[str, int] | None = None  # the second wrangler dev, while a split is live and it answers
    second_running: str | None = None
    rng: random.Random = field(default_factory=random.Random)
    looked: float = float("-inf")       # time.monotonic() of the last look
    last_request: float = float("-inf")
    woken: threading.Event = field(default_factory=threading.Event)

    def version_now(self) -> str | None:
        return self.running or self.live_version(self.script)

    def route(self) -> tuple[str, int, str | None]:
        """Where this request goes, and the version expected to answer it: by the split's shares, at random."""
        shares, second, other = self.shares, self.second, self.second_running
        if len(shares) < 2 or second is None or other is None:
            return self.host, self.port, self.version_now()
        pick = self.rng.uniform(0, sum(share for _, share in shares))
        for version, share in shares:
            pick -= share
            if pick < 0 or version == shares[-1][0]:
                break
        if version == other:
            return second[0], second[1], other
        return self.host, self.port, self.version_now()

    def arrived(self) -> None:
        """A request came in: what it is routed by is at most ``POLL_S`` old, and the poll looks while requests come."""
        self.last_request = time.monotonic()
        if self.last_request - self.looked > POLL_S:
            self.look()
            self.woken.set()

    def poll(self) -> None:
        while not self.stopped.is_set():
            if time.monotonic() - self.last_request > QUIET_S:
                self.woken.clear()
                self.woken.wait()
                continue
            self.look()
            self.stopped.wait(POLL_S)

    def look(self) -> None:
        self.running = _served(self.host, self.port)
        self.shares = self.split(self.script)
        url = split_url(self.split_dir) if self.split_dir is not None and len(self.shares) > 1 else None
        target = urlsplit(url) if url else None
        self.second = (target.hostname or "127.0.0.1", target.port or 80) if target else None
        self.second_running = _served(*self.second) if self.second else None
        self.looked = time.monotonic()

    def stop(self) -> None:
        self.stopped.set()
        self.woken.set()


def _served(host: str, port: int) -> str | None:
    """The version a wrangler dev runs, from the sandbox's entry shim; None when it does not answer."""
    conn = http.client.HTTPConnection(host, port, timeout=2)
    try:
        conn.request("GET", "/__sandbox/version")
        body = json.loads(conn.getresponse().read() or b"{}")
        return str(body["version_id"]) if isinstance(body, dict) and body.get("version_id") else None
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        conn.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    upstream: Upstream


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        up = self.server.upstream
        started, t0 = time.time(), time.monotonic()
        up.arrived()
        host, port, version = up.route()
        body = self._body()
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
        if body:
            headers.append(("Content-Length", str(len(body))))
        call = _Call(host, port, self.command, self.path, body, headers)
        call.start()
        while not call.done.wait(0.05):
            if _gone(self.connection) or time.monotonic() - t0 > GIVE_UP_S:
                call.abort()
                self._record(started, t0, version, "clientDisconnected", None)
                self.close_connection = True
                return
        if call.error is not None:
            self._record(started, t0, version, "internalError", None)
            self._reply(503, "Service Unavailable", [("content-type", "text/plain")], b"the sandbox Worker is not running\n")
            return
        status, reason, answer_headers, data = call.response
        marks = {k.lower(): v for k, v in answer_headers if k.lower() in SHIM_HEADERS}
        outcome = marks.get(STATUS_HEADER) or "success"
        self._record(started, t0, marks.get(VERSION_HEADER) or version, outcome, status,
                     _body_text(data, answer_headers)[:4096] if outcome == "scriptThrewException" else None,
                     console_of(marks.get(CONSOLE_HEADER)))
        self._reply(status, reason, [(k, v) for k, v in answer_headers
                                     if k.lower() not in HOP_BY_HOP and k.lower() not in SHIM_HEADERS], data)

    def _body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _record(self, started: float, t0: float, version: str | None, status: str, http_status: int | None,
                exception: str | None = None, console: Console = Console()) -> None:
        up = self.server.upstream
        ended = time.monotonic()
        invocation = Invocation(started, up.script, version, status, http_status, int((ended - t0) * 1_000_000))
        up.invocations.add(invocation)
        if up.observers:
            headers = {k.lower(): v for k, v in self.headers.items()}
            url = f"http://{headers.get('host') or up.host}{self.path}"
            exchange = Exchange(invocation, self.command, url, headers, str(self.client_address[0]), exception, ended, t0,
                                console)
            for observe in up.observers:
                observe(exchange)

    def _reply(self, status: int, reason: str, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response_only(status, reason)  # the Worker's own Date, no Server of ours
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class _Call:
    """One upstream request on its own thread, so the handler can watch the client meanwhile."""

    def __init__(self, host: str, port: int, method: str, path: str, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.conn = http.client.HTTPConnection(host, port)
        self.args = (method, path, body, headers)
        self.done = threading.Event()
        self.response: tuple[int, str, list[tuple[str, str]], bytes] = (0, "", [], b"")
        self.error: BaseException | None = None

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True, name="proxy-call").start()

    def _run(self) -> None:
        method, path, body, headers = self.args
        try:
            self._connect()
            self.conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for key, value in headers:
                self.conn.putheader(key, value)
            self.conn.endheaders(body or None)
            answer = self.conn.getresponse()
            self.response = (answer.status, answer.reason, answer.getheaders(), answer.read())
        except (OSError, http.client.HTTPException) as exc:
            self.error = exc
        finally:
            self.conn.close()
            self.done.set()

    def _connect(self) -> None:
        deadline = time.monotonic() + CONNECT_PATIENCE_S
        while True:
            try:
                self.conn.connect()
                return
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def abort(self) -> None:
        sock = self.conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _body_text(data: bytes, headers: list[tuple[str, str]]) -> str:
    """An answer's body as text, uncompressed (wrangler dev gzips when the client accepts it)."""
    encoding = next((v.strip().lower() for k, v in headers if k.lower() == "content-encoding"), "")
    try:
        if encoding == "gzip":
            data = gzip.decompress(data)
        elif encoding == "deflate":
            data = zlib.decompress(data)
    except (OSError, zlib.error, EOFError):
        pass
    return data.decode(errors="replace")


def _gone(sock: socket.socket) -> bool:
    """Whether the client hung up (readable with nothing to read)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


@dataclass
class ProxyHandle:
    server: _Server

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self.server.upstream.stop()
        self.server.shutdown()
        self.server.server_close()


def start_proxy(script: str, upstream_url: str, invocations: Invocations, live_version: Callable[[str], str | None],
                *, host: str = "127.0.0.1", port: int = 0, split: Callable[[str], list[tuple[str, float]]] | None = None,
                split_dir: Path | None = None) -> ProxyHandle:
    """``split`` and ``split_dir``: the live deployment's shares, and where a split's second wrangler dev says it answers."""
    target = urlsplit(upstream_url)
    server = _Server((host, port), _Handler)
    server.upstream = Upstream(script, target.hostname or "127.0.0.1", target.port or 80, live_version, invocations,
                               split=split or (lambda _: []), split_dir=split_dir)
    threading.Thread(target=server.serve_forever, name=f"proxy-{script}", daemon=True).start()
    threading.Thread(target=server.upstream.poll, name=f"proxy-{script}-version", daemon=True).start()
    return ProxyHandle(server)

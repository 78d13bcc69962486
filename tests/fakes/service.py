"""A loopback HTTP service that records every request: a fake that speaks real HTTP."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ops.sandbox.replies import send_json


@dataclass
class ServiceState:
    health_status: int = 200
    version: str = "v1"
    value: int = 0
    slow_seconds: float = 0.0
    requests: list[tuple[str, str]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def mutating(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.requests if m not in ("GET", "HEAD")]


class Service:
    def __init__(self) -> None:
        self.state = ServiceState()
        handler = _handler(self.state)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(state: ServiceState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _record(self) -> tuple[str, dict[str, list[str]]]:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            with state.lock:
                state.requests.append((self.command, self.path))
                state.headers.append({k.lower(): v for k, v in self.headers.items()})
                state.bodies.append(json.loads(body) if body else None)
            return parts.path, parse_qs(parts.query)

        def _send(self, status: int, body: Any) -> None:
            send_json(self, status, body)

        def do_GET(self) -> None:
            path, _ = self._record()
            if path == "/health":
                self._send(state.health_status, {"status": "ok" if state.health_status == 200 else "error",
                                                 "version": state.version})
            else:
                self._send(200, {"value": state.value, "version": state.version})

        def do_POST(self) -> None:
            path, query = self._record()
            if path == "/slow":
                time.sleep(state.slow_seconds)
            delta = {"/inc": 1, "/dec": -1, "/add10": 10, "/sub10": -10}.get(path, 0)
            with state.lock:
                state.value += delta
                if path == "/set":
                    state.value = int(query["value"][0])
            status = int(query.get("status", ["200"])[0])
            self._send(status, {"value": state.value})

    return Handler

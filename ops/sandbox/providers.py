"""Fake upstream providers on loopback, with latency and failure rate settable at run time.

One process serves the books Worker's providers (google_books, openlibrary, isbndb) and the
AI Worker's (openai, anthropic, mistral), each on its own port. ``GET /books/{isbn}``
answers deterministic book data; ``POST /v1/summarize`` (``{"text"}``) a deterministic
summary; ``GET /health``; ``GET|PUT /__provider/config`` reads or sets
``{"latency_ms", "failure_rate"}`` (a failure is a 503; at 1.0 ``/health`` is 503 too), and
reads ``paid``: the lookups and summaries it was asked for, what a real provider bills.

The AI providers check the API key they are sent, as the real ones do (``ops.sandbox.provider_keys``):
``PUT /__provider/config {"api_key"}`` sets the key it accepts (never read back: GET says
``api_key_set``); a wrong or missing key is a 401 in that provider's own error shape.
``GET /v1/models`` is the free, authenticated call a status check makes (no ``paid``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ops.sandbox.constants import PROVIDERS
from ops.sandbox.provider_keys import rejection
from ops.sandbox.replies import send_json

NAMES = PROVIDERS  # the books Worker's, then the AI Worker's


@dataclass
class ProviderConfig:
    latency_ms: float = 0.0
    failure_rate: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    lock: threading.Lock = field(default_factory=threading.Lock)
    paid: int = 0  # the lookups and summaries asked of it: what a real provider bills
    api_key: str = ""  # the key it accepts (an AI provider's); "" accepts any, as before the sandbox sets one

    def fails(self) -> bool:
        with self.lock:
            self.paid += 1
            return self.rng.random() < self.failure_rate


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    provider: str
    config: ProviderConfig


class Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        send_json(self, status, body)

    def do_GET(self) -> None:
        config = self.server.config
        if self.path == "/__provider/config":
            self._send(200, {"provider": self.server.provider, "latency_ms": config.latency_ms,
                             "failure_rate": config.failure_rate, "paid": config.paid, "api_key_set": bool(config.api_key)})
            return
        if self.path == "/v1/models":
            self._models()
            return
        if config.latency_ms:
            time.sleep(config.latency_ms / 1000)
        if self.path == "/health":
            self._send(503 if config.failure_rate >= 1 else 200, {"provider": self.server.provider})
        elif self.path.startswith("/books/"):
            if config.fails():
                self._send(503, {"error": "upstream failure (injected)"})
                return
            isbn = self.path[len("/books/"):]
            digest = hashlib.sha256(isbn.encode()).hexdigest()
            self._send(200, {"isbn": isbn, "title": f"Book {digest[:8]}", "authors": [f"Author {digest[8:12]}"],
                             "pages": int(digest[12:15], 16) % 900 + 50, "source": self.server.provider})
        else:
            self._send(404, {"error": "not found"})

    def _refused(self) -> bool:
        """A 401 in the provider's own shape when the key sent is not the one it accepts."""
        refused = rejection(self.server.provider, self.server.config.api_key,
                            {k.lower(): v for k, v in self.headers.items()})
        if refused is not None:
            self._send(401, refused)
        return refused is not None

    def _models(self) -> None:
        config = self.server.config
        if config.latency_ms:
            time.sleep(config.latency_ms / 1000)
        if self._refused():
            return
        if config.failure_rate >= 1:
            self._send(503, {"error": "upstream failure (injected)"})
            return
        self._send(200, {"object": "list", "data": [{"id": f"{self.server.provider}-small", "object": "model"}]})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path != "/v1/summarize":
            self._send(404, {"error": "not found"})
            return
        config = self.server.config
        if config.latency_ms:
            time.sleep(config.latency_ms / 1000)
        if self._refused():
            return
        if config.fails():
            self._send(503, {"error": "upstream failure (injected)"})
            return
        try:
            text = str(json.loads(body or b"{}").get("text", ""))
        except (ValueError, AttributeError):
            self._send(400, {"error": "send {\"text\": ...}"})
            return
        words = text.split()
        self._send(200, {"summary": " ".join(words[:8]) + ("..." if len(words) > 8 else ""),
                         "model": f"{self.server.provider}-small", "source": self.server.provider})

    def do_PUT(self) -> None:
        if self.path != "/__provider/config":
            self._send(404, {"error": "not found"})
            return
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
        config = self.server.config
        config.latency_ms = float(body.get("latency_ms", config.latency_ms))
        config.failure_rate = float(body.get("failure_rate", config.failure_rate))
        config.api_key = str(body.get("api_key", config.api_key))
        self._send(200, {"provider": self.server.provider, "latency_ms": config.latency_ms, "failure_rate": config.failure_rate})


def serve(ports: dict[str, int], host: str = "127.0.0.1") -> list[_Server]:
    servers = []
    for name, port in ports.items():
        server = _Server((host, port), Handler)
        server.provider, server.config = name, ProviderConfig()
        threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
        servers.append(server)
    return servers


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.sandbox.providers")
    parser.add_argument("--ports", required=True, help="one port each, comma-separated: " + ",".join(NAMES))
    args = parser.parse_args()
    ports = dict(zip(NAMES, (int(p) for p in args.ports.split(","))))
    servers = serve(ports)
    print("providers listening on " + ", ".join(f"{n}:{p}" for n, p in ports.items()), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for server in servers:
        server.shutdown()


if __name__ == "__main__":
    main()

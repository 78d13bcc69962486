"""A loopback HTTP server that answers from a script of raw replies: what Cloudflare's edge can send.

The emulator always answers the API's JSON envelope; the edge in front of the real
API also answers HTML error pages (502, 503), empty 204s and bodies with ``cf-ray``
headers. Each reply is (status, headers, body bytes); the last one repeats.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, dict[str, str], bytes]


def envelope(result: Any = None, *, success: bool = True, code: int = 0, message: str = "",
             info: dict[str, Any] | None = None) -> bytes:
    doc: dict[str, Any] = {"success": success, "errors": [] if success else [{"code": code, "message": message}],
                           "messages": [], "result": result}
    if info is not None:
        doc["result_info"] = info
    return json.dumps(doc).encode()


@dataclass
class ScriptedEdge:
    replies: list[Reply]
    seen: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def api_base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/client/v4"

    def next_reply(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        with self._lock:
            self.seen.append((method, path, headers, body))
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(edge: ScriptedEdge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, data = edge.next_reply(self.command, self.path,
                                                    {k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if status != 204:
                self.send_header("content-length", str(len(data)))
            self.end_headers()
            if status != 204:
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

    return Handler

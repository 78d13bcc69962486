"""A loopback "Worker" behind the recording proxy: real HTTP, answering as the sandbox's entry shim does."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from ops.sandbox.constants import ACCOUNT_ID
from ops.sandbox.emulator.proxy import VERSION_HEADER

QUERY = """query($a: string!, $s: string) { viewer { accounts(filter: {accountTag: $a}) {
  workersInvocationsAdaptive(limit: 100, filter: {scriptName: $s}) { sum { requests } dimensions { scriptVersion } }
} } }"""


class LoopWorker(ThreadingHTTPServer):
    """Answers every GET with its ``version``; ``looks`` counts the proxy's ``/__sandbox/version`` questions.
    ``tagged`` False answers without the shim's version header, so the proxy records the version it looked up."""

    daemon_threads = True

    def __init__(self, version: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.version, self.looks, self.tagged = version, 0, True
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: LoopWorker
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        look = self.path == "/__sandbox/version"
        self.server.looks += look
        body = json.dumps({"version_id": self.server.version, "stamp": "s"}).encode()
        self.send_response(200)
        if not look and self.server.tagged:
            self.send_header(VERSION_HEADER, self.server.version)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def requests_by_version(emulator: Any, token: str, script: str) -> dict[str, int]:
    """What the emulator's GraphQL Analytics API counts for ``script``, by the version it names."""
    answer = httpx.post(f"{emulator.api_base_url}/graphql", headers={"Authorization": f"Bearer {token}"},
                        json={"query": QUERY, "variables": {"a": ACCOUNT_ID, "s": script}}, timeout=10).json()
    rows = answer["data"]["viewer"]["accounts"][0]["workersInvocationsAdaptive"]
    return {r["dimensions"]["scriptVersion"]: r["sum"]["requests"] for r in rows}

"""The sandbox's users (ops.sandbox.users): a real subprocess sending requests to a loopback Worker, as a scenario
starts them; it ends by itself after --seconds and says in its log what the Worker answered."""

from __future__ import annotations

import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ops.sandbox import users

from testing.workspace import REPO


def test_users_ask_the_url_until_their_time_is_up_and_count_the_answers() -> None:
    paths: list[str] = []
    lock = threading.Lock()

    class Worker(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            with lock:
                paths.append(self.path)
                status = 500 if len(paths) % 4 == 0 else 200  # a partial regression: every fourth request fails
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Worker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        argv = users.argv(sys.executable, f"http://127.0.0.1:{server.server_address[1]}/health", rate=40, seconds=3)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=REPO)
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr
    assert paths and set(paths) == {"/health"}
    counted = {kind: int(n) for n, kind in (part.split(" ") for part in done.stdout.rsplit(": ", 1)[1].strip().split(", "))}
    failed = len(paths) // 4
    assert counted == {"2xx": len(paths) - failed, **({"5xx": failed} if failed else {})}


def test_users_refuse_a_rate_of_zero() -> None:
    done = subprocess.run(users.argv(sys.executable, "http://127.0.0.1:9/", rate=0), capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    assert done.returncode == 2 and "--rate and --seconds must be above 0" in done.stderr

"""The CPU of one loopback request: ``httpx.get`` (a client per call) against ``ops.sandbox.loopback`` (one client).

A local HTTP server answers ``{}``; interleaved rounds of each way, CPU time of this process (the server's
threads included, the same for both).

    python bench/loopback_client.py          # --quick for fewer rounds
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import quick, ratio, write_result  # noqa: E402


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


def main() -> None:
    import httpx

    from ops.sandbox import loopback

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    rounds, requests = (3, 20) if quick() else (7, 50)
    ways: dict[str, Callable[[], Any]] = {"client_per_call": lambda: httpx.get(url, timeout=5),
                                          "one_client": lambda: loopback.get(url, timeout=5)}
    per_request: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(rounds):
        for way, call in ways.items():
            started = time.process_time()
            for _ in range(requests):
                call().raise_for_status()
            per_request[way].append((time.process_time() - started) * 1000 / requests)
    server.shutdown()
    result: dict[str, Any] = {way: {"median_cpu_ms": round(statistics.median(s), 2), "rounds": len(s),
                                    "requests_per_round": requests} for way, s in per_request.items()}
    result["ratio"] = ratio(result["client_per_call"]["median_cpu_ms"], result["one_client"]["median_cpu_ms"])
    print(f"CPU per request: {result['client_per_call']['median_cpu_ms']:.2f} ms with a client per call, "
          f"{result['one_client']['median_cpu_ms']:.2f} ms with one client ({result['ratio']}x)")
    print(write_result("loopback_client", result))


if __name__ == "__main__":
    main()

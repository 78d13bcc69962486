"""Live logs: the real `wrangler tail` against the emulator's tail sessions, and `inv logs --json` beside it.

A loopback "Worker" stands behind the real recording proxy. It answers as the sandbox's shim
does: its ``console.warn`` and ``console.error`` lines in the shim's console header, a thrown
exception marked. wrangler parses every
event it prints: ``--format json`` re-serialises it, ``--format pretty`` reads the request,
outcome, logs and exceptions. Its filters are applied by the emulator, as by Cloudflare.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from ops.sandbox.emulator import start_emulator
from ops.sandbox.emulator.__main__ import load_seed
from testing.workspace import CANARY, make_workspace
from tests.fakes.shim_console import console_header
from tests.integration.wranglers import PINNED, VERSIONS, wrangler_bin

ACCOUNT, TOKEN, SCRIPT = "5a4db0c5000000000000000000000000", f"{CANARY}-token", "api-worker"
SEED = {**(load_seed("default") or {}),
        "scripts": {SCRIPT: {"deployments": [{"versions": [{"version_id": "v-live", "percentage": 100}]}]}}}
pytestmark = pytest.mark.skipif(not wrangler_bin(PINNED).exists(),
                                reason="npm wrangler is not installed (./scripts/bootstrap; CI installs it)")


class LoopWorker(BaseHTTPRequestHandler):
    """/ok 200 with a warning logged, /missing 404, /threw an exception with an error logged first (gzipped,
    as `wrangler dev` answers a client that accepts gzip)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        headers: dict[str, str] = {}
        status, body = 200, b"{}"
        if self.path == "/ok":
            headers["x-sandbox-console"] = console_header(("warn", f"cache miss for {self.path}"))
        elif self.path == "/missing":
            status = 404
        elif self.path == "/threw":
            status, body = 500, gzip.compress(b"Error: boom at /threw\n    at Object.fetch (index.js:3:9)")
            headers = {"x-sandbox-invocation-status": "scriptThrewException", "content-encoding": "gzip",  # as wrangler dev
                       "x-sandbox-console": console_header(("error", f"lookup failed for {self.path}"))}
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class World:
    def __init__(self, tmp: Path) -> None:
        self.loop = ThreadingHTTPServer(("127.0.0.1", 0), LoopWorker)
        threading.Thread(target=self.loop.serve_forever, daemon=True).start()
        self.handle = start_emulator(tmp / "state.json", seed=SEED, token=TOKEN)
        upstream = f"http://127.0.0.1:{self.loop.server_address[1]}"
        self.proxy = self.handle.add_proxy(SCRIPT, upstream)
        self.workspace = make_workspace(tmp / "ws", self.proxy.url, self.handle.api_base_url)
        self.env = {**os.environ, "CLOUDFLARE_API_BASE_URL": self.handle.api_base_url, "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
                    "CLOUDFLARE_API_TOKEN": TOKEN, "WRANGLER_SEND_METRICS": "false", "CI": "true",
                    "HOME": str(tmp / "home"), "XDG_CONFIG_HOME": str(tmp / "home" / ".config")}
        self.cwd = tmp

    def tail_requests(self, method: str) -> int:
        requests = httpx.get(f"{self.handle.url}/__emulator/requests", headers=self.handle.admin_headers, timeout=5).json()
        return sum(1 for r in requests if r["method"] == method and "/tails" in r["path"] and r["status"] == 200)

    def stop(self) -> None:
        self.handle.stop()
        self.loop.shutdown()
        self.loop.server_close()


class Output:
    """A process's stdout, read on a thread, so the test can wait on what it printed."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc, self.text = proc, ""
        assert proc.stdout is not None
        stdout = proc.stdout
        threading.Thread(target=lambda: [self._add(chunk) for chunk in iter(stdout.readline, "")], daemon=True).start()

    def _add(self, chunk: str) -> None:
        self.text += chunk

    def events(self) -> list[dict[str, Any]]:
        decoder, found, at = json.JSONDecoder(), [], 0
        while (start := self.text.find("{", at)) != -1:
            try:
                event, at = decoder.raw_decode(self.text, start)
            except ValueError:
                break
            found.append(event)
        return found


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.stop()


@pytest.mark.parametrize("version", VERSIONS, ids=[f"wrangler-{v}" for v in VERSIONS])
def test_wrangler_tail_reads_the_emulators_events_and_its_filters_apply(world: World, version: str) -> None:
    argvs = {"all": ["--format", "json"], "errors": ["--format", "json", "--status", "error"],
             "search": ["--format", "json", "--search", "cache miss"], "pretty": ["--format", "pretty"]}
    tails = {name: Output(subprocess.Popen([str(wrangler_bin(version)), "tail", SCRIPT, *argv], cwd=world.cwd,
                                           env=world.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
             for name, argv in argvs.items()}
    logs = None
    try:
        wait_for(lambda: world.tail_requests("POST") == len(tails), "wrangler's tail sessions")
        if version == PINNED:  # inv logs watches for 12 s from now: it starts once wrangler's sessions are open
            logs = world.workspace.popen("logs", "--json", "--seconds", "12")
            wait_for(lambda: world.tail_requests("POST") == len(tails) + 1, "inv logs' tail session")
        for path in ("/ok", "/missing", "/threw"):
            httpx.get(f"{world.proxy.url}{path}", timeout=10)
        wait_for(lambda: len(tails["all"].events()) == 3 and "boom" in tails["pretty"].text, "wrangler's output")
        for tail in tails.values():
            tail.proc.send_signal(signal.SIGINT)
        for tail in tails.values():
            tail.proc.wait(timeout=30)
    finally:
        for tail in tails.values():
            tail.proc.kill() if tail.proc.poll() is None else None

    ok, missing, threw = tails["all"].events()
    assert ok["outcome"] == "ok" and ok["scriptName"] == SCRIPT and ok["event"]["response"] == {"status": 200}
    assert ok["event"]["request"]["method"] == "GET" and ok["event"]["request"]["url"].endswith("/ok")
    assert ok["logs"] == [{"message": ["cache miss for /ok"], "level": "warn", "timestamp": ok["logs"][0]["timestamp"]}]
    assert missing["event"]["response"] == {"status": 404} and missing["logs"] == [] and missing["exceptions"] == []
    assert threw["outcome"] == "exception" and "response" not in threw["event"]
    assert [(x["name"], x["message"]) for x in threw["exceptions"]] == [("Error", "boom at /threw")]
    assert threw["logs"][0]["level"] == "error"
    assert [e["event"]["request"]["url"][-6:] for e in tails["errors"].events()] == ["/threw"]
    assert [e["event"]["request"]["url"][-3:] for e in tails["search"].events()] == ["/ok"]
    pretty = tails["pretty"].text
    assert "/ok - Ok @" in pretty and "/threw - Exception Thrown @" in pretty and "(warn) cache miss for /ok" in pretty
    assert "Error: boom at /threw" in pretty
    if logs is not None:
        stdout, stderr = logs.communicate(timeout=60)
        assert logs.returncode == 0, stderr
        seen = json.loads(stdout)
        assert [e["event"]["request"]["url"] for e in seen["events"]] == [e["event"]["request"]["url"] for e in
                                                                            tails["all"].events()]
        summary = seen["summary"]
        assert summary["by_status"] == {"200": 1, "404": 1, "none": 1} and summary["rate_5xx"] == round(1 / 3, 4)
        assert summary["exceptions"] == [{"exception": "Error: boom at /threw", "count": 1}]
    if version == max(VERSIONS, key=lambda v: tuple(map(int, v.split(".")))):  # 4.164 deletes its session on Ctrl-C
        ours = len(tails) + (logs is not None)  # and inv logs always deletes its own
        wait_for(lambda: world.tail_requests("DELETE") == ours, "the DELETE of each session")

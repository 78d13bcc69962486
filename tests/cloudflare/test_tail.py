"""Live logs without wrangler: filters (ours and the emulator's), the summary, the read-only wall, the session's end.

The end-to-end proof with the real wrangler is tests/integration/test_tail_wrangler.py.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from ops import http
from ops.cloudflare import CloudflareClient, RetryPolicy
from ops.cloudflare.tail import TailFilters, stream
from ops.cloudflare.tail_summary import line, summarize
from ops.errors import DryRunViolation, InputError
from ops.sandbox.emulator import start_emulator
from ops.sandbox.emulator.proxy import Console, console_of
from ops.sandbox.emulator.tail_events import passes, redact_headers, redact_url
from ops.sandbox.emulator.tail_frames import ZeroMask
from tests.fakes.shim_console import console_header

ACCOUNT, TOKEN, SCRIPT = "5a4db0c5000000000000000000000000", "tail-test-token", "loop-api"
ERRORS = ["exception", "exceededCpu", "exceededMemory", "unknown"]


def event(path: str = "/", status: int | None = 200, outcome: str = "ok", wall: int = 5, logs: tuple[str, ...] = (),
          exception: str | None = None, method: str = "GET") -> dict[str, Any]:
    fetch: dict[str, Any] = {"request": {"url": f"https://books.example{path}?q=1", "method": method,
                                         "headers": {"x-team": "books"}, "cf": {}}}
    if status is not None:
        fetch["response"] = {"status": status}
    return {"outcome": outcome, "scriptName": SCRIPT, "wallTime": wall, "eventTimestamp": 1_795_000_000_000,
            "scriptVersion": {"id": "v1"}, "logs": [{"message": [m], "level": "log", "timestamp": 0} for m in logs],
            "exceptions": [{"name": "TypeError", "message": exception, "timestamp": 0}] if exception else [],
            "event": fetch}


# --- our filters: wrangler's TailFilterMessage, and what Cloudflare cannot filter ------------------------

def test_status_error_and_canceled_send_wranglers_outcomes() -> None:
    # workers-sdk packages/wrangler/src/__tests__/tail.test.ts, "sends multiple status filters"
    assert TailFilters.parse(status="error,canceled").message() == {"filters": [{"outcome": [*ERRORS, "canceled"]}]}
    assert TailFilters.parse(search="timeout").message() == {"filters": [{"query": "timeout"}]}
    assert TailFilters.parse(header="X-Team: books").message() == {"filters": [{"header": {"key": "X-Team", "query": "books"}}]}


def test_an_http_class_is_kept_here_and_5xx_counts_exceptions() -> None:
    five = TailFilters.parse(status="5xx")
    assert five.message() == {"filters": []}  # Cloudflare has no status filter: every outcome comes
    assert [five.keeps(e) for e in (event(status=503), event(status=None, outcome="exception"), event(status=404),
                                    event(status=None, outcome="canceled"))] == [True, True, False, False]
    assert TailFilters.parse(status="4xx").message() == {"filters": [{"outcome": ["ok"]}]}


@pytest.mark.parametrize("status, message", [
    ("7xx", "--status '7xx': '7xx' is not ok, error, canceled, or an HTTP class such as 5xx or 4xx"),
    ("5xx,error", "--status '5xx,error': give outcomes (ok, error, canceled) or HTTP classes (5xx), not both"),
])
def test_bad_status_is_bad_input_that_says_what_to_give(status: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        TailFilters.parse(status=status)
    assert str(caught.value) == message


# --- the emulator's server-side filters and redaction ------------------------------------------------------

def test_the_emulator_applies_every_filter_as_cloudflare() -> None:
    e = event(logs=("cache miss for isbn 42",), method="POST")

    def keep(*filters: dict[str, Any], ip: str = "10.0.0.1") -> bool:
        return passes(e, list(filters), client_ip=ip, tail_ip="192.0.2.7", draw=lambda: 0.5)

    assert keep() and keep({"outcome": ["ok"]}) and not keep({"outcome": ERRORS})
    assert keep({"method": ["GET", "post"]}) and not keep({"method": ["GET"]})
    assert keep({"query": "cache miss"}) and not keep({"query": "TypeError"})
    assert keep({"header": {"key": "X-Team"}}) and keep({"header": {"key": "x-team", "query": "books"}})
    assert not keep({"header": {"key": "x-team", "query": "maps"}}) and not keep({"header": {"key": "x-other"}})
    assert keep({"client_ip": ["self"]}, ip="192.0.2.7") and not keep({"client_ip": ["self"]})
    assert keep({"scriptVersion": "v1"}) and not keep({"scriptVersion": "v2"})
    assert keep({"sampling_rate": 0.75}) and not keep({"sampling_rate": 0.25})
    assert not keep({"outcome": ["ok"]}, {"method": ["GET"]})  # every filter must pass


def test_headers_and_ids_in_urls_are_redacted_as_cloudflare_redacts_them() -> None:
    assert redact_headers({"authorization": "Bearer x", "x-warm-secret": "s", "cookie": "c", "x-team": "books"}) == {
        "authorization": "REDACTED", "x-warm-secret": "REDACTED", "cookie": "REDACTED", "x-team": "books"}
    assert redact_url("https://a.example/v1/books/0123456789abcdef0123456789abcdef?isbn=42") == \
        "https://a.example/v1/books/REDACTED?isbn=42"
    assert redact_url("https://a.example/s/aB3dE5gH7jK9mN1pQ3sT5v") == "https://a.example/s/REDACTED"


def test_the_shims_console_header_is_read_and_a_bad_one_is_no_lines() -> None:
    console = console_of(console_header(("warn", "careful"), ("log", "job 42 stuck"), truncated=True))
    assert [(x.level, x.message) for x in console.lines] == [("warn", ("careful",)), ("log", ("job 42 stuck",))]
    assert console.truncated and console_of(None) == Console() and console_of("not base64!") == Console()
    assert console_of("e30=") == Console()  # {} : no logs


def test_an_unmasked_client_frame_gets_the_zero_key_even_split_across_reads() -> None:
    unmasked = bytes([0x81, 16]) + b'{"debug": false}'
    masked = bytes([0x81, 0x80 | 5, 1, 2, 3, 4]) + b"abcde"
    zero = ZeroMask()
    out = b"".join(zero.feed(unmasked[i:i + 3]) for i in range(0, len(unmasked), 3)) + zero.feed(masked)
    assert out == bytes([0x81, 0x80 | 16, 0, 0, 0, 0]) + b'{"debug": false}' + masked


# --- the summary -------------------------------------------------------------------------------------------

def test_the_summary_counts_by_status_outcome_and_exception_and_ranks_the_slowest_paths() -> None:
    events = [event("/a", wall=10), event("/a", wall=30), event("/b", status=503, wall=900),
              event("/c", status=None, outcome="exception", exception="x is undefined", wall=2),
              event("/c", status=None, outcome="exception", exception="x is undefined", wall=4), event("/d", status=404)]
    summary = summarize(events, seconds=5)
    assert summary["by_status"] == {"200": 2, "404": 1, "503": 1, "none": 2}
    assert summary["by_outcome"] == {"exception": 2, "ok": 4}
    assert summary["rate_5xx"] == 0.5 and summary["rate_4xx"] == round(1 / 6, 4)
    assert summary["exceptions"] == [{"exception": "TypeError: x is undefined", "count": 2}]
    assert [(s["path"], s["count"], s["max_ms"], s["mean_ms"]) for s in summary["slowest"][:2]] == [
        ("/b", 1, 900, 900.0), ("/a", 2, 30, 20.0)]
    assert summary["inconclusive"] is None
    assert summarize([], seconds=3)["inconclusive"] == "no events in 3 s: the Worker had no (matching) traffic"
    assert line(events[3]).splitlines()[1:] == ["  TypeError: x is undefined"]


# --- the read-only wall ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [("POST", "/client/v4/accounts/a/workers/scripts/books/tails"),
                                          ("DELETE", "/client/v4/accounts/a/workers/scripts/books/tails/abc")])
def test_a_tail_session_passes_the_read_only_wall(method: str, path: str) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"success": True, "result": None}))
    with http.client(read_only=True, transport=transport) as c:
        assert c.request(method, f"http://127.0.0.1:9{path}").status_code == 200


@pytest.mark.parametrize("method, path", [("POST", "/client/v4/accounts/a/workers/scripts/books/deployments"),
                                          ("POST", "/client/v4/accounts/a/workers/scripts/books/tails/abc"),
                                          ("DELETE", "/client/v4/accounts/a/workers/scripts/books/tails"),
                                          ("DELETE", "/client/v4/accounts/a/workers/scripts/books/secrets/X"),
                                          ("PUT", "/client/v4/accounts/a/workers/scripts/books/tails")])
def test_other_writes_are_still_refused(method: str, path: str) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"success": True, "result": None}))
    with http.client(read_only=True, transport=transport) as c, pytest.raises(DryRunViolation):
        c.request(method, f"http://127.0.0.1:9{path}")


# --- a session against the emulator, without wrangler --------------------------------------------------------

class Loop(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(404 if self.path == "/missing" else 200)
        self.send_header("content-length", "0")
        self.end_headers()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Any]:
    loop = ThreadingHTTPServer(("127.0.0.1", 0), Loop)
    threading.Thread(target=loop.serve_forever, daemon=True).start()
    seed = {"scripts": {SCRIPT: {"deployments": [{"versions": [{"version_id": "v-live", "percentage": 100}]}]}}}
    handle = start_emulator(tmp_path / "state.json", seed=seed, token=TOKEN)
    handle.add_proxy(SCRIPT, f"http://127.0.0.1:{loop.server_address[1]}")
    yield handle
    handle.stop()
    loop.shutdown()
    loop.server_close()


def sessions(handle: Any, method: str) -> int:
    requests = httpx.get(f"{handle.url}/__emulator/requests", headers=handle.admin_headers, timeout=5).json()
    return sum(1 for r in requests if r["method"] == method and "/tails" in r["path"] and r["status"] == 200)


def test_a_read_only_client_tails_and_deletes_its_session_even_when_the_reader_fails(emulator: Any) -> None:
    client = CloudflareClient(ACCOUNT, TOKEN, base_url=emulator.api_base_url, read_only=True,
                              retry=RetryPolicy(attempts=1))
    proxy = emulator.proxies[SCRIPT].url
    seen: list[str] = []

    def send_then_read(e: dict[str, Any]) -> None:
        seen.append(e["event"]["request"]["url"])
        if len(seen) == 2:
            raise RuntimeError("the reader went away")

    def traffic() -> None:  # once the session exists: the events of requests before it are not the session's
        while sessions(emulator, "POST") < 1:
            time.sleep(0.02)
        for path in ("/ok", "/missing", "/late"):
            httpx.get(f"{proxy}{path}", timeout=5)

    threading.Thread(target=traffic, daemon=True).start()
    with pytest.raises(RuntimeError):
        stream(client, SCRIPT, TailFilters.parse(), seconds=20, on_event=send_then_read)
    assert [u.rsplit("/", 1)[1] for u in seen] == ["ok", "missing"] and sessions(emulator, "DELETE") == 1
    events = stream(client, SCRIPT, TailFilters.parse(status="4xx"), seconds=0.5)
    assert events == [] and sessions(emulator, "DELETE") == 2
    assert all(not r["mutating"] for r in httpx.get(f"{emulator.url}/__emulator/requests", headers=emulator.admin_headers, timeout=5).json())
    client.close()


@pytest.mark.parametrize("argv, message", [(("--status", "7xx"), "--status '7xx': '7xx' is not ok, error, canceled"),
                                           (("--seconds", "0"), "--seconds 0: give a number of seconds from 1 to 3600")])
def test_inv_logs_refuses_bad_input_with_exit_2(workspace: Any, argv: tuple[str, ...], message: str) -> None:
    done = workspace.inv("logs", *argv)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr

"""The `r2` reachability probe against a loopback fake of the R2 list route (the emulator does not serve R2
objects): the Cloudflare envelope, the jurisdiction header, and a missing bucket as an observation."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from ops.actions.base import Context
from ops.actions.r2 import R2Action, R2Args
from ops.sandbox.replies import send_json
from ops.targets import Target

ACCOUNT, TOKEN = "5a4db0c5000000000000000000000000", "r2-probe-token-0000"
BUCKETS = {("default", "book-covers"): ["covers/1.jpg", "covers/2.jpg", "covers/3.jpg", "raw/x.tif"],
           ("eu", "manuscripts-eu"): ["drafts/a.docx"]}


class FakeR2:
    """GET /client/v4/accounts/{account}/r2/buckets/{bucket}/objects, as the dashboard API answers it."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake.seen.append({k.lower(): v for k, v in self.headers.items()})
                parts = urlsplit(self.path)
                status, body = fake.answer(parts.path, parse_qs(parts.query), self.headers)
                send_json(self, status, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/client/v4"

    def answer(self, path: str, query: dict[str, list[str]], headers: Any) -> tuple[int, dict[str, Any]]:
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, _envelope(None, [(10000, "Authentication error")])
        prefix = f"/client/v4/accounts/{ACCOUNT}/r2/buckets/"
        bucket = path[len(prefix):].removesuffix("/objects")
        keys = BUCKETS.get((headers.get("cf-r2-jurisdiction", "default"), bucket))
        if not path.startswith(prefix) or keys is None:
            return 404, _envelope(None, [(10006, "The specified bucket does not exist.")])
        wanted = [k for k in keys if k.startswith(query.get("prefix", [""])[0])]
        per_page = int(query.get("per_page", ["1000"])[0])
        page = wanted[:per_page]
        more = len(wanted) > per_page
        info = {"cursor": page[-1] if more else "", "is_truncated": "true" if more else "false", "delimited": []}
        return 200, {**_envelope([{"key": k, "etag": "e", "size": 1, "last_modified": "2026-11-23T10:00:00Z",
                                   "http_metadata": {}, "custom_metadata": {}} for k in page], []), "result_info": info}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _envelope(result: Any, errors: list[tuple[int, str]]) -> dict[str, Any]:
    return {"success": not errors, "errors": [{"code": c, "message": m} for c, m in errors], "messages": [],
            "result": result}


@pytest.fixture
def r2() -> Iterator[FakeR2]:
    fake = FakeR2()
    yield fake
    fake.stop()


def _probe(r2: FakeR2, **args: Any) -> dict[str, Any]:
    target = Target("test", r2.base_url, ACCOUNT, "api-worker", "http://127.0.0.1:9", token=TOKEN)
    ctx = Context(target, dry_run=True)
    try:
        return R2Action().run(R2Args(**args), ctx)
    finally:
        ctx.close()


def test_a_prefix_lists_and_counts(r2: FakeR2) -> None:
    out = _probe(r2, bucket="book-covers", prefix="covers/")
    assert out["reachable"] and out["count"] == 3 and out["truncated"] is False
    assert out["keys"] == ["covers/1.jpg", "covers/2.jpg", "covers/3.jpg"]
    assert "cf-r2-jurisdiction" not in r2.seen[-1]


def test_one_page_only_and_it_says_there_is_more(r2: FakeR2) -> None:
    out = _probe(r2, bucket="book-covers", per_page=2)
    assert out["count"] == 2 and out["truncated"] is True and len(r2.seen) == 1


def test_a_jurisdiction_bucket_is_found_only_with_its_header(r2: FakeR2) -> None:
    found = _probe(r2, bucket="manuscripts-eu", jurisdiction="eu")
    assert found["reachable"] and found["count"] == 1 and r2.seen[-1]["cf-r2-jurisdiction"] == "eu"
    missed = _probe(r2, bucket="manuscripts-eu")
    assert missed["reachable"] is False and missed["code"] == 10006
    assert missed["error"] == "The specified bucket does not exist. [code: 10006]"


def test_it_is_a_read_that_runs_in_a_dry_run() -> None:
    args = R2Args(bucket="book-covers")
    assert R2Action().effect(args) == "read" and R2Action().describe(args) == "list r2://book-covers/"

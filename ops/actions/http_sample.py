"""`http_sample`: GET many URLs concurrently and summarise: error rate, statuses, a header's values.

Used where one request proves nothing: "the error rate stays under 1%",
"a sample of the warmed keys answers X-Cache-Status: HIT", "traffic is served
by the new first provider".
"""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.documents.shape import BOOLEAN, INTEGER, NUMBER, STRING, mapping, nullable, record


class HttpSampleArgs(Args):
    urls: list[str] = Field(default_factory=list, description="The URLs to GET (each once).")
    url: str | None = Field(None, description="Or one URL, fetched `count` times; `{n}` in it becomes a fresh nonce each time.")
    count: int = Field(20, ge=1, le=10_000, description="How often to fetch `url`.")
    concurrency: int = Field(8, ge=1, le=64)
    header: str | None = Field(None, description="A response header whose values are counted, e.g. X-Cache-Status.")
    headers: dict[str, str] = Field(default_factory=dict, description="Request headers.")
    timeout: float = Field(10.0, gt=0, le=120)


class HttpSampleAction(Action):
    name = "http_sample"
    Args = HttpSampleArgs
    summary = "GET a sample of URLs; error rate, statuses and a header's share."
    outputs = record(total=INTEGER, errors=INTEGER, error_rate=NUMBER, unanswered=INTEGER, rate_4xx=NUMBER,
                     rate_429=NUMBER, statuses=mapping(INTEGER), values=mapping(INTEGER), share=mapping(NUMBER),
                     top=nullable(STRING), top_share=NUMBER, p50_ms=nullable(NUMBER), p95_ms=nullable(NUMBER),
                     failing=BOOLEAN)
    url_keys = frozenset({"url", "urls"})

    def describe(self, args: HttpSampleArgs) -> str:
        what = f"{len(args.urls)} URLs" if args.urls else f"{args.url} x{args.count}"
        return f"sample GET {what}" + (f", counting {args.header}" if args.header else "")

    def run(self, args: HttpSampleArgs, ctx: Context) -> Outputs:
        from ops.actions.http import check_headers

        check_headers(args.headers, self.describe(args))
        urls = list(args.urls) or [(args.url or "").replace("{n}", uuid.uuid4().hex[:12]) for _ in range(args.count)]
        client = ctx.http()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            results = list(pool.map(lambda u: _fetch(client, u, args), urls))
        return summarise(results, args.header)


def _fetch(client: httpx.Client, url: str, args: HttpSampleArgs) -> tuple[int, str | None, float]:
    try:
        response = client.get(url, headers=args.headers, timeout=args.timeout)
    except httpx.HTTPError:
        return 0, None, 0.0
    value = response.headers.get(args.header) if args.header else None
    return response.status_code, value, response.elapsed.total_seconds() * 1000


def summarise(results: list[tuple[int, str | None, float]], header: str | None) -> dict[str, Any]:
    """Status 0 stands for no answer (refused, timed out): an error, as a 5xx is."""
    total = len(results)
    errors = sum(1 for status, _, _ in results if status == 0 or status >= 500)
    unanswered = sum(1 for status, _, _ in results if status == 0)
    values = Counter(v for _, v, _ in results if v is not None)
    times = sorted(ms for status, _, ms in results if status)
    top, top_count = values.most_common(1)[0] if values else (None, 0)
    return {
        "total": total, "errors": errors, "error_rate": _rate(errors, total, 1.0), "unanswered": unanswered,
        "rate_4xx": _rate(sum(1 for s, _, _ in results if 400 <= s < 500), total, 0.0),
        "rate_429": _rate(sum(1 for s, _, _ in results if s == 429), total, 0.0),
        "statuses": {str(k): v for k, v in sorted(Counter(s for s, _, _ in results).items())},
        "values": dict(values), "share": {k: round(v / total, 4) for k, v in values.items()},
        "top": top, "top_share": round(top_count / total, 4) if total else 0.0,
        "p50_ms": _quantile(times, 0.50), "p95_ms": _quantile(times, 0.95),
        "failing": total > 0 and errors == total,  # nothing answered well: the Worker is failing
    }


def _rate(count: int, total: int, empty: float) -> float:
    return round(count / total, 4) if total else empty


def _quantile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

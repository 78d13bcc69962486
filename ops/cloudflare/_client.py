"""The Cloudflare API client: envelope, paging, timeouts, retries, and a request budget.

Retries (exponential backoff with full jitter) apply to:

- 429, for every method: Cloudflare did not process a rate-limited request, so
  repeating a POST (a deployment, a consumer, a queue push) cannot apply it twice.
  ``Retry-After`` (seconds or an HTTP date) is honoured up to the remaining deadline
  of the step (``CloudflareClient.deadline``); a wait that would pass it fails at once
  and says so, instead of sleeping past the step.
- 5xx and connection failures, only for requests that are safe to repeat: GET, and
  PUT/DELETE of a whole resource. A POST is not repeated after a 5xx or a dropped
  connection: a lost answer may hide a change that happened.

The API allows 1,200 requests per 5 minutes per user and blocks for 5 minutes
beyond that (https://developers.cloudflare.com/fundamentals/api/reference/limits/).
Every client of one run shares ``RUN_BUDGET``, a sliding window that waits before a
request would pass ``RequestBudget.limit`` (1,000, leaving room for wrangler and
dashboards on the same token) in 300 seconds. The GraphQL Analytics API has its own
quota beside that one, 300 queries per 5 minutes ("GraphQL Analytics API / Limits",
User limits): a query to ``/graphql`` also takes a slot of ``RUN_GRAPHQL_BUDGET``
(250 in 300 s).

Pacing follows the server too: every answer's ``Ratelimit`` header
(``"default";r=50;t=30``: r requests remain, the window resets in t seconds; the
fundamentals "Rate limits" page and the 2025-09-03 changelog) is kept, and when it
says nothing remains, the next request of that budget waits t seconds.

Answers that are not the API's JSON envelope (an HTML 502/503 page from the edge)
are reported with their status and ``cf-ray``; API errors keep the ``cf-ray`` too,
the id Cloudflare support asks for. An empty answer (204) is an empty success.
"""

from __future__ import annotations

import email.utils
import os
import random
import re
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

import httpx

from ops.errors import ApiError, TransportError
from ops.targets import ANALYTICS_INTERVAL

if TYPE_CHECKING:
    from ops.targets import Target

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
RATE_LIMITED = 429
UNBOUNDED_RETRY_AFTER = 300.0  # without a step deadline: Cloudflare's own block lasts 5 minutes


@dataclass
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    clock: Callable[[], float] = time.monotonic

    def backoff(self, attempt: int) -> float:
        return self.rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** attempt))

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """``Retry-After`` when the answer gives one, else the jittered backoff."""
        wait = parse_retry_after(retry_after, time.time())
        return self.backoff(attempt) if wait is None else wait


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def parse_ratelimit(value: str | None) -> tuple[int, float] | None:
    """(remaining, seconds to reset) of the tightest item of a ``Ratelimit`` header, e.g. ``"default";r=50;t=30``."""
    items = []
    for item in (value or "").split(","):
        remaining, reset = re.search(r";\s*r=(\d+)", item), re.search(r";\s*t=(\d+(?:\.\d+)?)", item)
        if remaining and reset:
            items.append((int(remaining.group(1)), float(reset.group(1))))
    return min(items) if items else None


@dataclass
class RequestBudget:
    """At most ``limit`` requests in any ``window`` seconds; ``take`` waits for room (or says it cannot).

    ``observe`` reads the server's own count (the ``Ratelimit`` header): none left means wait for its reset.
    """

    limit: int = 1000
    window: float = 300.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    what: str = "API requests"
    quota: str = "Cloudflare's 1,200 per 5 minutes"
    _sent: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _blocked_until: float = 0.0

    def wait_needed(self) -> float:
        with self._lock:
            now = self.clock()
            while self._sent and self._sent[0] <= now - self.window:
                self._sent.popleft()
            ours = 0.0 if len(self._sent) < self.limit else self._sent[0] + self.window - now
            return max(ours, self._blocked_until - now)

    def take(self, deadline: float | None, what: str) -> None:
        while (wait := self.wait_needed()) > 0:
            if deadline is not None and self.clock() + wait > deadline:
                raise TransportError(f"{what}: {self._why_full()}; the next slot is in {wait:.0f} s, "
                                     f"past the step's deadline (give the step more time)")
            self.sleep(wait)
        with self._lock:
            self._sent.append(self.clock())

    def observe(self, ratelimit: str | None) -> None:
        """Pace by the server's ``Ratelimit`` header: when nothing remains, hold until the window resets."""
        seen = parse_ratelimit(ratelimit)
        if seen is None:
            return
        remaining, reset = seen
        with self._lock:
            if remaining <= 0:
                self._blocked_until = max(self._blocked_until, self.clock() + reset)

    def _why_full(self) -> str:
        if self._blocked_until > self.clock():
            return f"Cloudflare's Ratelimit header says no {self.what} remain until its window resets"
        return (f"this run has sent {self.limit:,} {self.what} in {self.window:g} s, "
                f"the budget that keeps it under {self.quota}")

    @property
    def used(self) -> int:
        with self._lock:
            return len(self._sent)


RUN_BUDGET = RequestBudget()  # one process is one run: every client of it shares the budget
RUN_GRAPHQL_BUDGET = RequestBudget(limit=250, what="GraphQL queries", quota="Cloudflare's 300 GraphQL queries per 5 minutes")
GRAPHQL_PATH = "/graphql"


class CloudflareClient:
    """A thin, typed client for the endpoints cfw-remedy uses. The token never leaves the Authorization header.

    ``deadline`` (a ``RetryPolicy.clock`` time, or None) bounds every wait: a
    ``Retry-After`` or a budget wait that would end after it fails at once. The
    engine sets it for each step with ``until``.
    """

    def __init__(self, account_id: str, token: str, *, base_url: str = DEFAULT_BASE_URL,
                 timeout: httpx.Timeout | float = httpx.Timeout(15.0, connect=5.0),
                 retry: RetryPolicy | None = None, read_only: bool = False,
                 transport: httpx.BaseTransport | None = None, budget: RequestBudget | None = None,
                 graphql_budget: RequestBudget | None = None, analytics_interval: float = ANALYTICS_INTERVAL) -> None:
        self.account_id = account_id
        self.analytics_interval = analytics_interval  # ops.cloudflare.analytics.recent
        self.retry = retry or RetryPolicy()
        self.budget = RUN_BUDGET if budget is None else budget
        self.graphql_budget = RUN_GRAPHQL_BUDGET if graphql_budget is None else graphql_budget
        self.deadline: float | None = None
        from ops import http

        self._http = http.client(read_only=read_only, timeout=timeout, transport=transport, base_url=base_url.rstrip("/"),
                                 headers={"Authorization": f"Bearer {token}", "User-Agent": "cfw-remedy"})

    def __repr__(self) -> str:
        return f"CloudflareClient(account_id={self.account_id!r}, base_url={self.base_url!r})"

    @property
    def base_url(self) -> str:
        return str(self._http.base_url)

    @contextmanager
    def until(self, seconds: float) -> Iterator[None]:
        """Bound the waits of the requests made inside to ``seconds`` from now (a step's remaining time)."""
        previous, self.deadline = self.deadline, self.retry.clock() + seconds
        try:
            yield
        finally:
            self.deadline = previous

    @classmethod
    def from_target(cls, target: Target, *, read_only: bool = False) -> CloudflareClient:
        from ops import redact

        if not target.token_is_public:
            redact.register(target.token)
        return cls(target.account_id, target.token, base_url=target.api_base_url, read_only=read_only,
                   analytics_interval=target.analytics_interval)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, *, read_only: bool = False) -> CloudflareClient:
        from ops import redact
        from ops.errors import InputError

        env = os.environ if environ is None else environ
        token = env.get("CLOUDFLARE_API_TOKEN", "")
        account = env.get("CLOUDFLARE_ACCOUNT_ID", "")
        if not token or not account:
            raise InputError("set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID (the variables wrangler reads)")
        redact.register(token)
        base = env.get("CLOUDFLARE_API_BASE_URL") or env.get("CF_API_BASE_URL") or DEFAULT_BASE_URL
        return cls(account, token, base_url=base, read_only=read_only)

    def close(self) -> None:
        self._http.close()

    # --- the envelope ---------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
                content: bytes | None = None, headers: dict[str, str] | None = None,
                account_scoped: bool = True) -> dict[str, Any]:
        """One API call; returns the whole envelope. Raises ApiError or TransportError."""
        url = f"/accounts/{self.account_id}{path}" if account_scoped else path
        response, note = self.send(method, url, retryable=method in IDEMPOTENT, params=params, json=json,
                                   content=content, headers=headers)
        return _envelope(response, method, url, note=note)

    def send(self, method: str, url: str, *, retryable: bool, **kwargs: Any) -> tuple[httpx.Response, str]:
        """One request under the run's budget and deadline, retried as it is safe to: the answer, and a note
        when a retry was not made. The GraphQL API (no REST envelope) goes through here too."""
        budgets = (self.budget, self.graphql_budget) if url == GRAPHQL_PATH else (self.budget,)
        for attempt in range(self.retry.attempts):
            last = attempt + 1 == self.retry.attempts
            for budget in budgets:  # a GraphQL query counts toward both quotas
                budget.take(self.deadline, f"{method} {url}")
            try:
                response = self._http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                wait = self.retry.backoff(attempt)
                if retryable and not last and wait <= self.time_left():
                    self.retry.sleep(wait)
                    continue
                raise TransportError(f"{method} {url}: {type(exc).__name__}: {exc or 'connection failed'}"
                                     + ("" if retryable else " (not retried: not safe to repeat)")) from exc
            budgets[-1].observe(response.headers.get("ratelimit"))
            status = response.status_code
            if not last and (status == RATE_LIMITED or (retryable and status in RETRY_STATUSES)):
                wait = self.retry.delay(attempt, response.headers.get("retry-after"))
                left = self.time_left()
                if wait <= left:
                    self.retry.sleep(wait)
                    continue
                return response, (f" (not retried: the wait of {wait:g} s asked for is "
                                  f"longer than the {left:.0f} s left to this step)")
            return response, ""
        raise AssertionError("unreachable")

    def time_left(self) -> float:
        """How long a retry may wait: to the step's deadline, or Cloudflare's 5-minute block without one."""
        return UNBOUNDED_RETRY_AFTER if self.deadline is None else max(0.0, self.deadline - self.retry.clock())

    def result(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).get("result")

    def pages(self, path: str, *, params: dict[str, Any] | None = None, per_page: int = 100,
              key: str | None = None) -> Iterator[Any]:
        """Every item of a page-numbered list (result_info.page / total_pages / total_count); ``key`` names the
        list inside the result when the result is an object (the versions list's ``items``)."""
        page = 1
        while True:
            envelope = self.request("GET", path, params={**(params or {}), "page": page, "per_page": per_page})
            result = envelope.get("result")
            items = (result or {}).get(key) or [] if key else result or []
            yield from items
            info = envelope.get("result_info") or {}
            total_pages = info.get("total_pages") or (
                -(-int(info["total_count"]) // int(info.get("per_page") or per_page)) if info.get("total_count") is not None else None)
            if not items or (total_pages is not None and page >= int(total_pages)) or (total_pages is None and len(items) < per_page):
                return
            page += 1

    def cursor(self, path: str, *, params: dict[str, Any] | None = None, limit: int = 1000) -> Iterator[Any]:
        """Every item of a cursor-paged list (result_info.cursor)."""
        cursor = ""
        while True:
            query = {**(params or {}), "limit": limit, **({"cursor": cursor} if cursor else {})}
            envelope = self.request("GET", path, params=query)
            yield from envelope.get("result") or []
            cursor = (envelope.get("result_info") or {}).get("cursor") or ""
            if not cursor:
                return


def _ray(response: httpx.Response) -> str:
    ray = response.headers.get("cf-ray")
    return f", cf-ray {ray}" if ray else ""


def _envelope(response: httpx.Response, method: str, url: str, *, note: str = "") -> dict[str, Any]:
    where = f"{method} {url}".strip()
    status = response.status_code
    if status == 204 or (not response.content and 200 <= status < 300):
        return {"success": True, "errors": [], "messages": [], "result": None}
    try:
        body = response.json()
    except ValueError:
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        title = re.search(r"<title>(.*?)</title>", response.text, re.I | re.S)
        shown = f": {' '.join(title.group(1).split())[:120]}" if title else ""
        raise TransportError(f"{where}: HTTP {status} ({kind}{_ray(response)}) is not the API's JSON, "
                             f"an answer from Cloudflare's edge{shown}{note}") from None
    if not isinstance(body, dict) or "success" not in body:
        raise TransportError(f"{where}: HTTP {status}{_ray(response)} without the Cloudflare envelope{note}")
    if not body["success"]:
        errors = body.get("errors") or [{"code": 0, "message": f"HTTP {status}"}]
        first = errors[0]
        raise ApiError(int(first.get("code", 0)), str(first.get("message", "")) + note, status=status,
                       path=url + _ray(response))
    return body

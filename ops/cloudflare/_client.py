"""The Cloudflare API client: envelope, paging, timeouts, and retries only where safe.

Retries (exponential backoff with full jitter, honouring ``Retry-After``) apply
to 429, 5xx and connection failures, and only to requests that are safe to
repeat: GET, and PUT/DELETE of a whole resource (putting the same secret or KV
pairs twice, or deleting twice, leaves the same state). POST (a deployment, a
consumer) is never retried: a lost answer may hide a change that happened.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

import httpx

from ops.errors import ApiError, TransportError

if TYPE_CHECKING:
    from ops.targets import Target

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})


@dataclass
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self.max_delay * 4)
            except ValueError:
                pass
        return self.rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** attempt))


class CloudflareClient:
    """A thin, typed client for the endpoints cfw-remedy uses. The token never leaves the Authorization header."""

    def __init__(self, account_id: str, token: str, *, base_url: str = DEFAULT_BASE_URL,
                 timeout: httpx.Timeout | float = httpx.Timeout(15.0, connect=5.0),
                 retry: RetryPolicy | None = None, read_only: bool = False,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.account_id = account_id
        self.retry = retry or RetryPolicy()
        from ops import http

        self._http = http.client(read_only=read_only, timeout=timeout, transport=transport, base_url=base_url.rstrip("/"),
                                 headers={"Authorization": f"Bearer {token}", "User-Agent": "cfw-remedy"})

    def __repr__(self) -> str:
        return f"CloudflareClient(account_id={self.account_id!r}, base_url={str(self._http.base_url)!r})"

    @classmethod
    def from_target(cls, target: Target, *, read_only: bool = False) -> CloudflareClient:
        from ops import redact

        if not target.token_is_public:
            redact.register(target.token)
        return cls(target.account_id, target.token, base_url=target.api_base_url, read_only=read_only)

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
        retryable = method in IDEMPOTENT
        attempts = self.retry.attempts if retryable else 1
        for attempt in range(attempts):
            try:
                response = self._http.request(method, url, params=params, json=json, content=content, headers=headers)
            except httpx.TransportError as exc:
                if attempt + 1 < attempts:
                    self.retry.sleep(self.retry.delay(attempt, None))
                    continue
                raise TransportError(f"{method} {url}: {type(exc).__name__}: {exc or 'connection failed'}"
                                     + ("" if retryable else " (not retried: not safe to repeat)")) from exc
            if response.status_code in RETRY_STATUSES and attempt + 1 < attempts:
                self.retry.sleep(self.retry.delay(attempt, response.headers.get("retry-after")))
                continue
            return _envelope(response, url)
        raise AssertionError("unreachable")

    def result(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).get("result")

    def pages(self, path: str, *, params: dict[str, Any] | None = None, per_page: int = 100) -> Iterator[Any]:
        """Every item of a page-numbered list (result_info.page / total_pages / total_count)."""
        page = 1
        while True:
            envelope = self.request("GET", path, params={**(params or {}), "page": page, "per_page": per_page})
            items = envelope.get("result") or []
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


def _envelope(response: httpx.Response, url: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise TransportError(f"{url}: HTTP {response.status_code} with a body that is not JSON") from None
    if not isinstance(body, dict) or "success" not in body:
        raise TransportError(f"{url}: HTTP {response.status_code} without the Cloudflare envelope")
    if not body["success"]:
        errors = body.get("errors") or [{"code": 0, "message": f"HTTP {response.status_code}"}]
        first = errors[0]
        raise ApiError(int(first.get("code", 0)), str(first.get("message", "")), status=response.status_code, path=url)
    return body

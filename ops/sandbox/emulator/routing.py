"""The Cloudflare API subset, as handlers over ``State``, one module a resource (scripts, secrets, kv, r2,
queues, d1, tail, assets, workflows); this one routes: same paths, envelope, error codes and paging.

Every handler reads the request; none returns a canned answer. Paths are
relative to ``/client/v4/accounts/{account_id}``.

The emulator is a witness, not an echo of our client: each route names where its
request and response shapes come from (``SOURCES``): a type in cloudflare-typescript
(generated from Cloudflare's OpenAPI schema), wrangler's own source in workers-sdk
where wrangler reads what the OpenAPI types lack, or a docs page. Every error code it
answers is in ``codes.SOURCED_CODES`` or ``codes.INVENTIONS``, and what it does without a
source is in ``codes.INVENTED_BEHAVIOURS``. tests/cloudflare/test_reference_shapes.py
validates its answers, and our client's request bodies, against JSON Schemas
transcribed from those types.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ops.sandbox.emulator.state import State

TS = "cloudflare-typescript@faaaf89e src/resources/"
WRANGLER = "workers-sdk@f8308360 packages/wrangler/src/"
DEPLOY_HELPERS = "workers-sdk@f8308360 packages/deploy-helpers/src/"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    repeated: dict[str, list[str]] = field(default_factory=dict)  # every value of a repeated query parameter

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except json.JSONDecodeError as exc:
            raise ApiFailure(400, 10026, f"Request body is not valid JSON: {exc.msg}") from None


@dataclass(frozen=True)
class Raw:
    """An answer that is not the JSON envelope: a KV value, a version's modules."""

    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


class ApiFailure(Exception):
    def __init__(self, status: int, code: int, message: str, more: list[tuple[int, str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors = [(code, message), *(more or [])]  # the envelope's errors, the first being (code, message)


Reply = tuple[int, Any, dict[str, Any] | None]  # status, result, result_info
Handler = Callable[[State, Request], Reply]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []
LiveHook = Callable[[str], None]
live_hook: list[LiveHook] = []  # called with the script name when its live deployment changes
Deliver = Callable[[str, list[dict[str, Any]]], None]
deliver_hook: list[Deliver] = []  # called with (queue name, [{body, content_type}]) for Worker-consumed queues
kv_hook: list[Deliver] = []  # called with (namespace id, [{key, value, expiration_ttl}]) after a bulk write
# Called with (state, script, upload metadata, latest version) before a script upload makes its version; each
# answers private fields for the version (assets.py: the static assets its completion token names).
UploadHook = Callable[[State, str, dict[str, Any], "dict[str, Any] | None"], dict[str, Any]]
upload_hooks: list[UploadHook] = []


SOURCES: dict[tuple[str, str], str] = {}  # (method, pattern) -> where its shapes come from


def route(method: str, pattern: str, source: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
        ROUTES.append((method, regex, handler))
        SOURCES[(method, pattern)] = source
        return handler
    return register


def dispatch(state: State, req: Request) -> Reply:
    for method, regex, handler in ROUTES:
        match = regex.match(req.path)
        if match and method == req.method:
            req.params = match.groupdict()
            with state.lock:
                return handler(state, req)
    raise ApiFailure(404, 7003, f"Could not route to {req.path}, perhaps your object identifier is invalid?")


def paged(items: list[Any], req: Request, default: int = 20) -> Reply:
    page, per_page = max(1, int(req.query.get("page", 1))), max(1, min(1000, int(req.query.get("per_page", default))))
    window = items[(page - 1) * per_page: page * per_page]
    total = len(items)
    return 200, window, {"page": page, "per_page": per_page, "count": len(window), "total_count": total,
                         "total_pages": max(1, -(-total // per_page))}


"""`http`: one request with httpx. Outputs: status, headers, json, text, elapsed_ms."""

from __future__ import annotations

import json
import time
from typing import Any, Literal

import httpx
from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.documents.shape import ANY, INTEGER, NUMBER, STRING, mapping, record
from ops.http import SAFE_METHODS
from ops.errors import TransportError

MAX_TEXT = 4096


class HttpArgs(Args):
    url: str = Field(description="Absolute URL; `{{ target.worker_url }}/health` and the like.")
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    params: dict[str, str | int | float | bool] = Field(default_factory=dict, description="Query parameters, encoded as data.")
    json_body: Any = Field(None, alias="json", description="A JSON body.")
    timeout: float = Field(10.0, gt=0, le=600)


class HttpAction(Action):
    name = "http"
    Args = HttpArgs
    summary = "One HTTP request; expectations on status, headers and JSON."
    outputs = record(status=INTEGER, headers=mapping(STRING), json=ANY, text=STRING, elapsed_ms=NUMBER)

    def effect(self, args: HttpArgs) -> str:
        return "read" if args.method in SAFE_METHODS else "write"

    def safe_to_retry(self, args: HttpArgs) -> bool:
        return args.method in SAFE_METHODS or args.method in {"PUT", "DELETE"}

    def describe(self, args: HttpArgs) -> str:
        return f"{args.method} {args.url}"

    def run(self, args: HttpArgs, ctx: Context) -> Outputs:
        started = time.perf_counter()
        try:
            response = ctx.http().request(
                args.method, args.url, headers=args.headers, params={k: str(v) for k, v in args.params.items()} or None,
                json=args.json_body, timeout=min(args.timeout, ctx.remaining()),
            )
        except httpx.HTTPError as exc:
            raise TransportError(f"{args.method} {args.url}: {type(exc).__name__}: {exc}") from exc
        return {
            "status": response.status_code,
            "headers": {k.lower(): v for k, v in response.headers.items()},
            "json": _json(response),
            "text": response.text[:MAX_TEXT],
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
        }


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None

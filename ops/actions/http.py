"""`http`: one request with httpx, observed whatever happens.

Outputs: status, headers, json, text, elapsed_ms, and ``failing`` with ``error``:
a refused connection, a timeout or a TLS error is an observation (``status``
None, ``error`` naming it), not an exception, because "the Worker does not
answer" is the most important thing a probe can see. A 5xx is failing too.
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal

import httpx
from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.documents.shape import ANY, BOOLEAN, INTEGER, NUMBER, STRING, mapping, nullable, record
from ops.http import SAFE_METHODS
from ops.redact import redact

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
    outputs = record(status=nullable(INTEGER), headers=mapping(STRING), json=ANY, text=STRING, elapsed_ms=NUMBER,
                     failing=BOOLEAN, error=nullable(STRING))

    def effect(self, args: HttpArgs) -> str:
        return "read" if args.method in SAFE_METHODS else "write"

    def safe_to_retry(self, args: HttpArgs) -> bool:
        return args.method in SAFE_METHODS or args.method in {"PUT", "DELETE"}

    def describe(self, args: HttpArgs) -> str:
        return f"{args.method} {args.url}"

    def run(self, args: HttpArgs, ctx: Context) -> Outputs:
        return observe(ctx.http(), args.method, args.url, headers=args.headers, json_body=args.json_body,
                       params={k: str(v) for k, v in args.params.items()} or None,
                       timeout=min(args.timeout, ctx.remaining()))


def observe(client: httpx.Client, method: str, url: str, *, timeout: float, headers: dict[str, str] | None = None,
            params: dict[str, str] | None = None, json_body: Any = None) -> Outputs:
    """One request as an observation: an answer, or the transport error that stood for one."""
    started = time.perf_counter()
    try:
        response = client.request(method, url, headers=headers, params=params, json=json_body, timeout=timeout)
    except UnicodeEncodeError:
        from ops.errors import InputError

        raise InputError(f"{method} {url}: a header value is not ASCII; HTTP headers carry ASCII only") from None
    except httpx.HTTPError as exc:
        return {"status": None, "headers": {}, "json": None, "text": "", "failing": True,
                "error": f"{type(exc).__name__}: {exc or 'no detail'}" + (f" after {timeout:g}s" if _timed_out(exc) else ""),
                "elapsed_ms": _since(started)}
    return {
        "status": response.status_code,
        "headers": {k.lower(): v for k, v in response.headers.items()},
        "json": _json(response),
        "text": redact(response.text)[:MAX_TEXT],  # masked before it is cut: half a secret would slip past
        "elapsed_ms": _since(started),
        "failing": response.status_code >= 500,
        "error": None,
    }


def _timed_out(exc: httpx.HTTPError) -> bool:
    return isinstance(exc, httpx.TimeoutException)


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None

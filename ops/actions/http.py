"""`http`: one request with httpx, observed whatever happens.

Outputs: status, headers, json, text, elapsed_ms, ``picked`` (with ``pick``), and ``failing`` with ``error``:
a refused connection, a timeout or a TLS error is an observation (``status``
None, ``error`` naming it), not an exception, because "the Worker does not
answer" is the most important thing a probe can see. A 5xx is failing too.

A POST that changes nothing (a login that issues a session token) is a read
only when the spec says why (``read_only_reason``); it is still never sent in a
plan or by ``inv diagnose``, whose transport refuses every POST: its outputs are
known after apply. ``mask_json`` names the response fields that are credentials
(that token): they are registered with the redactor as they arrive, so a later
check can send them while every output, the journal included, masks them.
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal, Mapping

import httpx
from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.documents.shape import ANY, BOOLEAN, INTEGER, NUMBER, STRING, Shape, mapping, nullable, optional, record
from ops.http import SAFE_METHODS
from ops.errors import InputError
from ops.judge.expect import MISSING, lookup
from ops.redact import redact

MAX_TEXT = 4096


class HttpArgs(Args):
    url: str = Field(description="Absolute URL; `{{ target.worker_url }}/health` and the like.")
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    params: dict[str, str | int | float | bool] = Field(default_factory=dict, description="Query parameters, encoded as data.")
    json_body: Any = Field(None, alias="json", description="A JSON body.")
    timeout: float = Field(10.0, gt=0, le=600)
    read_only_reason: str | None = Field(
        None, min_length=8, pattern=r"\S",
        description="Why a POST, PUT, PATCH or DELETE changes nothing (e.g. `a login issues a token and changes "
                    "nothing`). It may then be a check or a read step; it is never sent in a plan or a diagnosis.")
    mask_json: list[str] = Field(
        default_factory=list,
        description="Dotted paths of response JSON fields that are credentials (e.g. `token`): masked in every output.")
    pick: str | None = Field(
        None, min_length=1,
        description="A dotted path into the response JSON (`hit_rate`, `cache.hitRate`) whose value becomes the output "
                    "`picked`: for a Worker's contract whose field a param names. Absent from the answer, `picked` is "
                    "absent too, so an expectation on it cannot decide.")


_OBSERVED: dict[str, Shape] = dict(status=nullable(INTEGER), headers=mapping(STRING), json=ANY, text=STRING,
                                   elapsed_ms=NUMBER, failing=BOOLEAN, error=nullable(STRING))
_UNPICKED = record(**_OBSERVED)


class HttpAction(Action):
    name = "http"
    Args = HttpArgs
    summary = "One HTTP request; expectations on status, headers and JSON."
    outputs = record(**_OBSERVED, picked=optional(ANY))
    url_keys = frozenset({"url"})

    def outputs_for(self, with_: Mapping[str, Any]) -> Shape:
        return self.outputs if with_.get("pick") else _UNPICKED  # `picked` only where `pick` names a field

    def effect(self, args: HttpArgs) -> str:
        return "read" if args.method in SAFE_METHODS or args.read_only_reason else "write"

    def sends_in_plan(self, args: HttpArgs) -> bool:
        return args.method in SAFE_METHODS

    def safe_to_retry(self, args: HttpArgs) -> bool:
        return args.method in SAFE_METHODS or args.method in {"PUT", "DELETE"}

    def describe(self, args: HttpArgs) -> str:
        line = f"{args.method} {args.url}"
        return f"{line} (read-only: {args.read_only_reason})" if args.read_only_reason else line

    def run(self, args: HttpArgs, ctx: Context) -> Outputs:
        check_headers(args.headers, f"{args.method} {args.url}")
        seen = observe(ctx.http(), args.method, args.url, headers=args.headers, json_body=args.json_body,
                       params={k: str(v) for k, v in args.params.items()} or None,
                       timeout=min(args.timeout, ctx.remaining()))
        register_credentials(seen.get("json"), args.mask_json)
        if args.pick:
            picked = lookup(seen.get("json"), args.pick)
            if picked is not MISSING:
                seen["picked"] = picked
        return seen


def check_headers(headers: Mapping[str, str], where: str) -> None:
    """Refuse a header whose name or value would end the header early (CR, LF, NUL); the value is never shown."""
    for name, value in headers.items():
        if any(c in name for c in "\r\n\x00:") or not name.strip():
            raise InputError(f"{where}: header name {name!r} is not a token; fix the spec's headers")
        if any(c in value for c in "\r\n\x00"):
            raise InputError(f"{where}: the value of header {name!r} holds a line break or NUL, which would "
                             "start another header; a header value is one line")


def register_credentials(body: Any, paths: list[str]) -> None:
    """Register the credentials a response carries (``mask_json``) before anything can show them."""
    from ops.redact import MIN_SECRET_LEN, register

    for path in paths:
        value = body
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and len(value) >= MIN_SECRET_LEN:
            try:
                register(value)
            except ValueError as exc:  # longer than any secret may be: it could not be masked, so it is not kept
                from ops.errors import TransportError

                raise TransportError(f"the response's {path}: {exc}") from None


def observe(client: httpx.Client, method: str, url: str, *, timeout: float, headers: dict[str, str] | None = None,
            params: dict[str, str] | None = None, json_body: Any = None) -> Outputs:
    """One request as an observation: an answer, or the transport error that stood for one."""
    started = time.perf_counter()
    try:
        response = client.request(method, url, headers=headers, params=params, json=json_body, timeout=timeout)
    except UnicodeEncodeError:
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

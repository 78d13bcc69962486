"""Tail events as Cloudflare sends them to `wrangler tail`, built from what the sandbox saw, and their filters.

The event (``TailEventMessage``) is the shape wrangler parses and prints
(workers-sdk@f8308360 packages/wrangler/src/tail/createTail.ts: ``outcome``,
``scriptName``, ``exceptions[{name, message, timestamp, stack}]``,
``logs[{message: [...], level, timestamp}]``, ``eventTimestamp``,
``event.request{url, method, headers, cf}``), with the fields every trace item
carries beyond wrangler's type (@cloudflare/workers-types ``TraceItem``:
``scriptVersion{id}``, ``wallTime``, ``cpuTime`` (at the top level since Cloudflare's
changelog of 2025-04-09), ``truncated``, ``executionModel``,
``diagnosticsChannelEvents``; ``TraceItemFetchEventInfo``: ``response?{status}``).
The sandbox has no CPU time to report: ``cpuTime`` is 0.

Headers and URLs are redacted as Cloudflare redacts them (cloudflare-docs PR #8964,
workers/runtime-apis/tail-event: a header named ``cookie``/``set-cookie`` or
containing ``auth``, ``key``, ``secret``, ``token`` or ``jwt`` reads "REDACTED";
in the URL, a run of id characters with 32+ hex digits, or 21+ characters with
two upper-case letters, two lower-case letters and two digits, reads "REDACTED").

Outcomes come from the recording proxy's invocation status: ``success`` is
``ok``, ``scriptThrewException`` is ``exception`` (no ``response``: Cloudflare
answers error 1101 itself), ``clientDisconnected`` is ``canceled``,
``exceededResources`` is ``exceededCpu``; ``internalError`` (the sandbox
Worker could not be reached) is the emulator's ``unknown``.

Filters are the ``TailFilterMessage`` wrangler POSTs when it creates the
session (packages/wrangler/src/tail/filters.ts): every filter must pass; a
list filter passes when any of its values matches. ``query`` (``--search``)
matches "a text match in console.log messages" as wrangler's help says, so
logs only; ``header`` needs the header, and with a ``query`` that exact value.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any, Callable

from ops.sandbox.emulator.proxy import Exchange

OUTCOMES = {"success": "ok", "scriptThrewException": "exception", "clientDisconnected": "canceled",
            "exceededResources": "exceededCpu", "internalError": "unknown"}
SENSITIVE_HEADER = re.compile(r"auth|key|secret|token|jwt", re.IGNORECASE)
ID_RUN = re.compile(r"[A-Za-z0-9+_-]+")
# The cf object wrangler's types describe; the sandbox's values are fixed and say where they come from.
SANDBOX_CF = {"colo": "LOCAL", "asn": 0, "asOrganization": "sandbox", "country": "XX", "httpProtocol": "HTTP/1.1",
              "tlsCipher": "", "tlsVersion": "", "clientTcpRtt": 0}


def event_of(exchange: Exchange) -> dict[str, Any]:
    invocation = exchange.invocation
    started_ms = int(invocation.started * 1000)
    outcome = OUTCOMES.get(invocation.status, "unknown")
    event: dict[str, Any] = {"request": {"url": redact_url(exchange.url), "method": exchange.method,
                                         "headers": redact_headers(exchange.headers), "cf": dict(SANDBOX_CF)}}
    if invocation.http_status is not None and outcome != "exception":
        event["response"] = {"status": invocation.http_status}
    return {
        "wallTime": invocation.wall_us // 1000, "cpuTime": 0, "truncated": exchange.console.truncated, "executionModel": "stateless",
        "outcome": outcome, "scriptName": invocation.script,
        "scriptVersion": {"id": invocation.version} if invocation.version else {},
        "diagnosticsChannelEvents": [],
        "exceptions": [exception_of(exchange.exception, started_ms + invocation.wall_us // 1000)]
        if exchange.exception is not None else [],
        "logs": [{"message": list(line.message), "level": line.level, "timestamp": line.timestamp}
                 for line in exchange.console.lines],
        "eventTimestamp": started_ms,
        "event": event,
    }


def exception_of(stack: str, timestamp: int) -> dict[str, Any]:
    """``Name: message`` and the frames, from the stack the sandbox's shim answers a thrown error with."""
    head, _, frames = stack.strip().partition("\n")
    name, sep, message = head.partition(": ")
    if not sep or not re.fullmatch(r"[A-Za-z_$][\w$]*", name):
        name, message = "Error", head
    return {"name": name, "message": message, "timestamp": timestamp, **({"stack": frames} if frames else {})}


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: "REDACTED" if k in ("cookie", "set-cookie") or SENSITIVE_HEADER.search(k) else v for k, v in headers.items()}


def redact_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return scheme + sep + ID_RUN.sub(lambda m: "REDACTED" if _looks_like_id(m.group()) else m.group(), rest)


def _looks_like_id(run: str) -> bool:
    hex_id = sum(c in "0123456789abcdefABCDEF" for c in run) >= 32 and all(c in "0123456789abcdefABCDEF+-_" for c in run)
    b64_id = (len(run) >= 21 and sum(c.isupper() for c in run) >= 2 and sum(c.islower() for c in run) >= 2
              and sum(c.isdigit() for c in run) >= 2)
    return hex_id or b64_id


def passes(event: dict[str, Any], filters: list[dict[str, Any]], *, client_ip: str, tail_ip: str,
           draw: Callable[[], float] = random.random) -> bool:
    """Whether an event passes every filter of a session (``tail_ip``: the tail client's own, for "self")."""
    request = (event.get("event") or {}).get("request") or {}
    for f in filters:
        if "outcome" in f and event["outcome"] not in f["outcome"]:
            return False
        if "method" in f and str(request.get("method", "")).upper() not in {str(m).upper() for m in f["method"]}:
            return False
        if "client_ip" in f and client_ip not in {tail_ip if ip == "self" else ip for ip in f["client_ip"]}:
            return False
        if "header" in f and not _header_matches(request.get("headers") or {}, f["header"]):
            return False
        if "query" in f and not any(str(f["query"]) in _text(log["message"]) for log in event["logs"]):
            return False
        if "scriptVersion" in f and (event.get("scriptVersion") or {}).get("id") != f["scriptVersion"]:
            return False
        if "sampling_rate" in f and draw() >= float(f["sampling_rate"]):
            return False
    return True


def _header_matches(headers: dict[str, str], wanted: dict[str, Any]) -> bool:
    key = str(wanted.get("key", "")).lower()
    if key not in headers:
        return False
    query = wanted.get("query")
    return query is None or headers[key] == query


def _text(message: list[Any]) -> str:
    return " ".join(m if isinstance(m, str) else json.dumps(m) for m in message)


def valid_filters(body: Any) -> list[dict[str, Any]] | str:
    """The filters of a create request, or what is wrong with them."""
    filters = (body or {}).get("filters", []) if isinstance(body, dict) else None
    if not isinstance(filters, list) or not all(isinstance(f, dict) for f in filters):
        return "the body must be {\"filters\": [...]} as wrangler sends it"
    for f in filters:
        for key in ("outcome", "method", "client_ip"):
            if key in f and not isinstance(f[key], list):
                return f"filter {key!r} must be a list"
        rate = f.get("sampling_rate")
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < 1):
            return "sampling_rate must be between 0 and 1"
    return filters

"""How a Worker's versions are doing, from Cloudflare's GraphQL Analytics API (no code in the Worker).

``invocations`` asks the ``workersInvocationsAdaptive`` dataset (account scope,
``POST {base}/graphql``; the token needs Account Analytics Read) for one
script's invocations in a window, grouped by ``scriptVersion`` and ``status``,
optionally only of some versions (``scriptVersion_in``), and folds the answer
into a plain dict with each version's own numbers.

What the dataset can and cannot tell (sources in ``ops.sandbox.emulator.graphql``):

- ``status`` is the invocation status; ``errors`` counts scriptThrewException,
  exceededResources and internalError. A Worker that answers 500 without
  throwing is a ``success`` there: its 5xx rate is not in this dataset.
- There is no HTTP response status dimension, so ``status_4xx``,
  ``status_429`` and ``status_5xx`` are ``None``: this source cannot tell.
- Wall time quantiles come in microseconds; they are returned in milliseconds.
  Quantiles of several groups cannot be merged exactly: the overall figures
  are the worst group's (an upper bound), per version in ``by_version``.
- Which quantiles exist is read from the schema, not assumed: GraphQL refuses a
  whole query for one unknown field. One introspection query per account and
  process (``__type(name: "AccountWorkersInvocationsAdaptiveQuantiles")``) says
  whether ``wallTimeP95`` exists; the query asks for wallTimeP50, wallTimeP99 and
  wallTimeP95 only where it does. ``wall_ms["tail"]`` is P95 where the schema has
  it, else P99, and ``tail_quantile`` says which ("p95" or "p99").
- Data arrives minutes late in production: few requests means "cannot tell yet".

GraphQL answers a depleted quota either with HTTP 429 (retried by the client) or
with HTTP 200 and an error such as "rate limiter budget depleted, please try again
later" (cloudflare-docs issue 5189); such an answer is retried as a 429 is.

``queue_backlog`` asks the ``queueBacklogAdaptiveGroups`` dataset for one queue's
backlog (``avg { messages bytes }``, filter ``queueId`` and ``datetime_geq/leq``), the
query of the Queues docs ("Metrics", developers.cloudflare.com/queues/observability/metrics/,
"Get average Queue backlog over time period"; the dataset's dimensions there: queueId,
datetime, date, datetimeHour, datetimeMinute). It groups by ``datetime`` and keeps the
newest group: the backlog as last sampled in the window. No group in the window is
no data (``messages`` is ``None``), never a backlog of 0.
"""

from __future__ import annotations

import re
import threading
import weakref
from datetime import datetime, timezone
from typing import Any, Callable, Hashable, Sequence

import httpx

from ops.cloudflare._client import GRAPHQL_PATH, CloudflareClient
from ops.errors import ApiError, InputError, TransportError

__all__ = ["BACKLOG_QUERY", "QUANTILES_TYPE", "SCHEMA_QUERY", "fold", "invocations", "invocations_evidence",
           "parse_since", "query_for",
           "queue_backlog", "recent", "wall_quantiles"]

QUANTILES_TYPE = "AccountWorkersInvocationsAdaptiveQuantiles"
SCHEMA_QUERY = f'query QuantileFields {{ __type(name: "{QUANTILES_TYPE}") {{ fields {{ name }} }} }}'
_QUERY = """query WorkerInvocations($accountTag: string!, $filter: AccountWorkersInvocationsAdaptiveFilter_InputObject) {
  viewer {
    accounts(filter: {accountTag: $accountTag}) {
      workersInvocationsAdaptive(limit: 10000, filter: $filter) {
        sum { requests errors subrequests }
        quantiles { %s }
        dimensions { scriptVersion status }
      }
    }
  }
}"""
BACKLOG_QUERY = """query QueueBacklog($accountTag: string!, $queueId: string!, $datetimeStart: Time!, $datetimeEnd: Time!) {
  viewer {
    accounts(filter: {accountTag: $accountTag}) {
      queueBacklogAdaptiveGroups(limit: 1, filter: {queueId: $queueId, datetime_geq: $datetimeStart, datetime_leq: $datetimeEnd}, orderBy: [datetime_DESC]) {
        avg { messages bytes }
        dimensions { datetime }
      }
    }
  }
}"""
_WALL = {"p50": "wallTimeP50", "p95": "wallTimeP95", "p99": "wallTimeP99"}
_KEYS = (*_WALL, "tail")
_DOCUMENTED = frozenset({"wallTimeP50", "wallTimeP99"})  # the tutorial's fields, where introspection names none
RATE_LIMITED = re.compile(r"rate.?limit|too many requests", re.I)

_schemas: dict[tuple[str, str], frozenset[str]] = {}
_lock = threading.Lock()
_recent: weakref.WeakKeyDictionary[CloudflareClient, dict[Hashable, tuple[float, dict[str, Any]]]] = weakref.WeakKeyDictionary()


def recent(client: CloudflareClient, key: Hashable, read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``read()``, or the answer it gave for ``key`` to this client (one run) less than its target's
    ``analytics_interval`` ago: a verification polling every 2 s asks GraphQL at most every 15 s by default."""
    now = client.retry.clock()
    with _lock:
        kept = _recent.setdefault(client, {}).get(key)
    if kept is not None and now - kept[0] < client.analytics_interval:
        return kept[1]
    answer = read()
    with _lock:
        _recent.setdefault(client, {})[key] = (now, answer)
    return answer


def wall_quantiles(client: CloudflareClient) -> dict[str, str]:
    """The wall-time quantiles this account's schema has, as {"p50": "wallTimeP50", …}: asked once per account and process."""
    key = (client.base_url, client.account_id)
    with _lock:
        fields = _schemas.get(key)
    if fields is None:
        kind = _post(client, {"query": SCHEMA_QUERY}).get("__type") or {}
        fields = frozenset(str(f.get("name")) for f in kind.get("fields") or [] if isinstance(f, dict)) or _DOCUMENTED
        with _lock:
            _schemas[key] = fields
    return {short: name for short, name in _WALL.items() if name in fields}


def query_for(quantiles: dict[str, str]) -> str:
    """The invocations query asking only for the quantiles the schema has (``wall_quantiles``)."""
    return _QUERY % " ".join(quantiles.values() or sorted(_DOCUMENTED))


def invocations(client: CloudflareClient, script: str, *, versions: Sequence[str] | None = None, since: datetime,
                until: datetime) -> dict[str, Any]:
    """Requests, errors and wall time of ``script`` between ``since`` and ``until``: of ``versions`` (all when None),
    overall and per version."""
    folded: dict[str, Any] = invocations_evidence(client, script, versions=versions, since=since, until=until)["folded"]
    return folded


def invocations_evidence(client: CloudflareClient, script: str, *, versions: Sequence[str] | None = None,
                         since: datetime, until: datetime) -> dict[str, Any]:
    """``invocations``' answer (``folded``) with what it came from: the exact ``query`` and ``variables`` sent and
    GraphQL's ``answer`` (its ``data``), so that a verdict judged on it can be re-decided from the journal alone."""
    quantiles = wall_quantiles(client)
    where: dict[str, Any] = {"scriptName": script, "datetime_geq": _rfc3339(since), "datetime_leq": _rfc3339(until)}
    if versions:
        where["scriptVersion_in"] = list(versions)
    query, variables = query_for(quantiles), {"accountTag": client.account_id, "filter": where}
    data = _post(client, {"query": query, "variables": variables})
    return {"query": query, "variables": variables, "answer": data,
            "folded": fold(data, since=since, until=until, tail_quantile="p95" if "p95" in quantiles else "p99")}


def fold(data: dict[str, Any], *, since: datetime, until: datetime, tail_quantile: str) -> dict[str, Any]:
    """GraphQL's answer to the invocations query, folded per version (``summarize``)."""
    accounts = (data.get("viewer") or {}).get("accounts") or []
    groups: list[dict[str, Any]] = (accounts[0].get("workersInvocationsAdaptive") or []) if accounts else []
    folded = summarize(groups, since=since, until=until)
    folded["tail_quantile"] = tail_quantile
    return folded


def queue_backlog(client: CloudflareClient, queue_id: str, *, since: datetime, until: datetime) -> dict[str, Any]:
    """The newest backlog sample of queue ``queue_id`` between ``since`` and ``until``: messages, bytes, when.

    ``messages``, ``bytes`` and ``sampled_at`` are ``None`` when Cloudflare has no sample in the window.
    """
    variables = {"accountTag": client.account_id, "queueId": queue_id,
                 "datetimeStart": _rfc3339(since), "datetimeEnd": _rfc3339(until)}
    data = _post(client, {"query": BACKLOG_QUERY, "variables": variables})
    accounts = (data.get("viewer") or {}).get("accounts") or []
    groups: list[dict[str, Any]] = (accounts[0].get("queueBacklogAdaptiveGroups") or []) if accounts else []
    window = {"since": _rfc3339(since), "until": _rfc3339(until)}
    if not groups:
        return {"messages": None, "bytes": None, "sampled_at": None, "window": window}
    newest = max(groups, key=lambda g: str((g.get("dimensions") or {}).get("datetime") or ""))
    avg = newest.get("avg") or {}
    return {"messages": _number(avg.get("messages")), "bytes": _number(avg.get("bytes")),
            "sampled_at": (newest.get("dimensions") or {}).get("datetime"), "window": window}


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def summarize(groups: list[dict[str, Any]], *, since: datetime, until: datetime) -> dict[str, Any]:
    by_version: dict[str, dict[str, Any]] = {}
    by_status: dict[str, int] = {}
    for group in groups:
        dims, sums = group.get("dimensions") or {}, group.get("sum") or {}
        requests, errors = int(sums.get("requests") or 0), int(sums.get("errors") or 0)
        status = str(dims.get("status") or "unknown")
        by_status[status] = by_status.get(status, 0) + requests
        entry = by_version.setdefault(str(dims.get("scriptVersion") or ""), {"requests": 0, "errors": 0, "wall_ms": _no_wall()})
        entry["requests"] += requests
        entry["errors"] += errors
        entry["wall_ms"] = _worst(entry["wall_ms"], _wall_ms(group.get("quantiles") or {}))
    for entry in by_version.values():
        entry["error_rate"] = entry["errors"] / entry["requests"] if entry["requests"] else None
    requests = sum(v["requests"] for v in by_version.values())
    errors = sum(v["errors"] for v in by_version.values())
    wall = _no_wall()
    for entry in by_version.values():
        wall = _worst(wall, entry["wall_ms"])
    return {"requests": requests, "errors": errors, "error_rate": errors / requests if requests else None,
            "status_4xx": None, "status_429": None, "status_5xx": None, "wall_ms": wall,
            "by_version": by_version, "by_status": by_status,
            "window": {"since": _rfc3339(since), "until": _rfc3339(until)}}


def _post(client: CloudflareClient, payload: dict[str, Any]) -> dict[str, Any]:
    # The GraphQL endpoint answers GraphQL documents, not the REST envelope that
    # CloudflareClient.request unwraps: the same request path (budgets, deadline, retries), its own reading.
    # A query changes nothing, so it is retried like a GET; an answer that says the quota is spent, like a 429.
    policy = client.retry
    for attempt in range(policy.attempts):
        response, note = client.send("POST", GRAPHQL_PATH, retryable=True, json=payload)
        body = _body(response)
        message = _first_error(body)
        if message is None or not RATE_LIMITED.search(message) or attempt + 1 == policy.attempts:
            return _data(response, body, note)
        wait = policy.delay(attempt, response.headers.get("retry-after"))
        if wait > client.time_left():
            return _data(response, body, f" (not retried: the wait of {wait:g} s is longer than the "
                                         f"{client.time_left():.0f} s left to this step)")
        policy.sleep(wait)
    raise AssertionError("unreachable")


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise TransportError(f"/graphql: HTTP {response.status_code} with a body that is not JSON") from None
    if not isinstance(body, dict):
        raise TransportError(f"/graphql: HTTP {response.status_code} without a GraphQL answer")
    return body


def _first_error(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    if not errors:
        return None
    first = errors[0]
    return str(first.get("message", "error")) if isinstance(first, dict) else str(first)


def _data(response: httpx.Response, body: dict[str, Any], note: str = "") -> dict[str, Any]:
    errors = body.get("errors") or []
    if errors:
        first = errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
        where = ".".join(str(p) for p in first.get("path") or [])
        raise ApiError(0, f"GraphQL Analytics: {first.get('message', 'error')}" + (f" (at {where})" if where else "") + note,
                       status=response.status_code, path=GRAPHQL_PATH)
    if response.status_code != 200 or not isinstance(body.get("data"), dict):
        raise TransportError(f"/graphql: HTTP {response.status_code} without data{note}")
    data: dict[str, Any] = body["data"]
    return data


def _wall_ms(quantiles: dict[str, Any]) -> dict[str, float | None]:
    wall = {key: (float(quantiles[name]) / 1000 if quantiles.get(name) is not None else None) for key, name in _WALL.items()}
    return {**wall, "tail": wall["p95"] if wall["p95"] is not None else wall["p99"]}


def _no_wall() -> dict[str, float | None]:
    return {key: None for key in _KEYS}


def _worst(a: dict[str, float | None], b: dict[str, float | None]) -> dict[str, float | None]:
    return {k: max((x for x in (a[k], b[k]) if x is not None), default=None) for k in _KEYS}


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_since(text: str, who: str) -> datetime | None:
    """An ISO time a spec gives as the start of a window (UTC when it names no zone); empty: None."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{who}: since {text!r} is not an ISO time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

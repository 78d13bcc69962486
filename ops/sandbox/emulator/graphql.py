"""``POST /client/v4/graphql``: Cloudflare's GraphQL Analytics API, for Workers invocations and queue backlogs.

It answers the ``workersInvocationsAdaptive`` dataset under
``viewer.accounts(filter: {accountTag})`` from what the recording proxies saw
(``ops.sandbox.emulator.invocations``), ``queueBacklogAdaptiveGroups`` from the
emulator's queues (``ops.sandbox.emulator.graphql_queues``, where that data comes
from), and returns a GraphQL error for every
other field, dataset, filter or ordering, so that a query the real API might
read differently fails here instead of passing.

Where the shapes come from:

- Query and response: Cloudflare docs, "Querying Workers Metrics with GraphQL"
  (developers.cloudflare.com/analytics/graphql-api/tutorials/querying-workers-metrics/):
  ``workersInvocationsAdaptive(limit, filter: {scriptName, datetime_geq,
  datetime_leq})`` with ``sum { subrequests requests errors }``,
  ``quantiles { … }`` and ``dimensions { datetime scriptName status }``; the
  answer is ``{"data": {"viewer": {"accounts": [{"workersInvocationsAdaptive":
  [{"dimensions", "quantiles", "sum"}, …]}]}}, "errors": null}``, one group per
  distinct value of the selected dimensions, ``datetime`` to the second.
- Errors: docs, "GraphQL Analytics API / Error responses": HTTP 200 with
  ``{"data": null, "errors": [{"message", "path", "extensions": {"timestamp"}}]}``.
- ``status`` is the *invocation* status, not an HTTP status: ``success``,
  ``clientDisconnected``, ``scriptThrewException``, ``exceededResources``,
  ``internalError``; ``errors`` counts the last three (docs, Workers
  "Metrics and analytics", Invocation statuses). A Worker's deliberate 500 is a
  ``success``.
- The dataset has no HTTP response status dimension: introspection of
  ``AccountWorkersInvocationsAdaptiveDimensions`` lists cacheStatus, coloCode,
  date, datetime*, dispatchNamespaceName, environmentName, isDispatcher,
  isPreview, previewSlug, scriptName, scriptTag, scriptVersion, status and
  usageModel (as printed by public projects that query it). So 4xx/429/5xx
  rates cannot come from here.
- Units: wall and CPU time quantiles are microseconds (CLOUDFLARE.md; the docs'
  example shows cpuTimeP50 206). The sandbox does not measure CPU time, so
  asking for a cpuTime quantile is an error rather than an invented number.
- Quantiles: wallTimeP25…P999, with wallTimeP95 only when the emulator is set
  to that schema (``ops.sandbox.emulator.graphql_schema``, where the sources
  disagree); ``__type(name: …)`` introspection says which.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from ops.sandbox.emulator import graphql_queues, graphql_schema
from ops.sandbox.emulator.graphql_parse import (Field, GraphQLSyntaxError, QueryError, dataset_args, epoch, only, order, parse,
                                                resolve, stamp)
from ops.sandbox.emulator.invocations import Invocation, Invocations
from ops.sandbox.emulator.state import State

DATASET = "workersInvocationsAdaptive"
MAX_LIMIT = 10_000
QUANTILES = graphql_schema.quantiles(wall_time_p95=True)  # every one the emulator can compute
SUMS: dict[str, Callable[[list[Invocation]], int]] = {
    "requests": len,
    "errors": lambda group: sum(1 for i in group if i.is_error),
    "subrequests": lambda group: 0,  # the proxy cannot see a Worker's own fetches
}
_TRUNCATE = {"datetime": 19, "datetimeMinute": 16, "datetimeHour": 13}
DIMENSIONS: dict[str, Callable[[Invocation], Any]] = {
    "scriptName": lambda i: i.script,
    "scriptVersion": lambda i: i.version or "",
    "status": lambda i: i.status,
    "date": lambda i: stamp(i.started, 10),
    **{name: (lambda cut: lambda i: stamp(i.started, cut))(cut) for name, cut in _TRUNCATE.items()},
    "datetimeFiveMinutes": lambda i: stamp(i.started - i.started % 300, 16),
    "datetimeFifteenMinutes": lambda i: stamp(i.started - i.started % 900, 16),
}
FILTERS: dict[str, Callable[[Invocation, Any], bool]] = {
    "scriptName": lambda i, v: i.script == v,
    "scriptName_in": lambda i, v: i.script in (v or []),
    "scriptVersion": lambda i, v: i.version == v,
    "scriptVersion_in": lambda i, v: i.version in (v or []),
    "status": lambda i, v: i.status == v,
    "status_in": lambda i, v: i.status in (v or []),
    "datetime_geq": lambda i, v: i.started >= epoch(v),
    "datetime_gt": lambda i, v: i.started > epoch(v),
    "datetime_leq": lambda i, v: i.started <= epoch(v),
    "datetime_lt": lambda i, v: i.started < epoch(v),
}


def handle(body: bytes, *, account_id: str, authorized: bool, invocations: Invocations,
           queues: State | None = None) -> dict[str, Any]:
    """The JSON answer to one GraphQL request (always sent with HTTP 200, as Cloudflare does).

    ``queues``: the state whose queues answer ``queueBacklogAdaptiveGroups`` (None: no queue has data).
    """
    try:
        if not authorized:
            raise QueryError("not authorized: the API token is missing or invalid")
        if (failure := invocations.next_failure()) is not None:
            raise QueryError(failure)
        request = _request(body)
        fields, defaults = parse(request["query"])
        variables = {**defaults, **(request.get("variables") or {})}
        seen = Seen(invocations.visible(), (lambda: graphql_queues.samples(queues)) if queues is not None else list,
                    graphql_schema.quantiles(invocations.wall_time_p95))
        return {"data": _root(fields, variables, account_id, seen), "errors": None}
    except GraphQLSyntaxError as exc:
        return _error(f"error parsing the query: {exc}", None)
    except QueryError as exc:
        return _error(str(exc), exc.path)


def _request(body: bytes) -> dict[str, Any]:
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        raise QueryError("the request body is not JSON") from None
    if not isinstance(request, dict) or not isinstance(request.get("query"), str):
        raise QueryError('send {"query": "…", "variables": {…}}')
    if not isinstance(request.get("variables") or {}, dict):
        raise QueryError("variables must be an object")
    return request


def _error(message: str, path: list[str | int] | None) -> dict[str, Any]:
    stamp = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    return {"data": None, "errors": [{"message": message, "path": path, "extensions": {"timestamp": stamp}}]}


@dataclass(frozen=True)
class Seen:
    """What the datasets answer from: the recorded invocations, and each queue's backlog sampled when asked."""

    invocations: list[Invocation]
    backlog: Callable[[], list[graphql_queues.Sample]]
    quantiles: dict[str, float]  # the wall-time quantile fields of the schema served


def _root(fields: list[Field], variables: dict[str, Any], account_id: str, seen: Seen) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        if f.name == "__type":
            known = graphql_schema.types("wallTimeP95" in seen.quantiles, list(SUMS), list(DIMENSIONS))
            out[f.key] = graphql_schema.type_answer(f, variables, known)
            continue
        if f.name != "viewer":
            raise QueryError(f'unknown field "{f.name}" on type "Query"', [f.key])
        out[f.key] = {a.key: _accounts(a, variables, account_id, seen) for a in only(f, "viewer", {"accounts"}, [f.key])}
    return out


def _accounts(f: Field, variables: dict[str, Any], account_id: str, seen: Seen) -> list[dict[str, Any]]:
    path: list[str | int] = ["viewer", f.key]
    account_filter = resolve(f.args.get("filter"), variables) or {}
    if set(f.args) - {"filter"} or not isinstance(account_filter, dict) or set(account_filter) != {"accountTag"}:
        raise QueryError("accounts takes filter: {accountTag: …}", path)
    if account_filter["accountTag"] != account_id:
        raise QueryError("does not have access to the path", path)
    account: dict[str, Any] = {}
    for dataset in only(f, "accounts", {DATASET, graphql_queues.DATASET}, [*path, 0]):
        where: list[str | int] = [*path, 0, dataset.key]
        if dataset.name == DATASET:
            account[dataset.key] = _dataset(dataset, variables, seen.invocations, seen.quantiles, where)
        else:
            account[dataset.key] = graphql_queues.dataset(dataset, variables, seen.backlog(), where)
    return [account]


def _dataset(f: Field, variables: dict[str, Any], seen: list[Invocation], quantiles: dict[str, float],
             path: list[str | int]) -> list[dict[str, Any]]:
    args = dataset_args(f, variables, DATASET, MAX_LIMIT, path)
    where = args.get("filter") or {}
    _check_filter(where, path)
    rows = [i for i in seen if _matches(i, where)]
    blocks = {s.name: s for s in only(f, DATASET, {"sum", "quantiles", "dimensions"}, path)}
    dims = [d.name for d in blocks["dimensions"].selections] if "dimensions" in blocks else []
    for block, known in (("sum", SUMS), ("quantiles", quantiles), ("dimensions", DIMENSIONS)):
        for child in blocks[block].selections if block in blocks else []:
            if child.name not in known:
                hint = (" (the sandbox measures no CPU time)" if child.name.startswith("cpuTime") else
                        f" (not in this schema: ask __type(name: \"{graphql_schema.QUANTILES_TYPE}\"))"
                        if child.name in QUANTILES else "")
                raise QueryError(f'unknown field "{child.name}" on "{block}"{hint}', [*path, block, child.key])
    groups: dict[tuple[Any, ...], list[Invocation]] = {}
    for i in rows:
        groups.setdefault(tuple(DIMENSIONS[d](i) for d in dims), []).append(i)
    answer = [_group(f, group) for group in groups.values()]
    return order(answer, args.get("orderBy") or [], blocks, ("sum", "quantiles"), path)[:args["limit"]]


def _check_filter(where: Any, path: list[str | int]) -> None:
    if not isinstance(where, dict):
        raise QueryError("filter must be an object", path)
    for key, value in where.items():
        if key == "AND":
            for sub in value or []:
                _check_filter(sub, path)
        elif key not in FILTERS:
            raise QueryError(f'unknown filter field "{key}" (the sandbox filters on {", ".join(FILTERS)}, AND)', path)
        elif key.startswith("datetime") and value is not None:
            epoch(value)


def _matches(i: Invocation, where: dict[str, Any]) -> bool:
    for key, value in where.items():
        if value is None:
            continue
        if key == "AND":
            if not all(_matches(i, sub) for sub in value or []):
                return False
        elif not FILTERS[key](i, value):
            return False
    return True


def _group(f: Field, group: list[Invocation]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    walls = sorted(i.wall_us for i in group)
    for block in f.selections:
        if block.name == "sum":
            out[block.key] = {c.key: SUMS[c.name](group) for c in block.selections}
        elif block.name == "quantiles":
            out[block.key] = {c.key: _quantile(walls, QUANTILES[c.name]) for c in block.selections}
        else:
            out[block.key] = {c.key: DIMENSIONS[c.name](group[0]) for c in block.selections}
    return out


def _quantile(sorted_values: list[int], q: float) -> float:
    """Linear interpolation between closest ranks (Cloudflare estimates from samples; this is exact)."""
    position = (len(sorted_values) - 1) * q
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return round(sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low), 2)

"""The ``queueBacklogAdaptiveGroups`` dataset of the GraphQL Analytics API, from the emulator's queues.

``backlog_of`` is also what the Queues API's ``GET /queues/{id}/metrics`` reports
(``queue_messages.metrics``): one backlog, two of Cloudflare's ways to read it.

Where the shapes come from: Cloudflare docs, Queues "Metrics"
(developers.cloudflare.com/queues/observability/metrics/): the dataset gives
``avg { messages bytes }`` (the average backlog in messages and bytes), is filtered
by ``queueId`` and ``datetime_geq``/``datetime_leq`` (the docs' "Get average Queue
backlog over time period" query, ``limit: 10000``), and groups by the dimensions
queueId, datetime, date, datetimeHour and datetimeMinute. ``orderBy`` takes
``<field>_ASC``/``_DESC`` as for every dataset (docs, GraphQL Analytics API,
"Pagination", developers.cloudflare.com/analytics/graphql-api/features/pagination/).

Where the backlog comes from (the sandbox keeps no history: it samples each queue
once, when asked, stamped with the time of the query; a window that does not
hold that moment has no data, never a made-up 0; the sample is stamped a second
before the query, as Cloudflare's analytics also trail the present):

- the messages the emulator itself holds for the queue (pushed through the Queues
  API and not yet acked or handed to a Worker): what Cloudflare counts;
- **sandbox only**: the messages waiting in the local queue of a Worker on
  ``wrangler dev``, which the emulator cannot see. The sandbox's entry shim
  (``ops/sandbox/shim.mjs``) counts what the Worker sends through its producer
  binding and what its consumer settles, and reports both to the emulator's
  bridge (``queue_messages.bridge``, ``queues/<name>/local``). The local runtime
  drops its queued messages when it reloads (a deploy, a rollback, a new secret,
  a consumer attached or detached), so a count reported before the script's live
  version or the queue's consumers last changed counts as 0. A job that exhausts
  its retries without a dead-letter queue is dropped where the shim cannot see
  it, and stays counted.

The sandbox's own Worker bridge is not Cloudflare's data plane; nothing about it is
in a real account. A team's Worker in the sandbox (ops.sandbox.own) gets the same
shim, so its queue's backlog comes from the same two sources.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from ops.sandbox.emulator.scripts import live_version_id
from ops.sandbox.emulator.graphql_parse import Field, QueryError, dataset_args, epoch, only, order, stamp
from ops.sandbox.emulator.state import State

DATASET = "queueBacklogAdaptiveGroups"
MAX_LIMIT = 10_000
LOCAL = "sandbox_local"  # a queue's bridged wrangler-dev count, in the emulator's state

Sample = dict[str, Any]  # queue_id, at (epoch seconds), messages, bytes
_TRUNCATE = {"datetime": 19, "datetimeMinute": 16, "datetimeHour": 13, "date": 10}
DIMENSIONS: dict[str, Callable[[Sample], Any]] = {
    "queueId": lambda s: s["queue_id"],
    **{name: (lambda cut: lambda s: stamp(s["at"], cut))(cut) for name, cut in _TRUNCATE.items()},
}
FILTERS: dict[str, Callable[[Sample, Any], bool]] = {
    "queueId": lambda s, v: s["queue_id"] == v,
    "queueId_in": lambda s, v: s["queue_id"] in (v or []),
    "datetime_geq": lambda s, v: s["at"] >= epoch(v),
    "datetime_gt": lambda s, v: s["at"] > epoch(v),
    "datetime_leq": lambda s, v: s["at"] <= epoch(v),
    "datetime_lt": lambda s, v: s["at"] < epoch(v),
}
AVERAGES = ("messages", "bytes")


def samples(state: State, at: float | None = None) -> list[Sample]:
    """Each queue's backlog now: the messages the emulator holds plus its Worker's bridged local count."""
    moment = time.time() if at is None else at
    with state.lock:
        return [{"queue_id": queue_id, "at": int(moment) - 1, **backlog_of(state, queue)}
                for queue_id, queue in state.data["queues"].items()]


def backlog_of(state: State, queue: dict[str, Any]) -> dict[str, int]:
    """One queue's unacked messages and their bytes: what the emulator holds plus the bridged local count.

    ``oldest_ms`` is the oldest held message's timestamp, 0 when unknown (the local count has none).
    """
    held = queue.get("messages") or []
    local = current_local(state, queue)
    return {"messages": len(held) + local["messages"],
            "bytes": sum(len(str(m.get("body", "")).encode()) for m in held) + local["bytes"],
            "oldest_ms": min((int(m.get("timestamp_ms", 0)) for m in held), default=0)}


def current_local(state: State, queue: dict[str, Any]) -> dict[str, Any]:
    """The bridged local count, or zeros when the Worker reloaded since it was reported (the runtime dropped it)."""
    local = queue.get(LOCAL)
    if not isinstance(local, dict) or local.get("fingerprint") != fingerprint(state, queue, str(local.get("script", ""))):
        return {"messages": 0, "bytes": 0}
    return {"messages": max(0, int(local.get("messages", 0))), "bytes": max(0, int(local.get("bytes", 0)))}


def fingerprint(state: State, queue: dict[str, Any], script: str) -> list[str]:
    """What reloads the Worker's `wrangler dev` when it changes: its live version and the queue's consumers."""
    live = live_version_id(state.data["scripts"].get(script)) or ""
    return [live, *sorted(str(c.get("consumer_id")) for c in queue.get("consumers") or [])]


def dataset(f: Field, variables: dict[str, Any], rows: list[Sample], path: list[str | int]) -> list[dict[str, Any]]:
    args = dataset_args(f, variables, DATASET, MAX_LIMIT, path)
    where = args.get("filter") or {}
    if not isinstance(where, dict):
        raise QueryError("filter must be an object", path)
    for key, value in where.items():
        if key not in FILTERS:
            raise QueryError(f'unknown filter field "{key}" (the sandbox filters on {", ".join(FILTERS)})', path)
        if key.startswith("datetime") and value is not None:
            epoch(value)
    blocks = {b.name: b for b in only(f, DATASET, {"avg", "dimensions"}, path)}
    for block, known in (("avg", AVERAGES), ("dimensions", tuple(DIMENSIONS))):
        for child in blocks[block].selections if block in blocks else []:
            if child.name not in known:
                raise QueryError(f'unknown field "{child.name}" on "{block}"', [*path, block, child.key])
    dims = [d.name for d in blocks["dimensions"].selections] if "dimensions" in blocks else []
    groups: dict[tuple[Any, ...], list[Sample]] = {}
    for s in rows:
        if all(value is None or FILTERS[key](s, value) for key, value in where.items()):
            groups.setdefault(tuple(DIMENSIONS[d](s) for d in dims), []).append(s)
    answer = [_group(f, group) for group in groups.values()]
    return order(answer, args.get("orderBy") or [], blocks, ("avg",), path)[:args["limit"]]


def _group(f: Field, group: list[Sample]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for block in f.selections:
        if block.name == "avg":
            out[block.key] = {c.key: sum(s[c.name] for s in group) / len(group) for c in block.selections}
        else:
            out[block.key] = {c.key: DIMENSIONS[c.name](group[0]) for c in block.selections}
    return out

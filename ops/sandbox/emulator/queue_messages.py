"""Queue messages: push, batch push, pull with leases, ack and peek, as the Queues REST API has them.

Shapes follow Cloudflare's OpenAPI schema (as generated into cloudflare-typescript's
``queues/messages``): pull answers ``{message_backlog_count, messages: [{id,
attempts, body, lease_id, metadata, timestamp_ms}]}``; ack takes ``{acks:
[{lease_id}], retries: [...]}`` and answers ``{ackCount, retryCount, warnings}``;
peek leases nothing. A message body comes back as a string: ``text`` as it was
pushed, ``json`` base64-encoded (the docs' "Content types" of pull consumers), and
``metadata["CF-Content-Type"]`` says which.

Pull needs an HTTP pull consumer on the queue, as on Cloudflare (error codes
11010 and 11011 here are the emulator's own choice: ``codes.INVENTIONS``). A message pushed to a queue whose
consumer is a Worker is handed to ``routing.deliver_hook``, which the sandbox points at
the Worker on workerd; otherwise it waits in the queue until one is attached.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from ops.sandbox.emulator.queues import _queue, deliver_waiting
from ops.sandbox.emulator.routing import TS, ApiFailure, Reply, Request, route
from ops.sandbox.emulator.scripts import live_version_id
from ops.sandbox.emulator.graphql_queues import LOCAL, backlog_of, current_local, fingerprint
from ops.sandbox.emulator.state import State, hex_id

MAX_BATCH = 100
MAX_BATCH_BYTES = 256_000  # developers.cloudflare.com/queues/platform/limits/: 256 KB a batch, 128 KB a message
MAX_MESSAGE_BYTES = 128_000
# workerd src/workerd/io/compatibility-date.capnp ``queuesJsonMessages``: from this compatibility date (or with the
# queues_json_messages flag) a producer binding sends JSON by default; before it, v8-serialised messages.
JSON_MESSAGES_FROM = "2024-03-18"


@route("POST", "/queues/{queue}/messages",
       f"{TS}queues/messages.ts MessagePushParams/MessagePushResponse")
def push(state: State, req: Request) -> Reply:
    return _push(state, req.params["queue"], [_message(req.json() or {})])


@route("POST", "/queues/{queue}/messages/batch",
       f"{TS}queues/messages.ts MessageBulkPushParams/MessageBulkPushResponse; limits developers.cloudflare.com/queues/platform/limits/")
def push_batch(state: State, req: Request) -> Reply:
    messages = (req.json() or {}).get("messages")
    if not isinstance(messages, list) or not messages or len(messages) > MAX_BATCH:
        raise ApiFailure(400, 11003, f"messages must be a list of 1 to {MAX_BATCH} messages")
    stored = [_message(m) for m in messages]
    total = sum(len(m["body"].encode()) for m in stored)
    if total > MAX_BATCH_BYTES:
        raise ApiFailure(413, 11011, f"the batch is {total:,} bytes; a batch may be at most 256 KB")
    return _push(state, req.params["queue"], stored)


@route("POST", "/queues/{queue}/messages/pull",
       f"{TS}queues/messages.ts MessagePullParams/MessagePullResponse; bodies as developers.cloudflare.com/queues/configuration/pull-consumers/ (Content types)")
def pull(state: State, req: Request) -> Reply:
    queue = _queue(state, req.params["queue"])
    if not any(c.get("type") == "http_pull" for c in queue["consumers"]):
        raise ApiFailure(400, 11010, "This queue does not have an HTTP pull consumer; add one to pull messages")
    body = req.json() or {}
    size = _bounded(body.get("batch_size", 5), "batch_size")
    lease_ms = _bounded(body.get("visibility_timeout_ms", 30_000), "visibility_timeout_ms", high=12 * 3600 * 1000)
    clock = time.time() * 1000
    taken: list[dict[str, Any]] = []
    for message in _stored(queue):
        if len(taken) == size:
            break
        if message.get("leased_until", 0) <= clock:
            message.update(lease_id=hex_id(), leased_until=clock + lease_ms, attempts=message["attempts"] + 1)
            taken.append(message)
    state.save()
    return 200, {"message_backlog_count": len(_stored(queue)), "messages": [_shown(m, lease=True) for m in taken]}, None


@route("POST", "/queues/{queue}/messages/ack",
       f"{TS}queues/messages.ts MessageAckParams/MessageAckResponse")
def ack(state: State, req: Request) -> Reply:
    queue = _queue(state, req.params["queue"])
    body = req.json() or {}
    leases = {a.get("lease_id") for a in body.get("acks") or []}
    retries = {r.get("lease_id") for r in body.get("retries") or []}
    stored = _stored(queue)
    warnings = {lease: "lease not found or expired" for lease in leases | retries
                if not any(m.get("lease_id") == lease for m in stored)}
    queue["messages"] = [m for m in stored if m.get("lease_id") not in leases]
    for message in queue["messages"]:
        if message.get("lease_id") in retries:
            message.update(lease_id=None, leased_until=0)
    state.save()
    return 200, {"ackCount": len(stored) - len(queue["messages"]), "retryCount": len(retries - set(warnings)),
                 "warnings": warnings}, None


@route("POST", "/queues/{queue}/messages/peek",
       f"{TS}queues/messages.ts MessagePeekParams/MessagePeekResponse")
def peek(state: State, req: Request) -> Reply:
    queue = _queue(state, req.params["queue"])
    size = _bounded((req.json() or {}).get("batch_size", 5), "batch_size")
    return 200, {"messages": [_shown(m, lease=False) for m in _stored(queue)[:size]]}, None


def _push(state: State, queue_id: str, messages: list[dict[str, Any]]) -> Reply:
    queue = _queue(state, queue_id)
    _stored(queue).extend(messages)
    state.save()
    if any(c.get("type", "worker") == "worker" for c in queue["consumers"]):
        deliver_waiting(state, queue)
    return 200, {"metadata": {"metrics": _metrics(state, queue)}}, None


@route("GET", "/queues/{queue}/metrics",
       f"{TS}queues/queues.ts getMetrics/QueueGetMetricsResponse")
def metrics(state: State, req: Request) -> Reply:
    """Best-effort backlog metrics; the backlog counts as ``graphql_queues.backlog_of`` says (sandbox-only local part included)."""
    return 200, _metrics(state, _queue(state, req.params["queue"])), None


def _metrics(state: State, queue: dict[str, Any]) -> dict[str, int]:
    backlog = backlog_of(state, queue)
    return {"backlog_count": backlog["messages"], "backlog_bytes": backlog["bytes"],
            "oldest_message_timestamp_ms": backlog["oldest_ms"]}


def _message(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or "body" not in raw:
        raise ApiFailure(400, 11003, "each message needs a body")
    kind = raw.get("content_type", "json")
    if kind not in ("json", "text"):
        raise ApiFailure(400, 11003, f"content_type must be json or text, not {kind!r}")
    if kind == "text" and not isinstance(raw["body"], str):
        raise ApiFailure(400, 11003, "a text message's body must be a string")
    body = raw["body"] if kind == "text" else json.dumps(raw["body"])
    if len(body.encode()) > MAX_MESSAGE_BYTES:
        raise ApiFailure(413, 11011, f"a message is {len(body.encode()):,} bytes; a message may be at most 128 KB")
    return {"id": hex_id(), "body": body, "content_type": kind, "attempts": 0,
            "timestamp_ms": int(time.time() * 1000), "lease_id": None, "leased_until": 0}


def _stored(queue: dict[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = queue.setdefault("messages", [])
    return messages


def _shown(message: dict[str, Any], *, lease: bool) -> dict[str, Any]:
    body = message["body"]
    if message["content_type"] != "text":  # json (and bytes) bodies are base64-encoded over HTTP
        body = base64.b64encode(body.encode()).decode()
    shown = {"id": message["id"], "attempts": message["attempts"], "body": body,
             "metadata": {"CF-Content-Type": message["content_type"]}, "timestamp_ms": message["timestamp_ms"]}
    if lease:
        shown["lease_id"] = message["lease_id"]
    else:
        shown["ref"] = message["id"]
    return shown


def _bounded(value: Any, name: str, *, high: int = MAX_BATCH) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
        raise ApiFailure(400, 11003, f"{name} must be an integer from 1 to {high}")
    return value


def bridge(state: State, what: str, body: bytes) -> tuple[int, Any]:
    """A sandbox Worker's `wrangler dev` (the shim) hands over: ``queues/<name>/messages`` and ``queues/<name>/local``.

    Not Cloudflare routes: the data plane's own hand-over, so neither authenticated, nor
    faulted, nor recorded as API requests.

    - ``messages``: dead letters, ``{"messages": [{body, content_type}]}``, join the named
      queue, where pull, peek and a DLQ replay find them; they leave the local backlog of
      the queues whose consumer names this one as its dead-letter queue.
    - ``local`` (sandbox only): ``{"script", "sent", "sent_bytes", "settled", "settled_bytes"}``,
      what the Worker sent to the named queue through its producer binding and what its
      consumer settled, since the last report. The emulator cannot see the local queue of
      `wrangler dev`; this count is its backlog in ``queueBacklogAdaptiveGroups``
      (``graphql_queues``, which says how a reload resets it).
    """
    parts = what.split("/")
    with state.lock:
        queue = next((q for q in state.data["queues"].values() if len(parts) == 3 and q["queue_name"] == parts[1]), None)
        if queue is None or parts[2] not in ("messages", "local"):
            return 404, {"error": f"no queue bridge route {what!r}"}
        try:
            payload = json.loads(body or b"{}")
            if parts[2] == "local":
                counted = _local(state, queue, payload)
                state.save()
                return 200, counted
            messages = [_message(m) for m in (payload.get("messages") or [])]
        except (ApiFailure, ValueError, AttributeError, TypeError) as exc:
            return 400, {"error": str(exc)}
        if _sends_v8(state, queue["queue_name"]):
            for message in messages:
                message["content_type"] = "v8"
        _stored(queue).extend(messages)
        for source in state.data["queues"].values():
            if any(c.get("dead_letter_queue") == queue["queue_name"] for c in source.get("consumers") or []):
                _settle(state, source, len(messages), sum(len(m["body"].encode()) for m in messages))
        state.save()
    return 200, {"queued": len(messages)}


def _sends_v8(state: State, dead_letter_queue: str) -> bool:
    """Whether the Worker whose dead letters go to ``dead_letter_queue`` sent them v8-serialised: its live
    version's compatibility date is before 2024-03-18 without the queues_json_messages flag, or it has
    no_queues_json_messages. The sandbox's Worker is both the producer and the consumer of its queue."""
    for source in state.data["queues"].values():
        for consumer in source.get("consumers") or []:
            if consumer.get("dead_letter_queue") != dead_letter_queue or consumer.get("type", "worker") != "worker":
                continue
            script = state.data["scripts"].get(str(consumer.get("script_name") or consumer.get("script")))
            live = live_version_id(script)
            version = next((v for v in (script or {}).get("versions") or [] if v["id"] == live), None)
            runtime = (version or {}).get("resources", {}).get("script_runtime") or {}
            flags = runtime.get("compatibility_flags") or []
            if "no_queues_json_messages" in flags:
                return True
            if "queues_json_messages" not in flags and str(runtime.get("compatibility_date") or "9999") < JSON_MESSAGES_FROM:
                return True
    return False


def _local(state: State, queue: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    script = str(report.get("script") or "")
    if not script:
        raise ValueError("a local count names its script")
    counted = current_local(state, queue)  # zeros once the Worker has reloaded: the runtime dropped them
    counted["messages"] += int(report.get("sent", 0)) - int(report.get("settled", 0))
    counted["bytes"] += int(report.get("sent_bytes", 0)) - int(report.get("settled_bytes", 0))
    queue[LOCAL] = {"script": script, "fingerprint": fingerprint(state, queue, script),
                    "messages": max(0, counted["messages"]), "bytes": max(0, counted["bytes"])}
    return {"backlog": queue[LOCAL]["messages"]}


def _settle(state: State, queue: dict[str, Any], messages: int, size: int) -> None:
    local = queue.get(LOCAL)
    if isinstance(local, dict):
        _local(state, queue, {"script": local["script"], "settled": messages, "settled_bytes": size})

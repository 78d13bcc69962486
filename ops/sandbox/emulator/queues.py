"""Queues and their consumers (Worker and pull consumers)."""

from __future__ import annotations

import json
from typing import Any

from ops.sandbox.emulator.routing import (DEPLOY_HELPERS, TS, WRANGLER, ApiFailure, Reply, Request, deliver_hook,
                                          live_hook, paged, route)
from ops.sandbox.emulator.state import State, hex_id, now


def _queue(state: State, queue_id: str) -> dict[str, Any]:
    queue: dict[str, Any] | None = state.data["queues"].get(queue_id)
    if queue is None:
        raise ApiFailure(404, 11000, "Queue does not exist")
    return queue


def _public_queue(queue_id: str, queue: dict[str, Any]) -> dict[str, Any]:
    return {"queue_id": queue_id, "queue_name": queue["queue_name"], "created_on": queue["created_on"],
            "modified_on": queue["created_on"], "producers": queue.get("producers", []),
            "producers_total_count": len(queue.get("producers", [])), "consumers": queue["consumers"],
            "consumers_total_count": len(queue["consumers"]), "settings": {"delivery_delay": 0}}


@route("GET", "/queues",
       f"{TS}queues/queues.ts Queue; paging and ?name= as {DEPLOY_HELPERS}triggers/queue-consumers.ts listQueues; "
       f"a repeated ?name= (one per queue) as {WRANGLER}queues/client.ts listAllQueues")
def list_queues(state: State, req: Request) -> Reply:
    items = [_public_queue(k, v) for k, v in state.data["queues"].items()]
    names = req.repeated.get("name") or ([req.query["name"]] if req.query.get("name") else [])
    if names:
        items = [q for q in items if q["queue_name"] in names]
    return paged(items, req)


@route("POST", "/queues",
       f"{TS}queues/queues.ts QueueCreateParams/Queue")
def create_queue(state: State, req: Request) -> Reply:
    name = (req.json() or {}).get("queue_name")
    if not name:
        raise ApiFailure(400, 11003, "a queue needs a queue_name")
    if any(q["queue_name"] == name for q in state.data["queues"].values()):
        raise ApiFailure(400, 11009, "A queue with this name already exists")
    queue_id = hex_id()
    state.data["queues"][queue_id] = {"queue_name": name, "created_on": now(), "consumers": [], "producers": []}
    state.save()
    return 200, _public_queue(queue_id, state.data["queues"][queue_id]), None


@route("GET", "/queues/{queue}",
       f"{TS}queues/queues.ts get/Queue")
def get_queue(state: State, req: Request) -> Reply:
    return 200, _public_queue(req.params["queue"], _queue(state, req.params["queue"])), None


def _consumer_script(consumer: dict[str, Any]) -> Any:
    return consumer.get("script_name") or consumer.get("script")


@route("DELETE", "/queues/{queue}",
       f"{TS}queues/queues.ts delete")
def delete_queue(state: State, req: Request) -> Reply:
    _queue(state, req.params["queue"])
    del state.data["queues"][req.params["queue"]]
    state.save()
    return 200, None, None


@route("GET", "/queues/{queue}/consumers",
       f"{TS}queues/consumers.ts Consumer (MqWorkerConsumerResponse | MqHTTPConsumerResponse)")
def list_consumers(state: State, req: Request) -> Reply:
    return 200, _queue(state, req.params["queue"])["consumers"], None


@route("POST", "/queues/{queue}/consumers",
       f"{TS}queues/consumers.ts ConsumerCreateParams/Consumer; `script` as {DEPLOY_HELPERS}triggers/queue-consumers.ts ScriptReference")
def create_consumer(state: State, req: Request) -> Reply:
    queue = _queue(state, req.params["queue"])
    body = req.json() or {}
    kind = body.get("type", "worker")
    if kind == "http_pull":
        return _create_pull_consumer(state, queue, body)
    if kind != "worker" or not (body.get("script_name") or body.get("script")):
        raise ApiFailure(400, 11004, "a worker consumer needs type \"worker\" and a script_name")
    script = str(body.get("script_name") or body.get("script"))
    if any(_consumer_script(c) == script for c in queue["consumers"]):
        raise ApiFailure(400, 11008, f"Worker {script} is already a consumer of this queue")
    if any(c.get("type") == "http_pull" for c in queue["consumers"]):
        raise ApiFailure(400, 11004, "a queue cannot have both a Worker consumer and an HTTP pull consumer")
    consumer = {"consumer_id": hex_id(), "type": "worker", "script_name": script, "script": script, "created_on": now(),
                "queue_name": queue["queue_name"], "settings": body.get("settings") or {},
                **({"dead_letter_queue": body["dead_letter_queue"]} if body.get("dead_letter_queue") else {})}
    queue["consumers"].append(consumer)
    state.save()
    for hook in live_hook:
        hook(script)
    deliver_waiting(state, queue)
    return 200, consumer, None


def deliver_waiting(state: State, queue: dict[str, Any]) -> None:
    """Hand a Worker consumer the messages that waited in its queue, as Cloudflare does once one is attached."""
    waiting = [m for m in queue.get("messages") or [] if not m.get("lease_id")]
    if not waiting or not deliver_hook:
        return
    for hook in deliver_hook:  # the hook takes the messages over (the sandbox's bridge retries them)
        hook(queue["queue_name"], [{"body": m["body"], "content_type": "json" if m["content_type"] == "v8" else m["content_type"]}
                                   for m in waiting])  # a v8 message is kept as its JSON text
    queue["messages"] = [m for m in queue["messages"] if m.get("lease_id")]
    state.save()


def _create_pull_consumer(state: State, queue: dict[str, Any], body: dict[str, Any]) -> Reply:
    if queue["consumers"]:
        raise ApiFailure(400, 11004, "a queue cannot have both a Worker consumer and an HTTP pull consumer")
    consumer = {"consumer_id": hex_id(), "type": "http_pull", "created_on": now(), "queue_name": queue["queue_name"],
                "settings": body.get("settings") or {},
                **({"dead_letter_queue": body["dead_letter_queue"]} if body.get("dead_letter_queue") else {})}
    queue["consumers"].append(consumer)
    state.save()
    return 200, consumer, None


@route("PUT", "/queues/{queue}/consumers/{consumer}",
       f"{TS}queues/consumers.ts ConsumerUpdateParams")
def update_consumer(state: State, req: Request) -> Reply:
    queue = _queue(state, req.params["queue"])
    consumer = next((c for c in queue["consumers"] if c["consumer_id"] == req.params["consumer"]), None)
    if consumer is None:
        raise ApiFailure(404, 11005, "Consumer does not exist")
    body = req.json() or {}
    consumer["settings"] = body.get("settings") or consumer["settings"]
    consumer["dead_letter_queue"] = body.get("dead_letter_queue", consumer.get("dead_letter_queue"))
    state.save()
    return 200, consumer, None


@route("DELETE", "/queues/{queue}/consumers/{consumer}",
       f"{TS}queues/consumers.ts delete")
def delete_consumer(state: State, req: Request) -> Reply:
    queue = _queue(state, req.params["queue"])
    consumer = next((c for c in queue["consumers"] if c["consumer_id"] == req.params["consumer"]
                     or _consumer_script(c) == req.params["consumer"]), None)
    if consumer is None:
        raise ApiFailure(404, 11005, "Consumer does not exist")
    queue["consumers"].remove(consumer)
    state.save()
    script = _consumer_script(consumer)
    for hook in live_hook if script else ():
        hook(str(script))
    return 200, None, None

"""Named Cloudflare operations with their effect: the `cloudflare` action type of the engine.

Read operations run in plans; write operations only in real runs. Composite
reads (``worker.state``, ``queues.find``, ``queues.peek``) gather what a
remediation decides on; ``queues.replay`` moves a dead-letter queue back.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ops.cloudflare import _api
from ops.cloudflare._api import ROLLBACK_WINDOW
from ops.cloudflare.analytics import parse_since
from ops.cloudflare.analytics import queue_backlog as sampled
from ops.cloudflare._overwrites import deployments_around
from ops.cloudflare._client import CloudflareClient
from ops.documents.shape import ANY, BOOLEAN, INTEGER, NUMBER, STRING, Shape, array, mapping, nullable, optional, record, secret
from ops.errors import ApiError, InputError



@dataclass(frozen=True)
class Operation:
    """An API operation, declared: its effect, the arguments it takes and the result it returns.

    ``args`` and ``result`` are what `inv specs.check` checks a spec's `with: {op, args}`,
    its expectations and later references against. Raw API objects are left open
    (``mapping()``): their fields are Cloudflare's, not ours.
    """

    name: str
    effect: str  # read | write | destructive
    call: Callable[..., Any]
    args: Shape = field(default_factory=record)
    result: Shape = ANY


def worker_state(c: CloudflareClient, script: str, version: str = "") -> dict[str, Any]:
    """The live deployment, the recent versions, the rollback target (``version`` or wrangler's pick), secret names."""
    deployments = _api.list_deployments(c, script)
    versions = _api.list_versions(c, script, ROLLBACK_WINDOW)
    current = deployments[0] if deployments else None
    current_version = _single_version(current)
    numbers = {v["id"]: v["number"] for v in versions}
    recent = [v["id"] for v in versions[:ROLLBACK_WINDOW]]
    target = version or rollback_target(deployments, versions)
    return {
        "script": script,
        "current_deployment_id": current["id"] if current else None,
        "current_version_id": current_version,
        "current_version_number": numbers.get(current_version or ""),
        "latest_version_id": versions[0]["id"] if versions else None,
        "latest_is_deployed": bool(versions) and versions[0]["id"] == current_version,
        "recent_version_ids": recent,
        "rollback_target": rollback_target(deployments, versions),
        "target_version_id": target,
        "target_version_number": numbers.get(target or ""),
        "target_in_window": bool(target) and target in recent,
        "secrets": sorted(s["name"] for s in _api.list_secrets(c, script)) if current else [],
    }


def _single_version(deployment: dict[str, Any] | None) -> str | None:
    if not deployment:
        return None
    full = [str(v["version_id"]) for v in deployment.get("versions", []) if float(v.get("percentage", 0)) == 100]
    return full[0] if full else str(deployment["versions"][0]["version_id"])


def rollback_target(deployments: list[dict[str, Any]], versions: list[dict[str, Any]]) -> str | None:
    """wrangler's rule: the newest earlier deployment with one version at 100%, among the recent versions."""
    ordered = sorted(deployments, key=lambda d: d["created_on"], reverse=True)
    current = _single_version(ordered[0]) if ordered else None
    recent = {v["id"] for v in versions[:ROLLBACK_WINDOW]}
    for deployment in ordered[1:]:
        stable = next((v["version_id"] for v in deployment.get("versions", []) if float(v.get("percentage", 0)) == 100), None)
        if stable and stable != current and stable in recent:
            return str(stable)
    return None


def deploy_version(c: CloudflareClient, script: str, version_id: str, message: str = "", force: bool = False,
                   replacing: str | None = None) -> dict[str, Any]:
    """Deploy ``version_id`` at 100%; with ``replacing`` (the deployment it is meant to replace), the list is
    re-read afterwards and any deployment made in between is named in ``overwrote`` (ops.cloudflare._overwrites)."""
    if not version_id:
        raise InputError("no version to deploy: there is no earlier stable version; give one with --version")
    try:
        ours = _api.create_deployment(c, script, version_id, message=message, force=force)
    except ApiError as exc:
        if exc.code == 10220:
            changed = exc.message.split("The following secrets have changed:", 1)[-1].strip()
            raise ApiError(exc.code, f"the target version's secrets differ from the current ones ({changed}); "
                                     "rerun with --accept-secret-changes to roll back anyway", status=exc.status, path=exc.path) from None
        raise
    return {**ours, **deployments_around(c, script, ours, replacing)} if replacing else ours


def migrations_between(c: CloudflareClient, script: str, current_version: str, target_version: str) -> dict[str, Any]:
    """Whether a Durable Object migration lies between two versions, which Cloudflare refuses to roll back
    across ("rollbacks will not be allowed if a Durable Object migration has occurred between the version
    in the active deployment and the version selected to roll back to": developers.cloudflare.com/workers/
    configuration/versions-and-deployments/rollbacks/, Limits).

    Each version carries the tag of the migration most recently applied when it was made
    (cloudflare-typescript src/resources/workers/scripts/versions.ts
    ``VersionGetResponse.resources.script_runtime.migration_tag``; omitted for a Worker without
    Durable Objects). Two versions with different tags have a migration between them.
    """
    tags = {which: _migration_tag(_api.get_version(c, script, version_id))
            for which, version_id in (("current", current_version), ("target", target_version))}
    return {"current_migration_tag": tags["current"], "target_migration_tag": tags["target"],
            "crosses_migration": tags["current"] != tags["target"]}


def _migration_tag(version: dict[str, Any]) -> str | None:
    tag = ((version.get("resources") or {}).get("script_runtime") or {}).get("migration_tag")
    return str(tag) if tag else None


def worker_binding_names(c: CloudflareClient, script: str) -> list[str] | None:
    """The names a Worker binds (vars and secrets included; None when there is no such Worker): what an
    ``inherit`` binding of its next upload can resolve against. From ``GET .../settings`` (cloudflare-typescript
    src/resources/workers/scripts/script-and-version-settings.ts ``ScriptAndVersionSettingGetResponse.bindings``;
    a secret shows as ``{name, type: secret_text}``, without its value)."""
    try:
        settings = c.result("GET", f"/workers/scripts/{script}/settings") or {}
    except ApiError as exc:
        if exc.code == 10007:  # "This Worker does not exist on your account."
            return None
        raise
    return [str(b["name"]) for b in settings.get("bindings") or [] if isinstance(b, dict) and b.get("name")]


def consumer_script(consumer: dict[str, Any]) -> str | None:
    """The Worker a consumer runs: ``script_name`` in the API reference (cloudflare-typescript
    src/resources/queues/consumers.ts ``MqWorkerConsumerResponse``), ``script`` or ``service``
    in what wrangler reads (workers-sdk packages/deploy-helpers/src/triggers/queue-consumers.ts,
    ``resolveWorkerConsumerByName`` matches either). Any of the three names it."""
    for key in ("script_name", "script", "service"):
        if consumer.get(key):
            return str(consumer[key])
    return None


def find_queue(c: CloudflareClient, name: str, script: str = "") -> dict[str, Any]:
    for queue in _api.list_queues(c):
        if queue["queue_name"] == name:
            consumers = queue.get("consumers") or []
            workers = [x for x in consumers if x.get("type", "worker") == "worker"]
            mine = [x for x in workers if consumer_script(x) == script] if script else workers
            pull = [x for x in consumers if x.get("type") == "http_pull"]
            return {"exists": True, "queue_id": queue["queue_id"], "consumers": consumers,
                    "consumer_attached": bool(mine), "consumer_id": mine[0]["consumer_id"] if mine else None,
                    "pull_consumer_id": pull[0]["consumer_id"] if pull else None}
    return {"exists": False, "queue_id": None, "consumers": [], "consumer_attached": False, "consumer_id": None,
            "pull_consumer_id": None}


def peek_queue(c: CloudflareClient, name: str, limit: int = 100) -> dict[str, Any]:
    """A queue's head without leasing anything: ``count`` is exact below ``limit``, else ``at least``."""
    found = find_queue(c, name)
    if not found["exists"]:
        return {**found, "count": 0, "more": False}
    messages = _api.peek_messages(c, found["queue_id"], batch_size=limit)
    return {**found, "count": len(messages), "more": len(messages) >= limit}


def queue_backlog(c: CloudflareClient, name: str, script: str = "", since: str = "",
                  window_seconds: int = 300) -> dict[str, Any]:
    """The queue as ``queues.find`` sees it, plus its backlog as Cloudflare reports it.

    First the newest GraphQL Analytics sample (``queueBacklogAdaptiveGroups``) since
    ``since`` (ISO time; empty: ``window_seconds`` ago). Analytics trail the present, so
    with no sample in that window the Queues API's best-effort metrics answer instead
    (``GET /queues/{id}/metrics``, cloudflare-typescript src/resources/queues/queues.ts
    ``getMetrics``/``QueueGetMetricsResponse``: backlog_count, backlog_bytes). If neither
    answers, ``backlog`` is left out and ``backlog_unknown`` says why, so an expectation on
    it is inconclusive, never passed or failed on a made-up number.
    """
    found = find_queue(c, name, script)
    if not found["exists"]:
        return {**found, "backlog_unknown": f"queue {name!r} does not exist"}
    until = datetime.now(timezone.utc)
    start = parse_since(since, "queues.backlog") or until - timedelta(seconds=window_seconds)
    seen = sampled(c, str(found["queue_id"]), since=start, until=until)
    if seen["messages"] is not None:
        return {**found, "backlog": seen["messages"], "backlog_bytes": seen["bytes"], "sampled_at": seen["sampled_at"],
                "backlog_source": "analytics"}
    none_yet = f"GraphQL Analytics has no backlog sample of {name!r} between {seen['window']['since']} and {seen['window']['until']} yet"
    try:
        metrics = c.result("GET", f"/queues/{found['queue_id']}/metrics") or {}
    except ApiError as exc:
        return {**found, "backlog_unknown": f"{none_yet}, and the Queues API has no metrics ({exc.message})"}
    if not isinstance(metrics, dict) or not isinstance(metrics.get("backlog_count"), (int, float)):
        return {**found, "backlog_unknown": f"{none_yet}, and the Queues API's metrics have no backlog_count"}
    return {**found, "backlog": float(metrics["backlog_count"]), "backlog_bytes": metrics.get("backlog_bytes"),
            "sampled_at": until.isoformat(timespec="seconds"), "backlog_source": "queues-api"}


def replay_queue(c: CloudflareClient, source: str, destination: str, *, max_messages: int = 100_000,
                 batch_size: int = 100) -> dict[str, Any]:
    """Move messages from ``source`` (a dead-letter queue) back to ``destination``: pull, push, then ack.

    Pulling needs an HTTP pull consumer on the source; one is added for the
    replay and removed after it, unless the queue already had one. Delivery is
    at least once: a message pushed but not yet acked when the run stops is
    pulled again after its lease ends and may be replayed twice.
    """
    src, dst = find_queue(c, source), find_queue(c, destination)
    for name, queue in ((source, src), (destination, dst)):
        if not queue["exists"]:
            raise InputError(f"queue {name!r} does not exist in the account")
    added = None if src["pull_consumer_id"] else _api.create_pull_consumer(c, src["queue_id"])["consumer_id"]
    moved, kept, backlog = 0, 0, 0
    try:
        while moved + kept < max_messages:
            pulled = _api.pull_messages(c, src["queue_id"], batch_size=min(batch_size, max_messages - moved - kept))
            messages = pulled.get("messages") or []
            backlog = int(pulled.get("message_backlog_count") or 0)
            if not messages:
                break
            pushable = [(m, _republished(m)) for m in messages]
            ready = [(m, p) for m, p in pushable if p is not None]
            if ready:
                _api.push_messages(c, dst["queue_id"], [p for _, p in ready])
                _api.ack_messages(c, src["queue_id"], [m["lease_id"] for m, _ in ready])
            moved, kept = moved + len(ready), kept + len(messages) - len(ready)
            backlog -= len(messages)
    finally:
        if added:
            _api.delete_consumer(c, src["queue_id"], added)
    return {"moved": moved, "kept": kept, "remaining": max(0, backlog), "source_queue_id": src["queue_id"],
            "destination_queue_id": dst["queue_id"], "pull_consumer_added": bool(added)}


def _republished(message: dict[str, Any]) -> dict[str, Any] | None:
    """A pulled message as a push, or None when the REST API cannot push it (bytes, v8): it stays put.

    A pull answers ``json`` and ``bytes`` bodies base64-encoded and ``text`` bodies as
    they are; ``json`` is the default content type, and ``v8`` cannot be read over HTTP
    (developers.cloudflare.com/queues/configuration/pull-consumers/, "Content types").
    The REST API pushes only ``text`` and ``json`` (cloudflare-typescript
    src/resources/queues/messages.ts ``MessageBulkPushParams``).
    """
    kind = (message.get("metadata") or {}).get("CF-Content-Type", "json")
    body = message.get("body", "")
    if kind == "text":
        return {"body": body, "content_type": "text"} if isinstance(body, str) else None
    if kind != "json" or not isinstance(body, str):
        return None
    try:
        return {"body": json.loads(base64.b64decode(body, validate=True)), "content_type": "json"}
    except (binascii.Error, ValueError):
        return None


def attach_consumer(c: CloudflareClient, queue_id: str, script: str, *, dead_letter_queue: str | None = None,
                    config: str = "", queue: str = "", env: str = "") -> dict[str, Any]:
    """Attach ``script`` as the queue's consumer with the settings its wrangler config gives that queue.

    With ``config`` (``queue``, the queue's name, is looked up when not given), the consumer's entry under
    ``queues.consumers`` (of ``[env.<env>]`` when ``env`` is set: queues are not
    inherited by an environment) gives the settings as ``wrangler deploy`` sends them
    (workers-sdk packages/deploy-helpers/src/triggers/queue-consumers.ts,
    ``updateQueueConsumers``): max_batch_size, max_retries, max_batch_timeout (s, sent
    as max_wait_time_ms), max_concurrency, retry_delay, and its dead_letter_queue.
    """
    settings: dict[str, Any] = {}
    if config:
        entry = _config_consumer(Path(config), queue or str(_api.get_queue(c, queue_id)["queue_name"]), env)
        timeout = entry.get("max_batch_timeout")
        settings = {"batch_size": entry.get("max_batch_size"), "max_retries": entry.get("max_retries"),
                    "max_wait_time_ms": None if timeout is None else int(1000 * float(timeout)),
                    "max_concurrency": entry.get("max_concurrency"), "retry_delay": entry.get("retry_delay")}
        dead_letter_queue = dead_letter_queue or entry.get("dead_letter_queue")
    return _api.create_consumer(c, queue_id, script, dead_letter_queue=dead_letter_queue or None, settings=settings)


def _config_consumer(path: Path, queue: str, env: str) -> dict[str, Any]:
    from ops.documents.wrangler_config import effective, load_config

    resolved = effective(load_config(path), env)  # queues are not inherited: the env's own, or none
    queues = resolved.data.get("queues")
    consumers = (queues.get("consumers") if isinstance(queues, dict) else None) or []
    entry = next((x for x in consumers if isinstance(x, dict) and x.get("queue") == queue), None)
    if entry is None:
        where = f"[env.{env}]" if env else "the top level"
        raise InputError(f"{path}: {where} has no queues.consumers entry for queue {queue!r}; "
                         "add one, or reattach without --config")
    return entry


def put_secret(c: CloudflareClient, script: str, name: str, text: str) -> dict[str, Any]:
    try:
        return _api.put_secret(c, script, name, text)
    except ApiError as exc:
        if exc.code == 10215:
            raise ApiError(exc.code, "the Worker's latest version is not the deployed one, so a secret cannot be put "
                                     "(error 10215); deploy the latest version first, or use `wrangler versions secret put`",
                           status=exc.status, path=exc.path) from None
        raise


def kv_sample(c: CloudflareClient, namespace_id: str, keys: list[str]) -> dict[str, Any]:
    """Read back a sample of keys: how many are in the namespace (a key listing with each key as its prefix)."""
    missing = [key for key in keys
               if not any(item.get("name") == key for item in _api.list_kv_keys(c, namespace_id, key))]
    present = len(keys) - len(missing)
    return {"checked": len(keys), "present": present, "missing": missing[:20],
            "share": round(present / len(keys), 4) if keys else None}


SCRIPT = record(script=STRING)
OBJECTS = array(mapping())
WORKER_STATE = record(
    script=STRING, current_deployment_id=nullable(STRING), current_version_id=nullable(STRING),
    current_version_number=nullable(INTEGER), latest_version_id=nullable(STRING), latest_is_deployed=BOOLEAN,
    recent_version_ids=array(STRING), rollback_target=nullable(STRING), target_version_id=nullable(STRING),
    target_version_number=nullable(INTEGER), target_in_window=BOOLEAN, secrets=array(STRING),
)
QUEUE_FOUND = dict(exists=BOOLEAN, queue_id=nullable(STRING), consumers=OBJECTS, consumer_attached=BOOLEAN,
                   consumer_id=nullable(STRING), pull_consumer_id=nullable(STRING))

OPERATIONS: dict[str, Operation] = {op.name: op for op in (
    Operation("worker.state", "read", worker_state, record(script=STRING, version=optional(STRING)), WORKER_STATE),
    Operation("versions.list", "read", _api.list_versions, SCRIPT, OBJECTS),
    Operation("versions.get", "read", _api.get_version, record(script=STRING, version_id=STRING), mapping()),
    Operation("versions.migrations", "read", migrations_between,
              record(script=STRING, current_version=STRING, target_version=STRING),
              record(current_migration_tag=nullable(STRING), target_migration_tag=nullable(STRING),
                     crosses_migration=BOOLEAN)),
    Operation("deployments.list", "read", _api.list_deployments, SCRIPT, OBJECTS),
    Operation("deployments.create", "write", deploy_version,
              record(script=STRING, version_id=STRING, message=optional(STRING), force=optional(BOOLEAN),
                     replacing=optional(nullable(STRING))), mapping()),
    Operation("secrets.list", "read", lambda c, script: [s["name"] for s in _api.list_secrets(c, script)], SCRIPT,
              array(STRING)),
    Operation("secrets.put", "write", put_secret, record(script=STRING, name=STRING, text=secret(STRING)), mapping()),
    Operation("secrets.delete", "destructive", _api.delete_secret, record(script=STRING, name=STRING), ANY),
    Operation("kv.namespaces.list", "read", _api.list_kv_namespaces, record(), OBJECTS),
    Operation("kv.keys.list", "read", lambda c, namespace_id, prefix="": list(_api.list_kv_keys(c, namespace_id, prefix)),
              record(namespace_id=STRING, prefix=optional(STRING)), OBJECTS),
    Operation("kv.bulk_put", "write", _api.kv_bulk_put, record(namespace_id=STRING, pairs=OBJECTS), INTEGER),
    Operation("kv.sample", "read", kv_sample, record(namespace_id=STRING, keys=array(STRING)),
              record(checked=INTEGER, present=INTEGER, missing=array(STRING), share=nullable(NUMBER))),
    Operation("d1.list", "read", _api.list_d1, record(), OBJECTS),
    Operation("r2.list", "read", _api.list_r2, record(), OBJECTS),
    Operation("queues.list", "read", _api.list_queues, record(), OBJECTS),
    Operation("queues.find", "read", find_queue, record(name=STRING, script=optional(STRING)), record(**QUEUE_FOUND)),
    Operation("queues.peek", "read", peek_queue, record(name=STRING, limit=optional(INTEGER)),
              record(**QUEUE_FOUND, count=INTEGER, more=BOOLEAN)),
    Operation("queues.backlog", "read", queue_backlog,
              record(name=STRING, script=optional(STRING), since=optional(STRING), window_seconds=optional(INTEGER)),
              record(**QUEUE_FOUND, backlog=optional(NUMBER), backlog_bytes=optional(nullable(NUMBER)),
                     sampled_at=optional(STRING), backlog_source=optional(STRING), backlog_unknown=optional(STRING))),
    Operation("queues.replay", "destructive", replay_queue,
              record(source=STRING, destination=STRING, max_messages=optional(INTEGER), batch_size=optional(INTEGER)),
              record(moved=INTEGER, kept=INTEGER, remaining=INTEGER, source_queue_id=STRING,
                     destination_queue_id=STRING, pull_consumer_added=BOOLEAN)),
    Operation("queues.consumers.create", "write", attach_consumer,
              record(queue_id=STRING, script=STRING, dead_letter_queue=optional(nullable(STRING)),
                     settings=optional(mapping()), config=optional(STRING), env=optional(STRING)), mapping()),
    Operation("queues.consumers.delete", "write", _api.delete_consumer, record(queue_id=STRING, consumer_id=STRING), ANY),
    Operation("durable_objects.list", "read", _api.list_durable_objects, record(), OBJECTS),
)}

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
from ops.cloudflare.version_diff import versions_diff
from ops.cloudflare.secret_versions import version_from_deployed
from ops.cloudflare.known_bad import known_bad
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
    """The live deployment, the recent versions, the rollback target (``version`` or wrangler's pick), secret names.

    Every version of the live deployment is current (``current_version_ids``, ``live_versions`` with
    each one's share); ``current_version_id`` is the one serving the largest share (all of it, unless
    the deployment is a split)."""
    deployments = newest_first(_api.list_deployments(c, script))
    versions = _api.list_versions(c, script, ROLLBACK_WINDOW)
    live = _live_of(deployments[0] if deployments else None)
    numbers = {v["id"]: v["number"] for v in versions}
    current_version = live[0]["version_id"] if live else None
    recent = [v["id"] for v in versions[:ROLLBACK_WINDOW]]
    default_target = rollback_target(deployments)
    target = version or default_target
    latest = versions[0]["id"] if versions else None
    return {
        "script": script,
        "current_deployment_id": deployments[0]["id"] if deployments else None,
        "current_version_id": current_version,
        "current_version_number": numbers.get(current_version or ""),
        "current_version_ids": [v["version_id"] for v in live],
        "live_versions": [{**v, "number": numbers.get(v["version_id"])} for v in live],
        "latest_version_id": latest,
        "latest_is_deployed": any(v["version_id"] == latest and v["percentage"] == 100 for v in live),
        "recent_version_ids": recent,
        "rollback_target": default_target,
        "target_version_id": target,
        "target_version_number": numbers.get(target or ""),
        "target_in_window": bool(target) and target in recent,
        "target_is_live": any(v["version_id"] == target for v in live),
        "secrets": sorted(s["name"] for s in _api.list_secrets(c, script)) if live else [],
    }


def newest_first(deployments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deployments newest first by ``created_on``, as wrangler sorts them (the API's order is not documented)."""
    return sorted(deployments, key=lambda d: str(d.get("created_on") or ""), reverse=True)


def _live_of(deployment: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A deployment's versions with their shares, the largest share first."""
    versions = [{"version_id": str(v["version_id"]), "percentage": float(v.get("percentage") or 0)}
                for v in (deployment or {}).get("versions") or []]
    return sorted(versions, key=lambda v: -v["percentage"])


def live_versions(c: CloudflareClient, script: str) -> list[dict[str, Any]]:
    """The versions the live deployment serves, each ``{version_id, percentage}``, the largest share first:
    one entry at 100% for an ordinary deployment, several for a split (gradual) deployment
    (cloudflare-typescript src/resources/workers/scripts/deployments.ts ``Deployment.versions``).
    Empty when the Worker has no deployment."""
    deployments = newest_first(_api.list_deployments(c, script))
    return _live_of(deployments[0] if deployments else None)


def rollback_target(deployments: list[dict[str, Any]]) -> str | None:
    """wrangler's default rollback target, rule for rule (workers-sdk packages/wrangler/src/versions/rollback/
    index.ts ``fetchDefaultRollbackVersionId``): sort the deployments newest first by ``created_on``, drop
    the newest (the live one), and take the first version deployed at 100% in the rest. It does not
    exclude a version of the live deployment, nor one outside the 100 most recent (``target_in_window``
    and ``target_is_live`` say so)."""
    for deployment in newest_first(deployments)[1:]:
        stable = next((v["version_id"] for v in deployment.get("versions") or [] if float(v.get("percentage") or 0) == 100),
                      None)
        if stable:
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
        if exc.status is not None and 400 <= exc.status < 500 and exc.status not in (401, 403, 404, 429):
            raise ApiError(exc.code, f"Cloudflare refused to deploy version {version_id}: {exc.message} (error {exc.code}). "
                                     "Its refusal is the final answer, whatever our preflight found: the live deployment "
                                     "is unchanged; deploy forward instead (fix the code, then `wrangler deploy`)",
                           status=exc.status, path=exc.path) from None
        raise
    return {**ours, **deployments_around(c, script, ours, replacing)} if replacing else ours


def migrations_between(c: CloudflareClient, script: str, current_version: str, target_version: str) -> dict[str, Any]:
    """Whether a Durable Object migration lies between two versions, which Cloudflare refuses to roll back
    across ("rollbacks will not be allowed if a Durable Object migration has occurred between the version
    in the active deployment and the version selected to roll back to": developers.cloudflare.com/workers/
    configuration/versions-and-deployments/rollbacks/, Limits, "Bindings").

    What there is to compare is thin. Each version's ``resources.script_runtime.migration_tag`` is
    described as "the tag of the Durable Object migration that was most recently applied for this
    Worker" (cloudflare-typescript src/resources/workers/scripts/versions.ts ``VersionGetResponse``):
    that may be the Worker's tag, the same on every version, rather than the tag when the version was
    made. wrangler itself reads only the Worker's tag (workers-sdk packages/wrangler/src/deploy/deploy.ts
    ``getMigrationsToUpload``, from the script or service) and never compares versions. So two different
    tags prove a migration between them; equal tags prove nothing, and ``compared`` says so. The Durable
    Object classes each version binds are compared too: a class bound by one and not the other
    (``durable_object_namespace`` bindings, which declarative exports also produce) means a migration
    added, renamed or deleted it. Cloudflare's answer to the deployment stays the final word
    (``deploy_version``).
    """
    versions = {which: _api.get_version(c, script, version_id)
                for which, version_id in (("current", current_version), ("target", target_version))}
    tags = {which: _migration_tag(v) for which, v in versions.items()}
    classes = {which: _do_classes(v) for which, v in versions.items()}
    by_tag = tags["current"] != tags["target"]
    by_class = classes["current"] != classes["target"]
    if by_tag:
        compared = (f"the versions' migration tags differ (current {tags['current']!r}, target {tags['target']!r}): "
                    "a migration was applied between them")
    elif by_class:
        compared = (f"the Durable Object classes differ (current {sorted(classes['current'])}, target "
                    f"{sorted(classes['target'])}): a migration added, renamed or deleted a class between them")
    else:
        compared = (f"the versions' migration tags ({tags['current']!r}) and Durable Object classes are the same; "
                    "the API may report the Worker's latest tag on every version, so this does not prove that no "
                    "migration lies between them: Cloudflare's answer to the deployment decides")
    return {"current_migration_tag": tags["current"], "target_migration_tag": tags["target"],
            "current_do_classes": sorted(classes["current"]), "target_do_classes": sorted(classes["target"]),
            "crosses_migration": by_tag or by_class, "compared": compared}


def _migration_tag(version: dict[str, Any]) -> str | None:
    tag = ((version.get("resources") or {}).get("script_runtime") or {}).get("migration_tag")
    return str(tag) if tag else None


def _do_classes(version: dict[str, Any]) -> set[str]:
    """The Durable Object classes a version defines itself (bindings without ``script_name``, or naming no other Worker)."""
    return {str(b["class_name"]) for b in _bindings(version)
            if b.get("type") == "durable_object_namespace" and b.get("class_name") and not b.get("script_name")}


def _bindings(version: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in (version.get("resources") or {}).get("bindings") or [] if isinstance(b, dict)]


def rollback_bindings(c: CloudflareClient, script: str, version_id: str) -> dict[str, Any]:
    """The resources the target version binds that no longer exist: KV namespaces, R2 buckets (in their
    jurisdiction), queues and D1 databases.

    Cloudflare refuses a rollback to a version that binds "an R2 bucket, KV namespace, or queue that no
    longer exists" (developers.cloudflare.com/workers/configuration/versions-and-deployments/rollbacks/,
    Limits, "Bindings"). A missing D1 database is not on that list, but the rolled-back Worker would fail
    on its first query, so it stops the plan too. Binding shapes are ``WorkersBindingKind*`` of
    cloudflare-typescript src/resources/workers/scripts/versions.ts (a D1 binding's ``database_id``, or
    the deprecated ``id``; an R2 binding's optional ``jurisdiction``).
    """
    present = bindings_presence(c, _bindings(_api.get_version(c, script, version_id)))
    missing = [{k: v for k, v in b.items() if k != "exists"} for b in present if b.get("exists") is False]
    return {"version_id": version_id, "checked": sum("exists" in b for b in present), "missing": missing,
            "all_exist": not missing,
            "refused_by_cloudflare": [m["binding"] for m in missing if m["type"] != "d1"],
            "to_recreate": [f"binding {m['binding']}: {KINDS[m['type']]} {m['resource']}"
                            f"{' (jurisdiction ' + m['jurisdiction'] + ')' if m.get('jurisdiction') else ''} no longer exists; "
                            f"{m['recreate']}" for m in missing]}


KINDS = {"kv_namespace": "KV namespace", "r2_bucket": "R2 bucket", "queue": "queue", "d1": "D1 database"}


def bindings_presence(c: CloudflareClient, bindings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each binding; a KV namespace, R2 bucket (in its jurisdiction), queue or D1 database one also says whether
    the resource ``exists`` in the account, and when it does not, how to ``recreate`` it."""
    wanted = [b for b in bindings if b.get("type") in KINDS]
    exists = _existing(c, wanted)
    rows: list[dict[str, Any]] = []
    for binding in bindings:
        row: dict[str, Any] = {"binding": str(binding.get("name")), "type": str(binding.get("type"))}
        if binding in wanted:
            kind, ref = _resource_of(binding)
            row.update({"resource": ref[0], "exists": ref in exists[kind],
                        **({"jurisdiction": ref[1]} if kind == "r2_bucket" and ref[1] != "default" else {})})
            if not row["exists"]:
                row["recreate"] = _recreate(kind, ref)
        rows.append(row)
    return rows


def _resource_of(binding: dict[str, Any]) -> tuple[str, tuple[str, str]]:
    kind = str(binding["type"])
    if kind == "kv_namespace":
        return kind, (str(binding.get("namespace_id")), "")
    if kind == "r2_bucket":
        return kind, (str(binding.get("bucket_name")), str(binding.get("jurisdiction") or "default"))
    if kind == "queue":
        return kind, (str(binding.get("queue_name")), "")
    return kind, (str(binding.get("database_id") or binding.get("id")), "")


def _existing(c: CloudflareClient, wanted: list[dict[str, Any]]) -> dict[str, set[tuple[str, str]]]:
    """What the account has, listed only for the kinds (and R2 jurisdictions) the version binds."""
    kinds = {str(b["type"]) for b in wanted}
    found: dict[str, set[tuple[str, str]]] = {"kv_namespace": set(), "r2_bucket": set(), "queue": set(), "d1": set()}
    if "kv_namespace" in kinds:
        found["kv_namespace"] = {(str(n["id"]), "") for n in _api.list_kv_namespaces(c)}
    if "r2_bucket" in kinds:
        places = sorted({_resource_of(b)[1][1] for b in wanted if b["type"] == "r2_bucket"})
        found["r2_bucket"] = {(str(b["name"]), str(b["jurisdiction"])) for b in _api.list_r2(c, places)}
    if "queue" in kinds:
        found["queue"] = {(str(q["queue_name"]), "") for q in _api.list_queues(c)}
    if "d1" in kinds:
        found["d1"] = {(str(d.get("uuid")), "") for d in _api.list_d1(c)}
    return found


def _recreate(kind: str, ref: tuple[str, str]) -> str:
    name, jurisdiction = ref
    if kind == "kv_namespace":
        return ("a namespace id cannot be recreated: create a namespace (`wrangler kv namespace create`), "
                "bind it, and deploy forward")
    if kind == "r2_bucket":
        where = f" --jurisdiction {jurisdiction}" if jurisdiction != "default" else ""
        return f"`wrangler r2 bucket create {name}{where}`, then roll back again"
    if kind == "queue":
        return f"`wrangler queues create {name}`, then roll back again"
    return ("a database id cannot be recreated: create one (`wrangler d1 create`), restore its data into it, "
            "bind it, and deploy forward")


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


CONFIG_REQUIRED = "secrets.required"  # in a list of required secrets: the wrangler config's own


def required_secrets(c: CloudflareClient, script: str, config: str = "", env: str = "",
                     required: str = CONFIG_REQUIRED, only: str = "") -> dict[str, Any]:
    """The secrets the Worker must have against those it has (the secrets API; values are never read).

    ``required`` is comma-separated names, where ``secrets.required`` stands for its wrangler config's list (of the
    env deployed: an env does not inherit the top level's, as in wrangler, which refuses a deploy that lacks one);
    a target names more for a config that predates that field. ``only`` narrows it to one name. ``missing`` is
    absent when nothing is required: no evidence either way, never "all present"."""
    names: list[str] = []
    for name in (n.strip() for n in required.split(",")):
        names += _config_required(config, env) if name == CONFIG_REQUIRED else [name] if name else []
    wanted = [name for name in dict.fromkeys(names) if not only or name == only]
    have = sorted(str(s["name"]) for s in _api.list_secrets(c, script))
    seen: dict[str, Any] = {"required": wanted, "present": have}
    if wanted:
        seen["missing"] = [name for name in wanted if name not in have]
    return seen


def _config_required(config: str, env: str) -> list[str]:
    if not config:
        return []
    from ops.documents.wrangler_config import effective, load_config

    secrets = effective(load_config(Path(config)), env).data.get("secrets")
    names = secrets.get("required") if isinstance(secrets, dict) else None
    return [str(n) for n in names] if isinstance(names, list) else []


def put_secret(c: CloudflareClient, script: str, name: str, text: str) -> dict[str, Any]:
    """Put a secret as `wrangler secret put` does (a new version from the latest, deployed). When Cloudflare refuses
    because the latest version is not the deployed one (10215, after a rollback), the new version is built from the
    deployed version instead (ops.cloudflare.secret_versions): never from the latest, which would put the code just
    rolled back from into service again."""
    try:
        return {**_api.put_secret(c, script, name, text), "how": "the secrets API (the latest version is the deployed one)"}
    except ApiError as exc:
        if exc.code != 10215:
            raise
    built = version_from_deployed(c, script, put={name: text}, message=f"secret {name} put")
    return {"name": name, "type": "secret_text", **built}


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
    current_version_ids=array(STRING), live_versions=array(mapping()),
    recent_version_ids=array(STRING), rollback_target=nullable(STRING), target_version_id=nullable(STRING),
    target_version_number=nullable(INTEGER), target_in_window=BOOLEAN, target_is_live=BOOLEAN, secrets=array(STRING),
)
LIVE_VERSION = record(version_id=STRING, percentage=NUMBER)
QUEUE_FOUND = dict(exists=BOOLEAN, queue_id=nullable(STRING), consumers=OBJECTS, consumer_attached=BOOLEAN,
                   consumer_id=nullable(STRING), pull_consumer_id=nullable(STRING))

OPERATIONS: dict[str, Operation] = {op.name: op for op in (
    Operation("worker.state", "read", worker_state, record(script=STRING, version=optional(STRING)), WORKER_STATE),
    Operation("versions.list", "read", _api.list_versions, SCRIPT, OBJECTS),
    Operation("versions.get", "read", _api.get_version, record(script=STRING, version_id=STRING), mapping()),
    Operation("versions.migrations", "read", migrations_between,
              record(script=STRING, current_version=STRING, target_version=STRING),
              record(current_migration_tag=nullable(STRING), target_migration_tag=nullable(STRING),
                     current_do_classes=array(STRING), target_do_classes=array(STRING),
                     crosses_migration=BOOLEAN, compared=STRING)),
    Operation("versions.known_bad", "read", known_bad,
              record(script=STRING, target_version=STRING, min_requests=optional(INTEGER),
                     failing_error_rate=optional(NUMBER), hung_wall_ms=optional(NUMBER), window_seconds=optional(INTEGER),
                     journal=optional(mapping())),
              record(target_version=STRING, known_bad=BOOLEAN, evidence=array(STRING), known_bad_versions=array(STRING),
                     serving_alternative=nullable(STRING), refusal=STRING, analytics_unread=nullable(STRING))),
    Operation("versions.bindings", "read", rollback_bindings, record(script=STRING, version_id=STRING),
              record(version_id=STRING, checked=INTEGER, missing=OBJECTS, all_exist=BOOLEAN,
                     refused_by_cloudflare=array(STRING), to_recreate=array(STRING))),
    Operation("versions.diff", "read", versions_diff, record(script=STRING, current_version=STRING, target_version=STRING),
              record(secrets=mapping(), rotations_since_target=OBJECTS, bindings=mapping(), compatibility_date=mapping(),
                     compatibility_flags=mapping(), migration_tag=mapping(), unversioned=STRING)),
    Operation("deployments.list", "read", _api.list_deployments, SCRIPT, OBJECTS),
    Operation("deployments.live", "read", live_versions, SCRIPT, array(LIVE_VERSION)),
    Operation("deployments.create", "write", deploy_version,
              record(script=STRING, version_id=STRING, message=optional(STRING), force=optional(BOOLEAN),
                     replacing=optional(nullable(STRING))), mapping()),
    Operation("secrets.list", "read", lambda c, script: [s["name"] for s in _api.list_secrets(c, script)], SCRIPT,
              array(STRING)),
    Operation("secrets.required", "read", required_secrets,
              record(script=STRING, config=optional(STRING), env=optional(STRING), required=optional(STRING),
                     only=optional(STRING)),
              record(required=array(STRING), present=array(STRING), missing=optional(array(STRING)))),
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

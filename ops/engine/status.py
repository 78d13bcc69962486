"""`inv status`: what is live on a Worker, read in one go for the runbooks' "check" steps.

The live deployment (each version with its share), the recent versions with their
message, author and source, the secrets' names (never values), the live version's
bindings and whether each resource still exists, and the last runs the journal holds
for this Worker. Every part that cannot be read says why, and the rest still shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ops.cloudflare import _api
from ops.cloudflare._client import CloudflareClient
from ops.engine.journal import list_runs, read_events
from ops.errors import OpsError

__all__ = ["RECENT_VERSIONS", "RECENT_RUNS", "worker_status"]

RECENT_VERSIONS = 10
RECENT_RUNS = 5


def worker_status(client: CloudflareClient, script: str, journal: Path, *, header: str = "") -> dict[str, Any]:
    status: dict[str, Any] = {"worker": script, "unreadable": {}}
    deployments = _part(status, "deployments", lambda: _api.list_deployments(client, script)) or []
    live = max(deployments, key=lambda d: str(d.get("created_on", "")), default=None)
    status["live"] = _deployment(live) if live else None
    versions = _part(status, "versions", lambda: _api.list_versions(client, script, RECENT_VERSIONS)) or []
    live_ids = {v["version_id"] for v in (status["live"] or {}).get("versions", [])}
    status["versions"] = [_version(v, live_ids) for v in versions[:RECENT_VERSIONS]]
    secrets = _part(status, "secrets", lambda: _api.list_secrets(client, script)) if live else []
    status["secrets"] = sorted(str(s["name"]) for s in secrets or [])
    status["bindings"] = [] if not live_ids else (
        _part(status, "bindings", lambda: _bindings(client, script, sorted(live_ids))) or [])
    status["runs"] = _runs(journal, script, header)
    return status


def _part(status: dict[str, Any], name: str, read: Callable[[], Any]) -> Any:
    try:
        return read()
    except OpsError as exc:
        status["unreadable"][name] = str(exc)
        return None


def _deployment(deployment: dict[str, Any]) -> dict[str, Any]:
    annotations = deployment.get("annotations") or {}
    return {"id": deployment.get("id"), "created_on": deployment.get("created_on"),
            "author": deployment.get("author_email"), "source": deployment.get("source"),
            "message": annotations.get("workers/message"), "triggered_by": annotations.get("workers/triggered_by"),
            "versions": [{"version_id": str(v["version_id"]), "percentage": float(v.get("percentage", 0))}
                         for v in deployment.get("versions") or []]}


def _version(version: dict[str, Any], live: set[str]) -> dict[str, Any]:
    annotations = version.get("annotations") or {}
    metadata = version.get("metadata") or {}
    return {"id": version["id"], "number": version.get("number"), "created_on": metadata.get("created_on"),
            "message": annotations.get("workers/message"), "tag": annotations.get("workers/tag"),
            "triggered_by": annotations.get("workers/triggered_by"), "author": metadata.get("author_email"),
            "source": metadata.get("source"), "live": version["id"] in live}


RESOURCE_KINDS = {"kv_namespace": "namespace_id", "r2_bucket": "bucket_name", "queue": "queue_name", "d1": "database_id"}


def _bindings(client: CloudflareClient, script: str, version_ids: list[str]) -> list[dict[str, Any]]:
    """Each live version's bindings; a resource binding (KV, R2, queue, D1) says whether the resource exists."""
    rows: list[dict[str, Any]] = []
    lists: dict[str, set[tuple[str, str]]] = {}
    for version_id in version_ids:
        resources = (_api.get_version(client, script, version_id).get("resources") or {})
        for binding in resources.get("bindings") or []:
            if not isinstance(binding, dict):
                continue
            kind = str(binding.get("type"))
            row = {"version_id": version_id, "name": binding.get("name"), "type": kind}
            if kind in RESOURCE_KINDS:
                ref = _reference(binding)
                row["resource"] = ref[0] + (f" ({ref[1]})" if ref[1] not in ("", "default") else "")
                row["exists"] = ref in _existing(client, kind, ref, lists)
            rows.append(row)
    return rows


def _reference(binding: dict[str, Any]) -> tuple[str, str]:
    kind = str(binding["type"])
    if kind == "r2_bucket":
        return str(binding.get("bucket_name")), str(binding.get("jurisdiction") or "default")
    if kind == "d1":
        return str(binding.get("database_id") or binding.get("id")), ""
    return str(binding.get(RESOURCE_KINDS[kind])), ""


def _existing(client: CloudflareClient, kind: str, ref: tuple[str, str],
              lists: dict[str, set[tuple[str, str]]]) -> set[tuple[str, str]]:
    key = f"{kind}:{ref[1]}" if kind == "r2_bucket" else kind
    if key not in lists:
        if kind == "kv_namespace":
            lists[key] = {(str(n["id"]), "") for n in _api.list_kv_namespaces(client)}
        elif kind == "r2_bucket":
            lists[key] = {(str(b["name"]), str(b.get("jurisdiction") or "default"))
                          for b in _api.list_r2(client, [ref[1]])}
        elif kind == "queue":
            lists[key] = {(str(q["queue_name"]), "") for q in _api.list_queues(client)}
        else:
            lists[key] = {(str(d.get("uuid")), "") for d in _api.list_d1(client)}
    return lists[key]


def _runs(journal: Path, script: str, header: str) -> list[dict[str, Any]]:
    """The newest runs of this Worker in the journal (a run's start names its target's header)."""
    if not journal.is_dir():
        return []
    found: list[dict[str, Any]] = []
    for run in reversed(list_runs(journal)):
        events = list(read_events(journal / f"{run}.jsonl"))
        start = next((e for e in events if e.get("event") == "run-start"), None)
        if start is None or not _same_worker(str(start.get("target", "")), script, header):
            continue
        end = next((e for e in reversed(events) if e.get("event") == "run-end"), None)
        found.append({"run": run, "spec": start.get("spec") or start.get("mode"), "started": start.get("ts"),
                      "status": end.get("status") if end else "unfinished",
                      "message": end.get("message") if end else None})
        if len(found) == RECENT_RUNS:
            break
    return found


def _same_worker(target_header: str, script: str, header: str) -> bool:
    return target_header == header or f": worker {script} at " in target_header

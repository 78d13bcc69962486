"""`inv status`: what is live on a Worker, read in one go for the runbooks' "check" steps.

The live deployment (each version with its share), the recent versions with their
message, author and source, the secrets' names (never values), the live version's
bindings and whether each resource still exists, and the last runs the journal holds
for this Worker. Every part that cannot be read says why, and the rest still shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ops.cloudflare import CloudflareClient, get_version, list_deployments, list_secrets, list_versions
from ops.engine.journal import list_runs, read_events
from ops.errors import OpsError

__all__ = ["RECENT_VERSIONS", "RECENT_RUNS", "worker_status"]

RECENT_VERSIONS = 10
RECENT_RUNS = 5


def worker_status(client: CloudflareClient, script: str, journal: Path, *, header: str = "") -> dict[str, Any]:
    status: dict[str, Any] = {"worker": script, "unreadable": {}}
    deployments = _part(status, "deployments", lambda: list_deployments(client, script)) or []
    live = max(deployments, key=lambda d: str(d.get("created_on", "")), default=None)
    status["live"] = _deployment(live) if live else None
    versions = _part(status, "versions", lambda: list_versions(client, script, RECENT_VERSIONS)) or []
    live_ids = {v["version_id"] for v in (status["live"] or {}).get("versions", [])}
    status["versions"] = [_version(v, live_ids) for v in versions[:RECENT_VERSIONS]]
    secrets = _part(status, "secrets", lambda: list_secrets(client, script)) if live else []
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


def _bindings(client: CloudflareClient, script: str, version_ids: list[str]) -> list[dict[str, Any]]:
    """Each live version's bindings; a resource binding (KV, R2, queue, D1) says whether the resource exists."""
    from ops.cloudflare.operations import bindings_presence

    rows: list[dict[str, Any]] = []
    for version_id in version_ids:
        resources = get_version(client, script, version_id).get("resources") or {}
        bound = [b for b in resources.get("bindings") or [] if isinstance(b, dict)]
        rows += [{"version_id": version_id, **row} for row in bindings_presence(client, bound)]
    return rows


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

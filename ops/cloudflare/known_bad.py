"""Versions known to be bad, so that a rollback never deploys one: the deployments list and analytics say which.

A version is known to be bad when

- the deployments list shows it was rolled back from: it was live at 100%, and the deployment that
  replaced it is a rollback (``workers/triggered_by: rollback``, which the API sets and wrangler's
  ``versions/list.ts formatTrigger`` shows, or the message ``inv remediate.rollback`` gives our runs);
  every rollback, ours, wrangler's or the dashboard's, is a deployment there, while it is among the
  deployments listed (wrangler's `deployments list` shows "the 10 most recent"; so does the emulator);
- the journal shows it was rolled back from: ``journal`` holds, by version, what the engine read of
  earlier rollback runs (``ops.engine.rolled_back``), however many deployments came after;
- its analytics failed: over the window, at least ``min_requests`` of its invocations, and most of them
  errors (``failing_error_rate``), or a tail wall time of a hung Worker (``hung_wall_ms``).

The version that would serve instead is the newest earlier one deployed at 100% (wrangler's rule,
``operations.rollback_target``) that is neither live nor known to be bad.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from ops.cloudflare import _api
from ops.cloudflare._client import CloudflareClient
from ops.errors import ApiError

OUR_MESSAGE = "remediate.rollback"  # in the message of every deployment our rollback makes (its default --message)
HUNG_WALL_MS = 30_000.0


def known_bad(c: CloudflareClient, script: str, target_version: str, min_requests: int = 20,
              failing_error_rate: float = 0.5, hung_wall_ms: float = HUNG_WALL_MS,
              window_seconds: int = 86_400, journal: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Whether ``target_version`` is known to be bad, the evidence, and the earlier version that would serve."""
    deployments = sorted(_api.list_deployments(c, script), key=lambda d: str(d.get("created_on") or ""), reverse=True)
    evidence = rolled_back_from(deployments)
    for version, said in (journal or {}).items():
        evidence.setdefault(str(version), []).extend(str(why) for why in said)
    analytics, unread = _failed_analytics(c, script, min_requests, failing_error_rate, hung_wall_ms, window_seconds)
    for version, why in analytics.items():
        evidence.setdefault(version, []).append(why)
    live = {str(v.get("version_id")) for v in (deployments[0].get("versions") or [])} if deployments else set()
    alternative = next((v for v in _stable_versions(deployments[1:]) if v not in live and v not in evidence), None)
    said = evidence.get(target_version, [])
    refusal = ""
    if said:
        instead = (f"version {alternative} would serve (it is the newest earlier version deployed at 100% that nothing "
                   f"marks as bad): rerun with --version {alternative}" if alternative else
                   "no earlier version deployed at 100% is free of such evidence: deploy forward instead "
                   "(fix the code, then `wrangler deploy`)")
        refusal = f"version {target_version} is known to be bad: {'; '.join(said)}; {instead}"
    return {"target_version": target_version, "known_bad": bool(said), "evidence": said,
            "known_bad_versions": sorted(evidence), "serving_alternative": alternative, "refusal": refusal,
            "analytics_unread": unread}


def rolled_back_from(deployments: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each version a later rollback replaced, with when (``deployments`` newest first)."""
    found: dict[str, list[str]] = {}
    for newer, older in zip(deployments, deployments[1:]):
        if not _is_rollback(newer):
            continue
        replaced = _stable_versions([older])
        deployed = {str(v.get("version_id")) for v in newer.get("versions") or []}
        for version in replaced:
            if version not in deployed:
                found.setdefault(version, []).append(
                    f"the deployments list shows it was rolled back from at {newer.get('created_on')}")
    return found


def _is_rollback(deployment: dict[str, Any]) -> bool:
    annotations = deployment.get("annotations") or {}
    return (annotations.get("workers/triggered_by") == "rollback"
            or OUR_MESSAGE in str(annotations.get("workers/message") or ""))


def _stable_versions(deployments: list[dict[str, Any]]) -> list[str]:
    """The versions deployed at 100%, in the order of ``deployments``, each once."""
    found: list[str] = []
    for deployment in deployments:
        for v in deployment.get("versions") or []:
            if float(v.get("percentage") or 0) == 100 and str(v["version_id"]) not in found:
                found.append(str(v["version_id"]))
    return found


def _failed_analytics(c: CloudflareClient, script: str, min_requests: int, failing_error_rate: float,
                      hung_wall_ms: float, window_seconds: int) -> tuple[dict[str, str], str | None]:
    """The versions whose analytics failed over the window; and why analytics could not be read, if they could not."""
    from ops.cloudflare.analytics import invocations

    until = datetime.now(timezone.utc)
    try:
        stats = invocations(c, script, since=until - timedelta(seconds=window_seconds), until=until)
    except ApiError as exc:
        return {}, str(exc)
    failed: dict[str, str] = {}
    hours = window_seconds / 3600
    for version, entry in (stats.get("by_version") or {}).items():
        requests, rate = int(entry.get("requests") or 0), entry.get("error_rate")
        tail = max((ms for ms in (entry.get("wall_ms") or {}).values() if ms is not None), default=None)
        if not version or requests < min_requests:
            continue
        if rate is not None and rate >= failing_error_rate:
            failed[version] = f"its analytics show {rate:.0%} errors over {requests} requests in the last {hours:g} h"
        elif tail is not None and tail >= hung_wall_ms:
            failed[version] = f"its analytics show a wall time of {tail / 1000:.0f} s (hung) in the last {hours:g} h"
    return failed, None

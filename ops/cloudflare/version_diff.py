"""What moving traffic from the live version to another drags along: the diff of the two versions.

A version carries its code, its secrets, its bindings, its compatibility date and flags
and the Durable Object migration tag; routes and cron triggers are not versioned, so a
rollback leaves them as they are (developers.cloudflare.com/workers/configuration/
versions-and-deployments/, "Non-versioned settings"). Secrets are compared by name only:
the API never gives a value back. Whether one changed since the target was made is what
the version list shows: each secret change makes a version of its own (annotation
``workers/triggered_by: secret``, as ``wrangler secret put`` and ``inv remediate.secret-rotation``
leave it); a target older than one of those would bring back a secret rotated away.
"""

from __future__ import annotations

from typing import Any

from ops.cloudflare import _api
from ops.cloudflare._client import CloudflareClient

__all__ = ["versions_diff"]

UNVERSIONED = "routes, custom domains and cron triggers are not versioned: unchanged by moving traffic between versions"


def versions_diff(c: CloudflareClient, script: str, current_version: str, target_version: str) -> dict[str, Any]:
    live, target = _api.get_version(c, script, current_version), _api.get_version(c, script, target_version)
    secrets = {which: _secret_names(v) for which, v in (("live", live), ("target", target))}
    bindings = {which: _bindings(v) for which, v in (("live", live), ("target", target))}
    runtime = {which: (v.get("resources") or {}).get("script_runtime") or {} for which, v in (("live", live), ("target", target))}
    rotations = _rotations_since(c, script, _api.list_versions(c, script), target_version)
    flags = {which: set(r.get("compatibility_flags") or []) for which, r in runtime.items()}
    changed_bindings = sorted(n for n in set(bindings["live"]) & set(bindings["target"])
                              if bindings["live"][n] != bindings["target"][n])
    return {
        "secrets": {"only_live": sorted(secrets["live"] - secrets["target"]),
                    "only_target": sorted(secrets["target"] - secrets["live"]),
                    "both": sorted(secrets["live"] & secrets["target"]),
                    "changed_since_target": [r["message"] or f"a secret change (version {r['version_id']})"
                                             for r in rotations]},
        "rotations_since_target": rotations,
        "bindings": {"only_live": sorted(set(bindings["live"]) - set(bindings["target"])),
                     "only_target": sorted(set(bindings["target"]) - set(bindings["live"])),
                     "changed": changed_bindings},
        "compatibility_date": {"live": runtime["live"].get("compatibility_date"),
                               "target": runtime["target"].get("compatibility_date"),
                               "changed": runtime["live"].get("compatibility_date") != runtime["target"].get("compatibility_date")},
        "compatibility_flags": {"only_live": sorted(flags["live"] - flags["target"]),
                                "only_target": sorted(flags["target"] - flags["live"])},
        "migration_tag": {"live": runtime["live"].get("migration_tag"), "target": runtime["target"].get("migration_tag"),
                          "changed": runtime["live"].get("migration_tag") != runtime["target"].get("migration_tag")},
        "unversioned": UNVERSIONED,
    }


def _secret_names(version: dict[str, Any]) -> set[str]:
    return {str(b["name"]) for b in (version.get("resources") or {}).get("bindings") or []
            if isinstance(b, dict) and b.get("type") == "secret_text" and b.get("name")}


def _bindings(version: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every binding but secrets, by name, without the values plain-text and JSON bindings carry."""
    return {str(b["name"]): {k: v for k, v in b.items() if k not in ("text", "json")}
            for b in (version.get("resources") or {}).get("bindings") or []
            if isinstance(b, dict) and b.get("name") and b.get("type") != "secret_text"}


def _rotations_since(c: CloudflareClient, script: str, versions: list[dict[str, Any]], target: str) -> list[dict[str, Any]]:
    """The secret rotations made after ``target`` (each secret change is a version of its own), oldest first.

    A change that adds a secret, or deletes one, is not a rotation: moving traffic to the target brings back no old
    value of it (Cloudflare's own check of differing secrets, error 10220, still applies). A change that keeps the
    same names changed a value: that is a rotation. The API never returns values, so the names tell them apart."""
    number = next((int(v.get("number") or 0) for v in versions if v.get("id") == target), None)
    if number is None:
        return []
    ordered = sorted(versions, key=lambda v: int(v.get("number") or 0))
    names: dict[str, set[str]] = {}

    def secret_names(version_id: str) -> set[str]:
        if version_id not in names:
            names[version_id] = _secret_names(_api.get_version(c, script, version_id))
        return names[version_id]

    rotations = []
    for before, v in zip(ordered, ordered[1:]):
        if int(v.get("number") or 0) <= number or (v.get("annotations") or {}).get("workers/triggered_by") != "secret":
            continue
        if secret_names(str(v["id"])) != secret_names(str(before["id"])):
            continue  # a secret added or deleted
        rotations.append({"version_id": v["id"], "number": v.get("number"),
                          "created_on": (v.get("metadata") or {}).get("created_on"),
                          "message": (v.get("annotations") or {}).get("workers/message") or ""})
    return rotations

"""After our deployment POST: the deployments list re-read, and whose deployments ours overwrote.

A run re-reads the live deployment immediately before it deploys, but someone else
can still deploy between that read and our POST. The API deploys what it is told,
so the only way to know is to look afterwards: list the deployments (newest first)
and name every one that lies between the deployment we meant to replace and ours
(``overwrote``), and any made after ours (``superseded_by``).
"""

from __future__ import annotations

from typing import Any

from ops.cloudflare import _api
from ops.cloudflare._client import CloudflareClient
from ops.errors import ApiError

__all__ = ["deployments_around"]


def deployments_around(c: CloudflareClient, script: str, ours: dict[str, Any], replacing: str) -> dict[str, Any]:
    """Never raises: our deployment is made, and a failed re-read only means nobody can tell."""
    try:
        listed = _api.list_deployments(c, script)
    except ApiError as exc:
        return {"overwrote": [], "superseded_by": [],
                "overwrite_check": f"could not re-read the deployments list ({exc.message}); compare "
                                   "`wrangler deployments list` by hand"}
    ids = [str(d.get("id")) for d in listed]
    if str(ours.get("id")) not in ids:
        return {"overwrote": [], "superseded_by": [],
                "overwrite_check": f"our deployment {ours.get('id')} is not among the {len(listed)} listed"}
    at = ids.index(str(ours.get("id")))
    older = ids[at + 1:]
    if replacing not in older:
        return {"overwrote": [], "superseded_by": [_brief(d) for d in listed[:at]],
                "overwrite_check": f"the deployment this run replaced ({replacing}) is not among the "
                                   f"{len(listed)} listed; compare `wrangler deployments list` by hand"}
    between = listed[at + 1:at + 1 + older.index(replacing)]
    return {"overwrote": [_brief(d) for d in between], "superseded_by": [_brief(d) for d in listed[:at]],
            "overwrite_check": "checked"}


def _brief(deployment: dict[str, Any]) -> dict[str, Any]:
    versions = deployment.get("versions") or []
    return {"id": deployment.get("id"), "created_on": deployment.get("created_on"),
            "author_email": deployment.get("author_email"),
            "version_ids": [v.get("version_id") for v in versions if isinstance(v, dict)],
            "message": (deployment.get("annotations") or {}).get("workers/message")}

"""A secret changed on the deployed version when it is not the latest (after a rollback), without the latest's code.

Cloudflare's secrets API refuses any change while the latest version is not fully deployed (10215), and
both ways wrangler offers build on the latest version: `wrangler versions secret put` 4.164 patches it
(``PATCH /workers/workers/{script}/versions/latest``), and 4.86 copies it (workers-sdk
packages/wrangler/src/versions/secrets/index.ts ``copyWorkerVersionWithNewSecrets``). After a rollback the
latest version is the bad one, so either would carry its code back into service.

This builds the new version as ``copyWorkerVersionWithNewSecrets`` does, from the *deployed* version
instead: its modules (``GET /workers/scripts/{script}/content/v2?version=``, multipart with the main module
in ``cf-entrypoint``), its compatibility date and flags, and every binding as ``{"type": "inherit", "name",
"version_id": <deployed>}`` (cloudflare-typescript src/resources/workers/scripts/versions.ts
``WorkersBindingKindInherit.version_id``: "the version to inherit the binding from ... Defaults to inheriting
the binding from the latest version"), secrets included, except the ones put (``secret_text``) or removed
(left out; without ``keep_bindings`` a binding not sent is not kept, as wrangler's secret delete relies on).
The upload is ``POST /workers/scripts/{script}/versions`` (``VersionCreateParams``); the version is then
deployed at 100% in one deployment (``DeploymentCreateParams``), as `wrangler versions deploy` does after a
`versions secret put`.
"""

from __future__ import annotations

import json
import secrets as random
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from ops.cloudflare import _api
from ops.cloudflare._client import CloudflareClient, _envelope
from ops.errors import ApiError, InputError


def deployed_version(c: CloudflareClient, script: str) -> dict[str, Any]:
    """The one version the live deployment serves at 100%; a split (a gradual deployment) has no single one."""
    deployments = sorted(_api.list_deployments(c, script), key=lambda d: str(d.get("created_on") or ""), reverse=True)
    live = (deployments[0].get("versions") or []) if deployments else []
    if not live:
        raise InputError(f"{script} has no deployment: deploy it first (`wrangler deploy`)")
    whole = [v for v in live if float(v.get("percentage") or 0) == 100]
    if not whole:
        shares = ", ".join(f"{v.get('version_id')} at {float(v.get('percentage') or 0):g}%" for v in live)
        raise InputError(f"{script}'s live deployment is split ({shares}): a secret cannot be changed on one version "
                         "of a gradual deployment; promote it or roll it back first, then rerun")
    return _api.get_version(c, script, str(whole[0]["version_id"]))


def version_from_deployed(c: CloudflareClient, script: str, *, put: dict[str, str] | None = None,
                          remove: tuple[str, ...] = (), message: str = "") -> dict[str, Any]:
    """A new version made from the deployed one, with the secrets in ``put`` set and those in ``remove`` left out,
    deployed at 100%. The result names the new version and the one it was built from."""
    base = deployed_version(c, script)
    put = dict(put or {})
    names = {str(b.get("name")) for b in (base.get("resources") or {}).get("bindings") or []}
    absent = [n for n in remove if n not in names]
    if absent:
        raise InputError(f"{script}'s deployed version has no binding {absent[0]!r} to remove")
    main, modules = _modules(c, script, str(base["id"]))
    built_from = f"built from deployed version {base.get('number')}"
    annotations = {"workers/message": _truncated(f"{message}, {built_from}" if message else built_from, 100)}
    metadata = {**_settings(base), "main_module": main, "bindings": _bindings(base, put, remove),
                "keep_assets": True, "annotations": annotations}
    boundary = random.token_hex(16)
    created = c.result("POST", f"/workers/scripts/{script}/versions", content=_form(boundary, metadata, modules),
                       headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    version_id = str((created or {}).get("id") or "")
    if not version_id:
        raise ApiError(0, f"the versions API created no version id for {script}", path=f"/workers/scripts/{script}/versions")
    deployment = _api.create_deployment(c, script, version_id, message=annotations["workers/message"])
    return {"version_id": version_id, "version_number": (created or {}).get("number"), "built_from": str(base["id"]),
            "built_from_number": base.get("number"), "deployment_id": deployment.get("id"),
            "how": f"a new version {built_from} ({base['id']}), deployed at 100%: the latest version is not the deployed one"}


def _settings(version: dict[str, Any]) -> dict[str, Any]:
    """What the version runs with, beyond code and bindings (``VersionCreateParams.metadata``)."""
    runtime = (version.get("resources") or {}).get("script_runtime") or {}
    script = (version.get("resources") or {}).get("script") or {}
    settings: dict[str, Any] = {"compatibility_date": runtime.get("compatibility_date"),
                                "compatibility_flags": list(runtime.get("compatibility_flags") or [])}
    if runtime.get("usage_model"):
        settings["usage_model"] = runtime["usage_model"]
    if runtime.get("limits"):
        settings["limits"] = runtime["limits"]
    if script.get("placement_mode") == "smart":
        settings["placement"] = {"mode": "smart"}
    return {k: v for k, v in settings.items() if v is not None}


def _bindings(version: dict[str, Any], put: dict[str, str], remove: tuple[str, ...]) -> list[dict[str, Any]]:
    inherited = [{"type": "inherit", "name": str(b["name"]), "version_id": str(version["id"])}
                 for b in (version.get("resources") or {}).get("bindings") or []
                 if isinstance(b, dict) and b.get("name") and b["name"] not in put and b["name"] not in remove]
    return inherited + [{"type": "secret_text", "name": name, "text": text} for name, text in put.items()]


def _modules(c: CloudflareClient, script: str, version_id: str) -> tuple[str, list[tuple[str, str, bytes]]]:
    """The version's main module and every part (name, content type, bytes): modules, and source maps, which wrangler
    sends back too (as ``application/source-map`` parts)."""
    url = f"/accounts/{c.account_id}/workers/scripts/{script}/content/v2"
    response, note = c.send("GET", url, retryable=True, params={"version": version_id})
    ctype = response.headers.get("content-type", "")
    if response.status_code >= 400 or not ctype.startswith("multipart/form-data"):
        if response.status_code < 400 and ctype:
            raise InputError(f"{script}'s version {version_id} is not made of ES modules ({ctype.split(';')[0]}): "
                             "a service-worker script cannot be rebuilt here; redeploy its good code with `wrangler deploy`")
        _envelope(response, "GET", url, note=note)  # raises the API's error
        raise ApiError(0, f"GET {url}: HTTP {response.status_code} without content", status=response.status_code, path=url)
    entry = response.headers.get("cf-entrypoint") or ""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + response.content)
    modules = []
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition") or "")
        payload = part.get_payload(decode=True)
        modules.append((name, part.get_content_type(), payload if isinstance(payload, bytes) else b""))
    if not any(m[0] == entry for m in modules):
        raise ApiError(0, f"GET {url}: the content has no entry module (cf-entrypoint {entry or 'missing'})",
                       status=response.status_code, path=url)
    return entry, modules


def _form(boundary: str, metadata: dict[str, Any], modules: list[tuple[str, str, bytes]]) -> bytes:
    parts = [(f'Content-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n'.encode()
              + json.dumps(metadata).encode())]
    parts += [(f'Content-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
               f'Content-Type: {ctype}\r\n\r\n').encode() + data for name, ctype, data in modules]
    return b"".join(f"--{boundary}\r\n".encode() + p + b"\r\n" for p in parts) + f"--{boundary}--\r\n".encode()


def _truncated(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"

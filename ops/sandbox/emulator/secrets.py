"""Worker secrets: each change is a new version, deployed at once (as Cloudflare does)."""

from __future__ import annotations

from typing import Any

from ops.sandbox.emulator.routing import TS, WRANGLER, ApiFailure, Reply, Request, route
from ops.sandbox.emulator.scripts import _current_version, _deploy, _new_version, _script
from ops.sandbox.emulator.state import State


def _secret_change(state: State, name: str, secrets: dict[str, str], what: str) -> dict[str, Any]:
    """A new version from the latest with ``secrets``, deployed; refused while the latest version is not the deployed one
    (10215: a version built from the deployed one goes through the versions API, ops.cloudflare.secret_versions)."""
    script = _script(state, name)
    current = _current_version(script)
    if script["versions"][0]["id"] != current["id"]:
        raise ApiFailure(400, 10215, "Secret edit failed. You attempted to modify a secret, but the latest version "
                                     "of your Worker isn't currently deployed. Please ensure that the latest version "
                                     "of your Worker is fully deployed (wrangler versions deploy) before modifying "
                                     "secrets. Alternatively, you can use the Cloudflare dashboard to modify secrets "
                                     "and deploy the version.")
    version = _new_version(state, name, main_module=current["_main_module"], modules=current["_modules"],
                           bindings=[b for b in current["resources"]["bindings"] if b.get("type") != "secret_text"],
                           secrets=secrets, runtime=current["resources"]["script_runtime"], triggered_by="secret",
                           message=what, carried_from=current)
    _deploy(state, name, version["id"], triggered_by="secret")
    return version


@route("PUT", "/workers/scripts/{script}/secrets",
       f"{TS}workers/scripts/secrets.ts SecretUpdateParams (secret_text); error 10215 as {WRANGLER}secret/index.ts")
def put_secret(state: State, req: Request) -> Reply:
    body = req.json() or {}
    if not isinstance(body, dict) or not body.get("name") or body.get("type", "secret_text") != "secret_text":
        raise ApiFailure(400, 10021, "A secret needs a name, a text and type \"secret_text\".")
    current = _current_version(_script(state, req.params["script"]))
    secrets = {**current["_secrets"], body["name"]: str(body.get("text", ""))}
    _secret_change(state, req.params["script"], secrets, f"secret {body['name']} put")
    return 200, {"name": body["name"], "type": "secret_text"}, None


@route("GET", "/workers/scripts/{script}/secrets",
       f"{TS}workers/scripts/secrets.ts SecretListResponse")
def list_secrets(state: State, req: Request) -> Reply:
    current = _current_version(_script(state, req.params["script"]))
    return 200, [{"name": n, "type": "secret_text"} for n in sorted(current["_secrets"])], None


@route("DELETE", "/workers/scripts/{script}/secrets/{name}",
       f"{TS}workers/scripts/secrets.ts delete")
def delete_secret(state: State, req: Request) -> Reply:
    current = _current_version(_script(state, req.params["script"]))
    if req.params["name"] not in current["_secrets"]:
        raise ApiFailure(404, 10056, f"Secret {req.params['name']} was not found on this Worker.")
    secrets = {k: v for k, v in current["_secrets"].items() if k != req.params["name"]}
    _secret_change(state, req.params["script"], secrets, f"secret {req.params['name']} deleted")
    return 200, None, None

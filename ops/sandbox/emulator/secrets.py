"""Worker secrets: each change is a new version, deployed at once (as Cloudflare does)."""

from __future__ import annotations

from typing import Any

from ops.sandbox.emulator.routing import TS, WRANGLER, ApiFailure, Reply, Request, route
from ops.sandbox.emulator.scripts import _current_version, _deploy, _new_version, _script
from ops.sandbox.emulator.state import State


def _secret_change(state: State, name: str, secrets: dict[str, str], what: str, *,
                   from_deployed: bool = False) -> dict[str, Any]:
    """``from_deployed``: as the dashboard changes a secret, from the deployed version whatever the latest is (the
    sandbox's own breaks); the API refuses while the latest version is not deployed (10215)."""
    script = _script(state, name)
    current = _current_version(script)
    if script["versions"][0]["id"] != current["id"] and not from_deployed:
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


def delete_secret_from_deployed(state: State, script: str, name: str) -> tuple[int, Any]:
    """The admin route ``DELETE /__emulator/secrets/SCRIPT/NAME``: a secret deleted as the dashboard deletes it, from the
    deployed version, even while a later version is not deployed (after a rollback); the sandbox's secret-missing break."""
    with state.lock:
        try:
            current = _current_version(_script(state, script))
        except (ApiFailure, StopIteration):
            return 404, {"error": f"no deployed Worker {script}"}
        if name not in current["_secrets"]:
            return 404, {"error": f"{script} has no secret {name}"}
        version = _secret_change(state, script, {k: v for k, v in current["_secrets"].items() if k != name},
                                 f"secret {name} deleted", from_deployed=True)
    return 200, {"version_id": version["id"]}

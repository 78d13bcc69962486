"""Workflows: the two routes `wrangler deploy` of a Worker that defines a Workflow calls.

Before the upload it reads ``GET /workflows/{name}`` to find a Workflow another Worker owns (workers-sdk
packages/deploy-helpers/src/deploy/helpers/check-workflow-conflicts.ts: 10200 means none); after it, it
``PUT``s the Workflow with its ``script_name`` and ``class_name`` (deploy-helpers src/triggers/deploy.ts).
The instances run in the sandbox's `wrangler dev`, which emulates Workflows locally.
"""

from __future__ import annotations

from typing import Any

from ops.sandbox.emulator.routing import TS, ApiFailure, Reply, Request, route
from ops.sandbox.emulator.state import State, new_id, now

DEPLOY_HELPERS = "workers-sdk@f8308360 packages/deploy-helpers/src/"


def _workflows(state: State) -> dict[str, Any]:
    found: dict[str, Any] = state.data.setdefault("workflows", {})
    return found


@route("GET", "/workflows/{name}", f"{TS}workflows/workflows.ts WorkflowGetResponse (10200 when there is none: "
       f"{DEPLOY_HELPERS}deploy/helpers/check-workflow-conflicts.ts)")
def get_workflow(state: State, req: Request) -> Reply:
    workflow = _workflows(state).get(req.params["name"])
    if workflow is None:
        raise ApiFailure(404, 10200, f"Workflow {req.params['name']} not found")  # WORKFLOW_NOT_FOUND_CODE
    return 200, {k: workflow[k] for k in ("id", "class_name", "created_on", "modified_on", "name", "script_name",
                                          "triggered_on")} | {"instances": {}}, None


@route("PUT", "/workflows/{name}", f"{TS}workflows/workflows.ts WorkflowUpdateParams / WorkflowUpdateResponse (as "
       f"{DEPLOY_HELPERS}triggers/deploy.ts sends it)")
def put_workflow(state: State, req: Request) -> Reply:
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get("script_name"), str) or not isinstance(body.get("class_name"), str):
        raise ApiFailure(400, 10021, "A Workflow needs a script_name and a class_name.")
    name = req.params["name"]
    kept = _workflows(state).get(name) or {"id": new_id(), "created_on": now(), "triggered_on": None}
    kept.update({"name": name, "script_name": body["script_name"], "class_name": body["class_name"], "modified_on": now()})
    _workflows(state)[name] = kept
    state.save()
    return 200, {**kept, "is_deleted": 0, "terminator_running": 0, "version_id": new_id()}, None

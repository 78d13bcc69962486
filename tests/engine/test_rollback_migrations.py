"""The rollback's plan refuses a rollback across a Durable Object migration, with the runbook's fix.

Cloudflare refuses such a rollback (developers.cloudflare.com/workers/configuration/
versions-and-deployments/rollbacks/, Limits); the emulator refuses it too, so the plan must find
out first, from each version's ``resources.script_runtime.migration_tag``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from ops.sandbox.emulator import EmulatorHandle, start_emulator
from testing.workspace import CANARY, REPO, Workspace, make_workspace
from tests.fakes.service import Service

ACCOUNT, TOKEN, SCRIPT = "5a4db0c5000000000000000000000000", f"{CANARY}-token", "api-worker"
CODE = b"export class Counter { fetch() { return new Response('1') } }\nexport default { fetch() { return new Response('ok') } }\n"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorHandle]:
    handle = start_emulator(tmp_path / "state.json", account_id=ACCOUNT, token=TOKEN)
    yield handle
    handle.stop()


@pytest.fixture
def rollback(tmp_path: Path, service: Service, emulator: EmulatorHandle) -> Workspace:
    ws = make_workspace(tmp_path / "ws", service.url, emulator.api_base_url)
    ws.add_spec(REPO / "remediations" / "rollback.yaml")
    return ws


def _deploy(emulator: EmulatorHandle, migrations: dict[str, Any] | None = None) -> str:
    """A `wrangler deploy`'s upload (multipart metadata and module), with the migrations wrangler would send."""
    metadata = {"main_module": "index.js", "compatibility_date": "2026-04-01",
                "bindings": [{"type": "durable_object_namespace", "name": "COUNTER", "class_name": "Counter"}],
                **({"migrations": migrations} if migrations else {})}
    response = httpx.put(f"{emulator.api_base_url}/accounts/{ACCOUNT}/workers/scripts/{SCRIPT}",
                         headers={"Authorization": f"Bearer {TOKEN}"},
                         files={"metadata": (None, json.dumps(metadata), "application/json"),
                                "index.js": ("index.js", CODE, "application/javascript+module")})
    assert response.json()["success"], response.text
    return str(response.json()["result"]["deployment_id"])


def _deployment_posts(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    return [r for r in emulator.emulator.requests if r["method"] == "POST" and r["path"].endswith("/deployments")]


def test_the_plan_refuses_a_rollback_across_a_migration_and_says_to_deploy_forward(
        rollback: Workspace, emulator: EmulatorHandle) -> None:
    _deploy(emulator, {"new_tag": "v1", "steps": [{"new_classes": ["Counter"]}]})
    before = _deploy(emulator)  # the rollback target: tag v1
    _deploy(emulator, {"old_tag": "v1", "new_tag": "v2", "steps": [{"new_sqlite_classes": ["Room"]}]})

    for argv in (("--dry-run",), ("--yes",)):
        done = rollback.inv("remediate.rollback", "--force", *argv)
        assert done.returncode == 3, done.stdout + done.stderr
        assert "precondition 'no-migration-between' failed: a Durable Object migration was applied after the target version" in done.stdout
        assert "run `wrangler deploy`" in done.stdout
        assert "result.crosses_migration" in done.stdout
    assert _deployment_posts(emulator) == []

    refused = httpx.post(f"{emulator.api_base_url}/accounts/{ACCOUNT}/workers/scripts/{SCRIPT}/deployments",
                         headers={"Authorization": f"Bearer {TOKEN}"},
                         json={"strategy": "percentage", "versions": [{"version_id": before, "percentage": 100}]})
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (400, 10226)  # what the precondition spares


def test_a_rollback_within_one_migration_tag_goes_ahead(rollback: Workspace, emulator: EmulatorHandle) -> None:
    _deploy(emulator, {"new_tag": "v1", "steps": [{"new_classes": ["Counter"]}]})
    _deploy(emulator, {"old_tag": "v1", "new_tag": "v2", "steps": [{"new_sqlite_classes": ["Room"]}]})
    target = _deploy(emulator)
    _deploy(emulator)

    done = rollback.inv("remediate.rollback", "--force", "--dry-run", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    plan = json.loads(done.stdout)
    check = next(r for r in plan["records"] if r["name"] == "no-migration-between")
    assert check["status"] == "passed" and target in done.stdout

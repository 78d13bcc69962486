"""The rollback's preflight: the target version's bindings must still exist, the migration check says what it
compared, and Cloudflare's refusal is the final answer (issue 19, points 5 and 6).

Cloudflare refuses a rollback to a version that binds "an R2 bucket, KV namespace, or queue that no longer
exists" (developers.cloudflare.com/workers/configuration/versions-and-deployments/rollbacks/, Limits,
Bindings); the emulator refuses it too (10227, its own code), so the plan must find out first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from ops.sandbox.emulator import EmulatorHandle
from tests.cloudflare.uploads import deploy, emulator_in, upload
from testing.workspace import CANARY, REPO, Workspace, make_workspace
from tests.fakes.service import Service

ACCOUNT, TOKEN, SCRIPT = "5a4db0c5000000000000000000000000", f"{CANARY}-token", "api-worker"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorHandle]:
    yield from emulator_in(tmp_path, token=TOKEN)


@pytest.fixture
def rollback(tmp_path: Path, service: Service, emulator: EmulatorHandle) -> Workspace:
    ws = make_workspace(tmp_path / "ws", service.url, emulator.api_base_url)
    ws.add_spec(REPO / "remediations" / "rollback.yaml")
    return ws


def api(emulator: EmulatorHandle, method: str, path: str, **kwargs: Any) -> Any:
    answer = httpx.request(method, f"{emulator.api_base_url}/accounts/{ACCOUNT}{path}", headers=AUTH, **kwargs).json()
    assert answer["success"], answer
    return answer["result"]


def resources(emulator: EmulatorHandle) -> dict[str, str]:
    """A KV namespace, an R2 bucket (in the default jurisdiction), a queue and a D1 database."""
    return {"kv": api(emulator, "POST", "/storage/kv/namespaces", json={"title": "cache"})["id"],
            "queue": api(emulator, "POST", "/queues", json={"queue_name": "covers"})["queue_id"],
            "d1": api(emulator, "POST", "/d1/database", json={"name": "books"})["uuid"],
            "bucket": api(emulator, "POST", "/r2/buckets", json={"name": "book-covers"})["name"]}


def bound(ids: dict[str, str], jurisdiction: str = "") -> list[dict[str, Any]]:
    r2: dict[str, Any] = {"type": "r2_bucket", "name": "COVERS", "bucket_name": ids["bucket"]}
    return [{"type": "kv_namespace", "name": "CACHE", "namespace_id": ids["kv"]},
            {**r2, **({"jurisdiction": jurisdiction} if jurisdiction else {})},
            {"type": "queue", "name": "JOBS", "queue_name": "covers"},
            {"type": "d1", "name": "DB", "database_id": ids["d1"]}]


def test_a_target_binding_resources_that_are_gone_stops_the_plan_with_what_to_recreate(
        rollback: Workspace, emulator: EmulatorHandle) -> None:
    ids = resources(emulator)
    target = upload(emulator.api_base_url, SCRIPT, bindings=bound(ids, jurisdiction="eu"), token=TOKEN)
    upload(emulator.api_base_url, SCRIPT, token=TOKEN)
    api(emulator, "DELETE", f"/storage/kv/namespaces/{ids['kv']}")
    api(emulator, "DELETE", f"/queues/{ids['queue']}")
    api(emulator, "DELETE", f"/d1/database/{ids['d1']}")

    for argv in (("--dry-run",), ("--yes",)):
        done = rollback.inv("remediate.rollback", "--force", *argv)
        assert done.returncode == 3, done.stdout + done.stderr
        assert "precondition 'target-bindings-exist' failed: the target version binds resources that no longer exist" in done.stdout
        for line in (f"binding CACHE: KV namespace {ids['kv']} no longer exists", "`wrangler queues create covers`",
                     "binding COVERS: R2 bucket book-covers (jurisdiction eu) no longer exists; "
                     "`wrangler r2 bucket create book-covers --jurisdiction eu`",
                     f"binding DB: D1 database {ids['d1']} no longer exists"):
            assert line in done.stdout, done.stdout

    refused = deploy(emulator.api_base_url, SCRIPT, [(target, 100)], token=TOKEN)
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (400, 10227)  # what the precondition spares
    assert "KV namespace" in refused.json()["errors"][0]["message"]
    assert "D1" not in refused.json()["errors"][0]["message"]  # not on the rollbacks page's list


def test_a_target_whose_resources_all_exist_passes_the_preflight(rollback: Workspace, emulator: EmulatorHandle) -> None:
    ids = resources(emulator)
    target = upload(emulator.api_base_url, SCRIPT, bindings=bound(ids), token=TOKEN)
    upload(emulator.api_base_url, SCRIPT, token=TOKEN)

    done = rollback.inv("remediate.rollback", "--force", "--dry-run", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    check = next(r for r in json.loads(done.stdout)["records"] if r["name"] == "target-bindings-exist")
    assert check["status"] == "passed" and target in done.stdout
    assert deploy(emulator.api_base_url, SCRIPT, [(target, 100)], token=TOKEN).status_code == 200


def test_the_migration_check_says_what_it_compared(rollback: Workspace, emulator: EmulatorHandle) -> None:
    upload(emulator.api_base_url, SCRIPT, token=TOKEN)
    upload(emulator.api_base_url, SCRIPT, token=TOKEN)

    done = rollback.inv("remediate.rollback", "--force", "--dry-run", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    check = next(r for r in json.loads(done.stdout)["records"] if r["name"] == "no-migration-between")
    assert "does not prove that no migration lies between them" in json.dumps(check)
    assert "Cloudflare's answer to the deployment decides" in json.dumps(check)


def test_a_durable_object_class_one_version_binds_and_the_other_does_not_is_a_migration(
        rollback: Workspace, emulator: EmulatorHandle) -> None:
    counter = {"type": "durable_object_namespace", "name": "COUNTER", "class_name": "Counter"}
    upload(emulator.api_base_url, SCRIPT, bindings=[counter], token=TOKEN)
    upload(emulator.api_base_url, SCRIPT, token=TOKEN,
           bindings=[counter, {"type": "durable_object_namespace", "name": "ROOM", "class_name": "Room"}])

    done = rollback.inv("remediate.rollback", "--force", "--dry-run")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "precondition 'no-migration-between' failed" in done.stdout


def test_cloudflares_refusal_is_the_final_answer_and_is_journaled_as_such(
        rollback: Workspace, emulator: EmulatorHandle) -> None:
    target = upload(emulator.api_base_url, SCRIPT, token=TOKEN)
    live = upload(emulator.api_base_url, SCRIPT, token=TOKEN)
    httpx.put(f"{emulator.url}/__emulator/faults", headers=emulator.admin_headers, json={"forced": [
        {"method": "POST", "path": "/deployments$", "code": 10226, "status": 400, "times": 1,
         "message": "Cannot deploy: a Durable Object migration has occurred since this version"}]}).raise_for_status()

    done = rollback.inv("remediate.rollback", "--force", "--yes")
    assert done.returncode != 0
    said = f"Cloudflare refused to deploy version {target}: Cannot deploy: a Durable Object migration has occurred"
    assert said in done.stdout + done.stderr
    assert "Its refusal is the final answer" in done.stdout + done.stderr
    journal = rollback.inv("journal.show", "latest", "--json")
    ends = [e for e in map(json.loads, journal.stdout.splitlines()) if e["event"] == "step-end" and e["name"] == "deploy-target"]
    assert len(ends) == 1 and ends[0]["outcome"] == "failed"
    assert said in ends[0]["message"] and "the live deployment is unchanged" in ends[0]["message"]
    assert api(emulator, "GET", f"/workers/scripts/{SCRIPT}/deployments")["deployments"][0]["versions"][0]["version_id"] == live

"""Saved plans: signed with the target's credential, single use, expiring, bounded, and bound to facts that matter.

Through the real `inv` CLI, against the loopback service and the in-process Cloudflare emulator.
A race (a deployment or dead letters arriving between our last read and our write) is injected
in the emulator's own routing, so the client code under test talks the real API throughout.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from ops.sandbox.emulator import EmulatorHandle, start_emulator
from ops.sandbox.emulator import routing, scripts
from ops.sandbox.emulator.__main__ import load_seed
from testing.workspace import CANARY, REPO, Workspace, make_workspace
from tests.fakes.service import Service

ACCOUNT, TOKEN, SCRIPT = "5a4db0c5000000000000000000000000", f"{CANARY}-token", "api-worker"
DLQ = "e0a0000000000000000000000000d001"

SPECS = Path(__file__).parent / "specs"
WRITES = [("POST", "/inc"), ("POST", "/add10")]


def _plan(ws: Workspace, *extra: str) -> Path:
    ws.add_spec(SPECS / "poke.yaml")
    path = ws.root / "plan.json"
    made = ws.inv("remediate.poke", "--dry-run", "--plan-out", str(path), *extra)
    assert made.returncode == 0, made.stdout + made.stderr
    return path


def test_a_plan_edited_and_rehashed_with_plain_sha256_is_refused(workspace: Workspace, service: Service) -> None:
    path = _plan(workspace)
    doc = json.loads(path.read_text())
    doc["contract"]["steps"]["add-one"]["json"]["seen"] = "v9"
    canonical = json.dumps(doc["contract"], sort_keys=True, separators=(",", ":"), default=str)
    doc["plan_hash"] = hashlib.sha256(canonical.encode()).hexdigest()[:16]  # all an attacker can recompute
    body = {k: v for k, v in doc.items() if k != "signature"}
    doc["signature"] = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    path.write_text(json.dumps(doc))
    done = workspace.inv("remediate.poke", "--plan", str(path))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "the plan's signature does not match its body under target 'test''s credential" in done.stderr
    assert service.state.mutating() == []


def test_a_plan_signed_under_another_token_is_refused(workspace: Workspace, service: Service) -> None:
    path = _plan(workspace)
    targets = Path(workspace.env["OPS_TARGETS_FILE"])
    targets.write_text(targets.read_text().replace(f"{CANARY}-token", "another-token"))
    done = workspace.inv("remediate.poke", "--plan", str(path))
    assert done.returncode == 3 and "signature does not match" in done.stderr
    assert service.state.mutating() == []


def test_a_plan_applies_once_and_the_second_apply_says_when_the_first_was(workspace: Workspace,
                                                                          service: Service) -> None:
    path = _plan(workspace)
    first = workspace.inv("remediate.poke", "--plan", str(path), "--json")
    assert first.returncode == 0, first.stdout + first.stderr
    again = workspace.inv("remediate.poke", "--plan", str(path))
    assert again.returncode == 3
    assert "this plan was already applied at 20" in again.stderr and json.loads(first.stdout)["run_id"] in again.stderr
    assert service.state.mutating() == WRITES
    events = [json.loads(line) for line in next(workspace.journal.glob("*.jsonl")).read_text().splitlines()]
    assert [e["event"] for e in events].count("plan-applied") == 1


def test_a_refused_apply_does_not_use_the_plan_up(workspace: Workspace, service: Service) -> None:
    path = _plan(workspace)
    service.state.version = "v2"
    assert workspace.inv("remediate.poke", "--plan", str(path)).returncode == 3  # stale: nothing written
    service.state.version = "v1"
    assert workspace.inv("remediate.poke", "--plan", str(path)).returncode == 0
    assert service.state.mutating() == WRITES


def test_an_expired_plan_is_refused(workspace: Workspace, service: Service) -> None:
    path = _plan(workspace, "--plan-ttl", "1s")
    assert json.loads(path.read_text())["expires_at"].endswith("Z")
    time.sleep(1.2)
    done = workspace.inv("remediate.poke", "--plan", str(path))
    assert done.returncode == 3
    assert "the plan expired at 20" in done.stderr and "--plan-ttl" in done.stderr
    assert service.state.mutating() == []


def test_a_plan_lasts_an_hour_by_default(workspace: Workspace, service: Service) -> None:
    from datetime import datetime

    doc = json.loads(_plan(workspace).read_text())
    made, expires = (datetime.fromisoformat(doc[k].replace("Z", "+00:00")) for k in ("made_at", "expires_at"))
    assert (expires - made).total_seconds() == 3600


@pytest.mark.parametrize("argv, message", [
    (("--plan-ttl", "soon"), "--plan-ttl: 'soon' is not a duration"),
    (("--plan-ttl", "0"), "--plan-ttl: '0' must be more than 0"),
])
def test_a_bad_plan_ttl_is_bad_input(workspace: Workspace, argv: tuple[str, ...], message: str) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    done = workspace.inv("remediate.poke", "--dry-run", "--plan-out", str(workspace.root / "p.json"), *argv)
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_plan_files_are_bounded(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    big = workspace.root / "big.json"
    big.write_bytes(b"[" + b" " * (1 << 20) + b"]")
    for path, message in (("/dev/zero", "not a regular file"), (str(big), "a plan may be at most 1,048,576 bytes")):
        done = workspace.inv("remediate.poke", "--plan", path)
        assert done.returncode == 2, done.stderr
        assert message in done.stderr and "MemoryError" not in done.stderr and "Traceback" not in done.stderr
    assert service.state.mutating() == []


# --- against the Cloudflare emulator ---------------------------------------------------------------------------

CODE = b"export default { fetch() { return new Response('ok') } }\n"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorHandle]:
    handle = start_emulator(tmp_path / "state.json", account_id=ACCOUNT, token=TOKEN, seed=load_seed("default"))
    yield handle
    handle.stop()


@pytest.fixture
def cf(tmp_path: Path, service: Service, emulator: EmulatorHandle) -> Workspace:
    ws = make_workspace(tmp_path / "ws", service.url, emulator.api_base_url)
    targets = Path(ws.env["OPS_TARGETS_FILE"])
    targets.write_text(targets.read_text() + 'health = { path = "/health", status = 200 }\n')
    return ws


def _upload(emulator: EmulatorHandle) -> str:
    metadata = {"main_module": "index.js", "compatibility_date": "2026-04-01"}
    response = httpx.put(f"{emulator.api_base_url}/accounts/{ACCOUNT}/workers/scripts/{SCRIPT}",
                         headers={"Authorization": f"Bearer {TOKEN}"},
                         files={"metadata": (None, json.dumps(metadata), "application/json"),
                                "index.js": ("index.js", CODE, "application/javascript+module")})
    assert response.json()["success"], response.text
    return str(scripts.live_version_id(emulator.emulator.state.data["scripts"][SCRIPT]))


def _before(monkeypatch: pytest.MonkeyPatch, method: str, handler_name: str,
            first: Callable[[Any, routing.Request], None]) -> None:
    """Run ``first`` inside the emulator just before the first request a route answers: someone else's change."""
    [(index, (verb, regex, handler))] = [(i, r) for i, r in enumerate(routing.ROUTES)
                                        if r[0] == method and r[2].__name__ == handler_name]
    fired: list[bool] = []

    def wrapped(state: Any, req: routing.Request) -> Any:
        if not fired:
            fired.append(True)
            first(state, req)
        return handler(state, req)

    routes = list(routing.ROUTES)
    routes[index] = (verb, regex, wrapped)
    monkeypatch.setattr(routing, "ROUTES", routes)


def _deployments(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    return [r for r in emulator.emulator.requests if r["method"] == "POST" and r["path"].endswith("/deployments")]


def test_a_saved_rollback_plan_applies_while_the_worker_is_still_failing(
        cf: Workspace, emulator: EmulatorHandle, service: Service) -> None:
    cf.add_spec(REPO / "remediations" / "rollback.yaml")
    good = _upload(emulator)
    _upload(emulator)
    service.state.health_status = 500
    plan = cf.root / "rollback.json"
    made = cf.inv("remediate.rollback", "--dry-run", "--plan-out", str(plan))
    assert made.returncode == 0, made.stdout + made.stderr
    bound = json.loads(plan.read_text())["contract"]["preconditions"]["worker-healthy"]
    assert bound == {"decision": "failed", "healthy": False}  # its decision, not its timings or counters
    time.sleep(0.3)  # timings and counters move; the Worker still fails
    done = cf.inv("remediate.rollback", "--plan", str(plan), "--deadline", "3.5", "--json")
    outcome = json.loads(done.stdout)
    assert outcome["status"] != "stale-plan", outcome["message"]
    assert next(r for r in outcome["records"] if r["name"] == "deploy-target")["status"] == "done"
    assert emulator.emulator.live_version(SCRIPT) == good
    assert len(_deployments(emulator)) == 1


def test_a_deployment_made_between_the_recheck_and_ours_is_reported_and_journaled(
        cf: Workspace, emulator: EmulatorHandle, service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    cf.add_spec(REPO / "remediations" / "rollback.yaml")
    other = _upload(emulator)
    good = _upload(emulator)
    _upload(emulator)

    def someone_deploys(state: Any, req: routing.Request) -> None:
        body = json.dumps({"strategy": "percentage", "versions": [{"version_id": other, "percentage": 100}],
                           "annotations": {"workers/message": "a colleague's hotfix"}}).encode()
        scripts.create_deployment(state, routing.Request("POST", req.path, {}, {}, body, {"script": SCRIPT}))

    _before(monkeypatch, "POST", "create_deployment", someone_deploys)
    done = cf.inv("remediate.rollback", "--force", "--deadline", "3.5", "--json")
    outcome = json.loads(done.stdout)
    assert emulator.emulator.live_version(SCRIPT) == good
    step = next(r for r in outcome["records"] if r["name"] == "deploy-target")
    assert "overwrote a deployment made at 20" in step["message"] and other in step["message"]
    assert "; BUT deploy-target overwrote a deployment made at" in outcome["message"]
    assert "check that their change is not lost" in outcome["message"]
    events = [json.loads(line) for line in Path(outcome["journal"]).read_text().splitlines()]
    [overwrote] = [e for e in events if e["event"] == "overwrote"]
    assert [d["message"] for d in overwrote["overwrote"]] == ["a colleague's hotfix"]


def test_a_rollback_nobody_raced_reports_no_overwrite(cf: Workspace, emulator: EmulatorHandle,
                                                      service: Service) -> None:
    cf.add_spec(REPO / "remediations" / "rollback.yaml")
    _upload(emulator)
    _upload(emulator)
    outcome = json.loads(cf.inv("remediate.rollback", "--force", "--deadline", "3.5", "--json").stdout)
    step = next(r for r in outcome["records"] if r["name"] == "deploy-target")
    assert step["status"] == "done" and "overwrote" not in step["message"] and "BUT" not in outcome["message"]
    assert step["outputs"]["result"]["overwrite_check"] == "checked"


def _dead_letters(emulator: EmulatorHandle, n: int, tag: str) -> None:
    messages = [{"body": {"job": f"{tag}-{i}"}, "content_type": "json"} for i in range(n)]
    response = httpx.post(f"{emulator.api_base_url}/accounts/{ACCOUNT}/queues/{DLQ}/messages/batch",
                          headers={"Authorization": f"Bearer {TOKEN}"}, json={"messages": messages})
    assert response.json()["success"], response.text


def _peeked(emulator: EmulatorHandle) -> int:
    response = httpx.post(f"{emulator.api_base_url}/accounts/{ACCOUNT}/queues/{DLQ}/messages/peek",
                          headers={"Authorization": f"Bearer {TOKEN}"}, json={"batch_size": 100})
    return len(response.json()["result"]["messages"])


def test_a_replay_plan_names_its_count_moves_at_most_that_and_applies_once(
        cf: Workspace, emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    cf.add_spec(REPO / "remediations" / "queue-redeploy.yaml")
    _upload(emulator)
    _dead_letters(emulator, 3, "first")
    plan = cf.root / "replay.json"
    made = cf.inv("remediate.queue-redeploy", "--queue", "enrichment-jobs", "--dead-letter-queue", "enrichment-dlq", "--replay-dlq",
                  "--dry-run", "--plan-out", str(plan), "--json")
    assert made.returncode == 0, made.stdout + made.stderr
    replay = next(r for r in json.loads(made.stdout)["records"] if r["name"] == "replay")
    assert replay["args"]["args"]["max_messages"] == 3

    def more_arrive(state: Any, req: routing.Request) -> None:  # after the last peek, before the first pull
        body = json.dumps({"messages": [{"body": {"job": f"late-{i}"}, "content_type": "json"} for i in range(2)]})
        emulated_push = next(r[2] for r in routing.ROUTES if r[2].__name__ == "push_batch")
        emulated_push(state, routing.Request("POST", req.path, {}, {}, body.encode(), {"queue": DLQ}))

    _before(monkeypatch, "POST", "pull", more_arrive)
    done = cf.inv("remediate.queue-redeploy", "--plan", str(plan), "--yes", "--deadline", "2", "--json")
    outcome = json.loads(done.stdout)
    moved = next(r for r in outcome["records"] if r["name"] == "replay")
    assert moved["outputs"]["result"]["moved"] == 3, outcome["message"]
    assert _peeked(emulator) == 2  # the late ones wait for a plan that names them

    again = cf.inv("remediate.queue-redeploy", "--plan", str(plan), "--yes", "--deadline", "2")
    assert again.returncode == 3 and "already applied at" in again.stderr
    assert _peeked(emulator) == 2

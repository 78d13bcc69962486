"""The engine's promises, proven through the real `inv` CLI against a loopback service."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from testing.workspace import CANARY, Workspace
from tests.fakes.service import Service

SPECS = Path(__file__).parent / "specs"


def _journal_events(ws: Workspace) -> list[dict]:
    [path] = sorted(ws.journal.glob("*.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_dry_run_probes_for_real_and_sends_no_mutating_request(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    done = workspace.inv("remediate.poke", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert service.state.requests == [("GET", "/health"), ("GET", "/state")]
    assert service.state.mutating() == []
    assert "plan step add-one: [write] POST " in done.stdout
    assert "undo: sub-one: POST " in done.stdout
    assert '"seen": "v1"' in done.stdout  # a probe's output, resolved into the plan
    assert "result: planned (exit 0): would change: add-one, add-ten" in done.stdout
    assert not workspace.journal.exists()


def test_successful_run_verifies_and_journals(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    done = workspace.inv("remediate.poke")
    assert done.returncode == 0, done.stderr
    assert service.state.value == 11
    kinds = [e["event"] for e in _journal_events(workspace)]
    assert kinds == ["run-start", "precondition", "step", "step-start", "step-end", "step-start", "step-end",
                     "check", "verified", "run-end"]


def test_failed_verification_undoes_in_reverse(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    done = workspace.inv("remediate.poke", "--expect-value", "99")
    assert done.returncode == 1
    assert service.state.mutating() == [("POST", "/inc"), ("POST", "/add10"), ("POST", "/sub10"), ("POST", "/dec")]
    assert service.state.value == 0
    assert "failed step: verify" in done.stdout
    assert "state left: restored: undid add-ten, add-one" in done.stdout
    assert "expected json.value == 99, got 11" in done.stdout


def test_failed_step_that_reached_the_service_is_undone_too(workspace: Workspace, service: Service) -> None:
    # The fake applies /add10 and then answers 500: a write that got an answer may have applied.
    spec = (SPECS / "poke.yaml").read_text().replace("/add10\", method: POST}", "/add10?status=500\", method: POST}")
    workspace.add_spec(spec, "poke.yaml")
    done = workspace.inv("remediate.poke")
    assert done.returncode == 1
    assert "step 'add-ten' failed: expected status == 200, but it answered 500" in done.stdout
    assert service.state.mutating()[2:] == [("POST", "/sub10"), ("POST", "/dec")]
    assert service.state.value == 0
    assert "state left: restored: undid add-ten, add-one" in done.stdout


def test_write_that_fails_without_an_answer_is_flagged_not_undone(workspace: Workspace, service: Service) -> None:
    spec = (SPECS / "poke.yaml").read_text().replace(
        'with: {url: "{{ target.worker_url }}/add10", method: POST}',
        'with: {url: "http://127.0.0.1:9/add10", method: POST, timeout: 2}')
    workspace.add_spec(spec, "poke.yaml")
    done = workspace.inv("remediate.poke")
    assert done.returncode == 1
    assert "step 'add-ten' failed: POST http://127.0.0.1:9/add10: ConnectError" in done.stdout
    assert "'add-ten' failed without an answer and may be partly applied: check it" in done.stdout
    assert service.state.mutating() == [("POST", "/inc"), ("POST", "/dec")]


def test_precondition_failure_exits_3_and_changes_nothing(workspace: Workspace, service: Service) -> None:
    service.state.health_status = 503
    workspace.add_spec(SPECS / "poke.yaml")
    done = workspace.inv("remediate.poke")
    assert done.returncode == 3
    assert "precondition 'healthy' failed: expected status == 200, but it answered 503" in done.stdout
    assert service.state.mutating() == []


def test_lock_refuses_a_second_run_naming_the_holder(workspace: Workspace, service: Service) -> None:
    from ops.engine.lock import TargetLock

    workspace.add_spec(SPECS / "poke.yaml")
    lock = TargetLock.for_worker(workspace.journal, "5a4db0c5000000000000000000000000", "api-worker")
    lock.acquire("rollback", "run-123")
    try:
        done = workspace.inv("remediate.poke")
    finally:
        lock.release()
    assert done.returncode == 3
    assert "rollback (pid " in done.stdout and "run run-123" in done.stdout
    assert service.state.mutating() == []
    assert workspace.inv("remediate.poke").returncode == 0  # released: the next run goes ahead


def test_destructive_step_refused_without_terminal_or_yes(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(SPECS / "destroy.yaml")
    refused = workspace.inv("remediate.destroy")
    assert refused.returncode == 3
    assert "No terminal to ask: rerun with --yes to confirm" in refused.stdout
    assert service.state.mutating() == []
    assert workspace.inv("remediate.destroy", "--yes").returncode == 0
    assert service.state.mutating() == [("POST", "/inc")]


def test_interrupt_leaves_a_consistent_journal_and_releases_the_lock(workspace: Workspace, service: Service) -> None:
    service.state.slow_seconds = 15  # long enough that the signal lands inside it on a loaded machine
    workspace.add_spec(SPECS / "slow.yaml")
    proc = workspace.popen("remediate.slow")
    deadline = time.monotonic() + 120  # a loaded machine starts the run slowly; the signal must land in the step
    while ("POST", "/slow") not in service.state.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ("POST", "/slow") in service.state.requests, "the run never reached its slow write"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    events = _journal_events(workspace)
    # Interrupted in its steps: the completed write is undone by its `step-failed` undo, as any stop in the steps.
    assert [e["event"] for e in events][-4:] == ["interrupted", "undo-start", "undo-end", "run-end"]
    assert events[-1]["state_left"] == "restored: undid first; 'slow-write' may be partly applied"
    assert service.state.mutating()[-1] == ("POST", "/dec")
    starts = [e["name"] for e in events if e["event"] == "step-start"]
    assert starts == ["first", "slow-write"]  # every mutating request had its journal event first
    service.state.slow_seconds = 0
    assert workspace.inv("remediate.slow").returncode == 0  # the lock was released


def test_saved_plan_applies_when_unchanged_and_is_refused_after_a_change(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    plan = workspace.root / "plan.json"
    made = workspace.inv("remediate.poke", "--dry-run", "--plan-out", str(plan), "--expect-value", "11")
    assert made.returncode == 0, made.stderr
    service.state.version = "v2"  # the state the plan was computed from has changed
    stale = workspace.inv("remediate.poke", "--plan", str(plan))
    assert stale.returncode == 3
    assert ("refused before 'add-one': it no longer does what the saved plan says "
            '(json.seen: the plan saw "v1", now "v2")') in stale.stdout
    assert service.state.mutating() == []
    service.state.version = "v1"
    applied = workspace.inv("remediate.poke", "--plan", str(plan))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert service.state.value == 11


def test_canary_secret_never_leaks(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    outputs = [
        workspace.inv("remediate.poke", "--dry-run"),
        workspace.inv("remediate.poke", "--dry-run", "--json"),
        workspace.inv("remediate.poke", "--json"),
        workspace.inv("remediate.poke", "--expect-value", "5"),
        workspace.inv("remediate.poke", "--token", "file:/nonexistent"),
        workspace.inv("journal.show", "latest"),
        workspace.inv("incident.report", "latest"),
    ]
    assert any(CANARY in h.get("x-token", "") for h in service.state.headers)  # it was really used
    for done in outputs:
        assert CANARY not in done.stdout + done.stderr
    for path in workspace.journal.rglob("*"):
        if path.is_file():
            assert CANARY not in path.read_text()
    assert "***REDACTED***" in outputs[2].stdout or "<secret: " in outputs[2].stdout


def test_json_output_is_one_document(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    done = workspace.inv("remediate.poke", "--json")
    result = json.loads(done.stdout)
    assert result["status"] == "ok" and result["exit_code"] == 0
    assert result["params"]["token"] == f"<secret: {len(CANARY)} chars from env:TEST_TOKEN>"

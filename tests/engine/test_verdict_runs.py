"""Verdicts, undo policies, honest summaries and plans as contracts, through the real `inv` CLI."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

from testing.workspace import REPO, Workspace
from tests.fakes.service import Service

SPEC = """
name: bump
summary: One undoable write, verified.
symptoms: [the value is wrong]
params:
  expect_value: {type: integer, default: 1, help: what verification expects}
  extra: {type: boolean, default: false, help: run the extra check}
preconditions:
  - name: dead-health
    action: http
    with: {url: "http://127.0.0.1:9/health", timeout: 2}
    expect: {status: 200}
    on_pass: noop
    on_fail: continue
    reason: the Worker is healthy
  - name: current
    action: http
    with: {url: "{{ target.worker_url }}/state"}
steps:
  - name: add-one
    action: http
    effect: write
    with: {url: "{{ target.worker_url }}/inc", method: POST, json: {seen: "{{ steps.current.outputs.json.version }}"}}
    expect: {status: 200}
    undo: sub-one
verify:
  deadline: 1
  interval: 0.2
  checks:
    - name: value
      action: http
      with: {url: "{{ target.worker_url }}/state"}
      expect: {json.value: "{{ params.expect_value }}"}
    - name: extra
      when: params.extra
      action: http
      with: {url: "{{ target.worker_url }}/state"}
      expect: {status: 200}
undo:
  - name: sub-one
    action: http
    with: {url: "{{ target.worker_url }}/dec", method: POST}
"""


def _bump(ws: Workspace, spec: str = SPEC) -> None:
    ws.add_spec(spec, "bump.yaml")


def test_a_worker_that_refuses_connections_is_failing_so_the_run_goes_on(workspace: Workspace, service: Service) -> None:
    _bump(workspace)
    done = workspace.inv("remediate.bump", "--json")
    result = json.loads(done.stdout)
    assert result["status"] == "ok", done.stdout
    pre = next(r for r in result["records"] if r["name"] == "dead-health")
    assert pre["status"] == "failed" and "ConnectError" in pre["message"]
    assert service.state.value == 1


def test_a_healthy_worker_is_a_noop_with_its_evidence(workspace: Workspace, service: Service) -> None:
    _bump(workspace, SPEC.replace("http://127.0.0.1:9/health", "{{ target.worker_url }}/health"))
    done = workspace.inv("remediate.bump", "--json")
    result = json.loads(done.stdout)
    assert (result["status"], result["exit_code"]) == ("noop", 0)
    assert result["message"] == "nothing to do: the Worker is healthy (it holds)"
    assert service.state.mutating() == []


def test_an_undecided_verification_ends_unverified_and_undoes_nothing(workspace: Workspace, service: Service) -> None:
    _bump(workspace, SPEC.replace("expect: {json.value:", "expect: {json.no_such_field:"))
    done = workspace.inv("remediate.bump", "--json")
    result = json.loads(done.stdout)
    assert (done.returncode, result["status"], result["exit_code"]) == (1, "unverified", 1)
    assert result["undone"] == [] and service.state.mutating() == [("POST", "/inc")]
    assert result["unverified"] == [
        "value: json.no_such_field is missing from the answer, so json.no_such_field == 1 cannot be checked; "
        f"check by hand: GET {service.url}/state"]
    assert result["state_left"] == "changed: add-one (kept: an undecided check is no reason to undo)"


def test_a_failed_verification_keeps_a_change_whose_undo_is_for_failed_steps(workspace: Workspace, service: Service) -> None:
    _bump(workspace)
    done = workspace.inv("remediate.bump", "--expect-value", "99")
    assert done.returncode == 1
    assert service.state.mutating() == [("POST", "/inc")]
    assert "state left: CHANGED: kept add-one (undoing would not make production better)" in done.stdout
    assert "expected json.value == 99, got 1" in done.stdout


def test_the_plan_shows_when_each_undo_runs(workspace: Workspace, service: Service) -> None:
    _bump(workspace)
    done = workspace.inv("remediate.bump", "--dry-run")
    assert f"undo: sub-one: POST {service.url}/dec (runs only if a later step fails)" in done.stdout


def test_a_skipped_check_is_reported_as_skipped_never_as_verified(workspace: Workspace, service: Service) -> None:
    _bump(workspace)
    done = workspace.inv("remediate.bump", "--json")
    assert json.loads(done.stdout)["message"] == "verified: value; skipped: extra (--extra is not set)"


def _plan(ws: Workspace) -> Path:
    path = ws.root / "plan.json"
    made = ws.inv("remediate.bump", "--dry-run", "--plan-out", str(path))
    assert made.returncode == 0, made.stdout + made.stderr
    return path


def test_an_edited_plan_is_refused(workspace: Workspace, service: Service) -> None:
    _bump(workspace)
    path = _plan(workspace)
    doc = json.loads(path.read_text())
    doc["contract"]["steps"]["add-one"]["json"]["seen"] = "v9"
    path.write_text(json.dumps(doc))
    done = workspace.inv("remediate.bump", "--plan", str(path))
    assert done.returncode == 3
    assert "the plan's signature does not match its body" in done.stdout + done.stderr
    assert service.state.mutating() == []


def test_a_plan_for_another_account_is_refused(workspace: Workspace, service: Service) -> None:
    _bump(workspace)
    path = _plan(workspace)
    targets = Path(workspace.env["OPS_TARGETS_FILE"])
    targets.write_text(targets.read_text().replace("5a4db0c5000000000000000000000000", "f" * 32))
    done = workspace.inv("remediate.bump", "--plan", str(path))
    assert done.returncode == 3
    assert ('target differs: account_id: the plan saw "5a4db0c5000000000000000000000000", now "' + "f" * 32 + '"'
            in done.stdout)
    assert service.state.mutating() == []


def test_an_unchanged_plan_applies(workspace: Workspace, service: Service) -> None:
    _bump(workspace)
    path = _plan(workspace)
    done = workspace.inv("remediate.bump", "--plan", str(path))
    assert done.returncode == 0, done.stdout
    assert service.state.value == 1


def test_a_journal_that_cannot_be_written_stops_the_run_before_the_next_change(workspace: Workspace,
                                                                               service: Service) -> None:
    two = SPEC.replace("undo: sub-one\n", "undo: sub-one\n  - name: add-ten\n    action: http\n    effect: write\n"
                       "    with: {url: \"{{ target.worker_url }}/add10\", method: POST}\n    undo: sub-one\n")
    _bump(workspace, two)
    assert workspace.inv("remediate.bump", "--expect-value", "11").returncode == 0  # learn where the events fall
    [journal] = workspace.journal.glob("*.jsonl")
    lines = journal.read_bytes().splitlines(keepends=True)
    cut = sum(len(line) for line in lines[:next(i for i, l in enumerate(lines) if b'"step-end"' in l) + 1])
    journal.unlink()
    service.state.value = 0
    service.state.requests.clear()

    def limit() -> None:  # the next event (add-ten's step-start) no longer fits: EFBIG, as a full disk would say
        resource.setrlimit(resource.RLIMIT_FSIZE, (cut + 40, cut + 40))

    done = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO), "remediate.bump",
                           "--expect-value", "11"], capture_output=True, text=True, env=workspace.env,
                          cwd=workspace.root, preexec_fn=limit, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert service.state.mutating() == [("POST", "/inc"), ("POST", "/dec")]  # add-ten never ran; add-one undone
    assert "the journal could not be written" in done.stdout
    assert "state left: restored: undid add-one (not journaled: the journal cannot be written)" in done.stdout


def test_run_start_and_end_are_posted_to_the_targets_webhook_which_never_shows(workspace: Workspace,
                                                                                service: Service) -> None:
    from testing.workspace import CANARY

    _bump(workspace)
    targets = Path(workspace.env["OPS_TARGETS_FILE"])
    targets.write_text(targets.read_text() + 'notify = { webhook = "env:OPS_NOTIFY_URL" }\n')
    workspace.env["OPS_NOTIFY_URL"] = f"{service.url}/hook/{CANARY}"
    done = workspace.inv("remediate.bump", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    hooks = [(path, body) for (method, path), body in zip(service.state.requests, service.state.bodies)
             if path.startswith("/hook/")]
    assert len(hooks) == 2
    assert "run-start" in json.dumps(hooks[0][1]) and "run-end" in json.dumps(hooks[1][1])
    assert CANARY not in done.stdout + done.stderr
    assert all(CANARY not in p.read_text() for p in workspace.journal.glob("*.jsonl"))
    dry = workspace.inv("remediate.bump", "--dry-run")
    assert dry.returncode == 0 and len([p for _, p in service.state.requests if p.startswith("/hook/")]) == 2


def test_the_reserved_flags_are_the_built_in_flags() -> None:
    from ops.cli.remediate_tasks import BUILTIN_FLAGS
    from ops.engine.model import RESERVED_FLAGS

    assert RESERVED_FLAGS == set(BUILTIN_FLAGS)

"""A full disk during a rollback's verification leaves the rollback in place, and says so.

The disk fills for real: once the journal shows the deployment's `step-end`, the
run's RLIMIT_FSIZE is lowered (prlimit) to the journal's size, so its next event
fails with EFBIG, what ENOSPC does to a journal. Rollback's roll-forward is a
`step-failed` undo: it must not put the version just judged bad back.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops.sandbox.emulator import EmulatorHandle
from ops.sandbox.emulator.faults import Faults
from testing.workspace import REPO, Workspace, make_workspace
from tests.engine.test_rollback_migrations import ACCOUNT, SCRIPT, TOKEN, emulator  # noqa: F401 (a fixture)
from tests.fakes.service import Service


@pytest.fixture
def rollback(tmp_path: Path, service: Service, emulator: EmulatorHandle) -> Workspace:
    """The shipped rollback spec against the emulator, with the fake Worker's /health as the health contract."""
    ws = make_workspace(tmp_path / "ws", service.url, emulator.api_base_url)
    ws.add_spec(REPO / "remediations" / "rollback.yaml")
    targets = Path(ws.env["OPS_TARGETS_FILE"])
    targets.write_text(targets.read_text() + 'health = { path = "/health" }\n')
    return ws


def deploy(emulator: EmulatorHandle, body: bytes) -> str:
    """A `wrangler deploy`'s upload; returns the new live version's id."""
    metadata = {"main_module": "index.js", "compatibility_date": "2026-04-01"}
    response = httpx.put(f"{emulator.api_base_url}/accounts/{ACCOUNT}/workers/scripts/{SCRIPT}",
                         headers={"Authorization": f"Bearer {TOKEN}"},
                         files={"metadata": (None, json.dumps(metadata), "application/json"),
                                "index.js": ("index.js", body, "application/javascript+module")})
    assert response.json()["success"], response.text
    live = emulator.emulator.live_version(SCRIPT)
    assert live
    return live


def bad_deploy(emulator: EmulatorHandle, service: Service) -> tuple[str, str]:
    """A good version, then a bad one live and the Worker answering 500: `sandbox.break bad-deploy`."""
    good = deploy(emulator, b"export default { fetch() { return new Response('ok') } }\n")
    bad = deploy(emulator, b"export default { fetch() { throw new Error('bad') } }\n")
    service.state.health_status = 500
    return good, bad


def deployment_posts(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    return [r for r in emulator.emulator.requests if r["method"] == "POST" and r["path"].endswith("/deployments")]


def fill_disk_after(ws: Workspace, proc: Any, marker: bytes, timeout: float = 60) -> None:
    """Once the run's journal holds ``marker``, no file of the run may grow: the next event fails with EFBIG."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        for path in ws.journal.glob("*.jsonl"):
            data = path.read_bytes()
            if marker in data:
                resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (len(data), len(data)))
                return
        time.sleep(0.002)
    pytest.fail(f"the run never journaled {marker!r}")


def test_a_full_disk_during_verification_keeps_the_rollback(rollback: Workspace, emulator: EmulatorHandle,
                                                            service: Service) -> None:
    good, bad = bad_deploy(emulator, service)
    emulator.emulator.faults = Faults.from_json({"latency_ms": 300})  # the emulator slowed, as in the report
    proc = rollback.popen("remediate.rollback", "--accept-secret-changes", "--yes", "--json", "--deadline", "30")
    fill_disk_after(rollback, proc, b'"event": "step-end"')
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stdout + stderr
    result = json.loads(stdout)
    assert "the journal could not be written" in result["message"] and "(EFBIG)" in result["message"]
    assert "stopped during verification" in result["message"]
    assert result["undone"] == []
    assert result["state_left"].startswith("CHANGED: kept deploy-target (the run stopped during verification"), result
    assert result["state_left"].endswith("(not journaled: the journal cannot be written)")
    assert emulator.emulator.live_version(SCRIPT) == good != bad  # the rolled-back version stays live
    assert len(deployment_posts(emulator)) == 1  # the rollback, and no roll-forward to the bad version
    assert "JOURNAL NOT WRITTEN" in stderr and "CHANGED: kept deploy-target" in stderr


def test_a_full_disk_while_the_deployment_is_under_way_keeps_the_deployment(
        rollback: Workspace, emulator: EmulatorHandle, service: Service) -> None:
    good, bad = bad_deploy(emulator, service)
    emulator.emulator.faults = Faults.from_json({"latency_ms": 300})
    proc = rollback.popen("remediate.rollback", "--accept-secret-changes", "--yes", "--json", "--deadline", "30")
    fill_disk_after(rollback, proc, b'"event": "step-start"')  # the deployment is under way; its end cannot be written
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stdout + stderr
    result = json.loads(stdout)
    # The deployment reached Cloudflare and answered: its step is over, so this too is no failed step.
    assert emulator.emulator.live_version(SCRIPT) == good
    assert len(deployment_posts(emulator)) == 1
    assert "CHANGED: kept deploy-target" in result["state_left"]


def test_a_definite_4xx_leaves_the_state_refused_nothing_changed(rollback: Workspace, emulator: EmulatorHandle,
                                                                 service: Service) -> None:
    good, bad = bad_deploy(emulator, service)
    emulator.emulator.faults = Faults.from_json({"forced": [
        {"method": "POST", "path": "/deployments$", "code": 10220, "status": 400, "times": 5,
         "message": "A rollback to this version would change secrets. The following secrets have changed: K"}]})
    done = rollback.inv("remediate.rollback", "--yes", "--json", "--deadline", "30")
    assert done.returncode == 1, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["failed_step"] == "deploy-target"
    assert result["state_left"] == "refused, nothing changed: the API refused 'deploy-target' (HTTP 400, code 10220)"
    assert "may be partly applied" not in done.stdout
    assert emulator.emulator.live_version(SCRIPT) == bad


def test_ctrl_c_during_verification_keeps_the_rollback(rollback: Workspace, emulator: EmulatorHandle,
                                                       service: Service) -> None:
    import signal

    good, _ = bad_deploy(emulator, service)
    # A deadline far beyond the signal: on a loaded machine the steps may take most of a short one, and the
    # verification would end on its own (exit 1) before the interrupt lands.
    proc = rollback.popen("remediate.rollback", "--accept-secret-changes", "--yes", "--json", "--deadline", "300")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(b'"event": "check"' in p.read_bytes()
                                                  for p in rollback.journal.glob("*.jsonl")):
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130
    result = json.loads(stdout)
    assert result["message"] == "interrupted during verification"
    assert result["state_left"].startswith("CHANGED: kept deploy-target (the run stopped during verification")
    assert emulator.emulator.live_version(SCRIPT) == good and len(deployment_posts(emulator)) == 1

"""SIGINT at random points, and two runs at once: the journal stays consistent, the lock is released, exactly one runs."""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path

import pytest

from testing.workspace import Workspace
from tests.engine.test_runs import SPECS
from tests.fakes.service import Service

SEEDS = list(range(8))


def journal_runs(ws: Workspace) -> list[list[dict]]:
    return [[json.loads(line) for line in p.read_text().splitlines() if line.strip()]
            for p in sorted(ws.journal.glob("*.jsonl"))]


def assert_consistent(events: list[dict]) -> None:
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run-start" and kinds[-1] == "run-end", kinds
    starts = [e["name"] for e in events if e["event"] == "step-start"]
    ends = [e["name"] for e in events if e["event"] == "step-end"]
    assert ends == starts[: len(ends)] and len(starts) - len(ends) <= 1, kinds


@pytest.mark.parametrize("seed", SEEDS)
def test_sigint_at_a_random_point_leaves_a_safe_rerun(workspace: Workspace, service: Service, seed: int) -> None:
    service.state.slow_seconds = 0.4
    workspace.add_spec(SPECS / "converge.yaml")
    delay = random.Random(seed).uniform(0.0, 0.8)  # within the probes, the slow write, the set, verification
    proc = workspace.popen("remediate.converge")
    deadline = time.monotonic() + 20
    while not list(workspace.journal.glob("*.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.01)  # the run has started once its journal exists
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    runs = journal_runs(workspace)
    for events in runs:
        assert_consistent(events)
    status = runs[0][-1]["status"]
    # 130 when the run was interrupted; a signal that lands after the run ended leaves its exit code as it was.
    assert (proc.returncode, status) in ((130, "interrupted"), (0, "ok")), (proc.returncode, status)
    rerun = workspace.inv("remediate.converge")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert service.state.value == 42
    assert ("nothing to do: the value is already the target" in rerun.stdout) or ("result: ok" in rerun.stdout)


@pytest.mark.parametrize("second", ["test", "alias"])  # alias: another target name for the same Worker
def test_a_second_run_while_the_first_holds_the_lock_is_refused(workspace: Workspace, service: Service,
                                                                second: str) -> None:
    from tests.reliability.test_lock_and_names import add_target

    workspace.env["WORKER_URL"] = service.url
    add_target(workspace, "alias")
    service.state.slow_seconds = 6  # long enough for the second run to start on a loaded machine
    workspace.add_spec(SPECS / "converge.yaml")
    first = workspace.popen("remediate.converge")
    deadline = time.monotonic() + 30
    while ("POST", "/slow") not in service.state.requests and time.monotonic() < deadline:
        time.sleep(0.01)  # the first run is inside its slow write, holding the target's lock
    then = workspace.popen("remediate.converge", "--target", second)
    results = [p.communicate(timeout=60) + (p.returncode,) for p in (first, then)]
    assert [code for _, _, code in results] == [0, 3], results
    refused = next(out for out, _, code in results if code == 3)
    assert "converge (pid " in refused and "is already running against this target" in refused
    assert [m for m, p in service.state.mutating()].count("POST") == 2  # one run's two writes, no more

"""Every remediation under the emulator's faults, seeded: no false success, no unrecorded change.

A false success is exit 0 while the sandbox's independent check says the service is
broken. An unrecorded change is a mutating request the emulator saw outside every
journalled step or undo (or, once the journal could not be written, outside the run's
last report of what it left). A full disk is injected at a seeded event of each run's
journal (its RLIMIT_FSIZE lowered to the journal's size): a bad undo is one that put the
version live before the run back after the run's own deployment had succeeded, without a
failed verification, i.e. re-deployed the version the run was there to replace.
CI runs one fault mix per remediation, rotated by the seed so that every mix is run each time;
`inv soak` runs every mix, more rounds (OPS_SOAK_RUNS, OPS_SOAK_SEED, OPS_SOAK_FAULTS=all).
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops.sandbox.breaks import SCENARIOS, Scenario
from ops.sandbox.constants import BOOKS

from testing.workspace import REPO
from testing.rehearsal import Rehearsal

ROUNDS = int(os.environ.get("OPS_SOAK_RUNS", "1"))
SEED = int(os.environ.get("OPS_SOAK_SEED", "1"))
FAULTS: dict[str, dict[str, Any]] = {
    "latency": {"latency_ms": 250},
    "5xx": {"error_rate": 0.3},
    "429": {"rate_limit_rate": 0.3, "retry_after": 1},
    "drop": {"drop_rate": 0.25},
    "deploy-error": {"forced": [{"method": "POST", "path": "/deployments$", "code": 10013, "status": 500, "message": "injected", "times": 1},
                                {"method": "PUT", "path": "/workers/scripts/[^/]+$", "code": 10013, "status": 500, "message": "injected", "times": 1}]},
}
# One break scenario per remediation, from the sandbox's registry (the first it lists for each), among those the
# session sandbox's books Worker can take; the AI and manuscript Workers' rehearsals have sandboxes of their own.
SCENARIO_OF: dict[str, Scenario] = {s.remediation: s for s in reversed(SCENARIOS) if BOOKS in s.workers}
TALLY: dict[str, int] = {"runs": 0, "successes": 0, "clean_failures": 0, "false_successes": 0, "unclean": 0, "unrecorded_changes": 0,
                         "full_disk_runs": 0, "journal_failures": 0, "bad_undos": 0}
DISK_ROUNDS = int(os.environ.get("OPS_SOAK_DISK_RUNS", "1"))
EVERY_MIX = os.environ.get("OPS_SOAK_FAULTS", "rotate") == "all"
DEPLOYS = re.compile(r"(POST .*/deployments|PUT .*/workers/scripts/[^/]+)$")


def mixes(name: str) -> list[tuple[str, dict[str, Any]]]:
    """Every fault mix under `inv soak`; in CI, one per remediation, the k-th remediation taking mix k + seed."""
    if EVERY_MIX:
        return list(FAULTS.items())
    k = (sorted(SCENARIO_OF).index(name) + SEED) % len(FAULTS)
    return [list(FAULTS.items())[k]]


def test_the_rotation_runs_every_fault_mix() -> None:
    if not EVERY_MIX:
        assert len(SCENARIO_OF) >= len(FAULTS)
        assert {fault for name in SCENARIO_OF for fault, _ in mixes(name)} == set(FAULTS)


def truth(r: Rehearsal, name: str) -> bool:
    """The sandbox's own view (the registry's check of recovery), independent of what the remediation claims."""
    return r.health().status_code == 200 and r.recovered(SCENARIO_OF[name].name)


def unrecorded(r: Rehearsal, since: int, journal: Path | None, reported: bool = False) -> int:
    """Mutating requests outside every journalled window; ``reported``: after the journal's last event, the run's
    final report (stderr's JOURNAL NOT WRITTEN and the state left) is the record."""
    events = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()] if journal and journal.exists() else []
    windows: list[tuple[float, float]] = [(events[-1]["mono"], float("inf"))] if reported and events else []
    open_at = None
    for e in events:
        if e["event"] in ("step-start", "undo-start"):
            open_at = e["mono"]
        elif e["event"] in ("step-end", "undo-end") and open_at is not None:
            windows.append((open_at, e["mono"]))
            open_at = None
    if open_at is not None:
        windows.append((open_at, float("inf")))
    mutating = [q for q in r.requests()[since:] if q["mutating"]]
    return sum(1 for q in mutating if not any(a - 0.01 <= q["mono"] <= b + 0.01 for a, b in windows))


@pytest.mark.parametrize("name", sorted(SCENARIO_OF))
def test_faults(sandbox: Any, name: str) -> None:
    r = Rehearsal(sandbox)
    scenario, flags = SCENARIO_OF[name].name, SCENARIO_OF[name].flags
    rng = random.Random(f"{SEED}-{name}")
    r.reset()
    for round_ in range(ROUNDS):
        for fault, settings in mixes(name):
            r.sb.break_(scenario)
            if name == "queue-redeploy":
                for i in range(3):
                    httpx.get(f"{r.sb.worker_url}/v1/books/fault-{fault}-{round_}-{i}", timeout=10)
            httpx.put(f"{r.sb.emulator_url}/__emulator/faults", headers=r.sb.admin_headers, json={**settings, "seed": rng.randrange(1 << 30)}).raise_for_status()
            since = len(r.requests())
            done = r.inv(f"remediate.{name}", "--yes", "--json", *flags, env={"CACHE_WARM_SECRET": r.sb.secrets["CACHE_WARM_SECRET"]})
            httpx.delete(f"{r.sb.emulator_url}/__emulator/faults", headers=r.sb.admin_headers).raise_for_status()
            result = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
            TALLY["runs"] += 1
            journal = Path(result["journal"]) if result.get("journal") else None
            TALLY["unrecorded_changes"] += unrecorded(r, since, journal)
            if done.returncode == 0:
                healthy = truth(r, name)
                TALLY["successes" if healthy else "false_successes"] += 1
                assert healthy, f"FALSE SUCCESS: {name} under {fault}: {done.stdout[-800:]}"
            elif done.returncode in (1, 3) and (result.get("failed_step") or result.get("status") in ("locked",)):
                TALLY["clean_failures"] += 1
            else:
                TALLY["unclean"] += 1
                pytest.fail(f"{name} under {fault}: exit {done.returncode} without a named failing step: {done.stdout[-800:]} {done.stderr[-800:]}")
            assert TALLY["unrecorded_changes"] == 0, f"{name} under {fault}: a mutating request without its journal event"
            if not truth(r, name):
                r.reset()
    _publish()


@pytest.mark.parametrize("name", sorted(SCENARIO_OF))
def test_a_full_disk_at_a_seeded_point(sandbox: Any, name: str) -> None:
    r = Rehearsal(sandbox)
    scenario, flags = SCENARIO_OF[name].name, SCENARIO_OF[name].flags
    rng = random.Random(f"{SEED}-disk-{name}")
    script = r.worker.script
    for _ in range(DISK_ROUNDS):
        r.sb.break_(scenario)
        live_before = _live(r, script)
        since = len(r.requests())
        result, stderr, journal = _run_filling_disk(r, rng.randint(1, 14), f"remediate.{name}", "--yes", "--json", *flags)
        TALLY["full_disk_runs"] += 1
        TALLY["journal_failures"] += bool(result.get("journal_error"))
        reported = bool(result.get("journal_error")) and "JOURNAL NOT WRITTEN" in stderr and not str(result.get("state_left", "")).startswith("unchanged")
        TALLY["unrecorded_changes"] += unrecorded(r, since, journal, reported)
        deployed = [q for q in r.requests()[since:] if q["status"] == 200 and DEPLOYS.search(f"{q['method']} {q['path']}")]
        verdict_failed = str(result.get("message", "")).startswith("verification failed")
        if len(deployed) >= 2 and _live(r, script) == live_before and not verdict_failed:
            TALLY["bad_undos"] += 1
        assert TALLY["bad_undos"] == 0, f"{name}: an undo re-deployed the version the run replaced: {result}"
        assert TALLY["unrecorded_changes"] == 0, f"{name}: a change neither journaled nor reported: {result} {stderr[-800:]}"
        r.reset()
    _publish()


def _live(r: Rehearsal, script: str) -> str | None:
    return httpx.get(f"{r.sb.emulator_url}/__emulator/live/{script}", timeout=10).json().get("version_id")


def _run_filling_disk(r: Rehearsal, after_events: int, *argv: str) -> tuple[dict[str, Any], str, Path | None]:
    """Run inv; once its journal holds ``after_events`` events, its files may no longer grow (EFBIG)."""
    folder = r.handle.home / "journal"
    known = set(folder.glob("*.jsonl"))
    proc = subprocess.Popen([sys.executable, "-m", "invoke", "--search-root", str(REPO), *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=r.handle.home,
                            env={**r.handle.ops_env(OPS_TARGET=r.worker.target), "CACHE_WARM_SECRET": r.sb.secrets["CACHE_WARM_SECRET"]})
    journal: Path | None = None
    while proc.poll() is None:
        journal = journal or next(iter(set(folder.glob("*.jsonl")) - known), None)
        if journal is not None:
            data = journal.read_bytes()
            if data.count(b"\n") >= after_events:
                resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (len(data), len(data)))
                break
        time.sleep(0.002)
    stdout, stderr = proc.communicate(timeout=600)
    journal = journal or next(iter(set(folder.glob("*.jsonl")) - known), None)
    result = json.loads(stdout) if stdout.strip().startswith("{") else {}
    assert result, f"{' '.join(argv)}: exit {proc.returncode} without its JSON result: {stderr[-800:]}"
    return result, stderr, journal


def _publish() -> None:
    folder = REPO / "bench" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reliability.json").write_text(json.dumps({"benchmark": "reliability-faults", "rounds": ROUNDS, "seed": SEED, "every_mix": EVERY_MIX, **TALLY,
        "figures": [{"what": "fault runs: successes / clean failures / false successes / unrecorded changes",
                     "value": f"{TALLY['runs']} runs: {TALLY['successes']} / {TALLY['clean_failures']} / {TALLY['false_successes']} / {TALLY['unrecorded_changes']}",
                     "met": TALLY["false_successes"] == 0 and TALLY["unrecorded_changes"] == 0},
                    {"what": "full-disk runs: journal failures / undos re-deploying the replaced version",
                     "value": f"{TALLY['full_disk_runs']} runs: {TALLY['journal_failures']} / {TALLY['bad_undos']}",
                     "met": TALLY["bad_undos"] == 0}]}, indent=2) + "\n")

"""Every remediation under the emulator's faults, seeded: no false success, no unrecorded change.

A false success is exit 0 while the sandbox's independent check says the service is
broken. An unrecorded change is a mutating request the emulator saw outside every
journalled step or undo. `inv soak` runs more rounds (OPS_SOAK_RUNS, OPS_SOAK_SEED).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops.sandbox.breaks import SCENARIOS, Scenario
from ops.sandbox.constants import BOOKS

from tests.conftest import REPO
from tests.e2e.conftest import Rehearsal

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
TALLY: dict[str, int] = {"runs": 0, "successes": 0, "clean_failures": 0, "false_successes": 0, "unclean": 0, "unrecorded_changes": 0}


def truth(r: Rehearsal, name: str) -> bool:
    """The sandbox's own view (the registry's check of recovery), independent of what the remediation claims."""
    return r.health().status_code == 200 and r.recovered(SCENARIO_OF[name].name)


def unrecorded(r: Rehearsal, since: int, journal: Path | None) -> int:
    events = [json.loads(line) for line in journal.read_text().splitlines()] if journal and journal.exists() else []
    windows, open_at = [], None
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
    for round_ in range(ROUNDS):
        for fault, settings in FAULTS.items():
            if round_ == 0 and fault == "latency":
                r.reset()
            r.sb.break_(scenario)
            if name == "queue-redeploy":
                for i in range(3):
                    httpx.get(f"{r.sb.worker_url}/v1/books/fault-{fault}-{round_}-{i}", timeout=10)
            httpx.put(f"{r.sb.emulator_url}/__emulator/faults", json={**settings, "seed": rng.randrange(1 << 30)}).raise_for_status()
            since = len(r.requests())
            done = r.inv(f"remediate.{name}", "--yes", "--json", *flags, env={"CACHE_WARM_SECRET": r.sb.secrets["CACHE_WARM_SECRET"]})
            httpx.delete(f"{r.sb.emulator_url}/__emulator/faults").raise_for_status()
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


def _publish() -> None:
    folder = REPO / "bench" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reliability.json").write_text(json.dumps({"benchmark": "reliability-faults", "rounds": ROUNDS, "seed": SEED, **TALLY,
        "figures": [{"what": "fault runs: successes / clean failures / false successes / unrecorded changes",
                     "value": f"{TALLY['runs']} runs: {TALLY['successes']} / {TALLY['clean_failures']} / {TALLY['false_successes']} / {TALLY['unrecorded_changes']}",
                     "met": TALLY["false_successes"] == 0 and TALLY["unrecorded_changes"] == 0}]}, indent=2) + "\n")

"""Gradual rollback and promotion on the sandbox, with real split deployments served by two wrangler devs.

One rehearsal: `partial-regression` (8% of requests fail, 300 ms slower), then `rollback --steps
10,50,100` verified, the journal showing each step's split, samples and verdict, and `journal.rejudge`
giving every verdict back; then a promotion of the same bad code as a fix, which stops at its first
step and goes back at once, production never above that step's share on it.

As a new user types it: no flags but the steps; the scenario starts the sandbox's users (ops.sandbox.users), the
sandbox target looks every 5 s, the judge keeps its defaults. About 4 minutes of traffic: excluded by default (marker
`gradual`); run it with `pytest -m gradual -p no:xdist tests/e2e/test_gradual.py`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ops.judge.compare import JudgeSettings
from ops.sandbox import users
from ops.sandbox.breaks import wrap_entry

from testing.rehearsal import Rehearsal

# What a new user types: no flags but the steps. The sandbox target's own params set a look every 5 s (its analytics
# have no ingestion delay); the judge's settings are its defaults; the scenario's users send the traffic.
STEPS = ("--steps", "10,50,100")


def events(r: Rehearsal, run_id: str) -> list[dict[str, Any]]:
    path = next(p for p in r.journal_files() if p.stem == run_id)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.gradual
def test_partial_regression_is_rolled_back_in_steps_and_a_bad_fix_is_stopped_at_the_first(rehearse: Rehearsal) -> None:
    r, defaults = rehearse, JudgeSettings()
    r.reset()
    good = r.health().json()["version_id"]
    r.break_("partial-regression")
    bad = r.sb.live_version()
    assert bad != good
    assert r.sb.processes.pid(users.part_name(r.worker.key)), "the scenario starts the sandbox's users"
    try:
        plan = r.inv("remediate.rollback", "--dry-run", "--json", *STEPS)
        assert plan.returncode == 0, plan.stdout + plan.stderr
        ladder = next(x for x in json.loads(plan.stdout)["records"] if x["name"] == "ladder")
        assert [s["split"] for s in ladder["outputs"]["steps"]] == [[[good, 10], [bad, 90]], [[good, 50], [bad, 50]],
                                                                    [[good, 100]]]
        climb = next(x for x in json.loads(plan.stdout)["records"] if x["name"] == "move-traffic")["args"]
        assert (climb["interval"], climb["hold"], climb["judge"]) == (5, 300, "")  # the target's interval, the defaults
        done = r.inv("remediate.rollback", "--yes", "--json", *STEPS)
        assert done.returncode == 0, done.stdout + done.stderr
        rollback = json.loads(done.stdout)
        assert rollback["status"] == "ok" and rollback["message"].startswith("verified: live-is-target")

        journal = events(r, rollback["run_id"])
        steps = [e for e in journal if e["event"] == "ladder-step"]
        assert [(s["split"], s["message"]) for s in steps] == [
            ([[good, 10], [bad, 90]], f"inv remediate.rollback (step 1/3: 10% to {good})"),
            ([[good, 50], [bad, 50]], f"inv remediate.rollback (step 2/3: 50% to {good})"),
            ([[good, 100]], f"inv remediate.rollback (step 3/3: 100% to {good})")]
        for step in (1, 2):
            looks = [e for e in journal if e["event"] == "ladder-look" and e["step"] == step]
            last = looks[-1]
            assert last["verdict"]["outcome"] in ("better", "no-worse"), last["verdict"]
            assert min(last["samples"].values()) >= defaults.min_requests
            assert "workersInvocationsAdaptive" in last["query"] and last["answer"]["viewer"]
            assert last["settings"] == defaults.to_dict()
        assert r.recovered("partial-regression")
        rejudged = r.inv("journal.rejudge", rollback["run_id"])
        assert rejudged.returncode == 0, rejudged.stdout + rejudged.stderr
        looks = sum(1 for e in journal if e["event"] == "ladder-look")
        assert f"{looks} of {looks} recorded verdict(s) reproduced bit for bit" in rejudged.stdout

        fix = _upload(r, "partial.mjs", "a fix that is not one")
        before = len(r.state()["scripts"]["api-worker"]["deployments"])
        promoted = r.inv("remediate.promote", fix, "--yes", "--json")
        assert promoted.returncode == 1, promoted.stdout + promoted.stderr
        promote = json.loads(promoted.stdout)
        assert "judged worse" in promote["message"] and f"went back at once to 100% {good}" in promote["message"]
    finally:
        r.sb.processes.stop(users.part_name(r.worker.key))
    journal = events(r, promote["run_id"])
    ladder_events = [e for e in journal if e["event"].startswith("ladder-")]
    kinds = [e["event"] for e in ladder_events]
    assert kinds[0] == "ladder-step" and kinds[-2:] == ["ladder-undo", "ladder-stopped"]
    assert set(kinds[1:-2]) == {"ladder-look"}  # one step, looked at, then undone: never a second step
    worse, undo = ladder_events[-3], ladder_events[-2]
    assert worse["verdict"]["outcome"] == "worse" and undo["split"] == [[good, 100]]
    assert _seconds(undo["ts"]) - _seconds(worse["ts"]) < climb["interval"]  # within one interval of the verdict
    # Production never had more than the first step's share on the bad fix.
    made = list(reversed(r.state()["scripts"]["api-worker"]["deployments"]))[before:]  # oldest first
    shares = [next((v["percentage"] for v in d["versions"] if v["version_id"] == fix), 0) for d in made]
    assert shares == [5, 0], made
    assert r.sb.live_version() == good


def _upload(r: Rehearsal, module: str, message: str) -> str:
    """A version uploaded (wrangler versions upload), not deployed: what a fix to promote is. Its id."""
    entry = wrap_entry(r.sb, r.worker, module)
    r.sb.wrangler("versions", "upload", "--config", r.worker.config, entry.name, "--message", message, worker=r.worker)
    versions = r.state()["scripts"]["api-worker"]["versions"]
    return str(max(versions, key=lambda v: v["number"])["id"])


def _seconds(ts: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(ts).timestamp()

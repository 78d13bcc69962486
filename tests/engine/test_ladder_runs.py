"""A gradual rollback against the emulator, without traffic: it cannot judge, so it holds where it is and says so."""

from __future__ import annotations

import json

from ops.sandbox.emulator import EmulatorHandle
from tests.cloudflare.uploads import upload
from testing.workspace import Workspace
from tests.engine.test_rollback_preflight import SCRIPT, TOKEN, api, emulator, rollback  # noqa: F401 (fixtures)


def test_without_a_verdict_within_its_hold_the_ladder_holds_on_its_split_and_exits_1(
        rollback: Workspace, emulator: EmulatorHandle) -> None:
    upload(emulator.api_base_url, SCRIPT, token=TOKEN)
    upload(emulator.api_base_url, SCRIPT, token=TOKEN)
    target, live = [v["id"] for v in sorted(api(emulator, "GET", f"/workers/scripts/{SCRIPT}/versions")["items"],
                                            key=lambda v: v["number"])]
    plan = rollback.inv("remediate.rollback", "--force", "--dry-run", "--json", "--steps", "50,100")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    ladder = next(r for r in json.loads(plan.stdout)["records"] if r["name"] == "ladder")
    assert ladder["description"] == (f"the ladder: step 1: 50% {target} + 50% {live} (judged against the live version); "
                                     f"step 2: 100% {target} (then verified)")

    done = rollback.inv("remediate.rollback", "--force", "--yes", "--json", "--steps", "50,100",
                        "--interval", "0.5", "--hold", "1", "--message", "night shift")
    assert done.returncode == 1, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["failed_step"] == "move-traffic"
    assert "held at step 1: no verdict within its hold of 1s" in result["message"]
    assert f"Traffic stays on 50% {target} + 50% {live}" in result["message"]
    assert result["undone"] == []  # no evidence is no reason to move traffic either way
    deployments = api(emulator, "GET", f"/workers/scripts/{SCRIPT}/deployments")["deployments"]
    assert deployments[0]["versions"] == [{"version_id": target, "percentage": 50.0},
                                          {"version_id": live, "percentage": 50.0}]
    assert deployments[0]["annotations"]["workers/message"] == f"night shift (step 1/2: 50% to {target})"
    events = [json.loads(line) for path in rollback.journal.glob("*.jsonl") for line in path.read_text().splitlines()]
    kinds = [e["event"] for e in events if e["event"].startswith("ladder-")]
    assert kinds[0] == "ladder-step" and kinds[-1] == "ladder-stopped" and set(kinds[1:-1]) == {"ladder-look"}
    look = next(e for e in events if e["event"] == "ladder-look")
    assert look["samples"] == {"control": 0, "candidate": 0} and look["verdict"]["outcome"] == "inconclusive"
    assert look["variables"]["filter"]["scriptVersion_in"] == [live, target]


def test_a_ladder_to_the_version_that_is_live_is_refused_before_any_change(
        rollback: Workspace, emulator: EmulatorHandle) -> None:
    upload(emulator.api_base_url, SCRIPT, token=TOKEN)
    live = api(emulator, "GET", f"/workers/scripts/{SCRIPT}/versions")["items"][0]["id"]
    done = rollback.inv("remediate.rollback", "--force", "--dry-run", "--steps", "10,100", "--version", live)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "precondition 'ladder' failed: the target is the version that serves most traffic now" in done.stdout

"""A rollback to a version known to be bad is refused, and the refusal names the version that would serve.

Known bad (ops/cloudflare/known_bad.py): the deployments list shows it was rolled back from, or its
analytics failed (most requests errors, with enough requests). The plan (`--dry-run`) and the run stop
at the `target-not-known-bad` precondition (exit 3) before anything is deployed.
"""

from __future__ import annotations

import json
import time

from ops.sandbox.emulator import EmulatorHandle
from ops.sandbox.emulator.invocations import Invocation
from tests.cloudflare.uploads import deploy, upload
from testing.workspace import REPO, Workspace
from tests.fakes.service import Service
from tests.engine.test_rollback_preflight import SCRIPT, TOKEN, api, emulator, rollback  # noqa: F401 (fixtures)


def versions(emulator: EmulatorHandle) -> list[str]:
    """The script's version ids, oldest first."""
    listed = api(emulator, "GET", f"/workers/scripts/{SCRIPT}/versions")["items"]
    return [v["id"] for v in sorted(listed, key=lambda v: v["number"])]


def failing(emulator: EmulatorHandle, version: str, requests: int = 30) -> None:
    """Analytics of ``version``: every request an uncaught exception."""
    for i in range(requests):
        emulator.emulator.invocations.add(Invocation(time.time() - 60, SCRIPT, version, "scriptThrewException", 500, 40_000 + i))


def test_a_version_the_deployments_list_shows_was_rolled_back_from_is_refused(
        rollback: Workspace, emulator: EmulatorHandle) -> None:
    upload(emulator.api_base_url, SCRIPT, token=TOKEN)
    upload(emulator.api_base_url, SCRIPT, token=TOKEN)
    first, bad = versions(emulator)
    assert deploy(emulator.api_base_url, SCRIPT, [(first, 100)], "inv remediate.rollback", token=TOKEN).status_code == 200
    # first is live again (a rollback whose target failed too, say): wrangler's rule now picks bad, rolled back from.
    for argv in (("--dry-run",), ("--yes",)):
        done = rollback.inv("remediate.rollback", "--force", *argv)
        assert done.returncode == 3, done.stdout + done.stderr
        assert "precondition 'target-not-known-bad' failed: the version it would roll back to is known to be bad" in done.stdout
        assert f"version {bad} is known to be bad: the deployments list shows it was rolled back from at" in done.stdout
        assert "no earlier version deployed at 100% is free of such evidence: deploy forward instead" in done.stdout
    assert api(emulator, "GET", f"/workers/scripts/{SCRIPT}/deployments")["deployments"][0]["versions"][0]["version_id"] == first


def test_a_version_whose_analytics_failed_is_refused_and_the_earlier_good_one_is_named(
        rollback: Workspace, emulator: EmulatorHandle) -> None:
    for _ in range(3):
        upload(emulator.api_base_url, SCRIPT, token=TOKEN)
    good, hung, live = versions(emulator)
    failing(emulator, hung)

    done = rollback.inv("remediate.rollback", "--force", "--dry-run", "--json")
    assert done.returncode == 3, done.stdout + done.stderr
    check = next(r for r in json.loads(done.stdout)["records"] if r["name"] == "target-not-known-bad")
    refusal = check["outputs"]["result"]["refusal"]
    assert refusal.startswith(f"version {hung} is known to be bad: its analytics show 100% errors over 30 requests")
    assert refusal.endswith(f"version {good} would serve (it is the newest earlier version deployed at 100% that nothing "
                            f"marks as bad): rerun with --version {good}")

    chosen = rollback.inv("remediate.rollback", "--force", "--dry-run", "--json", "--version", good)
    assert chosen.returncode == 0, chosen.stdout + chosen.stderr  # the version named passes the same check
    assert live != good


def test_a_target_that_fails_every_poll_stops_the_verification_early_with_the_evidence(
        rollback: Workspace, emulator: EmulatorHandle, service: Service) -> None:
    spec = (REPO / "remediations" / "rollback.yaml").read_text(encoding="utf-8")
    quick = spec.replace("  give_up_after: 60", "  give_up_after: 2")  # the shipped minute, shortened for the test
    assert quick != spec
    rollback.add_spec(quick, "rollback.yaml")
    upload(emulator.api_base_url, SCRIPT, token=TOKEN)
    upload(emulator.api_base_url, SCRIPT, token=TOKEN)
    target, _ = versions(emulator)
    targets = rollback.root / "targets.toml"
    targets.write_text(targets.read_text(encoding="utf-8") + 'health = { path = "/health" }\n', encoding="utf-8")
    service.state.health_status = 500  # the Worker fails before the rollback, and after it too

    done = rollback.inv("remediate.rollback", "--yes", "--json", timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "failed"
    assert "still failing after 2s of polls" in result["message"], result["message"]  # not "within 300s"
    assert "so the target fails too: answers: the Worker is failing: it answered 500" in result["message"]
    live = api(emulator, "GET", f"/workers/scripts/{SCRIPT}/deployments")["deployments"][0]["versions"][0]["version_id"]
    assert live == target  # a failed verification is no reason to undo: the rollback stays


def test_a_version_the_journal_shows_was_rolled_back_from_is_refused_after_the_deployments_list_forgot_it(
        rollback: Workspace, emulator: EmulatorHandle) -> None:
    upload(emulator.api_base_url, SCRIPT, token=TOKEN)
    upload(emulator.api_base_url, SCRIPT, token=TOKEN)
    good, bad = versions(emulator)
    # bad -> good, in the journal; its verification is cut short (the fake has no analytics): not undone either way
    done = rollback.inv("remediate.rollback", "--force", "--yes", "--json", "--deadline", "4", timeout=120)
    run = json.loads(done.stdout)["run_id"]
    for _ in range(10):  # ten deployments later, the deployments list no longer reaches back to that rollback
        upload(emulator.api_base_url, SCRIPT, token=TOKEN)
    listed = api(emulator, "GET", f"/workers/scripts/{SCRIPT}/deployments")["deployments"]
    assert bad not in {v["version_id"] for d in listed for v in d["versions"]}

    done = rollback.inv("remediate.rollback", "--force", "--dry-run", "--json", "--version", bad)
    assert done.returncode == 3, done.stdout + done.stderr
    check = next(r for r in json.loads(done.stdout)["records"] if r["name"] == "target-not-known-bad")
    refusal = check["outputs"]["result"]["refusal"]
    assert refusal.startswith(f"version {bad} is known to be bad: the journal shows run {run} rolled back from it at ")
    assert f"(to version {good}); " in refusal

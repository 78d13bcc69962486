"""Issue 19 rehearsed on the whole sandbox: analytics that fail stop a rollback instead of waving it through,
and a verified rollback spends little of Cloudflare's two quotas."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from testing.rehearsal import Rehearsal

GRAPHQL = "/client/v4/graphql"


def _live(r: Rehearsal) -> str:
    return str(r.state()["scripts"][r.worker.script]["deployments"][0]["versions"][0]["version_id"])


def test_unreadable_analytics_stop_the_rollback_of_a_worker_that_answers(rehearse_plain: Rehearsal) -> None:
    r = rehearse_plain
    r.reset()
    live = _live(r)
    httpx.put(f"{r.sb.emulator_url}/__emulator/analytics", json={"fail_next": ["not available for your plan"]},
              headers=r.sb.admin_headers, timeout=10).raise_for_status()
    try:
        done = r.inv("remediate.rollback", "--yes", "--json")
        after = _live(r)
    finally:
        r.reset()  # nothing of the queued failure is left for the next test
    result = json.loads(done.stdout)
    assert (done.returncode, result["status"]) == (3, "precondition-failed"), done.stdout
    assert "could not tell: the health contract holds, but analytics could not be read" in result["message"]
    assert "--force" in result["message"]
    pre = next(x for x in result["records"] if x["name"] == "worker-healthy")
    assert pre["outputs"]["http"]["status"] == 200 and pre["outputs"]["answers"] is True  # the HTTP answer stays
    assert after == live  # a healthy Worker is not rolled back on no evidence


def test_a_verified_rollback_spends_under_a_quarter_of_each_quota(rehearse_plain: Rehearsal, tmp_path: Path) -> None:
    r = rehearse_plain
    r.reset()
    r.break_("bad-deploy")
    before = len(r.requests())
    production = tmp_path / "targets.toml"  # the sandbox's targets at production's pace: no analytics_interval
    production.write_text("".join(line for line in r.handle.targets.read_text(encoding="utf-8").splitlines(keepends=True)
                                  if not line.startswith("analytics_interval")), encoding="utf-8")
    done = r.inv("remediate.rollback", "--yes", "--json", env={"OPS_TARGETS_FILE": str(production)})
    assert json.loads(done.stdout)["status"] == "ok", done.stdout
    spent = r.requests()[before:]
    graphql = [x for x in spent if x["path"] == GRAPHQL]
    assert len(graphql) < 300 * 0.25 and len(spent) - len(graphql) < 1200 * 0.25
    deployed = next(x["mono"] for x in spent if x["method"] == "POST" and x["path"].endswith("/deployments"))
    verifying = [x["mono"] for x in graphql if x["mono"] > deployed]
    assert all(b - a >= 14.5 for a, b in zip(verifying, verifying[1:])), verifying  # at most every 15 s

"""Issue 9 rehearsed: verification from Cloudflare's own signals, and no undo that makes production worse.

The plain Worker's only contract is "answers 200 on /": no /health version, no /metrics.
Everything these rehearsals verify comes from the deployments API, the GraphQL
Analytics API (served by the emulator from the recording proxy's real requests) and
that one URL.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from testing.workspace import CANARY
from testing.rehearsal import Rehearsal


def _live(r: Rehearsal) -> str:
    return str(r.state()["scripts"][r.worker.script]["deployments"][0]["versions"][0]["version_id"])


def _run(r: Rehearsal, *args: str, env: dict[str, str] | None = None) -> dict:
    done = r.inv(*args, "--yes", "--json", env=env)
    result = json.loads(done.stdout)
    assert (done.returncode, result["status"]) == (0, "ok"), done.stdout + done.stderr
    return dict(result)


def test_rollback_of_a_worker_that_knows_nothing_of_this_tool(rehearse_plain: Rehearsal) -> None:
    r = rehearse_plain
    r.reset()
    good = _live(r)
    r.break_("bad-deploy")
    assert r.health().status_code == 500 and _live(r) != good
    result = _run(r, "remediate.rollback")
    assert result["message"] == "verified: live-is-target, answers, sample, target-version-analytics"
    analytics = next(x for x in result["records"] if x["name"] == "target-version-analytics")["outputs"]
    assert analytics["version"] == good and analytics["requests"] >= 20 and analytics["error_rate"] == 0
    assert _live(r) == good and r.recovered("bad-deploy")


def test_a_hanging_worker_is_rolled_back_and_verified(rehearse: Rehearsal) -> None:
    r = rehearse
    r.reset()
    good = _live(r)
    r.break_("worker-hang")
    result = _run(r, "remediate.rollback")
    pre = next(x for x in result["records"] if x["name"] == "worker-healthy")
    assert pre["status"] == "failed" and "ReadTimeout" in pre["message"]  # no answer is failing, never healthy
    assert _live(r) == good and r.recovered("worker-hang")


def test_a_worker_that_refuses_connections_is_planned_as_a_rollback(rehearse: Rehearsal, tmp_path: Path) -> None:
    r = rehearse
    r.reset()
    targets = tmp_path / "targets.toml"
    targets.write_text(Path(r.handle.targets).read_text().replace(r.url, "http://127.0.0.1:9"))
    done = r.inv("remediate.rollback", "--dry-run", "--json", env={"OPS_TARGETS_FILE": str(targets)})
    result = json.loads(done.stdout)
    assert (done.returncode, result["status"]) == (0, "planned"), done.stdout
    assert result["message"] == "would change: deploy-target"
    pre = next(x for x in result["records"] if x["name"] == "worker-healthy")
    assert pre["status"] == "failed" and "ConnectError" in pre["message"]


def test_an_undecided_verification_ends_unverified_and_keeps_the_rollback(rehearse_plain: Rehearsal) -> None:
    r = rehearse_plain
    r.reset()
    good = _live(r)
    r.break_("bad-deploy")
    r.analytics_lag(3600)  # analytics never catch up within the deadline
    try:
        done = r.inv("remediate.rollback", "--yes", "--json", "--deadline", "8")
    finally:
        r.analytics_lag(0)
    result = json.loads(done.stdout)
    assert (done.returncode, result["status"], result["exit_code"]) == (1, "unverified", 1), done.stdout
    assert result["undone"] == [] and not [x for x in result["records"] if x["kind"] == "undo"]
    assert [u.split(":")[0] for u in result["unverified"]] == ["target-version-analytics"]
    assert "check by hand" in result["unverified"][0]
    assert _live(r) == good  # the rollback target still serves: an undecided check is no reason to undo


def test_secret_rotation_on_the_plain_worker(rehearse_plain: Rehearsal) -> None:
    r = rehearse_plain
    r.reset()
    new = f"{CANARY}-rotated-api-key"
    result = _run(r, "remediate.secret-rotation", "--name", "API_KEY", "--value", "env:NEW_KEY", env={"NEW_KEY": new})
    assert result["message"] == "verified: live-is-new-version, answers, sample, new-version-analytics; " \
                                "skipped: key-accepted (--key-status-path is not set), auth-probe (--auth-probe is not set)"
    assert httpx.get(f"{r.url}/private", headers={"Authorization": f"Bearer {new}"}, timeout=10).status_code == 200


def test_provider_reorder_on_the_plain_worker(rehearse_plain: Rehearsal) -> None:
    r = rehearse_plain
    r.reset()
    before = _live(r)
    result = _run(r, "remediate.provider-reorder", "--order", "fallback,primary")
    probe = next(x for x in result["records"] if x["name"] == "probe")["outputs"]
    assert probe["observable"] is False and probe["current"] == ["primary", "fallback"]
    assert "traffic-follows (steps.probe.outputs.observable is false or empty)" in result["message"]
    assert _live(r) != before
    assert httpx.get(f"{r.url}/", timeout=10).text == "ok (upstreams: fallback,primary)\n"


def test_cache_warm_through_the_api_on_the_plain_worker(rehearse_plain: Rehearsal, tmp_path: Path) -> None:
    r = rehearse_plain
    r.reset()
    values = tmp_path / "items.jsonl"
    values.write_text("".join(json.dumps({"key": f"item-{i}", "value": {"n": i}}) + "\n" for i in range(300)))
    result = _run(r, "remediate.cache-warm", "--kv-bulk", "--values-file", str(values), "--kv-key", "{key}")
    assert result["message"] == "verified: kv-readback, answers; skipped: sample-hits (--kv-bulk is set)"
    read = httpx.get(f"{r.url}/items/item-7", timeout=10)
    assert read.status_code == 200 and read.headers["x-cache-status"] == "HIT" and read.json() == {"n": 7}

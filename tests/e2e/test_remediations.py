"""Each remediation rehearsed on the sandbox: break → dry-run (no change) → run → verified recovery → journal and report."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ops.actions.jwt_probe import mint_hs256

from testing.workspace import CANARY, REPO
from testing.rehearsal import Rehearsal

MUTATING = ("POST", "PUT", "PATCH", "DELETE")


def dry_run_changes_nothing(r: Rehearsal, name: str, *flags: str, env: dict[str, str] | None = None) -> dict:
    before_requests, before_state = len(r.requests()), r.state()
    plan = r.inv(f"remediate.{name}", "--dry-run", "--json", *flags, env=env)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert r.mutating(before_requests) == []
    after = r.state()
    assert after["scripts"] == before_state["scripts"] and after["kv"] == before_state["kv"]
    result = json.loads(plan.stdout)
    assert result["status"] == "planned"
    return result


def run_and_report(r: Rehearsal, name: str, *flags: str) -> dict:
    done = r.inv(f"remediate.{name}", "--yes", "--json", *flags)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "ok"
    report = r.inv("incident.report", result["run_id"])
    assert report.returncode == 0 and f"# Incident report: {name}" in report.stdout and "## Root cause" in report.stdout
    return result


def test_rollback(rehearse: Rehearsal) -> None:
    r = rehearse
    r.reset()
    good = r.health().json()["version_id"]
    r.sb.break_("bad-deploy")
    assert r.health().status_code == 500
    plan = dry_run_changes_nothing(r, "rollback")
    deploy = next(x for x in plan["records"] if x["name"] == "deploy-target")
    assert deploy["args"]["args"]["version_id"] == good  # wrangler's rule: the newest earlier version at 100%
    assert r.health().status_code == 500  # still broken: the plan changed nothing
    result = run_and_report(r, "rollback")
    assert result["message"] == "verified: live-is-target, answers, sample, target-version-analytics"
    health = r.health()
    assert health.status_code == 200 and health.json()["version_id"] == good
    again = r.inv("remediate.rollback", "--yes", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["status"] == "noop"


def test_rollback_stops_on_changed_secrets_unless_accepted(rehearse: Rehearsal) -> None:
    r = rehearse
    r.reset()
    r.sb.wrangler("deploy", "--message", "a good deploy")
    r.sb.wait_live()
    rotated = r.inv("remediate.secret-rotation", "--yes", "--json")
    assert rotated.returncode == 0, rotated.stdout
    r.sb.break_("bad-deploy")
    target = json.loads(r.inv("remediate.rollback", "--dry-run", "--json").stdout)
    version = next(x for x in target["records"] if x["name"] == "deploy-target")["args"]["args"]["version_id"]
    older = [v["id"] for v in r.state()["scripts"]["api-worker"]["versions"]][3]  # before the rotation
    refused = r.inv("remediate.rollback", "--yes", "--json", "--version", older)
    assert refused.returncode == 3, refused.stdout  # refused before any change: the target predates the rotation
    assert "precondition 'no-secret-rotated-since' failed" in json.loads(refused.stdout)["message"]
    assert "rerun with --accept-secret-changes" in json.loads(refused.stdout)["message"]
    accepted = r.inv("remediate.rollback", "--yes", "--json", "--version", older, "--accept-secret-changes")
    assert accepted.returncode == 0, accepted.stdout
    assert r.health().json()["version_id"] == older
    assert version != older  # the default target is the newest earlier version, not the one from before the rotation


def test_secret_rotation_changes_what_the_worker_checks(rehearse: Rehearsal) -> None:
    r = rehearse
    r.reset()
    old, new = r.sb.secrets["JWT_SECRET"], f"{CANARY}-rotated-jwt"

    def me(secret: str) -> int:
        token = mint_hs256(secret, {"sub": "on-call", "exp": int(time.time()) + 60})  # workerd's WebCrypto verifies it
        return httpx.get(f"{r.sb.worker_url}/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code

    assert me(old) == 200 and me(new) == 401
    flags = ("--value", "env:NEW_JWT", "--auth-probe", "/v1/me")
    plan = dry_run_changes_nothing(r, "secret-rotation", *flags, env={"NEW_JWT": new})
    assert plan["params"]["value"] == f"<secret: {len(new)} chars from env:NEW_JWT>"
    run = r.inv("remediate.secret-rotation", "--yes", "--json", *flags, env={"NEW_JWT": new})
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout)
    assert result["message"] == ("verified: live-is-new-version, answers, sample, new-version-analytics, auth-probe; "
                                  "skipped: key-accepted (--key-status-path is not set)")
    assert me(new) == 200 and me(old) == 401
    assert new not in run.stdout + run.stderr
    for path in r.journal_files():
        assert new not in path.read_text()


def test_a_failed_secret_rotation_keeps_the_new_secret_in_service(rehearse: Rehearsal) -> None:
    r = rehearse
    r.reset()
    before = r.health().json()["version_id"]
    run = r.inv("remediate.secret-rotation", "--yes", "--json", "--name", "CACHE_WARM_SECRET", "--deadline", "8",
                "--value", "env:NEW_WARM", "--auth-probe", "/v1/me", env={"NEW_WARM": f"{CANARY}-not-the-jwt-signing-secret"})
    assert run.returncode == 1, run.stdout + run.stderr
    result = json.loads(run.stdout)
    assert result["status"] == "failed" and "auth-probe" in result["message"]
    assert result["undone"] == [] and result["state_left"] == "CHANGED: kept put-secret (irreversible)"
    now = r.health().json()["version_id"]
    assert now != before  # the version with the new secret still serves: a rotated-away value never comes back
    live = r.state()["scripts"]["api-worker"]["deployments"][0]["versions"][0]["version_id"]
    assert live == now


def test_cache_warm(rehearse: Rehearsal) -> None:
    r = rehearse
    r.reset()
    r.sb.break_("cache-flush")
    dry_run_changes_nothing(r, "cache-warm")
    probe = httpx.get(f"{r.sb.worker_url}/v1/books/9780000000150", timeout=10)
    assert probe.headers["x-cache-status"] == "MISS"  # the dry-run warmed nothing
    result = run_and_report(r, "cache-warm")
    warm = next(x for x in result["records"] if x["name"] == "warm")
    assert warm["outputs"]["total"] == 200 and warm["outputs"]["warmed"] == 200 and warm["outputs"]["failed"] == 0
    assert httpx.get(f"{r.sb.worker_url}/v1/books/9780000000123", timeout=10).headers["x-cache-status"] == "HIT"


def test_cache_warm_through_the_kv_bulk_api(rehearse: Rehearsal, tmp_path: Path) -> None:
    r = rehearse
    r.reset()
    r.sb.break_("cache-flush")
    values = tmp_path / "books.jsonl"
    books = [{"isbn": f"97811{i:08d}", "title": f"Exported {i}", "provider": "origin-export"} for i in range(2500)]
    values.write_text("".join(json.dumps({"key": b["isbn"], "value": b}) + "\n" for b in books))
    flags = ("--kv-bulk", "--values-file", str(values))
    plan = dry_run_changes_nothing(r, "cache-warm", *flags)
    warm = next(x for x in plan["records"] if x["name"] == "warm")
    assert warm["message"] == "keys: 2500, batches: 3, namespace_id: b0b0cafe000000000000000000000001"
    before = len(r.requests())
    result = run_and_report(r, "cache-warm", *flags)
    done = next(x for x in result["records"] if x["name"] == "warm")["outputs"]
    assert done["total"] == 2500 and done["warmed"] == 2500 and done["failed"] == 0
    bulk = [q for q in r.requests()[before:] if q["method"] == "PUT" and q["path"].endswith("/bulk")]
    assert len(bulk) == 3  # 1,000 pairs a request
    stored = r.state()["kv"]["b0b0cafe000000000000000000000001"]["keys"]
    assert json.loads(stored["book:9781100000007"]["value"])["title"] == "Exported 7"
    # Verified through the API (the keys are in the namespace); the Worker's reads follow as KV
    # propagates (eventually consistent in production too, up to a minute), here through the sandbox's
    # bridge. A MISS makes the Worker cache its own lookup of that key, so each try reads a fresh key.
    for i in range(60):
        read = httpx.get(f"{r.sb.worker_url}/v1/books/{9781100002499 - i}", timeout=10)
        if read.headers["x-cache-status"] == "HIT":
            break
        time.sleep(0.5)
    assert read.headers["x-cache-status"] == "HIT" and read.headers["x-provider"] == "origin-export"  # our values, not a lookup


def test_cache_warm_refuses_without_the_secret(rehearse: Rehearsal) -> None:
    r = rehearse
    r.reset()
    r.sb.break_("secret-missing")
    done = r.inv("remediate.cache-warm", "--yes", "--json")
    assert done.returncode == 3
    assert "the Worker has no CACHE_WARM_SECRET" in json.loads(done.stdout)["message"]


def test_provider_reorder(rehearse: Rehearsal) -> None:
    r = rehearse
    r.reset()
    r.sb.break_("provider-slow")
    plan = dry_run_changes_nothing(r, "provider-reorder")
    probe = next(x for x in plan["records"] if x["name"] == "probe")
    assert probe["outputs"]["current"][0] == "google_books" and probe["outputs"]["proposed"][-1] == "google_books"
    config = (r.sb.worker_dir / "wrangler.toml").read_text()
    assert 'PROVIDER_ORDER = "google_books,openlibrary,isbndb"' in config
    assert probe["outputs"]["proposed"] == ["openlibrary", "isbndb", "google_books"]  # the others keep their order
    result = run_and_report(r, "provider-reorder")
    ran = next(x for x in result["records"] if x["name"] == "probe")
    assert ran["outputs"]["proposed"] == probe["outputs"]["proposed"]
    edited = (r.sb.worker_dir / "wrangler.toml").read_text()
    assert 'PROVIDER_ORDER = "openlibrary,isbndb,google_books"' in edited
    assert "# The book cache. Its id must exist in the account" in edited  # comments kept
    sample = [httpx.get(f"{r.sb.worker_url}/v1/books/after-{i}", timeout=10).headers["x-provider"] for i in range(5)]
    assert set(sample) == {probe["outputs"]["first"]}
    # google_books is still slow, but last: the diagnosis judges the provider the live order puts first
    findings = json.loads(r.inv("diagnose", "--json").stdout)["findings"]
    judged = next(f for f in findings if (f["remediation"], f["probe"]) == ("provider-reorder", "slow-providers"))
    assert judged["status"] == "healthy", judged


def test_queue_redeploy(rehearse: Rehearsal) -> None:
    r = rehearse
    r.reset()
    r.sb.break_("consumer-detached")
    for i in range(6):
        httpx.get(f"{r.sb.worker_url}/v1/books/job-{i}", timeout=10)
    assert httpx.get(f"{r.sb.worker_url}/metrics/queue", timeout=10).json()["backlog"] == 6
    assert cloudflare_backlog(r) == {"consumer_attached": False, "backlog": 6}  # the Worker's sends, seen by the shim
    dry_run_changes_nothing(r, "queue-redeploy")
    result = run_and_report(r, "queue-redeploy")
    assert result["message"].startswith("verified: attached, draining, worker-draining;")
    metrics = httpx.get(f"{r.sb.worker_url}/metrics/queue", timeout=10).json()
    assert metrics == {**metrics, "backlog": 0, "consumer_attached": True}
    assert cloudflare_backlog(r) == {"consumer_attached": True, "backlog": 0}


def cloudflare_backlog(r: Rehearsal) -> dict[str, object]:
    """The books queue as Cloudflare's signals show it: the consumer (Queues API), the backlog (GraphQL Analytics)."""
    from ops.cloudflare.operations import OPERATIONS
    from ops.sandbox.layout import with_client

    seen = with_client(r.sb, lambda c: OPERATIONS["queues.backlog"].call(c, name="enrichment-jobs", script="api-worker"))
    return {"consumer_attached": seen["consumer_attached"], "backlog": seen.get("backlog")}


def test_queue_redeploy_replays_the_dead_letter_queue(rehearse: Rehearsal) -> None:
    r = rehearse
    r.reset()
    r.sb.break_("consumer-detached")
    r.sb.break_("dead-letters")
    before = httpx.get(f"{r.sb.worker_url}/metrics/queue", timeout=10).json()
    plan = dry_run_changes_nothing(r, "queue-redeploy", "--replay-dlq")
    peek = next(x for x in plan["records"] if x["name"] == "dead-letters")
    assert peek["outputs"]["result"]["count"] == 8
    replay = next(x for x in plan["records"] if x["name"] == "replay")
    assert replay["effect"] == "destructive" and replay["status"] == "planned"
    result = run_and_report(r, "queue-redeploy", "--replay-dlq")
    moved = next(x for x in result["records"] if x["name"] == "replay")["outputs"]["result"]
    assert moved["moved"] == 8 and moved["remaining"] == 0
    assert result["message"] == "verified: attached, draining, worker-draining, dead-letters-empty"
    deadline = time.monotonic() + 30  # verified as draining: the replayed jobs reach the consumer in its next batches
    while (after := httpx.get(f"{r.sb.worker_url}/metrics/queue", timeout=10).json())["backlog"] and time.monotonic() < deadline:
        time.sleep(0.5)
    assert after["delivered"] - before["delivered"] == 8
    assert after["backlog"] == 0 and after["consumer_attached"] is True
    assert after["consumed"] - before["consumed"] >= 8  # each replayed job was consumed (at least once)


def test_binding_check_finds_and_fixes_a_recreated_namespace(rehearse: Rehearsal) -> None:
    r = rehearse
    r.reset()
    r.sb.break_("binding-mismatch")
    new_id = next(k for k, v in r.state()["kv"].items() if v["title"] == "api-worker-CACHE")
    plan = dry_run_changes_nothing(r, "binding-check", "--fix")
    check = next(x for x in plan["records"] if x["name"] == "check")
    assert check["outputs"]["missing"] == ["b0b0cafe000000000000000000000001"]
    assert check["outputs"]["fix_set"] == {"kv_namespaces.0.id": new_id}
    assert 'KV namespace b0b0cafe000000000000000000000001 bound as "CACHE" does not exist in the account; the KV namespace "api-worker-CACHE"' in check["outputs"]["findings"][0]
    gate = r.inv("check.bindings", "--config", str(r.sb.worker_dir / "wrangler.toml"), "--remote", "--format", "json")
    assert gate.returncode == 1 and json.loads(gate.stdout)["findings"][0]["code"] == "missing-kv"  # one checker for both
    run_and_report(r, "binding-check", "--fix")
    config = (r.sb.worker_dir / "wrangler.toml").read_text()
    assert f'id = "{new_id}"' in config and "# The book cache." in config
    assert r.inv("check.bindings", "--config", str(r.sb.worker_dir / "wrangler.toml"), "--remote").returncode == 0


def test_emergency_rollback_works_with_a_broken_spec_and_no_terminal(rehearse: Rehearsal, tmp_path: Path) -> None:
    import shutil

    r = rehearse
    r.reset()
    specs = tmp_path / "remediations"
    shutil.copytree(REPO / "remediations", specs)
    (specs / "cache-warm.yaml").write_text("name: cache-warm\nsteps: [\n")  # unparseable
    r.sb.break_("bad-deploy")
    done = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO),
                           "remediate.rollback", "--yes", "--json"], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, env={**r.handle.ops_env(), "OPS_REMEDIATIONS_DIR": str(specs),
                                                         "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)  # exactly one JSON document
    assert result["status"] == "ok" and result["exit_code"] == 0
    assert r.health().status_code == 200


def test_dry_run_makes_no_mutating_request_on_a_healthy_sandbox(rehearse: Rehearsal) -> None:
    """Every remediation's dry-run, one after the other on one healthy sandbox: none sends a mutating request."""
    rehearse.reset()  # healthy: whatever the test before left
    names = sorted(p.stem for p in (REPO / "remediations").glob("*.yaml"))
    assert set(names) == set(EXPECTED_ON_A_HEALTHY_SANDBOX), "a new remediation needs its expected dry-run outcome"
    for name in names:
        before = len(rehearse.requests())
        done = rehearse.inv(f"remediate.{name}", "--dry-run", "--json", *HEALTHY_DRY_RUN_FLAGS.get(name, ()))
        result = json.loads(done.stdout)
        assert (done.returncode, result["status"]) == EXPECTED_ON_A_HEALTHY_SANDBOX[name], (name, done.stdout + done.stderr)
        assert rehearse.mutating(before) == [], name


# On a healthy sandbox: rollback is forced (it would be a no-op), and queue-redeploy finds its consumer attached;
# fallback-providers does not fit the books Worker, which has no config endpoint (its target is sandbox-ai), and
# the target's remediations list leaves it out: refused as bad input before anything is sent.
HEALTHY_DRY_RUN_FLAGS = {"rollback": ("--force",), "fallback-providers": ("--admin-secret", "env:CACHE_WARM_SECRET")}
EXPECTED_ON_A_HEALTHY_SANDBOX = {"rollback": (0, "planned"), "secret-rotation": (0, "planned"),
                                 "binding-check": (0, "planned"), "cache-warm": (0, "planned"),
                                 "provider-reorder": (0, "planned"), "queue-redeploy": (0, "noop"),
                                 "jwt-rotation": (0, "planned"), "fallback-providers": (2, "bad-input"),
                                 "d1-index": (2, "bad-input"), "d1-outage": (2, "bad-input"),  # D1 targets only
                                 "reduce-cache-size": (2, "bad-input"),  # targets with a memory report only
                                 "promote": (2, "bad-input")}  # a dry-run without the VERSION to promote


def test_diagnose_finds_the_symptoms_and_suggests_the_fix(rehearse: Rehearsal) -> None:
    r = rehearse
    r.reset()
    r.sb.break_("consumer-detached")
    for i in range(60):
        httpx.get(f"{r.sb.worker_url}/v1/books/diag-{i}", timeout=10)
    r.sb.break_("secret-missing")
    before = len(r.requests())
    done = r.inv("diagnose", "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    symptoms = {(f["remediation"], f["probe"]): f for f in report["findings"] if f["status"] == "symptom"}
    assert symptoms[("queue-redeploy", "backlog")]["command"] == "inv remediate.queue-redeploy"
    assert symptoms[("secret-rotation", "required-secrets")]["command"] == (
        "inv remediate.secret-rotation --name CACHE_WARM_SECRET --create --value env:CACHE_WARM_SECRET")
    healthy = {(f["remediation"], f["probe"]) for f in report["findings"] if f["status"] == "healthy"}
    assert ("rollback", "health") in healthy and ("binding-check", "bindings") in healthy
    # Two causes: the secret was the last change, and the detached consumer is a fact of its own.
    ranked = report["diagnosis"]
    assert ranked["remediation"] == "secret-rotation" and [o["remediation"] for o in ranked["others"]] == ["queue-redeploy"]
    assert r.mutating(before) == []  # diagnose only reads

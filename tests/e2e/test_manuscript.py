"""The manuscript platform's runbook, rehearsed on its own lean sandbox (only the manuscript Worker on real workerd).

API down → rollback; JWT_SECRET rotation with a login probe; analysis jobs stuck in the dead-letter
queue → queue-redeploy --replay-dlq; `inv diagnose --target sandbox-manuscript` finds each symptom.
The flags each remediation needs come from the target (targets.toml's params tables), not the command
line. Every output and journal is scanned for the canaries planted in the token, JWT_SECRET and the
probe user's password.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any, Iterator

import httpx
import pytest

from ops.sandbox.constants import MANUSCRIPT, MANUSCRIPT_DB, MANUSCRIPT_PROBE_EMAIL
from ops.sandbox.layout import with_client

from testing.workspace import CANARY, REPO, SANDBOX_TOKEN
from testing.rehearsal import Rehearsal

PASSWORD = f"{CANARY}-probe-password"


@pytest.fixture(scope="module")
def rehearse() -> Iterator[Rehearsal]:
    if not (REPO / "node_modules" / ".bin" / "wrangler").exists():
        pytest.skip("the npm parts are not installed (run ./scripts/bootstrap); CI installs them")
    from testing.sandbox import SandboxHandle

    handle = SandboxHandle(token=SANDBOX_TOKEN, workers=(MANUSCRIPT,),
                           other_secrets={MANUSCRIPT.key: {"JWT_SECRET": f"{CANARY}-manuscript-jwt"}},
                           other_credentials={MANUSCRIPT.key: {"LOGIN_PROBE_PASSWORD": PASSWORD}})
    yield Rehearsal(handle, MANUSCRIPT)
    handle.stop()


def login(r: Rehearsal) -> str:
    answer = httpx.post(f"{r.url}/auth/login", json={"email": MANUSCRIPT_PROBE_EMAIL, "password": PASSWORD}, timeout=10)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def manuscripts(r: Rehearsal, token: str) -> int:
    return httpx.get(f"{r.url}/manuscripts", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code


def diagnose(r: Rehearsal) -> dict[tuple[str, str], dict[str, Any]]:
    done = r.inv("diagnose", "--target", MANUSCRIPT.target, "--json")
    report = json.loads(done.stdout)
    return {(f["remediation"], f["probe"]): f for f in report["findings"]}


def run(r: Rehearsal, name: str, *flags: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = r.inv(f"remediate.{name}", "--yes", "--json", *flags, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(json.loads(done.stdout))


def test_the_worker_answers_401_without_a_token_and_lists_from_d1_with_one(rehearse: Rehearsal) -> None:
    from tests.runbook_names import unrouted

    r = rehearse
    assert unrouted(r.url, "manuscript") == []  # every route the runbook names
    assert r.health().status_code == 401
    assert httpx.get(f"{r.url}/health", timeout=10).status_code == 404  # no /health
    token = login(r)
    listed = httpx.get(f"{r.url}/manuscripts", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    titles = [m["title"] for m in listed["manuscripts"]]
    query = {"sql": "SELECT title FROM manuscripts ORDER BY id"}
    rows = with_client(r.sb, lambda c: c.result("POST", f"/d1/database/{MANUSCRIPT_DB}/query", json=query))[0]["results"]
    assert titles == [row["title"] for row in rows] and len(titles) >= 3  # the Worker and the D1 API agree
    found = diagnose(r)
    assert found[("jwt-rotation", "users-table")]["status"] == "healthy"  # the d1 probe, through the API
    assert {k[0] for k in found} == {"rollback", "jwt-rotation", "queue-redeploy", "d1-index"}  # the target's remediations only


def test_jwt_rotation_logs_every_session_out_and_a_fresh_login_works(rehearse: Rehearsal) -> None:
    r = rehearse
    old = login(r)
    assert manuscripts(r, old) == 200
    new = f"{CANARY}-rotated-manuscript-jwt"
    plan = r.inv("remediate.jwt-rotation", "--dry-run", "--value", "env:NEW_JWT", env={"NEW_JWT": new})
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "every session is logged out" in " ".join(plan.stdout.split())
    assert manuscripts(r, old) == 200  # the plan changed nothing
    result = run(r, "jwt-rotation", "--value", "env:NEW_JWT", env={"NEW_JWT": new})
    assert result["message"] == "verified: live-is-new-version, answers, login, fresh-session-works, old-session-refused"
    assert manuscripts(r, old) == 401  # the session from before the rotation is refused
    assert manuscripts(r, login(r)) == 200  # a fresh login works
    for text in [json.dumps(result), *(p.read_text() for p in r.journal_files())]:
        assert new not in text and old not in text and PASSWORD not in text


def test_api_down_is_found_and_rolled_back(rehearse: Rehearsal) -> None:
    r = rehearse
    good = r.sb.live_version(MANUSCRIPT)
    r.break_("bad-deploy")
    assert r.health().status_code == 500
    found = diagnose(r)
    assert found[("rollback", "health")]["status"] == "symptom"
    assert found[("rollback", "health")]["command"] == "inv remediate.rollback"
    result = run(r, "rollback")
    assert result["message"] == "verified: live-is-target, answers, sample, target-version-analytics"
    assert r.recovered("bad-deploy") and r.sb.live_version(MANUSCRIPT) == good  # the rotation's version, if it ran first
    assert r.health().status_code == 401
    r.sb.wrangler("deploy", worker=MANUSCRIPT)  # leave the latest version deployed, as the next test may need it
    r.sb.wait_live(MANUSCRIPT)


def test_analysis_jobs_in_the_dead_letter_queue_are_replayed_and_analysed(rehearse: Rehearsal) -> None:
    r = rehearse
    r.break_("analysis-dead-letters")
    assert not r.recovered("analysis-dead-letters")
    found = diagnose(r)
    assert found[("queue-redeploy", "dead-letter-queue")]["status"] == "symptom"
    result = run(r, "queue-redeploy", "--replay-dlq")  # the queue and its DLQ come from the target's params
    moved = next(x for x in result["records"] if x["name"] == "replay")["outputs"]["result"]
    assert moved["moved"] >= 3 and moved["remaining"] == 0  # and a job the test below dead-lettered, if it ran first
    assert r.recovered("analysis-dead-letters")  # the DLQ is empty and D1 shows each manuscript analysed
    sql = "SELECT id, word_count FROM manuscripts WHERE analysis_status = 'done' AND id <= 3 ORDER BY id"
    seen = json.loads(r.sb.wrangler("d1", "execute", "DB", "--remote", "--json", "--command", sql, worker=MANUSCRIPT))
    assert [row["id"] for row in seen[0]["results"]] == [1, 2, 3]  # the real wrangler reads what the Worker wrote


def test_a_job_that_keeps_failing_is_dead_lettered_by_the_queue_itself(rehearse: Rehearsal) -> None:
    r = rehearse
    from ops.cloudflare import peek_messages, push_messages
    from ops.cloudflare.operations import find_queue

    def queue_id(name: str) -> str:
        return str(with_client(r.sb, lambda c: find_queue(c, name, ""))["queue_id"])

    job = {"manuscript_id": 4, "requested_at": 0}  # no such manuscript yet: the Worker's consumer throws on it
    with_client(r.sb, lambda c: push_messages(c, queue_id("manuscript-analysis-queue"), [{"body": job, "content_type": "json"}]))
    deadline = time.monotonic() + 30
    dead: list[Any] = []
    while not dead and time.monotonic() < deadline:  # 1 delivery + max_retries = 3 retries, then wrangler dev's DLQ
        dead = with_client(r.sb, lambda c: peek_messages(c, queue_id("manuscript-analysis-dlq"), batch_size=5))
        time.sleep(0.3)
    assert [json.loads(base64.b64decode(m["body"])) for m in dead] == [job]
    insert = {"sql": "INSERT INTO manuscripts (id, owner_id, title, body) VALUES (4, 1, 'Late', 'It came after all.')"}
    with_client(r.sb, lambda c: c.result("POST", f"/d1/database/{MANUSCRIPT_DB}/query", json=insert))  # a replay now succeeds


def test_d1_query_reads_and_refuses_a_write_before_sending_it(rehearse: Rehearsal) -> None:
    r = rehearse
    done = r.inv("d1.query", "DB", "SELECT count(*) AS n FROM manuscripts", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] is True and result["first"]["n"] >= 3 and result["database"] == MANUSCRIPT_DB
    text = r.inv("d1.query", "DB", "SELECT title FROM manuscripts ORDER BY id")
    assert text.returncode == 0 and text.stdout.splitlines()[2].startswith("title") and "row(s)" in text.stdout
    before = len(r.requests())
    refused = r.inv("d1.query", "DB", "DELETE FROM manuscripts")
    assert refused.returncode == 2 and "refused" in refused.stderr and "Traceback" not in refused.stderr
    assert [q for q in r.requests()[before:] if "/d1/" in q["path"]] == []  # nothing sent
    missing = r.inv("d1.query", "DB", "SELECT * FROM no_such_table", "--json")
    assert missing.returncode == 1 and json.loads(missing.stdout)["ok"] is False


def test_status_on_the_manuscript_worker_shows_its_d1_and_queue_bindings(rehearse: Rehearsal) -> None:
    done = rehearse.inv("status", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    kinds = {b["type"]: b for b in json.loads(done.stdout)["bindings"]}
    assert kinds["d1"]["exists"] is True and kinds["queue"]["exists"] is True


def test_a_slow_query_is_found_by_its_query_plan_and_its_index_created(rehearse: Rehearsal) -> None:
    r = rehearse
    token = login(r)
    r.break_("slow-d1-query")
    assert not r.recovered("slow-d1-query")
    started = time.monotonic()
    assert manuscripts(r, token) == 200
    assert time.monotonic() - started >= 3.0  # the scan's cost at production size: above the runbook's 3 s
    found = diagnose(r)
    plan = found[("d1-index", "query-plan")]
    assert plan["status"] == "symptom" and "SCAN manuscripts" in plan["detail"]
    assert "INDEX idx_manuscripts_owner_id" in plan["detail"]  # the finding names the missing index
    result = run(r, "d1-index")
    assert result["message"] == "verified: plan-uses-index, answers"
    assert r.recovered("slow-d1-query")
    assert run(r, "d1-index")["status"] == "noop"  # the plan uses it now: nothing to create


def test_errors_on_one_endpoint_are_rolled_back_and_inv_logs_names_the_endpoint(rehearse: Rehearsal) -> None:
    import subprocess
    import sys

    r = rehearse
    good = r.sb.live_version(MANUSCRIPT)
    watching = subprocess.Popen([sys.executable, "-m", "invoke", "--search-root", str(REPO), "logs", "--json",
                                 "--seconds", "40"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=r.handle.ops_env(OPS_TARGET=MANUSCRIPT.target), cwd=r.handle.home)
    time.sleep(3)  # the tail session is open before the traffic
    r.break_("endpoint-errors")
    out, err = watching.communicate(timeout=120)
    assert watching.returncode == 0, out + err
    first = json.loads(out)["summary"]["by_path"][0]
    assert (first["method"], first["path"]) == ("PUT", "/manuscripts/1/upload")
    assert 0.05 <= first["rate_5xx"] <= 0.10 and first["by_class"]["5xx"] >= 1
    found = diagnose(r)
    assert found[("rollback", "health")]["status"] == "symptom"
    result = run(r, "rollback")
    assert result["message"] == "verified: live-is-target, answers, sample, target-version-analytics"
    assert r.sb.live_version(MANUSCRIPT) == good and r.recovered("endpoint-errors")
    report = r.inv("incident.report", result["run_id"])  # in the team's template, the target's [incident]
    assert report.returncode == 0, report.stdout + report.stderr
    assert "- Authors affected: _to be filled in_" in report.stdout and "docs/runbooks/manuscript.md" in report.stdout
    assert any(f"- Severity: **{name}**" in report.stdout for name in ("Critical", "High", "Medium", "Low"))
    r.sb.wrangler("deploy", worker=MANUSCRIPT)  # leave the latest version deployed, as a secret put needs it
    r.sb.wait_live(MANUSCRIPT)


def test_queue_delays_from_a_detached_consumer_are_found_and_redeployed(rehearse: Rehearsal) -> None:
    r = rehearse
    r.break_("consumer-detached")
    assert not r.recovered("consumer-detached")
    assert diagnose(r)[("queue-redeploy", "backlog")]["status"] == "symptom"
    run(r, "queue-redeploy")
    assert r.recovered("consumer-detached")


def test_register_verify_upload_and_logout_use_d1_r2_and_kv(rehearse: Rehearsal) -> None:
    r = rehearse
    email = f"new-{time.time_ns()}@manuscripts.test"
    created = httpx.post(f"{r.url}/auth/register", json={"email": email, "password": "long enough"}, timeout=10)
    assert created.status_code == 201 and created.json()["email_verified"] is False
    query = {"sql": "SELECT v.token FROM verification_tokens v JOIN users u ON u.id = v.user_id WHERE u.email = ?",
             "params": [email]}
    link = with_client(r.sb, lambda c: c.result("POST", f"/d1/database/{MANUSCRIPT_DB}/query", json=query))
    verified = httpx.get(f"{r.url}/auth/verify", params={"token": link[0]["results"][0]["token"]}, timeout=10)
    assert verified.status_code == 200 and verified.json()["email_verified"] is True
    token = login(r)
    stored = httpx.put(f"{r.url}/manuscripts/2/upload?name=chapter.txt", content="Chapter one.",
                       headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert stored.status_code == 201 and stored.json()["stored"] == "uploads/2/chapter.txt"
    assert httpx.post(f"{r.url}/auth/logout", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200
    assert manuscripts(r, token) == 401  # the session is gone from KV, though the token's signature still holds


def test_a_missing_signing_secret_is_named_first_and_created_so_that_logins_work_again(rehearse: Rehearsal) -> None:
    import shlex

    r = rehearse
    r.break_("jwt-secret-missing")
    refused = httpx.post(f"{r.url}/auth/login", json={"email": MANUSCRIPT_PROBE_EMAIL, "password": PASSWORD}, timeout=10)
    assert refused.status_code == 503
    done = r.inv("diagnose", "--target", MANUSCRIPT.target, "--json")
    diagnosis = json.loads(done.stdout)["diagnosis"]
    assert (done.returncode, diagnosis["remediation"]) == (1, "jwt-rotation"), diagnosis
    assert diagnosis["command"] == "inv remediate.jwt-rotation --name JWT_SECRET --create"  # read, not guessed
    result = run(r, "jwt-rotation", *shlex.split(diagnosis["command"])[2:])
    assert result["message"] == ("verified: live-is-new-version, answers, login, fresh-session-works; skipped: "
                                 "old-session-refused (--create is set)")
    assert manuscripts(r, login(r)) == 200 and r.recovered("jwt-secret-missing")

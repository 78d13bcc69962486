"""The infrastructure platform's runtime procedures, on its own served Worker (not the plain one).

"The Worker is not responding" → rollback of infra-api; "the database is unreachable" → the d1 probe says so
(not the health contract, not a rollback) and `inv remediate.d1-outage` waits for it and proves the Worker
reconnects. On the session sandbox, which serves the infrastructure Worker beside the books and plain ones.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import httpx

from ops.sandbox.breaks import end_database_outage
from ops.sandbox.constants import INFRA, INFRA_DB
from ops.sandbox.layout import with_client

from testing.workspace import REPO
from testing.rehearsal import Rehearsal


def diagnosed(r: Rehearsal) -> dict[str, Any]:
    done = r.inv("diagnose", "--json")
    return dict(json.loads(done.stdout))


def statuses(result: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(f["remediation"], f["probe"]): f["status"] for f in result["findings"]}


def test_the_infra_worker_is_served_with_health_and_its_database(sandbox: Any) -> None:
    from tests.runbook_names import unrouted

    r = Rehearsal(sandbox, INFRA)
    assert unrouted(r.url, "infra") == []  # every route the runbook names
    health = r.health().json()
    assert health["status"] == "healthy" and health["database"] == {**health["database"], "name": "greyhaven-db",
                                                                     "connected": True}
    assert health["version_id"] == r.sb.live_version(INFRA)
    served = httpx.get(f"{r.url}/services", timeout=10).json()["services"]
    rows = with_client(r.sb, lambda c: c.result("POST", f"/d1/database/{INFRA_DB}/query",
                                                 json={"sql": "SELECT name, origin FROM services ORDER BY name"}))
    assert served == rows[0]["results"] and served  # the Worker and the D1 API read the same database
    assert diagnosed(r)["diagnosis"]["verdict"] == "nothing-wrong"


def test_a_worker_not_responding_is_rolled_back_on_the_infra_worker(sandbox: Any) -> None:
    r = Rehearsal(sandbox, INFRA)
    good = r.sb.live_version(INFRA)
    r.break_("worker-hang")
    result = diagnosed(r)
    assert result["diagnosis"]["remediation"] == "rollback" and statuses(result)[("rollback", "health")] == "symptom"
    done = r.inv("remediate.rollback", "--yes", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert r.sb.live_version(INFRA) == good and r.recovered("worker-hang")


def test_the_database_unreachable_is_found_by_its_probe_and_waited_out(sandbox: Any) -> None:
    r = Rehearsal(sandbox, INFRA)
    r.break_("database-unreachable")
    try:
        assert r.health().status_code == 200 and r.health().json()["database"]["connected"] is False  # degraded, alive
        assert httpx.get(f"{r.url}/services", timeout=10).status_code == 503
        result = diagnosed(r)
        found = statuses(result)
        assert result["diagnosis"]["remediation"] == "d1-outage" and found[("d1-outage", "database-answers")] == "symptom"
        assert found[("rollback", "health")] == "healthy"  # a rollback would not bring the database back
        run = subprocess.Popen([sys.executable, "-m", "invoke", "--search-root", str(REPO), "remediate.d1-outage",
                                "--yes", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=r.handle.ops_env(OPS_TARGET=INFRA.target), cwd=r.handle.home)
        deadline = time.monotonic() + 60
        while not any("database-now" in p.read_text() for p in r.journal_files()) and time.monotonic() < deadline:
            time.sleep(0.2)  # the run waits for the database; Cloudflare's fix is what ends the outage
        end_database_outage(r.sb)
        out, err = run.communicate(timeout=240)
        assert run.returncode == 0, out + err
        assert json.loads(out)["message"] == "verified: database-back, answers"
        assert r.recovered("database-unreachable")
    finally:
        end_database_outage(r.sb)

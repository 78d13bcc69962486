"""The books runbook's own procedures, rehearsed from break to verified fix on the session sandbox.

Each resets the sandbox (a full restart), so they run with the diagnosis matrix, not in every CI run:
`pytest -m matrix tests/e2e/test_books_runbook.py`. That their diagnosis names them is the matrix's
job (tests/e2e/test_diagnosis.py::test_the_whole_matrix).
"""

from __future__ import annotations

import json

import httpx
import pytest

from ops.sandbox.breaks import COLD_BUCKET, find

from testing.rehearsal import Rehearsal

pytestmark = pytest.mark.matrix


def remediate(r: Rehearsal, name: str, *flags: str, env: dict[str, str] | None = None) -> dict:
    done = r.inv(f"remediate.{name}", "--yes", "--json", *flags, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict = json.loads(done.stdout)
    assert result["status"] == "ok"
    return result


@pytest.mark.parametrize("scenario", ["v1-compat-off", "rate-limit-storm"])
def test_a_setting_that_refuses_clients_is_rolled_back(rehearse: Rehearsal, scenario: str) -> None:
    r = rehearse
    r.reset()
    r.break_(scenario)
    assert not r.recovered(scenario)
    # The Worker answers its health contract: only --force rolls back a version that refuses clients.
    assert json.loads(r.inv("remediate.rollback", "--yes", "--json").stdout)["status"] == "noop"
    result = remediate(r, find(scenario).remediation, *find(scenario).flags)
    assert find(scenario).flags == ("--force",) and result["message"].startswith("verified")
    assert r.recovered(scenario)


def test_a_missing_gemini_key_is_put_back_and_scans_work_again(rehearse: Rehearsal) -> None:
    r = rehearse
    r.reset()
    r.break_("gemini-key-missing")
    scan = httpx.post(f"{r.url}/api/scan", json={"isbns": ["9780441013593"]}, timeout=30)
    assert scan.status_code == 503 and scan.headers["x-error-code"] == "GEMINI_API_KEY_MISSING"
    remediate(r, "secret-rotation", *find("gemini-key-missing").flags, env={"GEMINI_API_KEY": "rotated-gemini-key-1"})
    assert r.recovered("gemini-key-missing")
    assert httpx.post(f"{r.url}/api/scan", json={"isbns": ["9780441013593"]}, timeout=30).status_code == 202


def test_a_missing_r2_bucket_is_named_by_the_bindings_check_and_the_manual_step_fixes_it(rehearse: Rehearsal) -> None:
    r = rehearse
    r.reset()
    r.break_("r2-bucket-missing")
    config = ("--config", str(r.sb.config_of(r.worker)))
    check = r.inv("check.bindings", *config, "--remote")
    assert check.returncode != 0 and COLD_BUCKET in check.stdout + check.stderr
    r.sb.wrangler("r2", "bucket", "create", COLD_BUCKET)  # the runbook's manual step
    assert r.recovered("r2-bucket-missing")
    assert r.inv("check.bindings", *config, "--remote").returncode == 0

"""Incident reports to the runbook's template: severity, affected share, detection/identification/resolution,
and one incident gathered from every run and diagnosis in a window."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ops.engine.diagnose import Finding
from ops.engine.diagnose_journal import journal_diagnosis
from ops.engine.incident import TEMPLATE_ACTION_ITEMS, incident_report, incident_report_since
from ops.errors import InputError
from ops.targets import Target
from testing.workspace import Workspace
from tests.fakes.service import Service

SPECS = Path(__file__).parent / "specs"
TARGET = "target production: worker manuscript-api at https://ms.example (account a, API https://api)"
ANALYTICS = {"version": "v-bad", "requests": 1000, "errors": 310, "error_rate": 0.31, "since": "2026-11-23T10:01:00+00:00",
             "until": "2026-11-23T10:03:00+00:00", "inconclusive": None}


def _write(folder: Path, run: str, events: list[tuple[str, str, dict[str, Any]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run}.jsonl"
    lines = [json.dumps({"ts": f"2026-11-23T{clock}+00:00", "mono": 0, "run": run, "event": kind, **fields})
             for clock, kind, fields in events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _diagnosis(folder: Path, clock: str = "10:00:00.000", symptom: bool = True) -> Path:
    finding = [(clock, "finding", {"name": "health", "remediation": "rollback", "outcome": "symptom",
                                   "message": "/health is failing", "command": "inv remediate.rollback"})]
    return _write(folder, f"20261123T{clock[:8].replace(':', '')}000Z-diagnose-1", [
        (clock, "run-start", {"spec": "diagnose", "mode": "diagnose", "target": TARGET, "params": {}}),
        *(finding if symptom else []),
        (clock, "run-end", {"mode": "diagnose", "status": "symptoms" if symptom else "healthy",
                            "exit_code": int(symptom), "message": f"{int(symptom)} symptom(s)"}),
    ])


def _rollback(folder: Path, start: str, end: str, status: str, *, analytics: dict[str, Any] | None = None,
              down: bool = True, state_left: str = "") -> Path:
    outputs = {"healthy": False, "failing": down, "http": {"status": 500 if down else 200, "failing": down},
               "analytics": analytics}
    steps = [(start, "step-start", {"name": "deploy-target", "effect": "write"}),
             (end, "step-end", {"name": "deploy-target", "outcome": "ok" if status == "ok" else "failed",
                                "message": "" if status == "ok" else "API error 10220"})]
    verified = [(end, "check", {"name": "health-is-target", "attempt": 2, "outcome": "passed", "message": ""}),
                (end, "verified", {"attempts": 2, "seconds": 3.1})] if status == "ok" else []
    return _write(folder, f"20261123T{start[:8].replace(':', '')}000Z-rollback-2", [
        (start, "run-start", {"spec": "rollback", "target": TARGET, "params": {"max_error_rate": 0.05}}),
        (start, "precondition", {"name": "worker-healthy", "outcome": "failed", "outputs": outputs,
                                 "message": "the Worker answers 500"}),
        *steps, *verified,
        (end, "run-end", {"status": status, "exit_code": 0 if status == "ok" else 1,
                          "message": "verified: health-is-target" if status == "ok" else "step deploy-target failed",
                          "state_left": state_left or ("changed: deployed v-good" if status == "ok" else "unchanged")}),
    ])


def test_one_incident_from_a_diagnosis_a_failed_run_and_the_run_that_fixed_it(tmp_path: Path) -> None:
    _write(tmp_path, "20261122T090000000Z-cache-warm-9", [  # the day before: outside the window
        ("09:00:00.000", "run-start", {"spec": "cache-warm", "target": TARGET, "params": {}}),
        ("09:00:05.000", "run-end", {"status": "ok", "exit_code": 0, "message": "verified"})])
    (tmp_path / "20261122T090000000Z-cache-warm-9.jsonl").write_text(
        (tmp_path / "20261122T090000000Z-cache-warm-9.jsonl").read_text().replace("2026-11-23", "2026-11-22"))
    _diagnosis(tmp_path, "10:00:00.000")
    _rollback(tmp_path, "10:03:00.000", "10:03:04.000", "failed", analytics=ANALYTICS)
    _rollback(tmp_path, "10:08:00.000", "10:09:30.000", "ok")
    report = incident_report_since(tmp_path, "2026-11-23T09:30Z")
    assert report.startswith("# Incident report: rollback since 2026-11-23 09:30:00 UTC")
    assert "- Severity: **SEV1** (31.0% of requests failed (at least 25%))" in report
    assert ("- Affected requests: **31.0%** of requests failed (310 of 1000 requests of version v-bad failed or hung, "
            "2026-11-23T10:01:00+00:00 to 2026-11-23T10:03:00+00:00; from the analytics in the journal)") in report
    assert "- Detected: 2026-11-23 10:00:00 UTC (diagnose: /health is failing)" in report
    assert "- Identified: 2026-11-23 10:03:00 UTC (`inv remediate.rollback` started)" in report
    assert "- Resolved: 2026-11-23 10:09:30 UTC (`rollback` ended ok: verified: health-is-target)" in report
    assert "- Duration: 9 min 30 s; time to identify 3 min 0 s" in report
    assert "cache-warm" not in report  # outside the window
    assert report.count("| `inv remediate.rollback` |") == 2 and report.count("| `inv diagnose` |") == 1
    assert "| 10:00:00.000 | diagnose | finding | health | symptom | /health is failing |" in report
    for item in TEMPLATE_ACTION_ITEMS:
        assert f"- [ ] {item}" in report
    assert "- [ ] `rollback` ended `failed`: unchanged. Confirm the service state by hand." in report


def test_until_closes_the_window_and_an_unresolved_incident_says_so(tmp_path: Path) -> None:
    _diagnosis(tmp_path, "10:00:00.000")
    _rollback(tmp_path, "10:03:00.000", "10:03:04.000", "failed", state_left="CHANGED: deployed v-good; fix by hand")
    _rollback(tmp_path, "10:08:00.000", "10:09:30.000", "ok")
    report = incident_report_since(tmp_path, "2026-11-23T09:30", "2026-11-23T10:05")
    assert "- Status: **not resolved**" in report and "- Resolved: - (not resolved in this window)" in report
    assert "- Duration: 3 min 4 s so far (not resolved)" in report
    assert "- Severity: **SEV1** (the Worker did not answer its health check, or answered 5xx)" in report


@pytest.mark.parametrize(("analytics", "down", "status", "severity"), [
    ({**ANALYTICS, "errors": 60, "error_rate": 0.06}, False, "ok", "SEV2 (6.0% of requests failed (at least 5%))"),
    ({**ANALYTICS, "errors": 10, "error_rate": 0.01}, False, "ok", "SEV3 (a symptom was found or a change was needed"),
    (None, False, "noop", "SEV4 (no symptom was found and nothing needed doing)"),
])
def test_severity_follows_the_evidence(tmp_path: Path, analytics: dict[str, Any] | None, down: bool, status: str,
                                       severity: str) -> None:
    path = _rollback(tmp_path, "10:03:00.000", "10:04:00.000", status, analytics=analytics, down=down)
    if status == "noop":
        path.write_text("\n".join(line for line in path.read_text().splitlines()
                                  if '"precondition"' not in line and '"step-' not in line) + "\n")
    level, why = severity.split(" ", 1)
    assert f"- Severity: **{level}** {why}" in incident_report(path)


def test_a_given_severity_and_detection_time_win(tmp_path: Path) -> None:
    path = _rollback(tmp_path, "10:03:00.000", "10:04:00.000", "ok")
    report = incident_report(path, severity="sev2", detected="2026-11-23T09:58:00Z")
    assert "- Severity: **SEV2** (given with --severity)" in report
    assert "- Detected: 2026-11-23 09:58:00 UTC (given with --detected)" in report and "- Duration: 6 min 0 s" in report
    with pytest.raises(InputError, match="--severity: 'SEV9' is not one of SEV1, SEV2, SEV3, SEV4"):
        incident_report(path, severity="SEV9")
    with pytest.raises(InputError, match="--since: 'yesterday' is not an ISO time"):
        incident_report_since(tmp_path, "yesterday")
    with pytest.raises(InputError, match="no run or diagnosis since 2027-01-01"):
        incident_report_since(tmp_path, "2027-01-01")


def test_a_journaled_diagnosis_and_a_real_run_make_one_incident(workspace: Workspace, service: Service) -> None:
    target = Target("test", "http://127.0.0.1:9/client/v4", "a", "api-worker", service.url, token="t" * 8)
    findings = [Finding("poke", "value", "symptom", "the value is wrong", "expected json.value == 11, got 0",
                        "inv remediate.poke"), Finding("poke", "health", "healthy", "service up", "", "")]
    path = journal_diagnosis(findings, target, workspace.journal)
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["event"] for e in events] == ["run-start", "finding", "run-end"]
    assert events[-1]["message"] == "1 symptom(s), 1 probe(s) healthy, 0 unknown"
    since = events[0]["ts"]
    workspace.add_spec(SPECS / "poke.yaml")
    assert workspace.inv("remediate.poke").returncode == 0
    done = workspace.inv("incident.report", "--since", since)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "# Incident report: poke since " in done.stdout
    assert "(diagnose: the value is wrong)" in done.stdout and "(`inv remediate.poke` started)" in done.stdout
    assert "- Status: **resolved**" in done.stdout and "- Severity: **SEV3**" in done.stdout
    shown = workspace.inv("journal.show", path.stem)
    assert shown.returncode == 0 and "finding" in shown.stdout
    bad = workspace.inv("incident.report", "--since", "not-a-time")
    assert bad.returncode == 2 and "--since: 'not-a-time' is not an ISO time" in bad.stdout + bad.stderr
    assert "Traceback" not in bad.stdout + bad.stderr


def test_a_hang_counts_as_failing_and_is_never_reported_as_zero_percent(tmp_path: Path) -> None:
    path = _rollback(tmp_path, "10:03:00.000", "10:04:00.000", "ok",
                     analytics={**ANALYTICS, "requests": 1, "errors": 0, "error_rate": 0.0, "by_status": {"success": 1}})
    hung = {"healthy": False, "failing": True, "status": None, "error": "timed out after 10 s"}
    path.write_text(path.read_text().replace('"failing": true, "http"', '"failing": true, "status": null, "http"')
                    .replace('"http": {"status": 500', '"http": {"status": null'))
    report = incident_report(path)
    assert "0.0%" not in report and hung["status"] is None
    assert ("- Affected requests: **unanswered**: the Worker did not answer its health check (a hang or an outage "
            "counts as failing); the analytics saw 0 of 1 requests of version v-bad failed or hung") in report
    assert "- Severity: **SEV1**" in report


def test_requests_the_client_gave_up_on_count_as_failing(tmp_path: Path) -> None:
    analytics = {**ANALYTICS, "requests": 100, "errors": 0, "error_rate": 0.0,
                 "by_status": {"success": 60, "clientDisconnected": 40}}
    report = incident_report(_rollback(tmp_path, "10:03:00.000", "10:04:00.000", "ok", analytics=analytics, down=False))
    assert "- Affected requests: **40.0%** of requests failed (40 of 100 requests of version v-bad failed or hung, 40 of them hung" in report
    assert "- Severity: **SEV1** (40.0% of requests failed (at least 25%))" in report


def test_detection_never_follows_identification_and_the_discrepancy_is_printed(tmp_path: Path) -> None:
    path = _rollback(tmp_path, "10:03:00.000", "10:09:30.000", "ok", down=False)
    path.write_text("\n".join(line for line in path.read_text().splitlines() if '"precondition"' not in line) + "\n")
    _diagnosis(tmp_path, "10:05:00.000")  # a symptom journaled after the fix had started
    report = incident_report_since(tmp_path, "2026-11-23T09:30Z")
    assert "- Detected: 2026-11-23 10:03:00 UTC (no later than the identification" in report
    assert "- Identified: 2026-11-23 10:03:00 UTC" in report
    assert ("- Discrepancy: the detection evidence (2026-11-23 10:05:00 UTC: diagnose: /health is failing) comes after "
            "the identification (2026-11-23 10:03:00 UTC)") in report
    late = incident_report_since(tmp_path, "2026-11-23T09:30Z", detected="2026-11-23T10:04Z")
    assert "- Detected: 2026-11-23 10:03:00 UTC" in late and "given with --detected" in late


def test_severity_names_follow_the_targets_template_and_the_report_has_an_impact_section(tmp_path: Path) -> None:
    names = ("Critical", "High", "Medium", "Low")
    path = _rollback(tmp_path, "10:03:00.000", "10:04:00.000", "ok", analytics=ANALYTICS)
    report = incident_report(path, severity_names=names)
    assert "- Severity: **Critical** (31.0% of requests failed" in report
    assert "## Impact" in report and "- Requests: **31.0%** of requests failed" in report
    assert "- Users: not counted" in report and "- Impact window: 2026-11-23 10:03:00 UTC to 2026-11-23 10:04:00 UTC" in report
    assert "- Severity: **High** (given with --severity)" in incident_report(path, severity="high", severity_names=names)
    assert "- Severity: **High** (given with --severity)" in incident_report(path, severity="SEV2", severity_names=names)
    with pytest.raises(InputError, match="--severity: 'Urgent' is not one of Critical, High, Medium, Low, SEV1"):
        incident_report(path, severity="Urgent", severity_names=names)


def test_a_targets_severity_names_must_be_four_distinct_names(tmp_path: Path) -> None:
    from ops.targets import load_target

    file = tmp_path / "targets.toml"
    base = ('[targets.t]\napi_base_url = "http://127.0.0.1:9"\naccount_id = "a"\ntoken = "tttttttt"\n'
            'worker = "w"\nworker_url = "http://127.0.0.1:9"\n')
    file.write_text(base + 'severity_names = ["Critical", "High", "Medium", "Low"]\n', encoding="utf-8")
    assert load_target("t", path=file).severity_names == ("Critical", "High", "Medium", "Low")
    file.write_text(base + 'severity_names = ["Critical", "High"]\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"targets.toml:7: targets.t.severity_names: write four distinct names"):
        load_target("t", path=file)

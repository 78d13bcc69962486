"""One diagnosis from many findings: the cause first with its evidence, its consequences apart, or nothing wrong."""

from __future__ import annotations

from ops.engine.diagnose import Finding
from ops.engine.triage import Change, rank

CAUSES = {"rollback": "live-version", "secret-rotation": "secret", "jwt-rotation": "secret",
          "cache-warm": "resource", "queue-redeploy": "resource", "provider-reorder": "resource"}
CODE_DEPLOY = Change("v-bad", "2026-12-05T10:00:00Z", "deployment", "a bad deploy")
SECRET_CHANGE = Change("v-sec", "2026-12-05T10:00:00Z", "secret")


def symptom(remediation: str, probe: str = "p", via: str = "worker") -> Finding:
    return Finding(remediation, probe, "symptom", f"{remediation} looks wrong", "expected x, got y",
                   f"inv remediate.{remediation}", via)


def healthy(remediation: str, probe: str = "p") -> Finding:
    return Finding(remediation, probe, "healthy", f"{remediation} looks wrong", "", "")


def test_a_failing_live_version_after_a_code_deploy_is_the_one_cause_and_the_rest_are_consequences() -> None:
    findings = [symptom("cache-warm"), symptom("provider-reorder"), symptom("queue-redeploy", via="account"),
                symptom("rollback", "health"), symptom("secret-rotation")]
    d = rank(findings, CAUSES, CODE_DEPLOY)
    assert (d.verdict, d.remediation, d.command) == ("cause", "rollback", "inv remediate.rollback")
    assert [c["remediation"] for c in d.consequences] == ["cache-warm", "provider-reorder", "queue-redeploy",
                                                          "secret-rotation"]
    assert all("expected to clear after `rollback`" in c["why"] for c in d.consequences)
    assert d.others == [] and d.evidence == ["health: rollback looks wrong (expected x, got y)"]
    assert any("version v-bad" in r and "triggered by deployment" in r for r in d.reasoning)


def test_a_secret_change_is_the_cause_even_when_the_worker_fails_with_it() -> None:
    d = rank([symptom("rollback", "health"), symptom("secret-rotation", "required-secrets")], CAUSES, SECRET_CHANGE)
    assert d.remediation == "secret-rotation" and [c["remediation"] for c in d.consequences] == ["rollback"]


def test_a_secret_change_does_not_explain_a_fact_of_the_account() -> None:
    findings = [symptom("queue-redeploy", "backlog", via="account"), symptom("queue-redeploy", "dlq", via="account"),
                symptom("secret-rotation", "required-secrets"), symptom("cache-warm")]
    d = rank(findings, CAUSES, SECRET_CHANGE)
    assert d.remediation == "secret-rotation" and [c["remediation"] for c in d.consequences] == ["cache-warm"]
    assert [(o["remediation"], o["probe"], o["why"]) for o in d.others] == [("queue-redeploy", "backlog",
                                                                             "a separate finding")]


def test_without_a_change_that_explains_them_each_finding_stands_and_account_facts_come_first() -> None:
    d = rank([symptom("cache-warm"), symptom("queue-redeploy", "backlog", via="account")], CAUSES, CODE_DEPLOY)
    assert d.verdict == "symptoms" and d.remediation == "queue-redeploy"
    assert [o["remediation"] for o in d.others] == ["cache-warm"] and d.consequences == []


def test_nothing_wrong_comes_with_the_probes_that_passed_as_evidence() -> None:
    unknown = Finding("cache-warm", "low-hit-rate", "unknown", "low hit rate", "hit_rate is null (no data)", "x")
    d = rank([healthy("rollback", "health"), unknown], CAUSES, CODE_DEPLOY)
    assert (d.verdict, d.remediation, d.command) == ("nothing-wrong", None, "")
    assert d.evidence == ["rollback/health: healthy (not: rollback looks wrong)"]
    assert any("1 probe(s) could not tell" in r for r in d.reasoning)
    assert rank([unknown], CAUSES, None).verdict == "unknown"  # no probe passed: no evidence of health either


def test_an_unreadable_deployment_still_lets_a_failing_worker_point_at_its_version() -> None:
    d = rank([symptom("rollback", "health"), symptom("cache-warm")], CAUSES, None)
    assert d.remediation == "rollback" and "could not be read" in d.reasoning[0]


def test_the_change_reads_the_newest_deployment_and_its_main_version() -> None:
    change = Change.from_deployments([
        {"id": "d1", "created_on": "2026-12-05T09:00:00Z", "versions": [{"version_id": "v1", "percentage": 100}],
         "annotations": {"workers/triggered_by": "upload"}},
        {"id": "d2", "created_on": "2026-12-05T10:00:00Z",
         "versions": [{"version_id": "v2", "percentage": 10}, {"version_id": "v1", "percentage": 90}],
         "annotations": {"workers/triggered_by": "secret"}}])
    assert (change.version_id, change.kind) == ("v1", "secret")
    assert Change.from_deployments([]).kind is None


def test_the_targets_own_order_breaks_a_tie_between_equal_findings() -> None:
    findings = [symptom("cache-warm"), symptom("fallback-providers")]
    assert rank(findings, CAUSES, CODE_DEPLOY).remediation == "cache-warm"
    d = rank(findings, CAUSES, CODE_DEPLOY, ["fallback-providers", "rollback", "cache-warm"])
    assert d.remediation == "fallback-providers" and [o["remediation"] for o in d.others] == ["cache-warm"]


def test_a_suggestion_quotes_what_the_probe_saw_and_drops_flags_it_could_not_fill() -> None:
    from ops.engine.diagnose import suggestion

    flags = "--name {{ json.rejectedKeys.0 }} --value env:{{ json.rejectedKeys.0 }}"
    assert suggestion(flags, {"json": {"rejectedKeys": ["OPENAI_API_KEY"]}}) == (
        "--name OPENAI_API_KEY --value env:OPENAI_API_KEY")
    assert suggestion(flags, {"json": None}) == ""  # the Worker did not answer: the target's defaults, no {{ }} printed
    assert suggestion("--force", None) == "--force"

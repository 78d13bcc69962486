"""The verdict table (README, "Verdicts"): observation and expectation -> passed, failed or inconclusive."""

from __future__ import annotations

from typing import Any

import pytest

from ops.judge.verdict import Verdict, judge

REFUSED = {"status": None, "error": "ConnectError: [Errno 111] Connection refused", "failing": True, "json": None}
TIMED_OUT = {"status": None, "error": "ReadTimeout: timed out after 5s", "failing": True, "json": None}
ANSWER_503 = {"status": 503, "error": None, "failing": True, "json": {"status": "error"}}
ANSWER_200 = {"status": 200, "error": None, "failing": False, "json": {"status": "ok", "version_id": "v1"}}
ANSWER_200_BARE = {"status": 200, "error": None, "failing": False, "json": None}
ANSWER_404 = {"status": 404, "error": None, "failing": False, "json": None}
TOO_FEW = {"requests": 3, "error_rate": 0.0, "inconclusive": "only 3 requests in the window (need 20)"}

# (observation, expectation, as a verification check, as a precondition or probe)
TABLE: list[tuple[str, dict[str, Any], dict[str, Any], Verdict, Verdict]] = [
    ("refused", REFUSED, {"status": 200}, Verdict.FAILED, Verdict.FAILED),
    ("refused", REFUSED, {"status": {"!=": 200}}, Verdict.FAILED, Verdict.PASSED),
    ("refused", REFUSED, {"json.version_id": "v1"}, Verdict.FAILED, Verdict.FAILED),
    ("refused", REFUSED, {"json.version_id": {"exists": False}}, Verdict.FAILED, Verdict.PASSED),
    ("timed out", TIMED_OUT, {"status": 200}, Verdict.FAILED, Verdict.FAILED),
    ("timed out", TIMED_OUT, {"status": {"not_in": [200, 204]}}, Verdict.FAILED, Verdict.PASSED),
    ("5xx", ANSWER_503, {"status": 503}, Verdict.FAILED, Verdict.PASSED),
    ("5xx", ANSWER_503, {"status": {"!=": 200}}, Verdict.FAILED, Verdict.PASSED),
    ("5xx", ANSWER_503, {"json.hit_rate": {">=": 0.9}}, Verdict.FAILED, Verdict.FAILED),
    ("200", ANSWER_200, {"status": 200, "json.version_id": "v1"}, Verdict.PASSED, Verdict.PASSED),
    ("200", ANSWER_200, {"json.version_id": "v2"}, Verdict.FAILED, Verdict.FAILED),
    ("200, field missing", ANSWER_200_BARE, {"json.version_id": "v1"}, Verdict.INCONCLUSIVE, Verdict.INCONCLUSIVE),
    ("200, field missing", ANSWER_200_BARE, {"json.version_id": {"exists": True}}, Verdict.FAILED, Verdict.FAILED),
    ("404", ANSWER_404, {"status": 200}, Verdict.FAILED, Verdict.FAILED),
    ("too few requests", TOO_FEW, {"error_rate": {"<=": 0.01}}, Verdict.INCONCLUSIVE, Verdict.INCONCLUSIVE),
    ("no observation", {}, {}, Verdict.PASSED, Verdict.PASSED),
]


@pytest.mark.parametrize(("seen", "outputs", "expect", "as_check", "as_precondition"), TABLE,
                         ids=[f"{row[0]}:{row[2]}" for row in TABLE])
def test_the_verdict_table(seen: str, outputs: dict[str, Any], expect: dict[str, Any], as_check: Verdict,
                           as_precondition: Verdict) -> None:
    assert judge(outputs, expect, strict_failing=True).verdict is as_check
    assert judge(outputs, expect, strict_failing=False).verdict is as_precondition


def test_an_action_that_could_not_run_is_inconclusive_and_says_why() -> None:
    judgement = judge(None, {"result.current_version_id": "v1"}, strict_failing=True, error="API timeout")
    assert judgement.verdict is Verdict.INCONCLUSIVE
    assert judgement.message == "could not observe: API timeout"


def test_a_failed_check_carries_its_evidence() -> None:
    judgement = judge(REFUSED, {"status": 200}, strict_failing=True)
    assert judgement.message == "the Worker is failing: no answer (ConnectError: [Errno 111] Connection refused)"
    judgement = judge(ANSWER_200, {"json.version_id": "v2"}, strict_failing=True)
    assert judgement.message == "expected json.version_id == 'v2', got 'v1'"


def test_failed_wins_over_inconclusive() -> None:
    judgement = judge(ANSWER_200, {"json.version_id": "v2", "json.missing": 1}, strict_failing=True)
    assert judgement.verdict is Verdict.FAILED


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_a_null_where_a_number_is_compared_is_no_evidence(op: str) -> None:
    seen = judge({"status": 200, "picked": None}, {"picked": {op: 0.5}}, strict_failing=False)
    assert seen.verdict is Verdict.INCONCLUSIVE and seen.message == f"picked is null (no data), so picked {op} 0.5 cannot be checked"
    assert judge({"picked": None}, {"picked": None}, strict_failing=False).verdict is Verdict.PASSED  # == still compares
    holds = {"<": True, "<=": True, ">": False, ">=": False}[op]  # 0.2 against 0.5: a number is still judged
    assert judge({"picked": 0.2}, {"picked": {op: 0.5}}, strict_failing=False).verdict is (
        Verdict.PASSED if holds else Verdict.FAILED)


def test_a_failing_sample_says_what_its_requests_were_answered() -> None:
    sampled = {"total": 10, "errors": 10, "error_rate": 1.0, "statuses": {"500": 9}, "unanswered": 1, "failing": True}
    judged = judge(sampled, {"error_rate": {"<=": 0.01}}, strict_failing=True)
    assert judged.reasons == ["the Worker is failing: of 10 requests, 9 answered 500, 1 got no answer"]  # not "answered None"

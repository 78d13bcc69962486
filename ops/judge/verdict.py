"""From an observation and its expectations to a verdict: passed, failed or inconclusive.

An action returns an observation even when its request failed: the `http` family
reports a refused connection, a timeout or a 5xx as ``failing: true`` with the
``error``, instead of raising. The rules (README, "Verdicts") are:

- A failing observation (no answer, a timeout, a 5xx) is evidence that the Worker
  is failing. A verification check on it *fails*, whatever its expression. A
  precondition or probe still evaluates its expression, where a value that is
  absent because the request failed satisfies only the negative operators
  (``!=``, ``not_in``, ``not_contains``, ``exists: false``): a refused connection
  *is* "status != 200".
- An action that could not decide says so (``inconclusive: <why>`` in its
  outputs, e.g. too few requests in the analytics window): *inconclusive*.
- Otherwise each expectation is evaluated. A value that fails its operator is
  evidence: *failed*. A path the observation lacks is no evidence either way:
  *inconclusive* (``exists`` decides on presence itself), and so is a null where a
  number is compared (``hit_rate >= 0.5`` with ``hit_rate: null``: no traffic, no data).
- Failed wins over inconclusive, which wins over passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ops.judge.expect import MISSING, holds, lookup, pairs

__all__ = ["INCONCLUSIVE_KEY", "NEGATIVE_OPERATORS", "Judgement", "Verdict", "judge"]


class Verdict(StrEnum):
    """What one check concluded from its observation."""

    PASSED = "passed"              # evidence that all is well
    FAILED = "failed"              # evidence that something is bad
    INCONCLUSIVE = "inconclusive"  # no evidence either way: a field missing, analytics not caught up


INCONCLUSIVE_KEY = "inconclusive"
NEGATIVE_OPERATORS = frozenset({"!=", "not_in", "not_contains"})
ORDERING_OPERATORS = frozenset({"<", "<=", ">", ">="})


@dataclass
class Judgement:
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return "; ".join(self.reasons)


FAILING = "the Worker is failing"  # a strict failing observation's verdict begins so: evidence, not lag


def judge(outputs: dict[str, Any] | None, expect: dict[str, Any], *, strict_failing: bool,
          error: str | None = None) -> Judgement:
    """``strict_failing``: a failing observation fails whatever the expression (verification checks)."""
    if outputs is None:
        return Judgement(Verdict.INCONCLUSIVE, [f"could not observe: {error or 'no outputs'}"])
    failing = bool(outputs.get("failing"))
    if failing and strict_failing:
        return Judgement(Verdict.FAILED, [f"{FAILING}: {_evidence(outputs)}"])
    undecided = outputs.get(INCONCLUSIVE_KEY)
    if undecided:
        return Judgement(Verdict.INCONCLUSIVE, [str(undecided)])
    failed: list[str] = []
    unknown: list[str] = []
    for path, matcher in expect.items():
        actual = lookup(outputs, path)
        for op, wanted in pairs(matcher):
            if actual is None and op in ORDERING_OPERATORS and not failing:
                unknown.append(f"{path} is null (no data), so {path} {op} {wanted!r} cannot be checked")
            elif op == "exists" or actual is not MISSING:
                if not holds(op, actual, wanted):
                    seen = _evidence(outputs) if failing else f"got {_shown(actual)}"
                    failed.append(f"expected {path} {op} {wanted!r}, {'but ' if failing else ''}{seen}")
            elif failing:
                if op not in NEGATIVE_OPERATORS:
                    failed.append(f"expected {path} {op} {wanted!r}, but {_evidence(outputs)}")
            else:
                unknown.append(f"{path} is missing from the answer, so {path} {op} {wanted!r} cannot be checked")
    if failed:
        return Judgement(Verdict.FAILED, failed)
    if unknown:
        return Judgement(Verdict.INCONCLUSIVE, unknown)
    return Judgement(Verdict.PASSED)


def _evidence(outputs: dict[str, Any]) -> str:
    if outputs.get("error"):
        return f"no answer ({outputs['error']})"
    statuses = outputs.get("statuses")
    if outputs.get("status") is None and isinstance(statuses, dict):  # a sample of requests (http_sample)
        seen = [f"{count} answered {status}" for status, count in sorted(statuses.items())]
        if outputs.get("unanswered"):
            seen.append(f"{outputs['unanswered']} got no answer")
        return f"of {outputs.get('total')} requests, {', '.join(seen) or 'none answered'}"
    return f"it answered {outputs.get('status')}"


def _shown(actual: Any) -> str:
    return "missing" if actual is MISSING else repr(actual)

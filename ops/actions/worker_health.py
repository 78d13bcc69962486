"""`worker_health`: is the Worker failing? Its declared HTTP contract, and Cloudflare's analytics.

The contract is the target's (``health = {path, status, json, version_field}`` in
targets.toml; by default ``/`` must answer 200), so a Worker that knows nothing
of this tool still has one. Analytics add what one request cannot: the live
version's error rate and wall time over a recent window.

Outputs: ``healthy`` (true only with evidence: the contract holds and analytics
show no errors beyond the threshold), ``answers`` (the contract holds), ``failing``
(the contract's request got no answer or a 5xx) with its ``status`` and ``error``,
``reasons``, and the two observations ``http`` and ``analytics``. A hung Worker shows
in analytics as ``clientDisconnected``, not as an error: the contract's timeout and
``max_p95_ms`` are what catch it.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ops.actions.analytics import AnalyticsArgs, stats
from ops.actions.base import Action, Args, Context, Outputs
from ops.actions.http import observe
from ops.documents.shape import BOOLEAN, INTEGER, STRING, array, mapping, nullable, record
from ops.judge.verdict import judge


class WorkerHealthArgs(Args):
    version: str = Field("", description="A version id the contract's `version_field` must report, if it has one.")
    analytics: bool = Field(True, description="Also read the live version's analytics.")
    window_seconds: int = Field(300, ge=10, le=86_400)
    min_requests: int = Field(20, ge=1)
    max_error_rate: float = Field(0.05, ge=0, le=1)
    max_p95_ms: float | None = Field(None, gt=0, description="Wall-time p95 above this counts as failing.")
    timeout: float = Field(10.0, gt=0, le=120, description="Seconds the contract's request may take.")


class WorkerHealthAction(Action):
    name = "worker_health"
    Args = WorkerHealthArgs
    summary = "The target's health contract and the live version's analytics: is the Worker failing?"
    outputs = record(healthy=BOOLEAN, answers=BOOLEAN, failing=BOOLEAN, status=nullable(INTEGER), error=nullable(STRING),
                     reasons=array(STRING), http=mapping(), analytics=nullable(mapping()))

    def describe(self, args: WorkerHealthArgs) -> str:
        return "the Worker's health contract" + (" and its analytics" if args.analytics else "")

    def run(self, args: WorkerHealthArgs, ctx: Context) -> Outputs:
        contract = ctx.target.health
        seen = observe(ctx.http(), "GET", ctx.target.health_url, timeout=min(args.timeout, ctx.remaining()))
        wanted = contract.expectations(args.version or None)
        judgement = judge(seen, wanted, strict_failing=True)
        reasons = [f"{ctx.target.health_url}: {r}" for r in judgement.reasons]
        answers = judgement.verdict == "passed"
        numbers: dict[str, Any] | None = None
        bad_numbers = False
        if args.analytics:
            numbers = stats(AnalyticsArgs(script=ctx.target.worker, version="", since="", window_seconds=args.window_seconds,
                                          min_requests=args.min_requests), ctx)
            bad_numbers = _judge_numbers(numbers, args, reasons)
        return {"healthy": answers and not bad_numbers, "answers": answers, "failing": bool(seen["failing"]),
                "status": seen["status"], "error": seen["error"], "reasons": reasons, "http": seen, "analytics": numbers}


def _judge_numbers(numbers: dict[str, Any], args: WorkerHealthArgs, reasons: list[str]) -> bool:
    if numbers.get("inconclusive"):
        reasons.append(f"analytics: {numbers['inconclusive']}")
        return False
    bad = False
    if (numbers.get("error_rate") or 0) > args.max_error_rate:
        reasons.append(f"analytics: error rate {numbers['error_rate']:.1%} > {args.max_error_rate:.1%}")
        bad = True
    p95 = numbers.get("wall_p95_ms")
    if args.max_p95_ms is not None and p95 is not None and p95 > args.max_p95_ms:
        reasons.append(f"analytics: p95 wall time {p95:.0f} ms > {args.max_p95_ms:.0f} ms")
        bad = True
    return bad

"""`worker_health`: is the Worker failing? Its declared HTTP contract, and Cloudflare's analytics.

The contract is the target's (``health = {path, status, json, version_field}`` in
targets.toml; by default ``/`` must answer 200), so a Worker that knows nothing
of this tool still has one. Analytics add what one request cannot: the live
version's error rate and wall time over a recent window.

Outputs: ``healthy`` (true only with evidence: the contract holds and analytics
show no live version with errors beyond the threshold), ``answers`` (the contract
holds), ``failing`` (the contract's request got no answer or a 5xx) with its
``status`` and ``error``, ``reasons``, and the two observations ``http`` and
``analytics``. A hung Worker shows in analytics as ``clientDisconnected``, not as an
error: the contract's timeout and ``max_p95_ms`` are what catch it.

Every live version is judged on its own numbers: a 10% canary with errors makes the
Worker unhealthy even when the other 90% is fine. ``max_p95_ms`` is compared with P95
where the account's schema has it, else with P99 (the reason says which).

The two observations stand apart: analytics that cannot be read (a GraphQL error,
the quota spent) never erase the HTTP answer. When the contract holds and analytics
could not be read, the outputs say ``inconclusive``: health is not known, so a
precondition built on it cannot conclude "healthy" (nor "go ahead").
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ops.actions.analytics import AnalyticsArgs, stats
from ops.actions.base import Action, Args, Context, Outputs
from ops.actions.http import observe
from ops.documents.shape import BOOLEAN, INTEGER, STRING, array, mapping, nullable, record
from ops.engine.verdict import judge
from ops.errors import CloudflareError


class WorkerHealthArgs(Args):
    version: str = Field("", description="A version id the contract's `version_field` must report, if it has one.")
    analytics: bool = Field(True, description="Also read the live version's analytics.")
    window_seconds: int = Field(300, ge=10, le=86_400)
    min_requests: int = Field(20, ge=1)
    max_error_rate: float = Field(0.05, ge=0, le=1)
    max_p95_ms: float | None = Field(None, gt=0, description="Wall-time p95 above this counts as failing "
                                                              "(p99 where the account's analytics have no p95).")
    timeout: float = Field(10.0, gt=0, le=120, description="Seconds the contract's request may take.")


class WorkerHealthAction(Action):
    name = "worker_health"
    Args = WorkerHealthArgs
    summary = "The target's health contract and the live version's analytics: is the Worker failing?"
    outputs = record(healthy=BOOLEAN, answers=BOOLEAN, failing=BOOLEAN, status=nullable(INTEGER), error=nullable(STRING),
                     reasons=array(STRING), http=mapping(), analytics=nullable(mapping()),
                     analytics_error=nullable(STRING), inconclusive=nullable(STRING))

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
        unread: str | None = None
        bad_numbers = False
        if args.analytics:
            try:
                numbers = stats(AnalyticsArgs(script=ctx.target.worker, version="", since="",
                                              window_seconds=args.window_seconds, min_requests=args.min_requests), ctx)
            except CloudflareError as exc:
                unread = str(exc)
                reasons.append(f"analytics could not be read: {unread}")
            else:
                bad_numbers = _judge_numbers(numbers, args, reasons)
        unknown = answers and unread is not None
        return {"healthy": answers and not bad_numbers and not unknown, "answers": answers,
                "failing": bool(seen["failing"]), "status": seen["status"], "error": seen["error"], "reasons": reasons,
                "http": seen, "analytics": numbers, "analytics_error": unread,
                "inconclusive": (f"the health contract holds, but analytics could not be read ({unread})"
                                 if unknown else None)}


def _judge_numbers(numbers: dict[str, Any], args: WorkerHealthArgs, reasons: list[str]) -> bool:
    """Each live version on its own numbers; True when one of them, with enough requests, is bad."""
    bad = False
    several = len(numbers.get("versions") or []) > 1
    quantile = numbers.get("wall_tail_quantile") or "p99"
    for v in numbers.get("versions") or []:
        who = f"analytics: version {v['version']}" + (f" ({v['percentage']:g}% of traffic)" if v.get("percentage") is not None
                                                      and several else "")
        if v.get("inconclusive"):
            reasons.append(f"analytics: {v['inconclusive']}")
            continue
        if (v.get("error_rate") or 0) > args.max_error_rate:
            reasons.append(f"{who}: error rate {v['error_rate']:.1%} > {args.max_error_rate:.1%}")
            bad = True
        tail = v.get("wall_tail_ms")
        if args.max_p95_ms is not None and tail is not None and tail > args.max_p95_ms:
            stands_in = "" if quantile == "p95" else " (p99: this account's analytics have no p95)"
            reasons.append(f"{who}: {quantile} wall time {tail:.0f} ms > {args.max_p95_ms:.0f} ms{stands_in}")
            bad = True
    return bad

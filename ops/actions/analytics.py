"""`analytics`: how a Worker version is doing, from Cloudflare's GraphQL Analytics API.

Every Worker has this signal with no code of its own: requests, errors and wall
time per version (dataset ``workersInvocationsAdaptive``; the query lives in
``ops.cloudflare.analytics``). Needs the token permission Account Analytics Read.

Analytics arrive late. Until ``min_requests`` invocations of the version are
visible in the window, the observation is inconclusive: no evidence either way,
never a failure.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.documents.shape import INTEGER, NUMBER, STRING, nullable, record


class AnalyticsArgs(Args):
    script: str = Field(description="The Worker's name, e.g. `{{ target.worker }}`.")
    version: str = Field("", description="The version id to look at; empty: the live version (deployments API).")
    since: str = Field("", description="ISO time the window starts, e.g. `{{ steps.deploy.finished_at }}`; "
                                       "empty: `window_seconds` before now.")
    window_seconds: int = Field(300, ge=10, le=86_400, description="The window when `since` is empty.")
    min_requests: int = Field(20, ge=1, le=1_000_000, description="Fewer visible requests than this: inconclusive.")


class AnalyticsAction(Action):
    name = "analytics"
    Args = AnalyticsArgs
    summary = "Requests, error rates and wall time of a Worker version (GraphQL Analytics)."
    outputs = record(version=STRING, requests=INTEGER, errors=nullable(INTEGER), error_rate=nullable(NUMBER),
                     rate_4xx=nullable(NUMBER), rate_429=nullable(NUMBER), wall_p50_ms=nullable(NUMBER),
                     wall_p95_ms=nullable(NUMBER), wall_p99_ms=nullable(NUMBER), since=STRING, until=STRING,
                     inconclusive=nullable(STRING))

    def describe(self, args: AnalyticsArgs) -> str:
        which = args.version or "the live version"
        window = f"since {args.since}" if args.since else f"the last {args.window_seconds}s"
        return f"analytics of {args.script} ({which}) over {window}"

    def run(self, args: AnalyticsArgs, ctx: Context) -> Outputs:
        return stats(args, ctx)


def stats(args: AnalyticsArgs, ctx: Context) -> Outputs:
    from ops.cloudflare.analytics import invocations, parse_since
    from ops.cloudflare.operations import worker_state

    client = ctx.cloudflare()
    version = args.version or worker_state(client, args.script).get("current_version_id") or ""
    until = datetime.now(timezone.utc)
    since = parse_since(args.since, "analytics") or until - timedelta(seconds=args.window_seconds)
    seen: dict[str, Any] = invocations(client, args.script, version=version or None, since=since, until=until)
    requests = int(seen.get("requests") or 0)
    wall = seen.get("wall_ms") or {}
    out: Outputs = {
        "version": version, "requests": requests, "errors": seen.get("errors"),
        "error_rate": _rate(seen.get("errors"), requests),
        "rate_4xx": _rate(seen.get("status_4xx"), requests), "rate_429": _rate(seen.get("status_429"), requests),
        # Where the dataset has no p95 quantile, p99 stands in: a stricter bound, never a looser one.
        "wall_p50_ms": wall.get("p50"), "wall_p95_ms": _first(wall.get("p95"), wall.get("p99")),
        "wall_p99_ms": wall.get("p99"),
        "since": since.isoformat(timespec="seconds"), "until": until.isoformat(timespec="seconds"),
        "inconclusive": None,
    }
    if requests < args.min_requests:
        out["inconclusive"] = (f"only {requests} request(s) of version {version or '?'} visible since "
                               f"{out['since']} (need {args.min_requests}); analytics arrive late")
    return out


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _rate(count: Any, total: int) -> float | None:
    if count is None or not total:
        return None
    return round(float(count) / total, 4)

"""`analytics`: how a Worker's live versions are doing, from Cloudflare's GraphQL Analytics API.

Every Worker has this signal with no code of its own: requests, errors and wall
time per version (dataset ``workersInvocationsAdaptive``; the query lives in
``ops.cloudflare.analytics``). Needs the token permission Account Analytics Read.

Every version of the live deployment counts: a gradual deployment serves two,
each with a percentage, and each is judged on its own numbers (``versions``), so
a bad 10% canary is not averaged away. The top-level figures are the worst
version's among those with enough requests.

Wall time: ``wall_tail_ms`` is P95 where the account's schema has it, else P99;
``wall_tail_quantile`` says which. ``wall_p95_ms`` is only ever a real P95.

Analytics arrive late. Until ``min_requests`` invocations of a version are
visible in the window, that version is inconclusive: no evidence either way,
never a failure. One run reads the same window at most every 15 s.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.documents.shape import INTEGER, NUMBER, STRING, array, mapping, nullable, record


class AnalyticsArgs(Args):
    script: str = Field(description="The Worker's name, e.g. `{{ target.worker }}`.")
    version: str = Field("", description="The version id to look at; empty: every version of the live deployment.")
    since: str = Field("", description="ISO time the window starts, e.g. `{{ steps.deploy.finished_at }}`; "
                                       "empty: `window_seconds` before now.")
    window_seconds: int = Field(300, ge=10, le=86_400, description="The window when `since` is empty.")
    min_requests: int = Field(20, ge=1, le=1_000_000,
                              description="Fewer visible requests of a version than this: that version is inconclusive.")


class AnalyticsAction(Action):
    name = "analytics"
    Args = AnalyticsArgs
    summary = "Requests, error rates and wall time of each live version of a Worker (GraphQL Analytics)."
    outputs = record(version=STRING, versions=array(mapping()), requests=INTEGER, errors=nullable(INTEGER),
                     error_rate=nullable(NUMBER), rate_4xx=nullable(NUMBER), rate_429=nullable(NUMBER),
                     wall_p50_ms=nullable(NUMBER), wall_p95_ms=nullable(NUMBER), wall_p99_ms=nullable(NUMBER),
                     wall_tail_ms=nullable(NUMBER), wall_tail_quantile=STRING, since=STRING, until=STRING,
                     inconclusive=nullable(STRING))

    def describe(self, args: AnalyticsArgs) -> str:
        which = args.version or "every live version"
        window = f"since {args.since}" if args.since else f"the last {args.window_seconds}s"
        return f"analytics of {args.script} ({which}) over {window}"

    def run(self, args: AnalyticsArgs, ctx: Context) -> Outputs:
        return stats(args, ctx)


def stats(args: AnalyticsArgs, ctx: Context) -> Outputs:
    from ops.cloudflare.analytics import recent

    client = ctx.cloudflare()
    key = ("analytics", args.script, args.version, args.since, args.window_seconds, args.min_requests)
    return recent(client, key, lambda: _read(args, client))


def live_versions(client: Any, script: str) -> list[dict[str, Any]]:
    """The live deployment's versions, each ``{"version", "percentage"}`` (two in a gradual deployment)."""
    from ops.cloudflare._api import list_deployments

    deployments = sorted(list_deployments(client, script), key=lambda d: str(d.get("created_on") or ""), reverse=True)
    live = deployments[0].get("versions") or [] if deployments else []
    return [{"version": str(v["version_id"]), "percentage": _share(v.get("percentage"))}
            for v in live if isinstance(v, dict) and v.get("version_id")]


def _read(args: AnalyticsArgs, client: Any) -> Outputs:
    from ops.cloudflare.analytics import invocations, parse_since

    live: list[dict[str, Any]] = ([{"version": args.version, "percentage": None}] if args.version
                                  else live_versions(client, args.script))
    until = datetime.now(timezone.utc)
    since = parse_since(args.since, "analytics") or until - timedelta(seconds=args.window_seconds)
    seen = invocations(client, args.script, versions=[v["version"] for v in live] or None, since=since, until=until)
    by_version = seen.get("by_version") or {}
    if not live:  # no live deployment: whatever versions served in the window
        live = [{"version": name, "percentage": None} for name in sorted(by_version)]
    versions = [_judged(v, by_version.get(v["version"]) or {}, args.min_requests, since) for v in live]
    return _overall(versions, seen, since, until, args.version)


def _judged(live: dict[str, Any], numbers: dict[str, Any], min_requests: int, since: datetime) -> dict[str, Any]:
    requests = int(numbers.get("requests") or 0)
    wall = numbers.get("wall_ms") or {}
    short = f"only {requests} request(s) of version {live['version'] or '?'}"
    return {"version": live["version"], "percentage": live["percentage"], "requests": requests,
            "errors": numbers.get("errors", 0), "error_rate": _rate(numbers.get("errors", 0), requests),
            "wall_p50_ms": wall.get("p50"), "wall_p95_ms": wall.get("p95"), "wall_p99_ms": wall.get("p99"),
            "wall_tail_ms": wall.get("tail"),
            "inconclusive": None if requests >= min_requests else
            f"{short} visible since {since.isoformat(timespec='seconds')} (need {min_requests}); analytics arrive late"}


def _overall(versions: list[dict[str, Any]], seen: dict[str, Any], since: datetime, until: datetime,
             asked: str) -> Outputs:
    decided = [v for v in versions if not v["inconclusive"]]
    worst = max(decided, key=lambda v: (v["error_rate"] or 0, v["wall_tail_ms"] or 0), default=None)
    pool = decided or versions

    def most(key: str) -> float | None:
        return max((v[key] for v in pool if v[key] is not None), default=None)

    requests = sum(v["requests"] for v in versions)
    errors = sum(int(v["errors"] or 0) for v in versions)
    undecided = "; ".join(v["inconclusive"] for v in versions if v["inconclusive"])
    chosen = asked or (worst or (versions[0] if len(versions) == 1 else {})).get("version") or ""
    return {
        "version": chosen, "versions": versions, "requests": requests, "errors": errors,
        "error_rate": worst["error_rate"] if worst else _rate(errors, requests),
        "rate_4xx": None, "rate_429": None,  # not in this dataset (ops.cloudflare.analytics)
        "wall_p50_ms": most("wall_p50_ms"), "wall_p95_ms": most("wall_p95_ms"), "wall_p99_ms": most("wall_p99_ms"),
        "wall_tail_ms": most("wall_tail_ms"), "wall_tail_quantile": seen.get("tail_quantile") or "p99",
        "since": since.isoformat(timespec="seconds"), "until": until.isoformat(timespec="seconds"),
        "inconclusive": undecided or None,
    }


def _share(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _rate(count: Any, total: int) -> float | None:
    if count is None or not total:
        return None
    return round(float(count) / total, 4)

"""`logs`: watch a Worker's live events for a few seconds through a tail session, and summarise them.

The session is the one `wrangler tail` opens (``ops.cloudflare.tail``): it changes nothing
on the Worker, so the probe runs in plans, dry-runs and `inv diagnose` (the read-only
transport lets a tail session's POST and DELETE through). Outputs (``ops.cloudflare.tail_summary``):
``events``, ``by_status`` (HTTP status, or ``none``), ``by_outcome``, ``rate_5xx`` (answers of
500-599 and exceptions), ``rate_4xx``, ``exceptions`` (``{exception, count}``), ``slowest``
(``{method, path, count, max_ms, mean_ms}``). No events in the window is no evidence:
the observation is inconclusive.
"""

from __future__ import annotations

from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.documents.shape import INTEGER, NUMBER, STRING, array, mapping, nullable, record

OVERHEAD_S = 3.0  # opening and closing the session, within the step's time


class LogsArgs(Args):
    script: str = Field("", description="The Worker to watch; empty: the target's worker.")
    seconds: float = Field(3.0, ge=1, le=300, description="How long to watch (the probe takes this long).")
    status: str = Field("", description="Only these: ok, error, canceled (outcomes), or an HTTP class such as "
                                        "5xx or 4xx; several with commas.")
    search: str = Field("", description="Only events whose console logs contain this text.")
    max_events: int = Field(10_000, ge=1, le=1_000_000, description="Stop watching after this many events.")


class LogsAction(Action):
    name = "logs"
    Args = LogsArgs
    summary = "Watch the Worker's live events (a tail session, as wrangler tail) and summarise them."
    outputs = record(seconds=NUMBER, events=INTEGER, by_status=mapping(), by_outcome=mapping(),
                     rate_5xx=nullable(NUMBER), rate_4xx=nullable(NUMBER), exceptions=array(mapping()),
                     slowest=array(mapping()), inconclusive=nullable(STRING))

    def describe(self, args: LogsArgs) -> str:
        shown = "".join(f" {k}={v!r}" for k, v in (("status", args.status), ("search", args.search)) if v)
        return f"live logs of {args.script or 'the target Worker'} for {args.seconds:g}s{shown}"

    def preflight(self, args: LogsArgs) -> Outputs | None:
        from ops.cloudflare.tail import TailFilters

        TailFilters.parse(status=args.status, search=args.search)
        return None

    def run(self, args: LogsArgs, ctx: Context) -> Outputs:
        from ops.cloudflare.tail import TailFilters, stream
        from ops.cloudflare.tail_summary import summarize

        filters = TailFilters.parse(status=args.status, search=args.search)
        seconds = max(0.5, min(args.seconds, ctx.remaining() - OVERHEAD_S))
        client = ctx.cloudflare()
        with client.until(ctx.remaining()):
            events = stream(client, args.script or ctx.target.worker, filters, seconds=seconds,
                            max_events=args.max_events, stop=ctx.cancel.is_set)
        return summarize(events, seconds=round(seconds, 3))

"""`inv logs`: the Worker's live logs through a tail session (the one `wrangler tail` opens), then a summary."""

from __future__ import annotations

from typing import Any

from invoke.tasks import task

from ops.cli.boundary import guarded, out, out_json

MAX_SECONDS = 3600


@task(name="logs", help={
    "status": "ok, error or canceled (the outcome, filtered by Cloudflare), or an HTTP class: 5xx (answers of "
              "500-599 and exceptions), 4xx; several with commas",
    "search": "Only events whose console logs contain this text (wrangler tail --search)",
    "seconds": f"How long to watch (1 to {MAX_SECONDS}; default 30)",
    "json": "Print one JSON document: the summary and the events",
    "target": "Target from targets.toml"}, auto_shortflags=False)
@guarded
def logs_task(c: Any, status: str = "", search: str = "", seconds: int = 30, json_: bool = False,
              target: str | None = None) -> None:
    """Stream the Worker's live events (status, path, logs, exceptions), then counts and the slowest paths."""
    from ops.cloudflare import CloudflareClient
    from ops.cloudflare.tail import TailFilters, stream
    from ops.cloudflare.tail_summary import line, summarize
    from ops.errors import InputError
    from ops.targets import load_target

    if not 1 <= seconds <= MAX_SECONDS:
        raise InputError(f"--seconds {seconds}: give a number of seconds from 1 to {MAX_SECONDS}")
    filters = TailFilters.parse(status=status, search=search)
    chosen = load_target(target)
    client = CloudflareClient.from_target(chosen, read_only=True)
    if not json_:
        out(f"{chosen.header()}\nwatching {chosen.worker} for {seconds} s (a tail session, as wrangler tail)...")
    try:
        events = stream(client, chosen.worker, filters, seconds=seconds,
                        on_event=None if json_ else (lambda event: out(line(event))))
    finally:
        client.close()
    summary = summarize(events, seconds=seconds)
    if json_:
        out_json({"target": chosen.header(), "worker": chosen.worker, "filters": filters.message()["filters"],
                  "summary": summary, "events": events}, indent=2)
        return
    out(render(summary))


def render(summary: dict[str, Any]) -> str:
    if not summary["events"]:
        return f"\n{summary['inconclusive']}"
    rows = [f"\n{summary['events']} event(s) in {summary['seconds']:g} s",
            "by status:  " + ", ".join(f"{k}: {v}" for k, v in summary["by_status"].items()),
            "by outcome: " + ", ".join(f"{k}: {v}" for k, v in summary["by_outcome"].items()),
            f"5xx rate:   {summary['rate_5xx']:.1%}   4xx rate: {summary['rate_4xx']:.1%}"]
    rows += ["exceptions:"] + [f"  {x['count']:>5}  {x['exception']}" for x in summary["exceptions"]] \
        if summary["exceptions"] else ["exceptions: none"]
    rows += ["slowest paths:"] + [f"  {s['max_ms']:>6} ms max  {s['mean_ms']:>8} ms mean  {s['count']:>5}x  "
                                  f"{s['method']} {s['path']}" for s in summary["slowest"]]
    rows += ["by path (most 5xx first):"] + [
        f"  {p['count']:>5}x  5xx {p['rate_5xx']:>6.1%}  {', '.join(f'{k}: {v}' for k, v in p['by_class'].items())}  "
        f"{p['method']} {p['path']}" for p in summary["by_path"]]
    return "\n".join(rows)

"""A Markdown incident report from a run's journal, in the usual post-incident shape.

Everything that the journal knows is filled in; the root cause is left for the
on-call engineer, clearly marked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ops.engine.journal import read_events
from ops.redact import redact

__all__ = ["incident_report"]


def incident_report(journal: Path) -> str:
    events = list(read_events(journal))
    if not events:
        from ops.errors import InputError

        raise InputError(f"{journal}: the journal is empty")
    start = next((e for e in events if e["event"] == "run-start"), events[0])
    end = next((e for e in reversed(events) if e["event"] == "run-end"), None)
    status = end["status"] if end else "unfinished (the process stopped before recording an end)"
    spec = start.get("spec", "?")
    lines = [
        f"# Incident report: {spec} ({start['run']})",
        "",
        "## Summary",
        f"- Remediation: `inv remediate.{spec}` against {start.get('target', '?')}",
        f"- Started: {start['ts']}; ended: {end['ts'] if end else 'not recorded'}",
        f"- Outcome: **{status}**" + (f" (exit {end['exit_code']})" if end else ""),
        f"- Result: {end.get('message', '') if end else 'see the timeline'}",
        f"- State left: {end.get('state_left', '') if end else 'unknown: check the timeline'}",
        f"- Params: `{start.get('params', {})}`",
        "",
        "## Timeline (UTC)",
        "",
        "| time | event | item | outcome | detail |",
        "|---|---|---|---|---|",
        *(_row(e) for e in events),
        "",
        "## Resolution",
        *_resolution(events, end),
        "",
        "## What was verified",
        *_verified(events),
        "",
        "## Root cause",
        "",
        "_To be filled in by the on-call engineer: what made the service fail, and why it was not caught earlier._",
        "",
        "## Action items",
        "",
        "- [ ] Fill in the root cause above and review the timeline.",
        *_action_items(events, end),
        "",
        f"_Generated from the journal `{journal.name}` by `inv incident.report`._",
        "",
    ]
    return redact("\n".join(lines))


def _row(event: dict[str, Any]) -> str:
    item = event.get("name") or event.get("precondition") or event.get("of") or ""
    outcome = event.get("outcome") or event.get("status") or ""
    detail = event.get("message") or event.get("reason") or event.get("state_left") or ""
    time = str(event.get("ts", ""))[11:23]
    return f"| {time} | {event['event']} | {item} | {outcome} | {_cell(detail)} |"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")[:300]


def _resolution(events: list[dict[str, Any]], end: dict[str, Any] | None) -> list[str]:
    steps = [e for e in events if e["event"] == "step-end"]
    undos = [e for e in events if e["event"] == "undo-end"]
    lines = [f"- Step `{e['name']}`: {e.get('outcome')}" + (f" ({e['message']})" if e.get("message") else "") for e in steps]
    lines += [f"- Undo `{e['name']}` of `{e.get('of')}`: {e.get('outcome')}" for e in undos]
    if any(e["event"] == "noop" for e in events):
        lines.append("- Nothing needed doing: " + next(e["reason"] for e in events if e["event"] == "noop"))
    if any(e["event"] == "interrupted" for e in events):
        lines.append("- The run was interrupted (Ctrl-C) before it finished; see the state left above.")
    return lines or ["- No change was made."]


def _verified(events: list[dict[str, Any]]) -> list[str]:
    last: dict[str, dict[str, Any]] = {}
    for e in events:
        if e["event"] == "check":
            last[e["name"]] = e
    lines = [f"- `{name}`: {e.get('outcome')} after {e.get('attempt')} attempt(s)" + (f": {e['message']}" if e.get("message") else "")
             for name, e in last.items()]
    done = next((e for e in events if e["event"] == "verified"), None)
    if done:
        lines.append(f"- All checks passed after {done['attempts']} attempt(s) in {done['seconds']} s.")
    return lines or ["- Verification did not run."]


def _action_items(events: list[dict[str, Any]], end: dict[str, Any] | None) -> list[str]:
    items = []
    if end and end.get("status") not in ("ok", "noop"):
        items.append(f"- [ ] The remediation ended `{end.get('status')}`: {end.get('state_left', '')}. Confirm the service state by hand.")
    if end and end.get("status") == "ok":
        items.append("- [ ] Add a test or a pre-deploy gate that would have caught this before production.")
    items.append("- [ ] Update the runbook or the remediation spec with anything learned.")
    return items

"""A Markdown incident report, in the runbook template's shape, from the journal.

One run (``incident_report(path)``) or every run and diagnosis in a window
(``incident_report_since(folder, since)``) becomes one incident with:

- **severity**, from the evidence (or given): SEV1 when the Worker did not answer
  or answered 5xx, when 25% or more of its requests failed, or when a remediation
  failed and left production changed; SEV2 when 5% or more failed; SEV3 when a
  symptom was found or a change was needed; SEV4 when nothing needed doing;
- the **affected share of requests**: the worst error rate the journal's analytics
  observations saw (the `analytics` action, or `worker_health`'s analytics), with
  its request and error counts; "not measured" when no run read analytics;
- **detection** (the first symptom seen: a diagnosis finding, a failing
  precondition, or else the first run), **identification** (the first remediation
  started: the fix was chosen), **resolution** (the last remediation's end, when it
  ended ok or found nothing to do) and the **duration** from detection to
  resolution;
- the timeline of every run, what was changed and verified, the root cause left to
  the on-call engineer, and the template's **action items**.

Everything passes through the redactor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from ops.engine.journal import list_runs, read_events
from ops.errors import InputError
from ops.invoked import command
from ops.redact import redact
from ops.targets import SEVERITY_LEVELS

__all__ = ["SEVERITIES", "TEMPLATE_ACTION_ITEMS", "incident_report", "incident_report_since", "parse_time"]

SEVERITIES = SEVERITY_LEVELS
# The dataset's status for an invocation whose client gave up waiting: a hang, counted as failing.
HUNG_STATUSES = ("clientDisconnected",)
MAJOR_SHARE, CRITICAL_SHARE = 0.05, 0.25
# The runbook template's standing action items; the report adds the ones its evidence calls for.
TEMPLATE_ACTION_ITEMS = (
    "Complete the root cause analysis above and review the timeline.",
    "Add or tune the alert that should have detected this sooner (detection time above).",
    "Update the runbook, or the remediation spec, with anything learned.",
    "Schedule the post-incident review and share this report.",
)


@dataclass
class Run:
    path: Path
    events: list[dict[str, Any]]

    @property
    def start(self) -> dict[str, Any]:
        return next((e for e in self.events if e["event"] == "run-start"), self.events[0])

    @property
    def end(self) -> dict[str, Any] | None:
        return next((e for e in reversed(self.events) if e["event"] == "run-end"), None)

    @property
    def is_diagnosis(self) -> bool:
        return self.start.get("mode") == "diagnose"

    @property
    def name(self) -> str:
        return "diagnose" if self.is_diagnosis else str(self.start.get("spec", "?"))

    @property
    def status(self) -> str:
        return str(self.end["status"]) if self.end else "unfinished"

    def at(self, event: dict[str, Any]) -> datetime:
        return parse_time(str(event.get("ts", "")), where=str(self.path))


@dataclass
class Moments:
    detected: datetime
    detected_by: str
    identified: datetime | None
    identified_by: str
    resolved: datetime | None
    resolved_by: str
    discrepancies: list[str]


def incident_report(journal: Path, *, severity: str | None = None, detected: str | None = None,
                    severity_names: tuple[str, ...] = SEVERITIES) -> str:
    run = _load(journal)
    if run is None:
        raise InputError(f"{journal}: the journal is empty")
    return _render([run], f"{run.name} ({run.start['run']})", f"the journal `{journal.name}`", severity, detected,
                   severity_names)


def incident_report_since(folder: Path, since: str, until: str | None = None, *, severity: str | None = None,
                          detected: str | None = None, severity_names: tuple[str, ...] = SEVERITIES) -> str:
    start, end = parse_time(since, where="--since"), parse_time(until, where="--until") if until else None
    runs = [run for run in _runs(folder) if _overlaps(run, start, end)]
    if not runs:
        window = f"since {since}" + (f" until {until}" if until else "")
        raise InputError(f"{folder}: no run or diagnosis {window}; `{command('journal.list')}` lists them")
    names = sorted({r.name for r in runs if not r.is_diagnosis}) or ["diagnosis"]
    title = f"{', '.join(names)} since {_clock(start)}"
    return _render(runs, title, f"{len(runs)} journal file(s) from {_clock(start)}", severity, detected, severity_names)


def parse_time(text: str, *, where: str) -> datetime:
    """An ISO time (`2026-11-23T16:05Z`, `2026-11-23 16:05`, a date); without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{where}: {text!r} is not an ISO time; write e.g. 2026-11-23T16:05Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# --- gathering ------------------------------------------------------------------------------

def _load(path: Path) -> Run | None:
    events = list(read_events(path))
    return Run(path, events) if events else None


def _runs(folder: Path) -> Iterator[Run]:
    for name in list_runs(folder):
        run = _load(folder / f"{name}.jsonl")
        if run is not None:
            yield run


def _overlaps(run: Run, start: datetime, end: datetime | None) -> bool:
    first, last = run.at(run.events[0]), run.at(run.events[-1])
    return last >= start and (end is None or first <= end)


def _timed(runs: list[Run]) -> list[tuple[datetime, Run, dict[str, Any]]]:
    return sorted(((run.at(e), run, e) for run in runs for e in run.events), key=lambda item: item[0])


# --- judging --------------------------------------------------------------------------------

def _moments(runs: list[Run], detected: str | None) -> Moments:
    timed = _timed(runs)
    remediations = [r for r in runs if not r.is_diagnosis]
    symptom = next(((t, r, e) for t, r, e in timed if _is_symptom(r, e)), None)
    if detected:
        found = (parse_time(detected, where="--detected"), "given with --detected")
    elif symptom is not None:
        found = (symptom[0], f"{symptom[1].name}: {_what(symptom[2])}")
    else:
        found = (timed[0][0], f"{timed[0][1].name} started (no earlier symptom in the journal)")
    first = min(remediations, key=lambda r: r.at(r.start), default=None)
    if first is not None:
        identified: tuple[datetime | None, str] = (first.at(first.start), f"`inv remediate.{first.name}` started")
    elif symptom is not None:
        identified = (symptom[0], f"`{symptom[2].get('command') or 'inv diagnose'}` suggested by the diagnosis")
    else:
        identified = (None, "no remediation was started")
    last = max(remediations, key=lambda r: r.at(r.start), default=None)
    resolved: tuple[datetime | None, str] = (None, "not resolved in this window")
    if last is not None and last.end is not None and last.status in ("ok", "noop"):
        resolved = (last.at(last.end), f"`{last.name}` ended {last.status}: {last.end.get('message', '')}")
    return _in_order(Moments(found[0], found[1], identified[0], identified[1], resolved[0], resolved[1], []))


def _in_order(m: Moments) -> Moments:
    """Detected <= identified <= resolved: evidence that says otherwise is printed, not a wrong order."""
    if m.identified is not None and m.detected > m.identified:
        m.discrepancies.append(f"the detection evidence ({_clock(m.detected)}: {m.detected_by}) comes after the "
                               f"identification ({_clock(m.identified)}); detection is taken as no later than that")
        m.detected, m.detected_by = m.identified, f"no later than the identification ({m.identified_by})"
    if m.resolved is not None and m.identified is not None and m.resolved < m.identified:
        m.discrepancies.append(f"the resolution ({_clock(m.resolved)}) comes before the identification "
                               f"({_clock(m.identified)}); the resolution is taken as the identification's time")
        m.resolved = m.identified
    return m


def _is_symptom(run: Run, event: dict[str, Any]) -> bool:
    """A diagnosis finding a symptom, or a failed precondition that saw the Worker failing or unhealthy."""
    if event["event"] == "finding":
        return event.get("outcome") == "symptom"
    return (event["event"] == "precondition" and event.get("outcome") == "failed"
            and any(o.get("failing") is True or o.get("healthy") is False for o in _dicts(event.get("outputs"))))


def _down(event: dict[str, Any]) -> bool:
    """A precondition that saw no answer or a 5xx."""
    return (event["event"] == "precondition" and event.get("outcome") == "failed"
            and any(o.get("failing") is True for o in _dicts(event.get("outputs"))))


def _what(event: dict[str, Any]) -> str:
    return str(event.get("message") or event.get("name") or event["event"])


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from _dicts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _dicts(inner)


def _worst_share(runs: list[Run]) -> dict[str, Any] | None:
    """The analytics observation with the highest failing share (errors and hung requests), from any run's outputs."""
    seen = [_failing(o) for run in runs for e in run.events for o in _dicts(e.get("outputs"))
            if o.get("error_rate") is not None and o.get("requests")]
    return max(seen, key=lambda o: float(o["failing_rate"]), default=None)


def _failing(observed: dict[str, Any]) -> dict[str, Any]:
    hung = sum(int(n) for status, n in (observed.get("by_status") or {}).items() if status in HUNG_STATUSES)
    failing = int(observed.get("errors") or 0) + hung
    return {**observed, "hung": hung, "failing": failing, "failing_rate": failing / int(observed["requests"])}


def _unanswered(runs: list[Run]) -> bool:
    """A health precondition that got no answer at all: the Worker hung or was unreachable."""
    return any(e["event"] == "precondition" and e.get("outcome") == "failed"
               and any(o.get("failing") is True and "status" in o and o["status"] is None
                   for o in _dicts(e.get("outputs")))
               for r in runs for e in r.events)


def _severity(runs: list[Run], share: dict[str, Any] | None, given: str | None,
              names: tuple[str, ...]) -> tuple[str, str]:
    if given:
        wanted = given.strip().lower()
        for level, name in zip(SEVERITIES, names):
            if wanted in (level.lower(), name.lower()):
                return name, "given with --severity"
        choices = ", ".join(dict.fromkeys((*names, *SEVERITIES)))
        raise InputError(f"--severity: {given!r} is not one of {choices}")
    level, why = _evidence_level(runs, share)
    return names[SEVERITIES.index(level)], why


def _evidence_level(runs: list[Run], share: dict[str, Any] | None) -> tuple[str, str]:
    rate = float(share["failing_rate"]) if share else None
    if rate is not None and rate >= CRITICAL_SHARE:
        return "SEV1", f"{rate:.1%} of requests failed (at least {CRITICAL_SHARE:.0%})"
    if any(_down(e) for r in runs for e in r.events):
        return "SEV1", "the Worker did not answer its health check, or answered 5xx"
    if any(r.status in ("failed", "undone") and "CHANGED" in str((r.end or {}).get("state_left", "")) for r in runs):
        return "SEV1", "a remediation failed and left production changed"
    if rate is not None and rate >= MAJOR_SHARE:
        return "SEV2", f"{rate:.1%} of requests failed (at least {MAJOR_SHARE:.0%})"
    changed = any(e["event"] == "step-end" and e.get("outcome") == "ok" for r in runs for e in r.events)
    if changed or any(_is_symptom(r, e) for r in runs for e in r.events):
        return "SEV3", "a symptom was found or a change was needed; no large share of requests failed"
    return "SEV4", "no symptom was found and nothing needed doing"


# --- rendering ------------------------------------------------------------------------------

def _render(runs: list[Run], title: str, source: str, severity: str | None, detected: str | None,
            names: tuple[str, ...]) -> str:
    moments = _moments(runs, detected)
    share = _worst_share(runs)
    level, why = _severity(runs, share, severity, names)
    finished = moments.resolved or _timed(runs)[-1][0]
    affected = _share(share, _unanswered(runs))
    lines = [
        f"# Incident report: {title}",
        "",
        "## Summary",
        f"- Severity: **{level}** ({why})",
        f"- Affected requests: {affected}",
        f"- Status: **{'resolved' if moments.resolved else 'not resolved'}**",
        f"- Detected: {_clock(moments.detected)} ({moments.detected_by})",
        f"- Identified: {_clock(moments.identified)} ({moments.identified_by})",
        f"- Resolved: {_clock(moments.resolved)} ({moments.resolved_by})",
        f"- Duration: {_duration(finished - moments.detected)}"
        + ("" if moments.resolved else " so far (not resolved)")
        + (f"; time to identify {_duration(moments.identified - moments.detected)}" if moments.identified else ""),
        f"- Targets: {', '.join(sorted({str(r.start.get('target', '?')) for r in runs}))}",
        *(f"- Ran `inv remediate.{r.name}` with params `{r.start.get('params', {})}`" for r in runs if not r.is_diagnosis),
        *(f"- Discrepancy: {d}" for d in moments.discrepancies),
        "",
        "## Impact",
        "",
        f"- Requests: {affected}",
        f"- Users: {_users(runs)}",
        f"- Impact window: {_clock(moments.detected)} to "
        + (_clock(moments.resolved) if moments.resolved else "not resolved in this window")
        + f" ({_duration(finished - moments.detected)})",
        "",
        "## Runs",
        "",
        "| started | run | outcome | result |",
        "|---|---|---|---|",
        *(f"| {_clock(r.at(r.start))} | {_run_name(r)} | {r.status} | {_cell((r.end or {}).get('message', ''))} |"
          for r in runs),
        "",
        "## Timeline (UTC)",
        "",
        "| time | run | event | item | outcome | detail |",
        "|---|---|---|---|---|---|",
        *(_row(t, r, e) for t, r, e in _timed(runs)),
        "",
        "## Resolution",
        *(line for r in runs if not r.is_diagnosis for line in _resolution(r)),
        "",
        "## What was verified",
        *(line for r in runs if not r.is_diagnosis for line in _verified(r)),
        "",
        "## Root cause",
        "",
        "_To be filled in by the on-call engineer: what made the service fail, and why it was not caught earlier._",
        "",
        "## Action items",
        "",
        *(f"- [ ] {item}" for item in TEMPLATE_ACTION_ITEMS),
        *_action_items(runs),
        "",
        f"_Generated from {source} by `inv incident.report`._",
        "",
    ]
    return redact("\n".join(lines))


def _run_name(run: Run) -> str:
    return "`inv diagnose`" if run.is_diagnosis else f"`inv remediate.{run.name}`"


def _share(share: dict[str, Any] | None, unanswered: bool) -> str:
    hang = ("the Worker did not answer its health check (a hang or an outage counts as failing)"
            if unanswered else "")
    if share is None:
        return f"**unanswered**: {hang}; not measured in analytics" if hang else \
            "not measured (no run in this incident read the Worker's analytics)"
    version = f" of version {share['version']}" if share.get("version") else ""
    window = f", {share['since']} to {share['until']}" if share.get("since") and share.get("until") else ""
    hung = f", {share['hung']} of them hung" if share["hung"] else ""
    measured = (f"{share['failing']} of {share['requests']} requests{version} failed or hung{hung}{window}; "
                "from the analytics in the journal")
    if hang and share["failing_rate"] < CRITICAL_SHARE:  # too few requests reached analytics to show the outage
        return f"**unanswered**: {hang}; the analytics saw {measured}"
    return f"**{float(share['failing_rate']):.1%}** of requests failed ({measured})"


def _users(runs: list[Run]) -> str:
    counted = [o for r in runs for e in r.events for o in _dicts(e.get("outputs")) if isinstance(o.get("users"), int)]
    if not counted:
        return "not counted (no run read a user count from the Worker)"
    worst = max(counted, key=lambda o: int(o["users"]))
    return f"{worst['users']} (the most any run in this incident read)"


def _clock(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def _duration(delta: Any) -> str:
    seconds = max(0, int(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return (f"{hours} h " if hours else "") + (f"{minutes} min " if hours or minutes else "") + f"{secs} s"


def _row(moment: datetime, run: Run, event: dict[str, Any]) -> str:
    item = event.get("name") or event.get("precondition") or event.get("of") or event.get("remediation") or ""
    outcome = event.get("outcome") or event.get("status") or ""
    detail = event.get("message") or event.get("reason") or event.get("state_left") or ""
    return (f"| {moment.astimezone(timezone.utc).strftime('%H:%M:%S.%f')[:12]} | {run.name} | {event['event']} | "
            f"{item} | {outcome} | {_cell(detail)} |")


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")[:300]


def _resolution(run: Run) -> list[str]:
    events = run.events
    steps = [e for e in events if e["event"] == "step-end"]
    undos = [e for e in events if e["event"] == "undo-end"]
    lines = [f"- `{run.name}` step `{e['name']}`: {e.get('outcome')}" + (f" ({e['message']})" if e.get("message") else "")
             for e in steps]
    lines += [f"- `{run.name}` undo `{e['name']}` of `{e.get('of')}`: {e.get('outcome')}" for e in undos]
    if any(e["event"] == "noop" for e in events):
        lines.append(f"- `{run.name}`: nothing needed doing: " + next(e["reason"] for e in events if e["event"] == "noop"))
    if any(e["event"] == "interrupted" for e in events):
        lines.append(f"- `{run.name}` was interrupted before it finished; see its state left: "
                     f"{(run.end or {}).get('state_left', 'unknown')}")
    return lines or [f"- `{run.name}`: no change was made."]


def _verified(run: Run) -> list[str]:
    last: dict[str, dict[str, Any]] = {}
    for e in run.events:
        if e["event"] == "check":
            last[e["name"]] = e
    lines = [f"- `{run.name}` `{name}`: {e.get('outcome')} after {e.get('attempt')} attempt(s)"
             + (f": {e['message']}" if e.get("message") else "") for name, e in last.items()]
    done = next((e for e in run.events if e["event"] == "verified"), None)
    if done:
        lines.append(f"- `{run.name}`: all checks passed after {done['attempts']} attempt(s) in {done['seconds']} s.")
    return lines or [f"- `{run.name}`: verification did not run."]


def _action_items(runs: list[Run]) -> list[str]:
    items = []
    for run in runs:
        if run.is_diagnosis or run.end is None:
            continue
        if run.status not in ("ok", "noop"):
            items.append(f"- [ ] `{run.name}` ended `{run.status}`: {run.end.get('state_left', '')}. "
                         "Confirm the service state by hand.")
        if run.status == "ok":
            items.append(f"- [ ] Add a test or a pre-deploy gate that would have caught what `{run.name}` fixed.")
    if any(r.end is None for r in runs):
        items.append("- [ ] A run stopped before recording its end: check what it changed (its timeline above).")
    return list(dict.fromkeys(items))

"""`inv incident.report [RUN] [--since TIME]`: one incident from one run, or from every run and diagnosis in a window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from invoke.collection import Collection
from invoke.tasks import task

from ops.cli.boundary import guarded, out


@task(help={"run": "A run id, a unique part of one, or `latest` (the default; ignored with --since)",
            "since": "Gather every run and diagnosis from this ISO time (UTC unless it says otherwise) into one incident",
            "until": "With --since: the end of the window (default: now)",
            "severity": "SEV1..SEV4, instead of the one the evidence gives",
            "detected": "When the incident was detected (e.g. the page), if earlier than the journal shows",
            "out": "Write here instead of stdout"},
      auto_shortflags=False)
@guarded
def report(c: Any, run: str | None = None, since: str = "", until: str = "", severity: str = "", detected: str = "",
           out_: str = "") -> None:
    """Write a Markdown incident report in the runbook template's shape."""
    text = incident_text(run or "latest", since=since, until=until, severity=severity, detected=detected)
    if out_:
        Path(out_).write_text(text, encoding="utf-8")
        out(f"wrote {out_}")
    else:
        out(text)


def incident_text(run: str | None, *, since: str = "", until: str = "", severity: str = "", detected: str = "") -> str:
    from ops.engine.incident import incident_report, incident_report_since
    from ops.engine.journal import default_dir, find_run
    from ops.targets import register_every_targets_secrets

    register_every_targets_secrets()  # a Worker's secret in an event is masked, whichever target the run was on
    if since:
        return incident_report_since(default_dir(), since, until or None, severity=severity or None,
                                     detected=detected or None)
    return incident_report(find_run(default_dir(), run), severity=severity or None, detected=detected or None)


def incident_collection() -> Collection:
    return Collection("incident", report)

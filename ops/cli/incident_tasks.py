"""`inv incident.report [RUN] [--since TIME]`: one incident from one run, or from every run and diagnosis in a window."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke.collection import Collection
from invoke.tasks import task

from ops.cli.boundary import guarded, out

if TYPE_CHECKING:
    from ops.targets import IncidentTemplate


@task(help={"run": "A run id, a unique part of one, or `latest` (the default; ignored with --since)",
            "since": "Gather every run and diagnosis from this ISO time (UTC unless it says otherwise) into one incident",
            "until": "With --since: the end of the window (default: now)",
            "severity": "SEV1..SEV4 or the target's severity_names, instead of the one the evidence gives",
            "target": "Target from targets.toml: its [incident] template (severity names, impact fields, root-cause "
                      "prompt, action items; default SEV1..SEV4 and the tool's own)",
            "detected": "When the incident was detected (e.g. the page), if earlier than the journal shows",
            "out": "Write here instead of stdout"},
      auto_shortflags=False)
@guarded
def report(c: Any, run: str | None = None, since: str = "", until: str = "", severity: str = "", detected: str = "",
           out_: str = "", target: str | None = None) -> None:
    """Write a Markdown incident report in the runbook template's shape."""
    text = incident_text(run or "latest", since=since, until=until, severity=severity, detected=detected,
                         template=_template(target))
    if out_:
        Path(out_).write_text(text, encoding="utf-8")
        out(f"wrote {out_}")
    else:
        out(text)


def incident_text(run: str | None, *, since: str = "", until: str = "", severity: str = "", detected: str = "",
                  severity_names: tuple[str, ...] | None = None, template: IncidentTemplate | None = None) -> str:
    from ops.engine.incident import SEVERITIES, incident_report, incident_report_since
    from ops.engine.journal import default_dir, find_run
    from ops.targets import register_every_targets_secrets

    register_every_targets_secrets()  # a Worker's secret in an event is masked, whichever target the run was on
    names = severity_names or SEVERITIES
    if since:
        return incident_report_since(default_dir(), since, until or None, severity=severity or None,
                                     detected=detected or None, severity_names=names, template=template)
    return incident_report(find_run(default_dir(), run), severity=severity or None, detected=detected or None,
                           severity_names=names, template=template)


def _template(target: str | None) -> IncidentTemplate | None:
    """The target's incident template; the default target may lack credentials, which a report does not need."""
    from ops.errors import InputError
    from ops.targets import load_target

    try:
        return load_target(target).incident
    except InputError:
        if target:
            raise
        return None


def incident_collection() -> Collection:
    return Collection("incident", report)

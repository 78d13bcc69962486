"""Journal an `inv diagnose` run, so that a diagnosis is on the incident's timeline.

One JSONL file per diagnosis, in the same journal as remediation runs and with
the same framing (``run-start`` … ``run-end``), so ``journal.list``,
``journal.show`` and ``incident.report`` read it like any run. Its ``mode`` is
``diagnose``; each finding that is not healthy is one ``finding`` event, and the
healthy probes are counted in ``run-end``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ops.engine.journal import Journal, default_dir, new_run_id

if TYPE_CHECKING:
    from ops.engine.diagnose import Finding
    from ops.engine.triage import Diagnosis
    from ops.targets import Target

__all__ = ["DIAGNOSE", "journal_diagnosis"]

DIAGNOSE = "diagnose"


def journal_diagnosis(findings: list[Finding], target: Target, folder: Path | None = None, *,
                      diagnosis: Diagnosis | None = None) -> Path:
    """Write one diagnosis to the journal; returns the file. Raises JournalError if it cannot be written."""
    journal = Journal(folder or default_dir(), new_run_id(DIAGNOSE))
    journal.event("run-start", spec=DIAGNOSE, mode=DIAGNOSE, target=target.header(), params={})
    counts = {"symptom": 0, "healthy": 0, "unknown": 0, "broken-spec": 0}
    for finding in findings:
        counts[finding.status] = counts.get(finding.status, 0) + 1
        if finding.status != "healthy":
            journal.event("finding", name=finding.probe, remediation=finding.remediation, outcome=finding.status,
                          message=finding.finding, detail=finding.detail, command=finding.command)
    if diagnosis is not None:
        journal.event("diagnosis", outcome=diagnosis.verdict, remediation=diagnosis.remediation,
                      command=diagnosis.command, evidence=diagnosis.evidence, reasoning=diagnosis.reasoning,
                      consequences=[c["remediation"] for c in diagnosis.consequences])
    symptoms = counts["symptom"]
    journal.event("run-end", mode=DIAGNOSE, status="symptoms" if symptoms else "healthy", exit_code=1 if symptoms else 0,
                  message=f"{symptoms} symptom(s), {counts['healthy']} probe(s) healthy, "
                          f"{counts['unknown'] + counts['broken-spec']} unknown",
                  symptoms=symptoms, healthy=counts["healthy"], unknown=counts["unknown"] + counts["broken-spec"])
    return journal.path

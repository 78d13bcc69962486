"""`inv diagnose`: the read-only symptom probes of every spec, as a table of findings."""

from __future__ import annotations

import json
from typing import Any

from invoke.exceptions import Exit
from invoke.tasks import task

from ops.cli.boundary import err, guarded, out


@task(name="diagnose", help={"json": "Print the findings as JSON", "target": "Target from targets.toml",
                             "all": "Also list the probes that found nothing wrong"}, auto_shortflags=False)
@guarded
def diagnose_task(c: Any, json_: bool = False, target: str | None = None, all_: bool = False) -> None:
    """Run every remediation's symptom probes (read-only) and suggest what to run."""
    from ops.engine.catalog import discover
    from ops.engine.diagnose import diagnose, diagnosis
    from ops.targets import load_target

    from ops.engine.diagnose_journal import journal_diagnosis
    from ops.errors import JournalError

    chosen = load_target(target)
    entries = discover()
    findings = diagnose(entries, chosen)
    ranked = diagnosis(findings, entries, chosen)
    try:
        journal_diagnosis(findings, chosen, diagnosis=ranked)  # so a diagnosis shows on the incident's timeline
    except JournalError as exc:
        err(f"warning: this diagnosis is not journaled: {exc}")
    symptoms = [f for f in findings if f.status == "symptom"]
    skipped = [f for f in findings if f.status == "not-applicable"]
    if json_:
        out(json.dumps({"target": chosen.header(), "ok": not symptoms, "diagnosis": ranked.as_dict(),
                        "findings": [f.as_dict() for f in findings],
                        "skipped": [{"remediation": f.remediation, "probe": f.probe, "why": f.detail} for f in skipped]},
                       indent=2))
    else:
        out(chosen.header())
        out(render_diagnosis(ranked))
        shown = [f for f in findings if f.status not in ("healthy", "not-applicable") or (all_ and f.status == "healthy")]
        if shown:
            out(_table(shown))
        if skipped:
            out("\nSkipped, as nothing on this Worker makes them meaningful:")
            out("\n".join(f"  {f.remediation}/{f.probe}: {f.detail}" for f in skipped))
        healthy = sum(1 for f in findings if f.status == "healthy")
        out(f"\n{len(symptoms)} symptom(s), {healthy} probe(s) healthy, "
            f"{sum(1 for f in findings if f.status in ('unknown', 'broken-spec'))} unknown, {len(skipped)} skipped")
    if symptoms:
        raise Exit(code=1)


def render_diagnosis(d: Any) -> str:
    if d.remediation is None:
        head = ("\nNothing wrong found." if d.verdict == "nothing-wrong"
                else "\nNothing wrong found, but no probe could tell either: see the unknowns below.")
        lines = [head, *(f"  evidence: {e}" for e in d.evidence)]
    else:
        lines = [f"\nRun first: {d.command}", *(f"  evidence: {e}" for e in d.evidence)]
    lines += [f"  because: {r}" for r in d.reasoning]
    lines += [f"  consequence ({c['remediation']}/{c['probe']}): {c['finding']}; {c['why']}" for c in d.consequences]
    lines += [f"  also found ({o['remediation']}/{o['probe']}): {o['finding']}; then {o['command']}" for o in d.others]
    return "\n".join(lines)


def _table(findings: list[Any]) -> str:
    if not findings:
        return "\nno symptoms found"
    rows = [("status", "remediation", "finding", "suggested command", "detail")]
    rows += [(f.status, f.remediation, f.finding, f.command, f.detail[:90]) for f in findings]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4] for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  ------")
    return "\n" + "\n".join(lines)



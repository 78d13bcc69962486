"""Triage: run every spec's read-only symptom probes and suggest the remediation for each finding."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from ops.actions.base import Context
from ops.engine.catalog import Entry
from ops.engine.model import Probe, Spec
from ops.engine.params import resolve_params
from ops.engine.probe import probe_once
from ops.engine.state import scope_for
from ops.engine.template import UNKNOWN
from ops.errors import InputError
from ops.judge.verdict import Verdict
from ops.targets import Target

__all__ = ["Finding", "diagnose"]


@dataclass
class Finding:
    remediation: str
    probe: str
    status: str       # symptom | healthy | unknown | broken-spec
    finding: str
    detail: str
    command: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def diagnose(entries: list[Entry], target: Target) -> list[Finding]:
    jobs: list[tuple[Spec, Probe, dict[str, Any]]] = []
    findings: list[Finding] = []
    for entry in entries:
        if not target.applies(entry.name):
            continue
        if not entry.ok:
            findings.append(Finding(entry.name, "-", "broken-spec", "the spec does not validate", entry.problems[0],
                                    "inv specs.check"))
            continue
        spec = Spec.model_validate(entry.data)
        try:
            params = _default_params(spec, target)
        except InputError as exc:  # a bad line in the target's params table for it: located, and the rest still runs
            findings.append(Finding(entry.name, "-", "broken-spec", "the target's settings for it do not validate",
                                    str(exc), "fix the line in the targets file"))
            continue
        jobs.extend((spec, probe, params) for probe in spec.probes)
    ctx = Context(target, dry_run=True)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            findings.extend(pool.map(lambda job: _run(job, ctx, target), jobs))
    finally:
        ctx.close()
    order = {"symptom": 0, "unknown": 1, "broken-spec": 2, "healthy": 3}
    return sorted(findings, key=lambda f: (order[f.status], f.remediation, f.probe))


def _default_params(spec: Spec, target: Target) -> dict[str, Any]:
    """The values a run with no flags would take on this target (its own defaults first)."""
    given, origins = target.param_settings(spec.name, {n: p.type for n, p in spec.params.items()}, {},
                                           {n: p.default for n, p in spec.params.items()})
    values: dict[str, Any] = {}
    for name, param in spec.params.items():
        try:
            values.update(resolve_params({name: param}, given, dry_run=True, origins=origins))
        except InputError:
            if name in origins:  # a bad line in the target's params table: told, not hidden behind "unknown"
                raise
            values[name] = UNKNOWN
    return values


def _run(job: tuple[Spec, Probe, dict[str, Any]], ctx: Context, target: Target) -> Finding:
    spec, probe, params = job
    seen = probe_once(probe, scope_for(target, params), ctx.for_step(probe.timeout))
    command = f"inv remediate.{spec.name}" + (f" {probe.suggest}" if probe.suggest else "")
    if seen.verdict is Verdict.INCONCLUSIVE:
        return Finding(spec.name, probe.name, "unknown", probe.finding, seen.judgement.message, command)
    if seen.verdict is Verdict.FAILED:
        return Finding(spec.name, probe.name, "symptom", probe.finding, seen.judgement.message, command)
    return Finding(spec.name, probe.name, "healthy", probe.finding, "", "")



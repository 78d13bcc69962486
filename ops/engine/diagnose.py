"""Triage: run every spec's read-only symptom probes, then rank what they found into one diagnosis.

A probe's finding is ``healthy``, ``symptom`` or ``unknown`` (no traffic, no sample, a
missing field: no evidence either way), or ``not-applicable`` when the target lacks
what it reads (a param it names is empty for this target, or its ``when:`` does not
hold): such a probe is not run. ``ops.engine.triage`` ranks the symptoms.
"""

from __future__ import annotations

import json
import re
import shlex
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from ops.actions.base import Context
from ops.engine.catalog import Entry
from ops.engine.config_params import settle, why_not_needed
from ops.engine.model import Probe, Spec
from ops.engine.params import resolve_params
from ops.engine.probe import probe_once
from ops.engine.state import scope_for
from ops.engine.template import UNKNOWN
from ops.engine.triage import Change, Diagnosis, rank
from ops.errors import InputError, OpsError
from ops.invoked import command as invoked
from ops.judge.expect import MISSING, lookup
from ops.judge.verdict import Verdict
from ops.targets import Target

__all__ = ["ACCOUNT_ACTIONS", "Finding", "diagnose", "diagnosis"]

# Actions that read the account's own state through the API: what they find is a fact about
# the account, not an answer seen through a Worker that may itself be failing.
ACCOUNT_ACTIONS = frozenset({"cloudflare", "d1", "r2", "binding_check", "analytics"})
PARAM_REFERENCE = re.compile(r"\{\{\s*params\.([A-Za-z0-9_]+)\s*\}\}")
OUTPUT_REFERENCE = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")


@dataclass
class Finding:
    remediation: str
    probe: str
    status: str       # symptom | healthy | unknown | not-applicable | broken-spec
    finding: str
    detail: str
    command: str
    via: str = "worker"  # worker: seen through the Worker's answers; account: read from the account's state

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def diagnose(entries: list[Entry], target: Target) -> list[Finding]:
    jobs: list[tuple[Spec, Probe, dict[str, Any], dict[str, str]]] = []
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
            params, unset = _default_params(spec, target)
        except InputError as exc:  # a bad line in the target's params table for it: located, and the rest still runs
            findings.append(Finding(entry.name, "-", "broken-spec", "the target's settings for it do not validate",
                                    str(exc), "fix the line in the targets file"))
            continue
        jobs.extend((spec, probe, params, unset) for probe in spec.probes)
    ctx = Context(target, dry_run=True)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            findings.extend(pool.map(lambda job: _run(job, ctx, target), jobs))
    finally:
        ctx.close()
    order = {"symptom": 0, "unknown": 1, "broken-spec": 2, "healthy": 3, "not-applicable": 4}
    return sorted(findings, key=lambda f: (order[f.status], f.remediation, f.probe))


def diagnosis(findings: list[Finding], entries: list[Entry], target: Target) -> Diagnosis:
    """The findings ranked into one diagnosis, with the live deployment as the evidence of what changed last."""
    causes = {e.name: str((e.data or {}).get("cause") or "resource") for e in entries if e.ok}
    return rank(findings, causes, _live_change(target), target.remediations or ())


def _live_change(target: Target) -> Change | None:
    from ops.cloudflare import CloudflareClient, list_deployments

    client = CloudflareClient.from_target(target, read_only=True)
    try:
        return Change.from_deployments(list_deployments(client, target.worker))
    except OpsError:
        return None
    finally:
        client.close()


def _default_params(spec: Spec, target: Target) -> tuple[dict[str, Any], dict[str, str]]:
    """The values a run with no flags would take on this target (its own settings, then its Worker's config), and
    why the config leaves a param unset."""
    given, origins = target.param_settings(spec.name, {n: p.type for n, p in spec.params.items()}, {},
                                           {n: p.default for n, p in spec.params.items()})
    settled = settle(spec, target, given, origins)
    given, origins = {**given, **settled.values}, {**origins, **settled.origins}
    values: dict[str, Any] = {}
    for name, param in spec.params.items():
        try:
            values.update(resolve_params({name: param}, given, dry_run=True, origins=origins))
        except InputError:
            if name in origins:  # a bad line in the target's params table: told, not hidden behind "unknown"
                raise
            unset_here = name in settled.unset or (param.required and given.get(name) in (None, ""))
            values[name] = "" if unset_here else UNKNOWN
    return values, settled.unset


def _run(job: tuple[Spec, Probe, dict[str, Any], dict[str, str]], ctx: Context, target: Target) -> Finding:
    spec, probe, params, unset = job
    via = "account" if probe.action in ACCOUNT_ACTIONS else "worker"
    lacking = _lacking(spec, probe, params, unset, target)
    if lacking:
        return Finding(spec.name, probe.name, "not-applicable", probe.finding, lacking, "", via)
    seen = probe_once(probe, scope_for(target, params), ctx.for_step(probe.timeout))
    flags = suggestion(probe.suggest, seen.outputs) if probe.suggest else ""
    command = invoked(f"remediate.{spec.name}") + (f" {flags}" if flags else "")
    if seen.verdict is Verdict.INCONCLUSIVE:
        return Finding(spec.name, probe.name, "unknown", probe.finding, seen.judgement.message, command, via)
    if seen.verdict is Verdict.FAILED:
        return Finding(spec.name, probe.name, "symptom", probe.finding, seen.judgement.message, command, via)
    return Finding(spec.name, probe.name, "healthy", probe.finding, "", "", via)


def suggestion(flags: str, outputs: dict[str, Any] | None) -> str:
    """A probe's suggested flags, each `{{ path }}` the value the probe saw there (``{{ result.missing.0 }}``: the
    secret it found missing), quoted for the shell; when it did not see one (an unknown: the Worker did not answer),
    none of them, so that the command printed runs with the target's own defaults."""
    unseen = False

    def value(match: re.Match[str]) -> str:
        nonlocal unseen
        found = lookup(outputs or {}, match.group(1))
        unseen = unseen or found is MISSING or found is None
        return shlex.quote(str(found))
    filled = OUTPUT_REFERENCE.sub(value, flags)
    return "" if unseen else filled


def _lacking(spec: Spec, probe: Probe, params: dict[str, Any], unset: dict[str, str], target: Target) -> str:
    """Why the probe does not apply to this target ("" when it does): an input it reads is not set here, because
    the Worker's config does not name it or the target does not set it."""
    text = json.dumps(probe.with_, default=str)
    read = list(dict.fromkeys(PARAM_REFERENCE.findall(text)))
    if probe.when:
        from ops.engine.template import condition_holds, condition_said, failing_term

        try:
            scope = scope_for(target, params)
            if condition_holds(probe.when, scope) is False:
                path = (failing_term(probe.when, scope) or (False, ""))[1]
                name = path.split(".", 1)[1] if path.startswith("params.") else ""
                if name in unset:
                    return f"it reads params.{name}: {unset[name]}"
                if path.startswith("worker.secrets."):
                    return why_not_needed(path, target)
                return f"{condition_said(probe.when, scope)} on target {target.name} (its condition: `{probe.when}`)"
        except InputError:
            pass
    for name in read:
        if name in unset and params.get(name) in ("", None):
            return f"it reads params.{name}: {unset[name]}"
    for name in read:
        if params.get(name) in ("", None):
            return (f"it reads params.{name}, which target {target.name} does not set "
                    f"({name} in [targets.{target.name}.params.{spec.name}])")
    return ""



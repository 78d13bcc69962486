"""Planning (dry-run): writes are resolved and shown with their undo, never executed."""

from __future__ import annotations

from typing import Any, Sequence

from ops.engine import template
from ops.engine.contract import contract_hash, target_identity
from ops.engine.model import Step
from ops.engine.outcome import Record, displayable
from ops.engine.probe import action_for, describe, has_unknown, record_for, validate_args
from ops.engine.state import RunState
from ops.engine.template import UNKNOWN

__all__ = ["contract", "plan_checks", "plan_summary", "plan_write", "undo_preview", "undo_when"]

WHEN_WORDS = {"step-failed": "if a later step fails", "verify-failed": "if the verification fails"}


def plan_write(run: RunState, step: Step, record: Record) -> bool:
    action = action_for(step.action)
    resolved = template.resolve(step.with_, run.scope)
    record.args = resolved
    record.description = describe(action, resolved)
    record.status = "planned"
    run.scope["steps"][step.name] = {"outputs": UNKNOWN, "status": UNKNOWN, "finished_at": UNKNOWN}
    record.undo = undo_preview(run, step)  # after the step's own outputs are known to be unknown: its undo may use them
    run.step_args[step.name] = displayable(resolved)
    if not has_unknown(resolved):
        found = action.preflight(validate_args(action, step, resolved))
        if found:
            record.message = ", ".join(f"{k}: {v}" for k, v in found.items())
    run.scope["steps"][step.name] = {"outputs": UNKNOWN, "status": UNKNOWN, "finished_at": UNKNOWN}
    run.outcome.records.append(record)
    run.emit("end", record)
    return True


def undo_when(triggers: Sequence[str]) -> str:
    if not triggers:
        return "never runs"
    return "runs only " + " or ".join(WHEN_WORDS[t] for t in triggers)


def undo_preview(run: RunState, step: Step) -> str:
    if step.effect == "destructive":
        return f"none: irreversible ({step.irreversible})"
    if step.undo:
        item = next(u for u in run.req.spec.undo if u.name == step.undo)
        what = describe(action_for(item.action), template.resolve(item.with_, run.scope))
        return f"{item.name}: {what} ({undo_when(item.after)})"
    when = undo_when(step.undo_after or ["step-failed"])
    return f"supplied by {step.action}: restores the previous state (known after apply; {when})"


def plan_checks(run: RunState) -> None:
    verify = run.req.spec.verify
    for check in verify.checks:
        record = record_for("check", check, "read")
        holds = template.condition_holds(check.when, run.scope) if check.when else True
        if holds is not UNKNOWN and not holds:  # skipped: what it would send may not even resolve
            record.status, record.message = "skipped", f"skipped: {template.condition_said(check.when or '')}"
            run.outcome.records.append(record)
            run.emit("end", record)
            continue
        resolved = template.resolve(check.with_, run.scope)
        record.args = resolved
        record.description = describe(action_for(check.action), resolved)
        record.status = "planned"
        wanted = ", ".join(f"{k} {v}" for k, v in template.resolve(check.expect, run.scope).items())
        deadline = run.req.deadline or verify.deadline
        record.message = f"polled every {verify.interval:g}s until {deadline:g}s" + (f": {wanted}" if wanted else "")
        run.scope["steps"][check.name] = {"outputs": UNKNOWN, "status": UNKNOWN, "finished_at": UNKNOWN}  # for later checks
        run.outcome.records.append(record)
        run.emit("end", record)


def plan_summary(run: RunState) -> str:
    writes = [r for r in run.outcome.records if r.kind == "step" and r.status == "planned"]
    if not writes:
        return "no change would be made"
    return f"would change: {', '.join(r.name for r in writes)}"


def contract(run: RunState) -> dict[str, Any]:
    """The body a saved plan binds: see ``ops.engine.contract``."""
    req = run.req
    return {"spec": req.spec.name, "digest": req.spec_digest, "target": target_identity(req.target),
            "params": displayable(req.params), "preconditions": dict(run.facts), "steps": dict(run.step_args)}


def hash_of(run: RunState) -> str:
    return contract_hash(contract(run))

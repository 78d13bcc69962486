"""Applying (a real run): guarded writes, verification to a deadline, and undo by policy."""

from __future__ import annotations

import time
from typing import Any

from ops.actions.base import UndoCall
from ops.engine import template
from ops.engine.contract import diff
from ops.engine.model import Check, Step, UndoStep
from ops.engine.outcome import Record, Status, displayable
from ops.engine.saved_plan import claim
from ops.engine.probe import action_for, call, describe, observe, record_for, validate_args
from ops.engine.state import Completed, RunState
from ops.errors import InputError, PlanStale
from ops.judge.verdict import FAILING, Verdict, judge

__all__ = ["VerifyResult", "apply_write", "undo_all", "verify"]


def apply_write(run: RunState, step: Step, record: Record) -> bool:
    action = action_for(step.action)
    guard(run, step)
    resolved = template.resolve(step.with_, run.scope)
    record.description = describe(action, resolved)
    action.preflight(validate_args(action, step, resolved))  # bad input stops here, before any change
    run.emit("start", record)
    started = time.perf_counter()
    run.current = step.name
    run.log("step-start", name=step.name, action=step.action, effect=step.effect, args=resolved)
    outputs, error = call(run, step, record, retries=step.retries)
    record.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    record.outputs = outputs
    reasons = [error] if error else judge(outputs, template.resolve(step.expect, run.scope), strict_failing=False).reasons
    record.status = "failed" if reasons else "done"
    record.message = "; ".join(r for r in reasons if r)
    run.outcome.records.append(record)
    if outputs is not None:
        run.completed.append(Completed(step, record.args, outputs))  # it reached the service: it counts as a change
    elif reasons:
        run.uncertain = step.name
    if outputs is not None:
        _report_overwrites(run, step, record, outputs)
    run.current = None
    run.scope["steps"][step.name] = {"outputs": outputs or {}, "status": record.status, "finished_at": _now()}
    run.log("step-end", name=step.name, outcome=record.status, outputs=outputs, message=record.message,
            duration_ms=record.duration_ms)
    run.emit("end", record)
    if reasons:
        fail(run, step.name, record.message)
        return False
    return True


def _report_overwrites(run: RunState, step: Step, record: Record, outputs: dict[str, Any]) -> None:
    """A deployment re-read after ours (ops.cloudflare._overwrites) that shows someone else's: said and journaled."""
    result = outputs.get("result")
    if not isinstance(result, dict) or "overwrite_check" not in result:
        return
    notes = [f"overwrote a deployment made at {d.get('created_on')} by {d.get('author_email') or 'someone'} "
             f"({d.get('id')}, version {', '.join(map(str, d.get('version_ids') or [])) or '?'})"
             for d in result.get("overwrote") or []]
    notes += [f"a deployment made at {d.get('created_on')} by {d.get('author_email') or 'someone'} ({d.get('id')}) "
              "replaced ours afterwards" for d in result.get("superseded_by") or []]
    if result["overwrite_check"] != "checked":
        notes.append(f"could not tell whether it overwrote another deployment: {result['overwrite_check']}")
    if not notes:
        return
    run.log("overwrote", name=step.name, overwrote=result.get("overwrote"), superseded_by=result.get("superseded_by"),
            check=result["overwrite_check"])
    record.message = "; ".join(m for m in (record.message, *notes) if m)
    run.notices.extend(f"{step.name} {note}" for note in notes)


def guard(run: RunState, step: Step) -> None:
    """Immediately before a write: re-read the control-plane facts it depends on; refuse if they moved.

    Of two runs racing on two machines (no shared lock), the second sees the first's
    change here and refuses, so production changes once.
    """
    before = displayable(template.resolve(step.with_, run.scope))
    reread = _reread(run, step)
    now = displayable(template.resolve(step.with_, run.scope))
    if reread and now != before:
        changes = diff(before, now)
        run.log("recheck", name=step.name, reread=reread, outcome="changed", changes=changes)
        raise PlanStale(f"refused before {step.name!r}: the state changed while this run was going "
                        f"({'; '.join(changes)}); another run may have acted: look again (--dry-run) before retrying")
    if reread:
        run.log("recheck", name=step.name, reread=reread, outcome="unchanged")
    planned = (run.req.plan or {}).get("steps", {})
    if run.req.plan is not None and planned.get(step.name) != now:
        changes = diff(planned.get(step.name), now)
        raise PlanStale(f"refused before {step.name!r}: it no longer does what the saved plan says "
                        f"({'; '.join(changes)}); make a new plan with --dry-run --plan-out")
    _claim_plan(run)


def _claim_plan(run: RunState) -> None:
    """A saved plan's first write claims it: no other run (nor this one, later) applies it again."""
    nonce = run.req.plan_nonce
    if nonce is not None and claim(run.req.journal_dir, nonce, run.outcome.run_id, run.req.plan_expires_at):
        run.log("plan-applied", nonce=nonce)


def _reread(run: RunState, step: Step) -> list[str]:
    """Re-run the `cloudflare` reads whose outputs this write or its undo refers to."""
    names = {ref.split(".")[1] for ref in template.references(step.with_) + _undo_refs(run, step)
             if ref.startswith("steps.") and ref.count(".") >= 2}
    candidates: list[Check | Step] = [*run.req.spec.preconditions, *run.req.spec.steps]
    items = [i for i in candidates
             if i.name in names and i.action == "cloudflare" and (not isinstance(i, Step) or i.effect == "read")
             and i.name in run.scope["steps"]]
    for item in items:
        record = record_for("precondition", item, "read")
        outputs, error = call(run, item, record)
        if outputs is None:
            raise PlanStale(f"refused before {step.name!r}: could not re-read {item.name!r} ({error})")
        run.scope["steps"][item.name] = {"outputs": outputs, "status": Verdict.PASSED}
    return [i.name for i in items]


def _undo_refs(run: RunState, step: Step) -> list[str]:
    if not step.undo:
        return []
    item = next(u for u in run.req.spec.undo if u.name == step.undo)
    return template.references(item.with_)


class VerifyResult:
    def __init__(self, verdict: Verdict, detail: str, unverified: list[str] | None = None) -> None:
        self.verdict, self.detail, self.unverified = verdict, detail, unverified or []


def verify(run: RunState) -> VerifyResult:
    """Poll the checks until all pass (and hold), the deadline, or a cancel.

    A check that fails keeps the run polling (it may still recover); at the deadline,
    any failed check makes the verification failed, else any inconclusive one makes it
    inconclusive. With ``give_up_after``, a check that has seen the Worker failing (its answers,
    not an API that has not caught up) on every poll that long fails the verification then: the
    target is failing too, and waiting proves nothing more.
    """
    spec = run.req.spec.verify
    deadline = run.req.deadline or spec.deadline
    started = time.monotonic()
    passing_since: float | None = None
    failing_since: dict[str, float] = {}
    attempt = 0
    verdicts: dict[str, tuple[Verdict, str]] = {}
    while True:
        attempt += 1
        verdicts = _verify_once(run, spec.checks, attempt)
        now = time.monotonic()
        failing_since = {n: failing_since.get(n, now) for n, (v, m) in verdicts.items()
                         if v is Verdict.FAILED and m.startswith(FAILING)}  # the Worker failing, not the API lagging
        stuck = [n for n, since in failing_since.items() if spec.give_up_after and now - since >= spec.give_up_after]
        if stuck:
            evidence = "; ".join(f"{n}: {verdicts[n][1]}" for n in stuck)
            run.log("gave-up", attempts=attempt, seconds=round(now - started, 2), checks=stuck)
            return VerifyResult(Verdict.FAILED, f"still failing after {spec.give_up_after:g}s of polls "
                                                f"({attempt} attempts), so the target fails too: {evidence}")
        if all(v is Verdict.PASSED for v, _ in verdicts.values()):
            passing_since = passing_since or now
            if now - passing_since >= spec.hold:
                run.log("verified", attempts=attempt, seconds=round(now - started, 2))
                return VerifyResult(Verdict.PASSED, "")
        else:
            passing_since = None
        if now - started + spec.interval > deadline:
            return _at_deadline(run, verdicts, attempt, passing_since is not None, deadline)
        if run.ctx.cancel.wait(spec.interval):
            return VerifyResult(Verdict.INCONCLUSIVE, "cancelled")


def _at_deadline(run: RunState, verdicts: dict[str, tuple[Verdict, str]], attempts: int, held_short: bool,
                 deadline: float) -> VerifyResult:
    head = f"not recovered within {deadline:g}s ({attempts} attempts)"
    failed = [f"{n}: {m}" for n, (v, m) in verdicts.items() if v is Verdict.FAILED]
    if failed:
        return VerifyResult(Verdict.FAILED, f"{head}: {'; '.join(failed)}")
    if held_short:
        return VerifyResult(Verdict.FAILED, f"{head}: passed, but not for the whole {run.req.spec.verify.hold:g}s window")
    undecided = [f"{n}: {m}" for n, (v, m) in verdicts.items() if v is Verdict.INCONCLUSIVE]
    by_hand = [_by_hand(run, n, m) for n, (v, m) in verdicts.items() if v is Verdict.INCONCLUSIVE]
    return VerifyResult(Verdict.INCONCLUSIVE, f"could not tell within {deadline:g}s: {'; '.join(undecided)}", by_hand)


def _by_hand(run: RunState, name: str, why: str) -> str:
    check = next(c for c in run.req.spec.verify.checks if c.name == name)
    what = check.description or describe(action_for(check.action), template.resolve(check.with_, run.scope))
    return f"{name}: {why}; check by hand: {what}"


def _verify_once(run: RunState, checks: list[Check], attempt: int) -> dict[str, tuple[Verdict, str]]:
    verdicts: dict[str, tuple[Verdict, str]] = {}
    for check in checks:
        record = record_for("check", check, "read")
        if check.when:
            holds = template.condition_holds(check.when, run.scope)
            if not holds:
                record.status, record.message = "skipped", f"skipped: {template.condition_said(check.when)}"
                _replace_record(run, record)
                continue
        try:
            seen = observe(run, check, record, strict_failing=True)
            outputs, verdict = seen.outputs, seen.verdict
        except template.UnresolvedReference as exc:  # an earlier check of this poll saw nothing to pass on
            outputs, verdict = None, Verdict.INCONCLUSIVE
            record.status, record.message = verdict, f"could not observe: {exc}"
            run.scope["steps"][check.name] = {"outputs": {}, "status": verdict}
        _replace_record(run, record)
        run.log("check", name=check.name, attempt=attempt, outcome=record.status, message=record.message,
                outputs=outputs)
        run.emit("end", record)
        verdicts[check.name] = (verdict, record.message)
    return verdicts


def _replace_record(run: RunState, record: Record) -> None:
    records = run.outcome.records
    run.outcome.records = [r for r in records if not (r.kind == "check" and r.name == record.name)] + [record]


def undo_all(run: RunState, trigger: str) -> None:
    """Undo completed writes in reverse, each only if its policy covers ``trigger``."""
    undone: list[str] = []
    stuck: list[str] = []
    kept: list[str] = []
    for done in reversed(run.completed):
        item = _undo_item(run, done)
        if item is None or trigger not in item.after:
            why = ("irreversible" if done.step.effect == "destructive" else "no undo" if item is None
                   else "undoing would not make production better")
            kept.append(f"{done.step.name} ({why})")
            run.log("undo-skipped", of=done.step.name, trigger=trigger,
                    reason=why if item is None else f"its undo runs only after: {', '.join(item.after) or 'never'}")
            continue
        ok, message = _undo_one(run, done, item)
        (undone if ok else stuck).append(done.step.name if ok else f"{done.step.name} ({message})")
    run.outcome.undone = undone
    run.outcome.state_left = _state_left(run, undone, stuck, kept)


def _state_left(run: RunState, undone: list[str], stuck: list[str], kept: list[str]) -> str:
    parts: list[str] = []
    if stuck:
        parts.append(f"CHANGED: undo failed for {', '.join(stuck)}; fix by hand")
    if kept:
        parts.append(f"CHANGED: kept {', '.join(reversed(kept))}")
    if undone:
        parts.append(f"restored: undid {', '.join(undone)}")
    if not parts and not run.uncertain:
        parts.append("unchanged: no change had been made")
    if run.uncertain:
        parts.append(f"{run.uncertain!r} failed without an answer and may be partly applied: check it")
    return "; ".join(parts)


def _undo_item(run: RunState, done: Completed) -> UndoStep | None:
    step = done.step
    if step.effect == "destructive":
        return None
    if step.undo:
        return next(u for u in run.req.spec.undo if u.name == step.undo)
    action = action_for(step.action)
    made: UndoCall | None = action.default_undo(validate_args(action, step, done.args), done.outputs)
    if made is None:
        return None
    return UndoStep.model_validate({"name": f"undo-{step.name}", "action": made.action, "with": dict(made.args),
                                    "description": made.description, "timeout": step.timeout,
                                    "after": list(step.undo_after or made.after)})


def _undo_one(run: RunState, done: Completed, item: UndoStep) -> tuple[bool, str]:
    record = record_for("undo", item, "write")
    run.log("undo-start", name=item.name, of=done.step.name, args=template.resolve(item.with_, run.scope))
    run.emit("start", record)
    try:
        outputs, error = call(run, item, record, retries=2)
    except InputError as exc:
        outputs, error = None, str(exc)
    reasons = [error] if error else judge(outputs, template.resolve(item.expect, run.scope), strict_failing=False).reasons
    record.outputs, record.status, record.message = outputs, ("failed" if reasons else "undone"), "; ".join(reasons)
    run.outcome.records.append(record)
    run.log("undo-end", name=item.name, of=done.step.name, outcome=record.status, message=record.message, outputs=outputs)
    run.emit("end", record)
    return not reasons, record.message


def fail(run: RunState, name: str, why: str) -> None:
    run.outcome.status = Status.FAILED
    run.outcome.failed_step = name
    run.outcome.message = f"step {name!r} failed: {why}"


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")

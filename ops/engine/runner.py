"""Plan and run a remediation: preconditions → confirm → steps → verify → undo by policy.

The engine, not the action, enforces dry-run: a `write` or `destructive` step
is never executed in a plan, and the HTTP clients of a plan refuse mutating
requests at the transport. Nothing here prints; progress goes to an observer.

    runner    the run's lifecycle: lock, journal, preconditions, the outcome
    probe     calling an action, and judging what it saw (ops.judge.verdict)
    plan      dry-run: writes resolved and shown with their undo; the contract
    apply     real run: guarded writes, verification to a deadline, undo by policy
"""

from __future__ import annotations

from ops.actions.base import Context
from ops.engine import template
from ops.engine.apply import VerifyResult, apply_write, fail, undo_all, verify
from ops.engine.contract import bound_facts, diff, target_identity
from ops.engine.journal import Journal, new_run_id
from ops.engine.lock import TargetLock
from ops.engine.model import Precondition, Step
from ops.engine.outcome import Outcome, Record, Status, displayable, status_of
from ops.engine.plan import contract, hash_of, plan_checks, plan_summary, plan_write
from ops.engine.probe import KnownAfterApply, observe, record_for
from ops.engine.state import Request, RunState, scope_for
from ops.errors import ConfirmationRefused, JournalError, OpsError, PlanStale, Terminated
from ops.judge.verdict import Verdict

__all__ = ["Request", "execute", "scope_for"]


def execute(req: Request) -> Outcome:
    """Plan (dry-run) or run a remediation; every failure becomes an outcome, never an exception."""
    outcome = Outcome(req.spec.name, req.target.header(), "dry-run" if req.dry_run else "run",
                      params=displayable(req.params))
    ctx = Context(req.target, req.dry_run, progress=req.progress)
    journal = None if req.dry_run else Journal(req.journal_dir, new_run_id(req.spec.name))
    run = RunState(req, outcome, ctx, journal, scope_for(req.target, req.params, req.journal_dir))
    ctx.journal = run.log
    lock = None
    crash: Exception | None = None
    try:
        try:
            if journal is not None:
                outcome.run_id, outcome.journal = journal.run_id, str(journal.path)
                if req.spec.lock:
                    lock = TargetLock.for_worker(req.journal_dir, req.target.account_id, req.target.worker)
                    lock.acquire(req.spec.name, journal.run_id)
                run.log("run-start", spec=req.spec.name, digest=req.spec_digest, target=req.target.header(),
                        params=req.params, stale_lock=bool(lock and lock.stale), plan=bool(req.plan))
            _notify(run, "run-start")
            _check_plan_target(run)
            _drive(run)
        except KeyboardInterrupt as exc:  # Terminated (SIGTERM) is one too
            _interrupted(run, isinstance(exc, Terminated))
        except JournalError as exc:
            _journal_failed(run, exc)
        except OpsError as exc:
            _refused(run, exc)
        except Exception as exc:  # a bug: undo by phase and end the journal; the boundary then reports it
            crash = exc
            _crashed(run, exc)
        finally:
            ctx.close()
            if lock is not None:
                lock.release()
        if req.dry_run and crash is None:
            outcome.plan_hash = hash_of(run)
            outcome.contract = contract(run)
        _log_end(run)
        _notify(run, "run-end")
    except KeyboardInterrupt as exc:  # a second signal during the wind-down: still say how it ended, undo no more
        _interrupted(run, isinstance(exc, Terminated), undo=False)
        _log_end(run)
    if crash is not None:
        crash.add_note(f"state left: {outcome.state_left}")
        raise crash
    return outcome


def _notify(run: RunState, event: str) -> None:
    """Post run start and end to the target's webhook, if it has one; a failed post never stops a run."""
    source = run.req.target.notify
    if run.req.dry_run or not source:
        return
    from ops.engine.webhook import webhook_from
    from ops.notify import post_quietly

    url = webhook_from(source, where=f"targets.{run.req.target.name}.notify.webhook")
    if url is None:
        return
    o = run.outcome
    why = post_quietly(url, event, {"spec": o.spec, "target": o.target, "status": o.status, "exit_code": o.exit_code,
                                    "message": o.message, "state_left": o.state_left, "run": o.run_id})
    if why:
        try:
            run.log("notify-failed", event=event, reason=why)
        except JournalError:
            pass


def _log_end(run: RunState) -> None:
    o = run.outcome
    try:
        run.log("run-end", status=o.status, exit_code=o.exit_code, message=o.message, failed_step=o.failed_step,
                undone=o.undone, state_left=o.state_left, unverified=o.unverified)
    except JournalError as exc:
        o.journal_error = o.journal_error or str(exc)


def _drive(run: RunState) -> None:
    spec = run.req.spec
    for pre in spec.preconditions:
        if not _precondition(run, pre):
            return
    _confirm(run)
    for step in spec.steps:
        if not _step(run, step):
            _undo_failed_step(run)
            return
    if run.req.dry_run:
        plan_checks(run)
        run.outcome.status = Status.PLANNED
        run.outcome.message = plan_summary(run)
        return
    run.verifying = True
    _conclude(run, verify(run))
    if run.notices:  # never "verified" alone when the run overwrote someone else's change
        run.outcome.message += f"; BUT {'; '.join(run.notices)}: check that their change is not lost"


def _undo_failed_step(run: RunState) -> None:
    """Undo after a failed step; a write the API refused outright (a 4xx) changed nothing and is said so."""
    name = run.outcome.failed_step or ""
    refusal = run.refused.get(name) if run.uncertain == name else None
    if refusal:
        run.uncertain = None
    undo_all(run, "step-failed")
    if refusal:
        rest = run.outcome.state_left
        run.outcome.state_left = f"refused, nothing changed: the API refused {name!r} ({refusal})" + (
            "" if rest.startswith("unchanged") else f"; {rest}")


def _conclude(run: RunState, result: VerifyResult) -> None:
    outcome = run.outcome
    if result.verdict is Verdict.FAILED:
        outcome.status, outcome.failed_step = Status.FAILED, "verify"
        outcome.message = f"verification failed: {result.detail}"
        undo_all(run, "verify-failed")
        if outcome.undone and "CHANGED" not in outcome.state_left:
            outcome.status = Status.UNDONE
        return
    if result.verdict is Verdict.INCONCLUSIVE:
        outcome.status, outcome.failed_step = Status.UNVERIFIED, "verify"
        outcome.message = f"unverified: {result.detail}; nothing was undone"
        outcome.unverified = result.unverified
        outcome.state_left = _changes_made(run) + " (kept: an undecided check is no reason to undo)"
        return
    outcome.status = Status.OK
    outcome.message = _verified_summary(run)
    outcome.state_left = _changes_made(run)


def _verified_summary(run: RunState) -> str:
    checks = run.req.spec.verify.checks
    status = {r.name: r.status for r in run.outcome.records if r.kind == "check"}
    passed = [c.name for c in checks if status.get(c.name) == Verdict.PASSED]
    skipped = [f"{c.name} ({template.condition_said(c.when or '', run.scope)})" for c in checks
               if status.get(c.name) == "skipped"]
    return "verified: " + ", ".join(passed) + (f"; skipped: {', '.join(skipped)}" if skipped else "")


def _precondition(run: RunState, pre: Precondition) -> bool:
    record = record_for("precondition", pre, "read")
    if not _when(run, pre, record):
        return True
    run.emit("start", record)
    try:
        seen = observe(run, pre, record, strict_failing=False)
    except KnownAfterApply as exc:
        return _known_after_apply(run, pre, record, exc.why)
    run.outcome.records.append(record)
    run.facts[pre.name] = bound_facts(run.req.spec, pre.name, seen.outputs, seen.verdict)
    run.log("precondition", name=pre.name, action=pre.action, args=record.args, outputs=seen.outputs,
            outcome=record.status, message=record.message, duration_ms=record.duration_ms)
    _check_plan_facts(run, pre.name)
    verdict = seen.verdict
    if verdict is Verdict.PASSED and pre.on_pass == "noop":
        return _noop(run, pre, record, "it holds")
    if verdict is Verdict.FAILED and pre.on_fail == "noop":
        return _noop(run, pre, record, record.message)
    if verdict is Verdict.FAILED and pre.on_fail == "abort":
        return _abort(run, pre, record.message)
    if verdict is Verdict.INCONCLUSIVE and pre.stops_when_inconclusive:
        return _abort(run, pre, f"could not tell: {record.message}")
    if verdict is not Verdict.PASSED:
        record.message = f"{record.message} (going on: {'no evidence either way' if verdict is Verdict.INCONCLUSIVE else 'as declared'})"
    run.emit("end", record)
    return True


def _noop(run: RunState, pre: Precondition, record: Record, why: str) -> bool:
    record.status = "noop"
    outcome = run.outcome
    outcome.status = Status.NOOP
    outcome.message = f"nothing to do: {(pre.reason or pre.name).strip()} ({why})"
    outcome.state_left = "unchanged: no step ran"
    run.log("noop", precondition=pre.name, reason=outcome.message)
    run.emit("end", record)
    return False


def _abort(run: RunState, pre: Precondition, why: str) -> bool:
    outcome = run.outcome
    outcome.status = Status.PRECONDITION_FAILED
    outcome.failed_step = pre.name
    reason = f"{pre.reason.strip()}: " if pre.reason else ""
    outcome.message = f"precondition {pre.name!r} failed: {reason}{why}"
    outcome.state_left = "unchanged: no step ran"
    run.emit("end", run.outcome.records[-1])
    return False


def _known_after_apply(run: RunState, item: Precondition | Step, record: Record, why: str = "") -> bool:
    from ops.engine.template import UNKNOWN

    record.status = "planned"
    record.message = f"known after apply: {why}" if why else "inputs known after apply"
    run.scope["steps"][item.name] = {"outputs": UNKNOWN, "status": UNKNOWN, "finished_at": UNKNOWN}
    run.outcome.records.append(record)
    run.emit("end", record)
    return True


def _confirm(run: RunState) -> None:
    if run.req.dry_run or run.req.yes:
        return
    for step in (s for s in run.req.spec.steps if s.effect == "destructive"):
        question = f"step {step.name!r} is destructive and cannot be undone ({step.irreversible}). Run it?"
        if run.req.confirm is None:
            raise ConfirmationRefused(f"{question} No terminal to ask: rerun with --yes to confirm")
        if not run.req.confirm(question):
            raise ConfirmationRefused(f"step {step.name!r} was not confirmed; nothing was changed")
        run.log("confirmed", step=step.name)


def _step(run: RunState, step: Step) -> bool:
    record = record_for("step", step, step.effect)
    if not _when(run, step, record):
        return True
    if step.effect != "read":
        return plan_write(run, step, record) if run.req.dry_run else apply_write(run, step, record)
    run.emit("start", record)
    try:
        seen = observe(run, step, record, strict_failing=False)
    except KnownAfterApply as exc:
        return _known_after_apply(run, step, record, exc.why)
    run.outcome.records.append(record)
    run.log(record.kind, name=step.name, action=step.action, args=record.args, outputs=seen.outputs,
            outcome=record.status, message=record.message, duration_ms=record.duration_ms)
    run.emit("end", record)
    if seen.verdict is not Verdict.PASSED:
        fail(run, step.name, record.message)
        return False
    return True


def _when(run: RunState, item: Precondition | Step, record: Record) -> bool:
    if not item.when:
        return True
    holds = template.condition_holds(item.when, run.scope)
    if holds is template.UNKNOWN:
        record.message = f"runs if {item.when} (known after apply)"
        return True
    if holds:
        return True
    record.status = "skipped"
    record.message = f"skipped: {template.condition_said(item.when, run.scope)}"
    run.scope["steps"][item.name] = {"outputs": {}, "status": "skipped", "finished_at": ""}  # "": nothing happened
    run.outcome.records.append(record)
    run.log("skipped", name=item.name, when=item.when)
    run.emit("end", record)
    return False


def _check_plan_target(run: RunState) -> None:
    plan = run.req.plan
    if plan is None:
        return
    now = target_identity(run.req.target)
    if plan.get("target") != now:
        raise PlanStale(f"target differs: {'; '.join(diff(plan.get('target'), now))}; "
                        "a plan applies only to the target it was made for")
    params = displayable(run.req.params)
    if plan.get("params") != params:
        raise PlanStale(f"params differ from the plan's: {'; '.join(diff(plan.get('params'), params))}")


def _check_plan_facts(run: RunState, name: str) -> None:
    plan = run.req.plan
    if plan is None:
        return
    planned, now = plan.get("preconditions", {}).get(name), run.facts[name]
    if planned != now:
        raise PlanStale(f"precondition {name!r} no longer sees what the plan saw "
                        f"({'; '.join(diff(planned, now))}); make a new plan with --dry-run --plan-out")


def _changes_made(run: RunState) -> str:
    done = [d.step.name for d in run.completed]
    return f"changed: {', '.join(done)}" if done else "unchanged: nothing needed changing"


def _interrupted(run: RunState, terminated: bool, undo: bool = True) -> None:
    run.ctx.cancel.set()
    outcome = run.outcome
    outcome.status = Status.TERMINATED if terminated else Status.INTERRUPTED
    done = [d.step.name for d in run.completed]
    current = run.current
    where = f"during {current!r}" if current else "during verification" if _in_verification(run) else "between steps"
    outcome.message = f"{'terminated (SIGTERM)' if terminated else 'interrupted'} {where}"
    try:
        run.log("interrupted", current=current, completed=done, signal="SIGTERM" if terminated else "SIGINT")
    except JournalError:
        pass
    if undo:
        _undo_by_phase(run, "interrupted")
    else:
        outcome.state_left = outcome.state_left or (
            f"CHANGED: completed {', '.join(done)}; not undone" if done else "unchanged: no change had been made")
    if current and "may be partly applied" not in outcome.state_left:
        outcome.state_left += f"; {current!r} may be partly applied"


def _journal_failed(run: RunState, exc: JournalError) -> None:
    """The journal is the first thing that must work: stop before the next change, undo what the phase allows."""
    outcome = run.outcome
    outcome.journal_error = str(exc)
    verifying = _in_verification(run)
    where = "during verification" if verifying else f"before {run.current or 'the next step'!r} went further"
    outcome.status, outcome.failed_step = Status.FAILED, run.current or outcome.failed_step or (
        "verify" if verifying else None)
    outcome.message = f"the journal could not be written ({exc}); stopped {where}"
    _undo_by_phase(run, "the journal could not be written")
    outcome.state_left += " (not journaled: the journal cannot be written)"


def _refused(run: RunState, exc: OpsError) -> None:
    outcome = run.outcome
    outcome.status = status_of(exc)
    outcome.message = str(exc)
    _undo_by_phase(run, str(exc))


def _crashed(run: RunState, exc: Exception) -> None:
    outcome = run.outcome
    outcome.status, outcome.failed_step = Status.FAILED, run.current or outcome.failed_step
    outcome.message = f"internal error: {type(exc).__name__}: {exc}"
    current = run.current
    _undo_by_phase(run, "internal error")
    if current:
        outcome.state_left += f"; {current!r} may be partly applied"


def _in_verification(run: RunState) -> bool:
    """Whether the steps are over: verifying, or the last step finished (even if its end was not journaled)."""
    if run.verifying:
        return True
    status = {r.name: r.status for r in run.outcome.records if r.kind == "step"}
    steps = run.req.spec.steps
    return bool(steps) and run.current is None and all(status.get(s.name) in ("done", "skipped", Verdict.PASSED)
                                                       for s in steps)


def _undo_by_phase(run: RunState, why: str) -> None:
    """Undo what the phase the run stopped in allows: a step's failure undoes by `step-failed`; a verification
    that never reached a verdict undoes nothing (neither the steps nor the verification failed)."""
    if _in_verification(run):
        _kept(run, why)
    elif run.completed or run.uncertain:
        try:
            undo_all(run, "step-failed")
        except JournalError as exc:  # the journal broke while undoing: it is silent now, so finish the undo
            run.outcome.journal_error = run.outcome.journal_error or str(exc)
            undo_all(run, "step-failed")
    else:
        run.outcome.state_left = "unchanged: no change had been made"


def _kept(run: RunState, why: str) -> None:
    done = [d.step.name for d in run.completed]
    if not done:
        run.outcome.state_left = "unchanged: nothing needed changing"
        return
    run.outcome.state_left = (f"CHANGED: kept {', '.join(done)} (the run stopped during verification, before a "
                              "verdict; a stopped verification is no reason to undo)")
    try:
        for name in done:
            run.log("undo-skipped", of=name, trigger="verification-stopped",
                    reason=f"{why}: the steps had completed and the verification reached no verdict")
    except JournalError as exc:
        run.outcome.journal_error = run.outcome.journal_error or str(exc)

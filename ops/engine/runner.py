"""Plan and run a remediation: preconditions → confirm → steps → verify → undo on failure.

The engine, not the action, enforces dry-run: a `write` or `destructive` step
is never executed in a plan, and the HTTP clients of a plan refuse mutating
requests at the transport. Nothing here prints; progress goes to an observer.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ops import actions
from ops.actions.base import Context, UndoCall
from ops.engine import expect, template
from ops.engine.journal import Journal, new_run_id
from ops.engine.lock import TargetLock
from ops.engine.model import EFFECT_RANK, Check, Precondition, Spec, Step, UndoStep
from ops.engine.outcome import Outcome, Record, displayable
from ops.engine.params import SecretValue
from ops.engine.template import UNKNOWN
from ops.errors import ConfirmationRefused, InputError, OpsError, PreconditionFailed, RemediationFailed
from ops.targets import Target

__all__ = ["Request", "execute"]

Observer = Callable[[str, Record], None]


@dataclass
class Request:
    spec: Spec
    spec_digest: str
    params: dict[str, Any]
    target: Target
    journal_dir: Path
    dry_run: bool = False
    yes: bool = False
    confirm: Callable[[str], bool] | None = None
    observer: Observer | None = None
    expected_plan_hash: str | None = None
    progress: Callable[[str], None] | None = None


@dataclass
class _Completed:
    step: Step
    args: Any
    outputs: dict[str, Any]


@dataclass
class _Run:
    req: Request
    outcome: Outcome
    ctx: Context
    journal: Journal | None
    scope: dict[str, Any]
    completed: list[_Completed] = field(default_factory=list)
    current: str | None = None
    uncertain: str | None = None  # a write that failed without an answer: it may have applied

    def emit(self, event: str, record: Record) -> None:
        if self.req.observer is not None:
            self.req.observer(event, record)

    def log(self, kind: str, **fields: Any) -> None:
        if self.journal is not None:
            self.journal.event(kind, **displayable(fields))


def execute(req: Request) -> Outcome:
    """Plan (dry-run) or run a remediation; every failure becomes an outcome, never an exception."""
    if req.expected_plan_hash is not None and not req.dry_run:
        check = execute(Request(**{**req.__dict__, "dry_run": True, "expected_plan_hash": None, "observer": None,
                                   "progress": None}))
        if check.plan_hash != req.expected_plan_hash:
            return _stale(req, check)
    outcome = Outcome(req.spec.name, req.target.header(), "dry-run" if req.dry_run else "run",
                      params=displayable(req.params))
    ctx = Context(req.target, req.dry_run, progress=req.progress)
    journal = None if req.dry_run else Journal(req.journal_dir, new_run_id(req.spec.name))
    run = _Run(req, outcome, ctx, journal, _scope(req))
    lock = None
    try:
        if journal is not None and req.spec.lock:
            lock = TargetLock.for_target(req.journal_dir, req.target.name, req.target.worker)
            lock.acquire(req.spec.name, journal.run_id)
            outcome.run_id, outcome.journal = journal.run_id, str(journal.path)
            run.log("run-start", spec=req.spec.name, digest=req.spec_digest, target=req.target.header(),
                    params=req.params, stale_lock=lock.stale)
        elif journal is not None:
            outcome.run_id, outcome.journal = journal.run_id, str(journal.path)
            run.log("run-start", spec=req.spec.name, digest=req.spec_digest, target=req.target.header(), params=req.params)
        _drive(run)
    except KeyboardInterrupt:
        _interrupted(run)
    except OpsError as exc:
        _refused(run, exc)
    finally:
        ctx.close()
        if lock is not None:
            lock.release()
    if req.dry_run:
        outcome.plan_hash = _plan_hash(req, outcome)
    run.log("run-end", status=outcome.status, exit_code=outcome.exit_code, message=outcome.message,
            failed_step=outcome.failed_step, undone=outcome.undone, state_left=outcome.state_left)
    return outcome


def _scope(req: Request) -> dict[str, Any]:
    return scope_for(req.target, req.params)


def scope_for(t: Target, params: dict[str, Any]) -> dict[str, Any]:
    """What `{{ … }}` can refer to: params, the target, and (filled as they run) the steps."""
    return {
        "params": dict(params),
        "target": {"name": t.name, "worker": t.worker, "worker_url": t.worker_url, "account_id": t.account_id,
                   "api_base_url": t.api_base_url, "wrangler_config": str(t.wrangler_config or ""),
                   "popular_keys": str(t.popular_keys or "")},
        "steps": {},
    }


def _drive(run: _Run) -> None:
    spec = run.req.spec
    for pre in spec.preconditions:
        if not _precondition(run, pre):
            return
    _confirm(run)
    for step in spec.steps:
        if not _step(run, step):
            _undo_all(run)
            return
    if run.req.dry_run:
        _plan_checks(run)
        run.outcome.status = "planned"
        run.outcome.message = _plan_summary(run)
        return
    failure = _verify(run)
    if failure:
        run.outcome.failed_step = "verify"
        run.outcome.message = f"verification failed: {failure}"
        _undo_all(run)
        return
    run.outcome.status = "ok"
    run.outcome.message = "verified: " + ", ".join(c.name for c in spec.verify.checks)
    run.outcome.state_left = _changes_made(run)


def _precondition(run: _Run, pre: Precondition) -> bool:
    record = _record("precondition", pre, "read")
    if not _when(run, pre, record):
        return True
    failures = _probe(run, pre, record)
    if failures is None:
        return True
    if pre.on_fail == "noop":
        record.status = "noop"
        run.outcome.status = "noop"
        run.outcome.message = f"nothing to do: {(pre.reason or pre.name).strip()} ({failures})"
        run.outcome.state_left = "unchanged: no step ran"
        run.log("noop", precondition=pre.name, reason=run.outcome.message)
        return False
    run.outcome.status = "precondition-failed"
    run.outcome.failed_step = pre.name
    reason = f"{pre.reason.strip()}: " if pre.reason else ""
    run.outcome.message = f"precondition {pre.name!r} failed: {reason}{failures}"
    run.outcome.state_left = "unchanged: no step ran"
    return False


def _probe(run: _Run, item: Check | Step, record: Record) -> str | None:
    """Run a read-only item; None when it passed, else why it failed."""
    run.emit("start", record)
    started = time.perf_counter()
    try:
        outputs, failures = _call(run, item, record)
    except _KnownAfterApply:
        _known_after_apply(run, item, record)
        return None
    except OpsError as exc:
        outputs, failures = None, [str(exc)]
    record.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    record.outputs = outputs
    run.scope["steps"][item.name] = {"outputs": outputs if outputs is not None else {}, "status": "failed" if failures else "passed"}
    record.status = "failed" if failures else "passed"
    record.message = "; ".join(failures)
    run.outcome.records.append(record)
    run.log(record.kind, name=item.name, action=item.action, args=record.args, outputs=outputs,
            outcome=record.status, message=record.message, duration_ms=record.duration_ms)
    run.emit("end", record)
    return record.message if failures else None


def _known_after_apply(run: _Run, item: Any, record: Record) -> None:
    record.status = "planned"
    record.message = "inputs known after apply"
    run.scope["steps"][item.name] = {"outputs": UNKNOWN, "status": UNKNOWN}
    run.outcome.records.append(record)
    run.emit("end", record)


def _confirm(run: _Run) -> None:
    if run.req.dry_run or run.req.yes:
        return
    destructive = [s for s in run.req.spec.steps if s.effect == "destructive"]
    for step in destructive:
        question = f"step {step.name!r} is destructive and cannot be undone ({step.irreversible}). Run it?"
        if run.req.confirm is None:
            raise ConfirmationRefused(f"{question} No terminal to ask: rerun with --yes to confirm")
        if not run.req.confirm(question):
            raise ConfirmationRefused(f"step {step.name!r} was not confirmed; nothing was changed")
        run.log("confirmed", step=step.name)


def _step(run: _Run, step: Step) -> bool:
    record = _record("step", step, step.effect)
    if not _when(run, step, record):
        return True
    if step.effect == "read":
        failures = _probe(run, step, record)
        if failures:
            _fail(run, step.name, failures)
        return failures is None
    if run.req.dry_run:
        return _plan_write(run, step, record)
    return _apply_write(run, step, record)


def _plan_write(run: _Run, step: Step, record: Record) -> bool:
    action = _action(step.action)
    resolved = template.resolve(step.with_, run.scope)
    record.args = resolved
    record.description = _describe(action, resolved)
    record.status = "planned"
    run.scope["steps"][step.name] = {"outputs": UNKNOWN, "status": UNKNOWN}
    record.undo = _undo_preview(run, step, resolved)
    if not _has_unknown(resolved):
        facts = action.preflight(_validate_args(action, step, resolved))
        if facts:
            record.message = ", ".join(f"{k}: {v}" for k, v in facts.items())
    run.scope["steps"][step.name] = {"outputs": UNKNOWN, "status": UNKNOWN}
    run.outcome.records.append(record)
    run.emit("end", record)
    return True


def _apply_write(run: _Run, step: Step, record: Record) -> bool:
    run.current = step.name
    action = _action(step.action)
    resolved = template.resolve(step.with_, run.scope)
    record.description = _describe(action, resolved)
    action.preflight(_validate_args(action, step, resolved))  # bad input stops here, before any change
    run.emit("start", record)
    started = time.perf_counter()
    run.log("step-start", name=step.name, action=step.action, effect=step.effect, args=template.resolve(step.with_, run.scope))
    try:
        outputs, failures = _call(run, step, record, retries=step.retries)
    except InputError:
        raise
    except OpsError as exc:
        outputs, failures = None, [str(exc)]
    record.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    record.outputs = outputs
    record.status = "failed" if failures else "done"
    record.message = "; ".join(failures)
    run.outcome.records.append(record)
    run.log("step-end", name=step.name, outcome=record.status, outputs=outputs, message=record.message,
            duration_ms=record.duration_ms)
    run.emit("end", record)
    run.current = None
    if outputs is not None and step.effect == "write":
        run.completed.append(_Completed(step, record.args, outputs))  # it reached the service: undo it too
    elif failures:
        run.uncertain = step.name
    run.scope["steps"][step.name] = {"outputs": outputs or {}, "status": record.status}
    if failures:
        _fail(run, step.name, record.message)
        return False
    return True


def _call(run: _Run, item: Check | Step | UndoStep, record: Record, retries: int = 0) -> tuple[dict[str, Any] | None, list[str]]:
    action = _action(item.action)
    resolved = template.resolve(item.with_, run.scope)
    record.args = resolved
    record.description = _describe(action, resolved)
    if _has_unknown(resolved):
        record.status = "planned"
        raise _KnownAfterApply()
    args = _validate_args(action, item, resolved)
    declared = item.effect if isinstance(item, Step) else "write" if isinstance(item, UndoStep) else "read"
    inherent = action.effect(args)
    if inherent is not None and EFFECT_RANK[inherent] > EFFECT_RANK[declared]:
        raise InputError(f"step {item.name!r} is declared {declared!r} but {action.describe(args)} has effect {inherent!r}")
    if run.req.dry_run and EFFECT_RANK[declared] > 0:
        raise AssertionError("dry-run reached a mutating step")  # the engine's own invariant
    attempts = 1 + (retries if action.safe_to_retry(args) else 0)
    wanted = template.resolve(item.expect, run.scope)
    last: tuple[dict[str, Any] | None, list[str]] = (None, [])
    for attempt in range(attempts):
        step_ctx = run.ctx.for_step(item.timeout)
        try:
            outputs = action.run(args, step_ctx)
            failures: list[str] = list(expect.evaluate(wanted, outputs))
        except InputError:
            raise  # bad input is not a failed attempt: stop with exit 2
        except OpsError as exc:
            outputs, failures = None, [str(exc)]
        finally:
            run.ctx.adopt(step_ctx)
        last = (outputs, failures)
        if not failures:
            break
        if attempt + 1 < attempts:
            run.log("retry", name=item.name, attempt=attempt + 1, message="; ".join(failures))
            if run.ctx.cancel.wait(min(2 ** attempt, 10)):
                break
    return last


class _KnownAfterApply(OpsError):
    def __init__(self) -> None:
        super().__init__("known after apply")


def _validate_args(action: Any, item: Any, resolved: Any) -> Any:
    from pydantic import ValidationError

    try:
        return action.Args.model_validate(_for_action(resolved))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"step {item.name!r}: with.{where}: {first['msg']} (after resolving references)") from None


def _for_action(value: Any) -> Any:
    if isinstance(value, SecretValue):
        return value.value
    if isinstance(value, dict):
        return {k: _for_action(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_for_action(v) for v in value]
    return value


def _has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    return False


def _when(run: _Run, item: Any, record: Record) -> bool:
    if not item.when:
        return True
    holds = template.condition_holds(item.when, run.scope)
    if holds is UNKNOWN:
        record.message = f"runs if {item.when} (known after apply)"
        return True
    if not holds:
        record.status = "skipped"
        record.message = f"skipped: {item.when} does not hold"
        run.scope["steps"][item.name] = {"outputs": {}, "status": "skipped"}
        run.outcome.records.append(record)
        run.log("skipped", name=item.name, when=item.when)
        run.emit("end", record)
        return False
    return True


def _verify(run: _Run) -> str | None:
    verify = run.req.spec.verify
    started = time.monotonic()
    passing_since: float | None = None
    attempt = 0
    why = "not checked"
    while True:
        attempt += 1
        failures = _verify_once(run, verify.checks, attempt)
        now = time.monotonic()
        if failures:
            passing_since, why = None, failures
        else:
            passing_since = passing_since or now
            if now - passing_since >= verify.hold:
                run.log("verified", attempts=attempt, seconds=round(now - started, 2))
                return None
        if now - started + verify.interval > verify.deadline:
            detail = why if passing_since is None else f"passed, but not for the whole {verify.hold:g}s window"
            return f"not recovered within {verify.deadline:g}s ({attempt} attempts): {detail}"
        if run.ctx.cancel.wait(verify.interval):
            return "cancelled"


def _verify_once(run: _Run, checks: list[Check], attempt: int) -> str:
    failures: list[str] = []
    for check in checks:
        record = _record("check", check, "read")
        if not _when(run, check, record):
            continue
        try:
            outputs, problems = _call(run, check, record)
        except OpsError as exc:
            outputs, problems = None, [str(exc)]
        run.scope["steps"][check.name] = {"outputs": outputs or {}, "status": "failed" if problems else "passed"}
        record.outputs, record.status, record.message = outputs, ("failed" if problems else "passed"), "; ".join(problems)
        _replace_record(run.outcome, record)
        run.log("check", name=check.name, attempt=attempt, outcome=record.status, message=record.message, outputs=outputs)
        run.emit("end", record)
        if problems:
            failures.append(f"{check.name}: {record.message}")
    return "; ".join(failures)


def _replace_record(outcome: Outcome, record: Record) -> None:
    outcome.records = [r for r in outcome.records if not (r.kind == "check" and r.name == record.name)]
    outcome.records.append(record)


def _plan_checks(run: _Run) -> None:
    for check in run.req.spec.verify.checks:
        record = _record("check", check, "read")
        resolved = template.resolve(check.with_, run.scope)
        record.args = resolved
        record.description = _describe(_action(check.action), resolved)
        record.status = "planned"
        record.message = f"polled every {run.req.spec.verify.interval:g}s until {run.req.spec.verify.deadline:g}s: " \
                         + ", ".join(f"{k} {v}" for k, v in template.resolve(check.expect, run.scope).items())
        run.outcome.records.append(record)
        run.emit("end", record)


def _undo_all(run: _Run) -> None:
    undone: list[str] = []
    stuck: list[str] = []
    for done in reversed(run.completed):
        ok, message = _undo_one(run, done)
        (undone if ok else stuck).append(done.step.name if ok else f"{done.step.name} ({message})")
    run.outcome.undone = undone
    if run.outcome.status not in ("precondition-failed", "refused"):
        run.outcome.status = "undone" if not stuck else "failed"
    applied = [d.step.name for d in run.completed]
    if not applied:
        run.outcome.state_left = "unchanged: no change had been made"
    elif not stuck:
        run.outcome.state_left = f"restored: undid {', '.join(undone)}"
    else:
        run.outcome.state_left = f"CHANGED: undo failed for {', '.join(stuck)}; fix by hand" + (
            f" (undid {', '.join(undone)})" if undone else "")
    if run.uncertain:
        run.outcome.state_left += f"; {run.uncertain!r} failed without an answer and may be partly applied: check it"


def _undo_one(run: _Run, done: _Completed) -> tuple[bool, str]:
    step = done.step
    if step.undo:
        item = next(u for u in run.req.spec.undo if u.name == step.undo)
    else:
        call = _action(step.action).default_undo(_validate_args(_action(step.action), step, done.args), done.outputs)
        if call is None:
            return False, "no undo available"
        item = _undo_from_call(step, call)
    record = _record("undo", item, "write")
    run.log("undo-start", name=item.name, of=step.name, args=template.resolve(item.with_, run.scope))
    run.emit("start", record)
    try:
        outputs, failures = _call(run, item, record, retries=2)
    except OpsError as exc:
        outputs, failures = None, [str(exc)]
    record.outputs, record.status, record.message = outputs, ("failed" if failures else "undone"), "; ".join(failures)
    run.outcome.records.append(record)
    run.log("undo-end", name=item.name, of=step.name, outcome=record.status, message=record.message, outputs=outputs)
    run.emit("end", record)
    return not failures, record.message


def _undo_from_call(step: Step, call: UndoCall) -> UndoStep:
    return UndoStep.model_validate({"name": f"undo-{step.name}", "action": call.action, "with": dict(call.args),
                                    "description": call.description, "timeout": step.timeout})


def _undo_preview(run: _Run, step: Step, resolved: Any) -> str | None:
    if step.effect == "destructive":
        return f"none: irreversible ({step.irreversible})"
    if step.undo:
        item = next(u for u in run.req.spec.undo if u.name == step.undo)
        return f"{item.name}: {_describe(_action(item.action), template.resolve(item.with_, run.scope))}"
    return f"supplied by {step.action}: restores the previous state (known after apply)"


def _fail(run: _Run, name: str, why: str) -> None:
    run.outcome.status = "failed"
    run.outcome.failed_step = name
    run.outcome.message = f"step {name!r} failed: {why}"


def _interrupted(run: _Run) -> None:
    run.ctx.cancel.set()
    outcome = run.outcome
    outcome.status = "interrupted"
    done = [d.step.name for d in run.completed]
    where = f"during {run.current!r}" if run.current else "between steps"
    outcome.message = f"interrupted {where}"
    outcome.state_left = (f"CHANGED: completed {', '.join(done)}; not undone" if done else "unchanged: no change had been made") + (
        f"; {run.current!r} may be partly applied" if run.current else "")
    run.log("interrupted", current=run.current, completed=done)


def _refused(run: _Run, exc: OpsError) -> None:
    outcome = run.outcome
    status = {ConfirmationRefused: "refused", PreconditionFailed: "precondition-failed", InputError: "bad-input"}
    outcome.status = next((v for k, v in status.items() if isinstance(exc, k)), "failed")
    from ops.errors import LockHeld

    if isinstance(exc, LockHeld):
        outcome.status = "locked"
    outcome.message = str(exc)
    if run.completed:
        _undo_all(run)
    else:
        outcome.state_left = "unchanged: no change had been made"


def _stale(req: Request, check: Outcome) -> Outcome:
    outcome = Outcome(req.spec.name, req.target.header(), "run", status="stale-plan", params=displayable(req.params))
    outcome.message = (f"the saved plan no longer matches the state (plan {req.expected_plan_hash}, now {check.plan_hash}); "
                       "make a new plan with --dry-run --plan-out")
    outcome.state_left = "unchanged: nothing was applied"
    outcome.records = check.records
    return outcome


def _record(kind: str, item: Any, effect: str) -> Record:
    return Record(kind, item.name, item.action, effect, item.description or "")


def _action(name: str) -> Any:
    action = actions.get(name)
    if action is None:
        raise InputError(f"unknown action type {name!r}")
    return action


def _describe(action: Any, resolved: Any) -> str:
    if _has_unknown(resolved):
        return f"{action.name} {json.dumps(displayable(resolved), sort_keys=True, default=str)}"
    try:
        return str(action.describe(action.Args.model_construct(**_for_display(resolved))))
    except Exception:
        return f"{action.name} {displayable(resolved)}"


def _for_display(value: Any) -> Any:
    return displayable(value)


def _plan_summary(run: _Run) -> str:
    writes = [r for r in run.outcome.records if r.kind == "step" and r.status == "planned"]
    if not writes:
        return "no change would be made"
    return f"would change: {', '.join(r.name for r in writes)}"


def _changes_made(run: _Run) -> str:
    done = [d.step.name for d in run.completed]
    return f"changed: {', '.join(done)}" if done else "unchanged: nothing needed changing"


def _plan_hash(req: Request, outcome: Outcome) -> str:
    material = {
        "spec": req.spec.name, "digest": req.spec_digest, "target": req.target.name, "params": displayable(req.params),
        "status": outcome.status,
        "items": [[r.kind, r.name, r.status, displayable(r.args), r.undo]
                  for r in outcome.records if r.kind != "check" and (r.kind == "precondition" or r.effect != "read")],
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()[:16]


def probe_once(item: Check, scope: dict[str, Any], ctx: Context) -> tuple[dict[str, Any] | None, list[str]]:
    """Run one read-only item outside a remediation (for `inv diagnose`)."""
    req = Request(spec=None, spec_digest="", params={}, target=ctx.target, journal_dir=Path("."), dry_run=True)  # type: ignore[arg-type]
    run = _Run(req, Outcome("diagnose", ctx.target.header(), "dry-run"), ctx, None, scope)
    record = _record("check", item, "read")
    try:
        return _call(run, item, record)
    except _KnownAfterApply:
        return None, ["its inputs are not available (a secret source is not set?)"]
    except OpsError as exc:
        return None, [str(exc)]

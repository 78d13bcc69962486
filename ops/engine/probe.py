"""Calling an action: resolve its arguments, check its effect, observe, and judge.

Every item (precondition, step, check, undo) goes through ``call``. Read-only
items then get a verdict from ``ops.judge.verdict``; writes pass when their
expectations hold.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ops import actions
from ops.actions.base import Action
from ops.engine import template
from ops.engine.model import EFFECT_RANK, Check, Step, UndoStep
from ops.engine.outcome import Outcome, Record, displayable
from ops.engine.params import MissingSecret, SecretValue
from ops.engine.state import Request, RunState
from ops.engine.template import UNKNOWN
from ops.errors import InputError, OpsError
from ops.judge.verdict import Judgement, Verdict, judge

__all__ = ["KnownAfterApply", "Observed", "action_for", "call", "describe", "has_unknown", "observe", "probe_once",
           "record_for", "validate_args"]

Item = Check | Step | UndoStep


class KnownAfterApply(OpsError):
    def __init__(self, why: str = "") -> None:
        super().__init__("known after apply")
        self.why = why  # "" when an input is unknown; else why the call is never made in a plan


class Observed:
    """An item's outputs (None when the action could not run) and its judgement."""

    def __init__(self, outputs: dict[str, Any] | None, judgement: Judgement) -> None:
        self.outputs = outputs
        self.judgement = judgement

    @property
    def verdict(self) -> Verdict:
        return self.judgement.verdict


def observe(run: RunState, item: Check | Step, record: Record, *, strict_failing: bool) -> Observed:
    """Run a read-only item once and judge what it saw."""
    started = time.perf_counter()
    outputs, error = call(run, item, record)
    record.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    wanted = template.resolve(item.expect, run.scope)
    judgement = judge(outputs, wanted, strict_failing=strict_failing, error=error)
    record.outputs = outputs
    record.status = judgement.verdict
    record.message = judgement.message
    run.scope["steps"][item.name] = {"outputs": outputs if outputs is not None else {}, "status": judgement.verdict}
    return Observed(outputs, judgement)


def call(run: RunState, item: Item, record: Record, retries: int = 0) -> tuple[dict[str, Any] | None, str | None]:
    """Run the item's action: its outputs, or None and why it could not run. Bad input raises InputError."""
    action = action_for(item.action)
    resolved = template.resolve(item.with_, run.scope, url_keys=action.url_keys)
    record.args = resolved
    record.description = describe(action, resolved)
    if has_unknown(resolved):
        record.status = "planned"
        raise KnownAfterApply()
    args = validate_args(action, item, resolved)
    declared = item.effect if isinstance(item, Step) else "write" if isinstance(item, UndoStep) else "read"
    inherent = action.effect(args)
    if inherent is not None and EFFECT_RANK[inherent] > EFFECT_RANK[declared]:
        raise InputError(f"step {item.name!r} is declared {declared!r} but {action.describe(args)} has effect {inherent!r}")
    if run.req.dry_run and EFFECT_RANK[declared] > 0:
        raise AssertionError("dry-run reached a mutating step")  # the engine's own invariant
    if run.req.dry_run and not action.sends_in_plan(args):
        record.status = "planned"
        raise KnownAfterApply(f"{action.describe(args)} is never sent in a plan or a diagnosis")
    attempts = 1 + (retries if action.safe_to_retry(args) else 0)
    wanted = template.resolve(item.expect, run.scope)
    last: tuple[dict[str, Any] | None, str | None] = (None, None)
    refusals: list[str | None] = []  # per failed attempt of a write: the API's definite refusal, or None
    for attempt in range(attempts):
        step_ctx = run.ctx.for_step(item.timeout)
        try:
            outputs: dict[str, Any] | None = action.run(args, step_ctx)
            error = None
        except InputError:
            raise  # bad input is not a failed attempt: stop with exit 2
        except OpsError as exc:
            outputs, error = None, str(exc)
            refusals.append(refusal(exc))
        finally:
            run.ctx.adopt(step_ctx)
        if declared != "read" and outputs is not None and outputs.get("error") and outputs.get("status") is None:
            error = f"{action.describe(args)}: {outputs['error']}"  # a write with no answer may have applied
            outputs = None
            refusals.append(None)
        last = (outputs, error)
        if outputs is not None:
            refusals.append(None)  # it reached the service
        if outputs is not None and judge(outputs, wanted, strict_failing=False).verdict is Verdict.PASSED:
            break
        if attempt + 1 < attempts:
            run.log("retry", name=item.name, attempt=attempt + 1, message=error or "expectations not met")
            if run.ctx.cancel.wait(min(2 ** attempt, 10)):
                break
    if declared != "read" and last[0] is None and refusals and all(refusals):
        run.refused[item.name] = str(refusals[-1])
    return last


def refusal(exc: OpsError) -> str | None:
    """A definite "no" from the API (a 4xx other than a timeout): the write was not applied."""
    from ops.errors import ApiError

    if isinstance(exc, ApiError) and 400 <= exc.status < 500 and exc.status != 408:
        return f"HTTP {exc.status}, code {exc.code}"
    return None


def action_for(name: str) -> Action:
    action = actions.get(name)
    if action is None:
        raise InputError(f"unknown action type {name!r}")
    return action


def validate_args(action: Action, item: Any, resolved: Any) -> Any:
    from pydantic import ValidationError

    optional = {name for name, f in action.Args.model_fields.items() if not f.is_required()}
    if isinstance(resolved, dict):
        resolved = {k: None if isinstance(v, MissingSecret) and k in optional else v for k, v in resolved.items()}
    try:
        return action.Args.model_validate(_for_action(resolved))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"step {item.name!r}: with.{where}: {first['msg']} (after resolving references)") from None


def _for_action(value: Any) -> Any:
    if isinstance(value, SecretValue):
        return value.value
    if isinstance(value, MissingSecret):
        raise InputError(value.why)
    if isinstance(value, dict):
        return {k: _for_action(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_for_action(v) for v in value]
    return value


def has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


def describe(action: Action, resolved: Any) -> str:
    if has_unknown(resolved):
        return f"{action.name} {json.dumps(displayable(resolved), sort_keys=True, default=str)}"
    try:
        return str(action.describe(action.Args.model_construct(**displayable(resolved))))
    except Exception:
        return f"{action.name} {displayable(resolved)}"


def record_for(kind: str, item: Any, effect: str) -> Record:
    return Record(kind, item.name, item.action, effect, item.description or "")


def probe_once(item: Check, scope: dict[str, Any], ctx: Any) -> Observed:
    """Run one read-only item outside a remediation (for `inv diagnose`), judged as a probe."""
    req = Request(spec=None, spec_digest="", params={}, target=ctx.target, journal_dir=None, dry_run=True)  # type: ignore[arg-type]
    run = RunState(req, Outcome("diagnose", ctx.target.header(), "dry-run"), ctx, None, scope)
    record = record_for("check", item, "read")
    try:
        return observe(run, item, record, strict_failing=False)
    except KnownAfterApply as exc:
        return Observed(None, Judgement(Verdict.INCONCLUSIVE, [exc.why or "its inputs are not available (a secret source is not set?)"]))
    except OpsError as exc:
        return Observed(None, Judgement(Verdict.INCONCLUSIVE, [str(exc)]))

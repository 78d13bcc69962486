"""`wait_until`: poll another read-only action until its expectation holds or time runs out."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Mapping

from pydantic import Field

from ops import actions
from ops.actions.base import Action, Args, Context, Outputs
from ops.documents.shape import ANY, INTEGER, NUMBER, Shape, record
from ops.errors import InputError, OpsError, RemediationFailed
from ops.judge.expect import evaluate


class WaitUntilArgs(Args):
    action: str = Field(description="A read-only action type to poll, e.g. `http`.")
    with_: dict[str, Any] = Field(default_factory=dict, alias="with", description="Its arguments.")
    expect: dict[str, Any] = Field(description="What its outputs must satisfy.")
    timeout: float = Field(60.0, gt=0, le=3600, description="Seconds to keep polling.")
    interval: float = Field(1.0, gt=0, le=600, description="Seconds between polls.")


class WaitUntilAction(Action):
    name = "wait_until"
    Args = WaitUntilArgs
    summary = "Poll a read-only action until its outputs satisfy an expectation."
    outputs = record(attempts=INTEGER, last=ANY, waited_s=NUMBER)

    def with_shape(self, with_: Mapping[str, Any]) -> Shape:
        base = super().with_shape(with_)
        inner, inner_with = _declared(with_)
        if inner is None or base.keys is None:
            return base
        return replace(base, keys={**base.keys, "with": replace(inner.with_shape(inner_with), required=False)})

    def nested_expectations(self, with_: Mapping[str, Any]) -> dict[str, tuple[str, Shape]]:
        inner, inner_with = _declared(with_)
        return {"expect": (str(with_["action"]), inner.outputs_for(inner_with))} if inner is not None else {}

    def outputs_for(self, with_: Mapping[str, Any]) -> Shape:
        inner, inner_with = _declared(with_)
        if inner is None:
            return self.outputs
        return record(attempts=INTEGER, last=inner.outputs_for(inner_with), waited_s=NUMBER)

    def effect(self, args: WaitUntilArgs) -> str | None:
        inner = actions.get(args.action) if isinstance(args.action, str) else None
        return inner.effect(_inner_args(inner, args)) if inner else None

    def describe(self, args: WaitUntilArgs) -> str:
        inner = actions.get(args.action)
        what = inner.describe(_inner_args(inner, args)) if inner else args.action
        return f"wait up to {args.timeout:g}s until {what} satisfies {args.expect}"

    def run(self, args: WaitUntilArgs, ctx: Context) -> Outputs:
        inner = actions.get(args.action)
        if inner is None or inner.effect(_inner_args(inner, args)) != "read":
            raise InputError(f"wait_until polls read-only actions; {args.action!r} is not one")
        inner_args = inner.Args.model_validate(args.with_)
        started = time.monotonic()
        attempts, last, why = 0, None, "not polled"
        while True:
            attempts += 1
            try:
                last = inner.run(inner_args, ctx)
                failures: list[str] = list(evaluate(args.expect, last))
                why = "; ".join(failures)
            except OpsError as exc:
                failures, why = [str(exc)], str(exc)
            if not failures:
                return {"attempts": attempts, "last": last, "waited_s": round(time.monotonic() - started, 2)}
            if time.monotonic() - started + args.interval > args.timeout or ctx.cancel.wait(args.interval):
                raise RemediationFailed(f"still not satisfied after {attempts} attempts in {args.timeout:g}s: {why}")


def _inner_args(inner: Action | None, args: WaitUntilArgs) -> Any:
    if inner is None:
        return None
    try:
        return inner.Args.model_validate(args.with_)
    except Exception:
        return inner.Args.model_construct(**args.with_)


def _declared(with_: Mapping[str, Any]) -> tuple[Action | None, dict[str, Any]]:
    """The polled action and its ``with:``, as the spec writes them."""
    name, inner_with = with_.get("action"), with_.get("with")
    return (actions.get(name) if isinstance(name, str) else None), (inner_with if isinstance(inner_with, dict) else {})

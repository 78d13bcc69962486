"""`noop`: an undo (or step) that changes nothing, and says why."""

from __future__ import annotations

from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.documents.shape import STRING, record


class NoopArgs(Args):
    reason: str = Field(min_length=1, description="Why nothing needs doing, shown in the plan and the journal.")


class NoopAction(Action):
    name = "noop"
    Args = NoopArgs
    summary = "Change nothing, and say why (for example the undo of a harmless write)."
    outputs = record(reason=STRING)

    def describe(self, args: NoopArgs) -> str:
        return f"nothing to do: {args.reason}"

    def run(self, args: NoopArgs, ctx: Context) -> Outputs:
        return {"reason": args.reason}

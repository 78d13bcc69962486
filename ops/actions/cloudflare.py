"""`cloudflare`: one typed Cloudflare API operation, through ``ops.cloudflare``.

The operation names and their effects come from ``ops.cloudflare.operations``;
the client carries the envelope, paging, timeouts and safe retries.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.documents.shape import ANY, Shape, record


class CloudflareArgs(Args):
    op: str = Field(description="An operation such as `versions.list`, `deployments.create`, `secrets.put`.")
    args: dict[str, Any] = Field(default_factory=dict, description="The operation's arguments.")


class CloudflareAction(Action):
    name = "cloudflare"
    Args = CloudflareArgs
    summary = "A typed Cloudflare API operation."
    outputs = record(result=ANY)

    def with_shape(self, with_: Mapping[str, Any]) -> Shape:
        base = super().with_shape(with_)
        operation = _declared(with_)
        if operation is None or base.keys is None:
            return base
        return replace(base, keys={**base.keys, "args": replace(operation.args, required=False)})

    def outputs_for(self, with_: Mapping[str, Any]) -> Shape:
        operation = _declared(with_)
        return record(result=operation.result) if operation is not None else self.outputs

    def effect(self, args: CloudflareArgs) -> str | None:
        operation = _operations().get(args.op)
        return operation.effect if operation is not None else None

    def safe_to_retry(self, args: CloudflareArgs) -> bool:
        return False  # the client itself retries exactly the requests that are safe to repeat

    def describe(self, args: CloudflareArgs) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in args.args.items())
        return f"cloudflare {args.op}({shown})"

    def run(self, args: CloudflareArgs, ctx: Context) -> Outputs:
        operation = _operations().get(args.op)
        if operation is None:
            from ops.errors import InputError

            raise InputError(f"unknown Cloudflare operation {args.op!r}; known: {', '.join(sorted(_operations()))}")
        client = ctx.cloudflare()
        with client.until(ctx.remaining()):  # Retry-After and the request budget wait no longer than the step may
            return {"result": operation.call(client, **args.args)}


def _operations() -> dict[str, Any]:
    import importlib

    try:
        module = importlib.import_module("ops.cloudflare.operations")
    except ImportError:
        return {}
    return dict(module.OPERATIONS)


def _declared(with_: Mapping[str, Any]) -> Any:
    op = with_.get("op")
    return _operations().get(op) if isinstance(op, str) else None

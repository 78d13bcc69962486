"""`binding_check`: the bindings gate as a read-only step, with the fix it would make.

It runs the same checker as `inv check.bindings` (one checker, not two) with
the account's resource lists, and turns each missing KV namespace whose
intended replacement is known into a round-trip config edit.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.documents.shape import ANY, BOOLEAN, INTEGER, STRING, array, mapping, record


class BindingCheckArgs(Args):
    config: str = Field(description="The wrangler config to check.")
    env: str = Field("", description="The environment (empty: the top level).")
    remote: bool = Field(True, description="Check that every referenced resource exists in the account.")
    fix: bool = Field(False, description="Report the fix as `fix_now` (and its edit in `fix_set`).")


class BindingCheckAction(Action):
    name = "binding_check"
    Args = BindingCheckArgs
    summary = "Check a wrangler config's bindings against the account; propose the fix."
    outputs = record(errors=INTEGER, warnings=INTEGER, findings=array(STRING), fix_set=mapping(STRING), fixable=BOOLEAN,
                     fix_now=BOOLEAN, missing=array(ANY))

    def describe(self, args: BindingCheckArgs) -> str:
        return f"check bindings of {args.config}" + (f" (env {args.env})" if args.env else "") + (" against the account" if args.remote else "")

    def run(self, args: BindingCheckArgs, ctx: Context) -> Outputs:
        from ops.documents.wrangler_config import TOP, load_config
        from ops.gates.bindings import ClientLister, check

        config = load_config(Path(args.config))
        result = check(config, env=args.env or TOP, remote=ClientLister(ctx.cloudflare()) if args.remote else None)
        errors = result.errors()
        fix_set = {".".join(str(k) for k in _key(f.detail)): f.detail["suggested"]
                   for f in errors if f.code == "missing-kv" and f.detail.get("suggested")}
        fixable = bool(fix_set) and all(f.code == "missing-kv" and f.detail.get("suggested") for f in errors)
        return {
            "errors": len(errors), "warnings": len(result.warnings()),
            "findings": [f"{f.file}:{f.line}: {f.severity}: {f.code}: {f.message}" for f in result.findings],
            "missing": [f.detail.get("missing") for f in errors if f.code.startswith("missing-")],
            "fix_set": fix_set, "fixable": fixable, "fix_now": fixable and args.fix,
        }


def _key(detail: dict[str, object]) -> tuple[object, ...]:
    key = detail.get("location")
    return tuple(key) if isinstance(key, (list, tuple)) else ()

"""`wrangler`: the pinned npm wrangler CLI with an argv list, pointed at the target.

The target's API base URL, account and token reach wrangler through the same
environment variables it reads itself; the token is never on the command line.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.actions.run import _quote, run_argv
from ops.documents.shape import ANY, INTEGER, STRING, array, record
from ops.errors import InputError

READ_ONLY = (
    ("versions", "list"), ("versions", "view"), ("deployments", "list"), ("deployments", "status"),
    ("secret", "list"), ("kv", "namespace", "list"), ("kv", "key", "list"), ("kv", "key", "get"),
    ("queues", "list"), ("queues", "info"), ("d1", "list"), ("r2", "bucket", "list"), ("whoami",),
)
DESTRUCTIVE = (("delete",), ("kv", "namespace", "delete"), ("d1", "delete"), ("r2", "bucket", "delete"), ("queues", "delete"))


class WranglerArgs(Args):
    argv: list[str] = Field(min_length=1, description="wrangler's arguments, e.g. [versions, list, --json]; no shell.")
    stdin: str | None = Field(None, description="Text on standard input, e.g. a secret value for `secret put`.")
    cwd: str | None = Field(None, description="Working directory relative to the repo root (where wrangler.toml is).")
    config: str | None = Field(None, description="A wrangler config file: passed as --config, and its folder is the working directory.")


class WranglerAction(Action):
    name = "wrangler"
    Args = WranglerArgs
    summary = "Run the pinned wrangler CLI against the target."
    outputs = record(exit_code=INTEGER, stdout=STRING, stderr=STRING, json=ANY, argv=array(STRING))

    def effect(self, args: WranglerArgs) -> str:
        words = tuple(a for a in args.argv if not a.startswith("-"))
        if "--dry-run" in args.argv or any(words[: len(c)] == c for c in READ_ONLY):
            return "read"
        if any(words[: len(c)] == c for c in DESTRUCTIVE):
            return "destructive"
        return "write"

    def describe(self, args: WranglerArgs) -> str:
        return "wrangler " + " ".join(_quote(a) for a in args.argv)

    def run(self, args: WranglerArgs, ctx: Context) -> Outputs:
        env = {**ctx.target.wrangler_env(), "WRANGLER_SEND_METRICS": "false", "CI": "true"}
        argv, cwd = [wrangler_bin(ctx.target.root), *args.argv], args.cwd
        if args.config:
            config = Path(args.config)
            argv += ["--config", str(config)]
            cwd = str(config.parent)
        return run_argv(argv, ctx, env=env, stdin=args.stdin, cwd=cwd)


def wrangler_bin(root: Path) -> str:
    local = root / "node_modules" / ".bin" / "wrangler"
    if local.exists():
        return str(local)
    found = os.environ.get("OPS_WRANGLER") or shutil.which("wrangler")
    if not found:
        raise InputError("wrangler is not installed: run `npm ci` in the repo root (inv sandbox.up does it for you)")
    return found

"""`wrangler`: the pinned npm wrangler CLI with an argv list, pointed at the target.

The target's API base URL, account and token reach wrangler through the same
environment variables it reads itself; the token is never on the command line.
Nothing else of ours does (``child_env``): an ambient ``CLOUDFLARE_API_KEY`` /
``CLOUDFLARE_EMAIL`` would make wrangler use the global key instead of the
target's token, so they are dropped, and the plan says so.

The effect is read from the argv as wrangler will parse it (``wrangler_argv``):
only commands known to be read-only, and `deploy` / `versions upload` with a
`--dry-run` that really parses true, are `read`; a value that starts with `-`
after a flag that takes one is passed as `--flag=VALUE`, so it stays data.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.actions.child_env import dropped
from ops.actions.run import _quote, run_argv
from ops.actions.wrangler_argv import DRY_RUN_COMMANDS, parse, protect_values
from ops.documents.shape import ANY, INTEGER, STRING, array, record
from ops.errors import InputError

# Commands that only read (wrangler 4.86's command registry, wrangler-dist/cli.js). Not `tail`: it creates a
# tail session; not `r2 object get` / `kv bulk get`: they write local files.
READ_ONLY = (
    ("versions", "list"), ("versions", "view"), ("versions", "secret", "list"), ("deployments", "list"),
    ("deployments", "status"), ("deployments", "view"), ("secret", "list"), ("kv", "namespace", "list"),
    ("kv", "key", "list"), ("kv", "key", "get"), ("queues", "list"), ("queues", "info"),
    ("queues", "consumer", "list"), ("d1", "list"), ("d1", "info"), ("r2", "bucket", "list"),
    ("r2", "bucket", "info"), ("whoami",),
)
# A command path holding one of these words deletes something (`delete`, `kv key delete`, `queues purge`, ...).
DESTRUCTIVE_WORDS = frozenset({"delete", "remove", "purge", "delete-vectors", "delete-metadata-index"})
COMMAND_DEPTH = 4  # the deepest wrangler command path (`r2 bucket cors delete`)


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
        return wrangler_effect(list(args.argv))

    def describe(self, args: WranglerArgs) -> str:
        line = "wrangler " + " ".join(_quote(a) for a in args.argv)
        ambient = [name for name in dropped() if name not in ("CLOUDFLARE_API_TOKEN", "CF_API_TOKEN")]
        return line + (f" (with the target's token; ambient {', '.join(ambient)} dropped)" if ambient else "")

    def run(self, args: WranglerArgs, ctx: Context) -> Outputs:
        env = {**ctx.target.wrangler_env(), "WRANGLER_SEND_METRICS": "false", "CI": "true"}
        argv, cwd = [wrangler_bin(ctx.target.root), *protect_values(list(args.argv))], args.cwd
        if args.config:
            config = Path(args.config)
            argv.append(f"--config={config}")
            cwd = str(config.parent)
        if args.config and "--env" not in args.argv and not any(a.startswith("--env=") for a in args.argv):
            argv.extend(ctx.target.wrangler_args())  # the target's [env.<name>], as its config declares it
        return run_argv(argv, ctx, env=env, stdin=args.stdin, cwd=cwd)


def wrangler_effect(argv: list[str]) -> str:
    """'read' only when wrangler will surely only read; 'destructive' when it deletes; else 'write'."""
    parsed = parse(protect_values(argv))
    if any(word in DESTRUCTIVE_WORDS for word in parsed.positionals[:COMMAND_DEPTH]):
        return "destructive"
    if parsed.doubtful:
        return "write"
    if any(parsed.command_starts(c) for c in READ_ONLY):
        return "read"
    if any(parsed.command_starts(c) for c in DRY_RUN_COMMANDS) and parsed.only_true("dry-run"):
        return "read"
    return "write"


def wrangler_bin(root: Path) -> str:
    """The wrangler a Worker's folder uses: ``node_modules/.bin/wrangler`` there or above (as node resolves it),
    else ``OPS_WRANGLER``, else ``wrangler`` on the PATH."""
    for folder in (root, *root.resolve().parents):
        local = folder / "node_modules" / ".bin" / "wrangler"
        if local.exists():
            return str(local)
    found = os.environ.get("OPS_WRANGLER") or shutil.which("wrangler")
    if not found:
        raise InputError(f"wrangler is not installed for {root}: add it to the Worker's repository (npm install "
                         "--save-dev wrangler), or point OPS_WRANGLER at one")
    return found

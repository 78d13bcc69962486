"""`run`: a program with an argv list, never a shell string. Outputs: exit_code, stdout, stderr, json.

What a program does cannot be known from its argv, so a `run` is a `write`
unless the spec says why it only reads (`read_only_reason`); the plan prints
that reason. Either way it never runs in a dry-run or `inv diagnose`: a
declared reason is the author's word, not a property of the program. It starts
with a clean environment (``child_env``), never the operator's credentials.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.actions.child_env import child_env
from ops.documents.shape import ANY, INTEGER, STRING, array, record
from ops.errors import InputError, TransportError

MAX_OUTPUT = 64 * 1024


class RunArgs(Args):
    argv: list[str] = Field(min_length=1, description="The program and its arguments, each one an item: no shell.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    stdin: str | None = Field(None, description="Text sent on standard input (secrets go here, not in argv).")
    cwd: str | None = Field(None, description="Working directory, relative to the repo root.")
    ok_codes: list[int] = Field(default_factory=lambda: [0], description="Exit codes that count as success.")
    read_only_reason: str | None = Field(
        None, min_length=8, pattern=r"\S",
        description="Why this program only reads (e.g. `git status prints, changes nothing`). Without it a `run` "
                    "is a write. Either way it never runs in a dry-run or inv diagnose.")


class RunAction(Action):
    name = "run"
    Args = RunArgs
    summary = "Run a program from an argv list (no shell)."
    outputs = record(exit_code=INTEGER, stdout=STRING, stderr=STRING, json=ANY, argv=array(STRING))

    def effect(self, args: RunArgs) -> str:
        return "read" if args.read_only_reason else "write"

    def safe_to_retry(self, args: RunArgs) -> bool:
        return False

    def sends_in_plan(self, args: RunArgs) -> bool:
        return False  # read-only by declaration only: a plan or a diagnosis never starts a program

    def describe(self, args: RunArgs) -> str:
        line = "run " + " ".join(_quote(a) for a in args.argv)
        return f"{line} (read-only: {args.read_only_reason})" if args.read_only_reason else line

    def run(self, args: RunArgs, ctx: Context) -> Outputs:
        return run_argv(list(args.argv), ctx, env=args.env, stdin=args.stdin, cwd=args.cwd, ok_codes=args.ok_codes)


def run_argv(argv: list[str], ctx: Context, *, env: dict[str, str] | None = None, stdin: str | None = None,
             cwd: str | None = None, ok_codes: list[int] | None = None) -> Outputs:
    if any("\x00" in a for a in argv):
        raise InputError(f"argv for {argv[0]!r} holds a NUL byte; remove it")
    workdir = str(ctx.target.root / cwd) if cwd else str(ctx.target.root)
    try:
        done = subprocess.run(  # noqa: S603 - argv list, no shell
            argv, input=stdin, capture_output=True, text=True, cwd=workdir,
            env=child_env(env), timeout=ctx.remaining(), check=False,
        )
    except FileNotFoundError as exc:
        raise InputError(f"{argv[0]}: program not found; install it or fix the step's argv") from exc
    except subprocess.TimeoutExpired as exc:
        raise TransportError(f"{argv[0]} did not finish within {ctx.timeout:.0f} s") from exc
    outputs: Outputs = {
        "argv": argv, "exit_code": done.returncode,
        "stdout": _tail(done.stdout), "stderr": _tail(done.stderr), "json": _json(done.stdout),
    }
    if done.returncode not in (ok_codes or [0]):
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise TransportError(f"{argv[0]} exited {done.returncode}: {' | '.join(tail)}")
    return outputs


def _tail(text: str) -> str:
    """The last MAX_OUTPUT characters; masked first when cut, so a cut never leaves half a secret unmatched."""
    if len(text) <= MAX_OUTPUT:
        return text
    from ops.redact import redact

    return redact(text)[-MAX_OUTPUT:]


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return None


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)

"""`inv sandbox.up|status|break|reset|down`: the local sandbox.

In this repo it serves the example Workers; run in a Worker's repository
(``cfw-remedy sandbox.up``) it serves that repository's Worker (ops.sandbox.own).
"""

from __future__ import annotations

import json
from typing import Any

from invoke.collection import Collection
from invoke.exceptions import Exit
from invoke.tasks import task

from ops.cli.boundary import err, guarded, out


def _scenario_help() -> str:
    from ops.sandbox.breaks import help_text

    return "one of (the remediation that answers it): " + help_text()


def _breakable() -> str:
    from ops.sandbox.breaks import breakable

    *first, last = breakable()
    return f"{', '.join(first)} or {last}" if first else last


def _sandbox(env: str | None = None, target: str = "") -> Any:
    from ops.sandbox.manager import Sandbox

    return Sandbox.default(say=lambda text: err(f"==> {text}"), env=env, target=target or None)


@task(help={"env": "In a Worker's repository: the wrangler env to deploy (default: staging when the config has it; "
                   "\"\" for the top level)",
            "target": "In a Worker's repository: take the env, the secrets (its env table) and the health path of this target"},
      auto_shortflags=False)
@guarded
def up(c: Any, env: str | None = None, target: str = "") -> None:
    """Start the sandbox (idempotent): emulator, providers, and the Worker(s) on workerd; wait until healthy.

    In this repo: the example Workers. In a Worker's repository: that Worker, from its own wrangler config and env.
    """
    status = _sandbox(env, target).up(stop_if_unhealthy=True)
    out(_summary(status))
    if not status["healthy"]:
        raise Exit(code=1)


@task(help={"json": "Print the status as JSON"}, auto_shortflags=False)
@guarded
def status(c: Any, json_: bool = False) -> None:
    """URLs, account, token and the health of each part."""
    state = _sandbox().status()
    out(json.dumps(state, indent=2) if json_ else _summary(state))
    if not state["healthy"]:
        raise Exit(code=1)


@task(name="break", help={"scenario": _scenario_help(), "worker": f"The sandbox Worker to break: {_breakable()} "
                                                                  "(default: the scenario's first); in a Worker's repository, its own"},
      auto_shortflags=False)
@guarded
def break_(c: Any, scenario: str = "", worker: str = "") -> None:
    """Induce one documented failure in the sandbox."""
    from ops.sandbox.breaks import find

    find(scenario)  # a missing or unknown name is told before any sandbox is looked for
    out(f"broke the sandbox: {scenario}: {_sandbox().break_(scenario, worker or None)}")


@task(auto_shortflags=False)
@guarded
def reset(c: Any) -> None:
    """Back to a healthy, freshly seeded sandbox."""
    out(_summary(_sandbox().reset()))


@task(auto_shortflags=False)
@guarded
def down(c: Any) -> None:
    """Stop every part of the sandbox."""
    _sandbox().down()
    out("sandbox stopped")


def _summary(state: dict[str, Any]) -> str:
    parts = state["parts"]
    lines = [
        f"sandbox {'healthy' if state['healthy'] else 'NOT healthy'}",
        f"  control plane  {state['api_base_url']}  ({'up' if parts['emulator']['healthy'] else 'down'})",
        *(line for w in parts["workers"].values() for line in _worker_lines(w)),
        *(f"  provider       {name:<13} {p['url']}  ({'up' if p['healthy'] else 'down'})" for name, p in parts["providers"].items()),
        f"  ports          {state['port_base']} and the 19 after it (OPS_SANDBOX_PORT_BASE picks them; unset, the sandbox does)",
        f"  account        {state['account_id']}",
        f"  token          {state['token']}   (the sandbox's; it guards nothing)",
        "  use with wrangler: " + " ".join(f"{k}={v}" for k, v in state["env"].items()),
        f"  targets        {state['targets_file']}   (--target {state['parts']['worker']['target']}: found there when "
        "the targets.toml beside it does not name it)",
    ]
    if state.get("stopped"):
        lines.append(f"  stopped        what this sandbox.up had started ({', '.join(state['stopped'])}); the logs stay")
    return "\n".join(lines)


def _worker_lines(w: dict[str, Any]) -> list[str]:
    """A Worker's line, then why it is unhealthy and what the sandbox cannot give it (ops.sandbox.unhealthy)."""
    head = (f"  worker         {w['url']}  {w['script']} (target {w['target']}; {'healthy' if w['healthy'] else 'unhealthy'}, "
            f"version {w.get('version_id')}, follows the control plane: {w.get('follows_control_plane')})")
    notes = w.get("why") or [f"not rehearsable here: {b}" for b in w.get("not_rehearsable") or []]
    return [head, *(f"                   {note}" for note in notes)]


def collection() -> Collection:
    return Collection("sandbox", up, status, break_, reset, down)

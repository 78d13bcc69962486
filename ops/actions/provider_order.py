"""`provider_order`: probe the upstream providers through the Worker and propose an order.

Healthy providers first, then by latency; or the order given. Latencies are
compared in bands (``tolerance_ms``), and providers in the same band keep their
current order, so measurement noise between two healthy providers never causes a
redeploy. Outputs the old and the new order side by side, so the plan shows what
would change, and ``leader``: the provider first in the order the live version uses
(the status's ``order``, the deployed version's var), with its health and latency, which
is what `inv diagnose` judges, never whichever provider the status happens to list first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.documents.shape import BOOLEAN, INTEGER, NUMBER, STRING, array, nullable, optional, record
from ops.errors import InputError, TransportError


class ProviderOrderArgs(Args):
    url: str = Field(description="The Worker's base URL; its /v1/providers/status is probed.")
    order: str = Field("", description="A comma-separated order to use instead of the computed one.")
    config: str = Field("", description="The wrangler config: where the current order is read when the Worker "
                                        "does not report provider status (then `order` is required).")
    var: str = Field("PROVIDER_ORDER", description="The var that holds the order.")
    samples: int = Field(3, ge=1, le=20, description="Probes per provider; the median latency counts.")
    tolerance_ms: int = Field(50, ge=1, le=10_000, description="Latencies in the same band of this width count as equal.")


class ProviderOrderAction(Action):
    name = "provider_order"
    Args = ProviderOrderArgs
    summary = "Probe providers' health and latency; propose healthy-first, fastest-first."
    outputs = record(current=array(STRING), proposed=array(STRING), proposed_csv=STRING, first=STRING, changed=BOOLEAN,
                     table=array(record(position=INTEGER, old=STRING, new=STRING, healthy=optional(BOOLEAN),
                                        latency_ms=optional(NUMBER))), observable=BOOLEAN,
                     leader=record(name=STRING, healthy=nullable(BOOLEAN), latency_ms=nullable(NUMBER)))

    def describe(self, args: ProviderOrderArgs) -> str:
        how = f"use {args.order}" if args.order else "healthy first, then by latency"
        return f"probe providers via {args.url}/v1/providers/status ({args.samples}x) and order them: {how}"

    def run(self, args: ProviderOrderArgs, ctx: Context) -> Outputs:
        first = self._status(ctx, args.url)
        if first is None:
            return _from_config(args, ctx.target.wrangler_environment)
        rounds = [first, *(self._status(ctx, args.url) or first for _ in range(args.samples - 1))]
        current: list[str] = rounds[0]["order"]
        stats = _stats(rounds)
        proposed = _given(args.order, stats) if args.order else _ranked(stats, current, args.tolerance_ms)
        table = [{"position": i + 1, "old": current[i] if i < len(current) else "", "new": name,
                  "healthy": stats[name]["healthy"], "latency_ms": stats[name]["latency_ms"]} for i, name in enumerate(proposed)]
        return {"current": current, "proposed": proposed, "proposed_csv": ",".join(proposed), "first": proposed[0],
                "changed": proposed != current, "table": table, "observable": True, "leader": _leader(current, stats)}

    def _status(self, ctx: Context, url: str) -> dict[str, Any] | None:
        """The Worker's provider status, or None when it has no such endpoint (404)."""
        import httpx

        try:
            response = ctx.http().get(f"{url}/v1/providers/status", timeout=10)
        except httpx.HTTPError as exc:
            raise TransportError(f"{url}/v1/providers/status: {exc}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise TransportError(f"{url}/v1/providers/status answered {response.status_code}")
        try:
            body: dict[str, Any] = response.json()
        except ValueError as exc:
            raise TransportError(f"{url}/v1/providers/status: not JSON") from exc
        return body


def _from_config(args: ProviderOrderArgs, env: str) -> Outputs:
    """A Worker that does not report its providers: the current order from the config (the vars of the
    target's env: an env does not inherit the top level's), the new one given."""
    if not args.order or not args.config:
        raise InputError(f"{args.url} does not report provider status (/v1/providers/status is 404): "
                         "pass --order a,b,c; the current order is then read from the wrangler config")
    from ops.documents.wrangler_config import effective, load_config

    resolved = effective(load_config(Path(args.config)), env)
    current = [n.strip() for n in str(resolved.vars().get(args.var, "")).split(",") if n.strip()]
    proposed = _given(args.order, {name: {} for name in current} or {n: {} for n in args.order.split(",")})
    table = [{"position": i + 1, "old": current[i] if i < len(current) else "", "new": name}
             for i, name in enumerate(proposed)]
    return {"current": current, "proposed": proposed, "proposed_csv": ",".join(proposed), "first": proposed[0],
            "changed": proposed != current, "table": table, "observable": False, "leader": _leader(current, {})}


def _leader(current: list[str], stats: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The provider the live version asks first, as measured (health and latency unknown when not measured)."""
    name = current[0] if current else ""
    seen = stats.get(name) or {}
    return {"name": name, "healthy": seen.get("healthy"), "latency_ms": seen.get("latency_ms")}


def _stats(rounds: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    names = [p["name"] for p in rounds[0]["providers"]]
    stats = {}
    for name in names:
        seen = [p for r in rounds for p in r["providers"] if p["name"] == name]
        latencies = sorted(p["latency_ms"] for p in seen)
        stats[name] = {"healthy": all(p["healthy"] for p in seen), "latency_ms": latencies[len(latencies) // 2]}
    return stats


def _ranked(stats: dict[str, dict[str, Any]], current: list[str], tolerance_ms: int) -> list[str]:
    def key(name: str) -> tuple[bool, int, int]:
        position = current.index(name) if name in current else len(current)
        return (not stats[name]["healthy"], int(stats[name]["latency_ms"] // tolerance_ms), position)
    return sorted(stats, key=key)


def _given(order: str, stats: dict[str, Any]) -> list[str]:
    names = [n.strip() for n in order.split(",") if n.strip()]
    unknown = [n for n in names if n not in stats]
    if unknown or len(set(names)) != len(names):
        raise InputError(f"--order: {order!r} must name each of {', '.join(stats)} once (unknown: {', '.join(unknown) or 'none'})")
    return names + [n for n in stats if n not in names]

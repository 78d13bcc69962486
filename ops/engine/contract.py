"""A plan as a contract: what a run may apply, bound to the state it was made from.

The contract holds the target (account, API base, Worker), the params, what
every precondition saw, and the resolved arguments of every write. Its hash is
the plan hash. A saved plan (``--plan-out``) stores the contract with its hash;
``--plan`` refuses a file whose contract does not match its hash (it was
edited), then, inside the locked run, compares each precondition's facts and
each write's arguments with the contract immediately before acting, and names
what changed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ops.engine.outcome import displayable
from ops.errors import PlanStale
from ops.targets import Target

__all__ = ["contract_hash", "diff", "facts", "target_identity", "verify_hash"]

VOLATILE = frozenset({"elapsed_ms", "headers", "text", "duration_ms", "json", "p50_ms", "p95_ms"})


def target_identity(t: Target) -> dict[str, str]:
    return {"name": t.name, "account_id": t.account_id, "api_base_url": t.api_base_url, "worker": t.worker}


def facts(outputs: Any) -> Any:
    """The part of an observation a plan depends on: timings, headers and bodies change on every look."""
    if not isinstance(outputs, dict):
        return displayable(outputs)
    return displayable({k: v for k, v in outputs.items() if k not in VOLATILE})


def contract_hash(contract: dict[str, Any]) -> str:
    canonical = json.dumps(contract, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def verify_hash(contract: dict[str, Any], recorded: str, where: str) -> None:
    actual = contract_hash(contract)
    if actual != recorded:
        raise PlanStale(f"{where}: the plan's body does not match its hash ({recorded}, body {actual}): "
                        "it was edited after it was made; make a new plan with --dry-run --plan-out")


def diff(planned: Any, now: Any, path: str = "", limit: int = 3) -> list[str]:
    """Where two JSON-like values differ, in words: `path: the plan saw X, now Y`."""
    changes: list[str] = []
    _walk(planned, now, path, changes)
    if len(changes) > limit:
        changes = [*changes[:limit], f"and {len(changes) - limit} more"]
    return changes


def _walk(a: Any, b: Any, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            _walk(a.get(key), b.get(key), f"{path}.{key}" if path else str(key), out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            _walk(x, y, f"{path}.{i}", out)
    elif a != b:
        out.append(f"{path or 'value'}: the plan saw {json.dumps(a, default=str)}, now {json.dumps(b, default=str)}")

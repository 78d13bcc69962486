"""A plan as a contract: what a run may apply, bound to the state it was made from.

The contract holds the target (account, API base, Worker), the params, each
precondition's decision with the facts that matter (what its expectation reads and
what later items refer to: versions, ids; never a counter nobody refers to), and
the resolved arguments of every write. Its hash is the plan hash shown to people.
A saved plan (``ops.engine.saved_plan``) is signed with the target's credential;
inside the locked run, each precondition's decision and facts and each write's
arguments are compared with the contract immediately before acting, naming what
changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Iterator

from ops.engine.model import Spec
from ops.engine.outcome import displayable
from ops.targets import Target

__all__ = ["bound_facts", "bound_paths", "contract_hash", "diff", "facts", "target_identity"]

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


def bound_facts(spec: Spec, name: str, outputs: Any, decision: str) -> dict[str, Any]:
    """What a plan binds of one precondition: its decision, and the outputs that matter, by path."""
    bound: dict[str, Any] = {"decision": str(decision)}
    for path in bound_paths(spec, name):
        bound[path or "outputs"] = facts(_dig(outputs, path))
    return bound


def bound_paths(spec: Spec, name: str) -> list[str]:
    """The output paths of precondition ``name`` that its expectation reads or any item refers to ("": all)."""
    pre = next(p for p in spec.preconditions if p.name == name)
    paths = set(pre.expect)
    ref = re.compile(r"steps\." + re.escape(name) + r"\.outputs(?:\.([A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*))?")
    for text in _strings(spec.model_dump(mode="json", by_alias=True)):
        paths.update(ref.findall(text))
    return sorted(paths)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _dig(outputs: Any, path: str) -> Any:
    value = outputs
    for part in path.split(".") if path else ():
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


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

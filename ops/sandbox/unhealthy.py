"""Why a sandbox Worker is not healthy, in words `sandbox.up` prints: what it answered, the first exception it
threw (from its answer, or else from its wrangler dev log), and the bindings the sandbox could not give it.

The bindings the sandbox's `wrangler dev` cannot give a Worker are listed by ``ops.sandbox.live``
when it writes the version's config (``NOT_GIVEN``): Workers AI, Vectorize and the like, which
`wrangler dev` reaches only on a Cloudflare account.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

# An exception's first line: "TypeError: Cannot read …", "✘ [ERROR] Error: …", "Uncaught Error: …".
_EXCEPTION = re.compile(r"^(?:✘ \[ERROR\] )?(?:Uncaught )?(?:\w+\.)?\w*(?:Error|Exception)\b:? .+")
_READING = re.compile(r"Cannot read properties of undefined \(reading '(\w+)'\)")
# wrangler dev's own complaints that say nothing about the Worker (it cannot reach Cloudflare to fetch request.cf)
_NOISE = ("workers.cloudflare.com", "Request.cf")
# What a Worker calls on a binding of each kind, for "reading 'idFromName'" of an undefined binding.
_METHODS = {"idFromName": "a Durable Object namespace", "idFromString": "a Durable Object namespace",
            "newUniqueId": "a Durable Object namespace", "getByName": "a Durable Object namespace",
            "prepare": "a D1 database", "sendBatch": "a queue producer", "upsert": "a Vectorize index",
            "create": "a Workflow", "writeDataPoint": "an Analytics Engine dataset"}


def first_exception(text: str) -> str | None:
    """The first line of ``text`` that begins an exception, wrangler dev's noise aside."""
    for line in text.splitlines():
        line = line.strip()
        if _EXCEPTION.match(line) and not any(noise in line for noise in _NOISE):
            return line
    return None


def not_given(live_dir: Path) -> list[str]:
    """The bindings of the served version that the sandbox's wrangler dev does not give the Worker."""
    try:
        found = json.loads((live_dir / "not-given.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [str(item) for item in found] if isinstance(found, list) else []


def explain(health: dict[str, Any], log: Path, live_dir: Path, url: str) -> list[str]:
    """Lines saying why a Worker whose health is ``health`` is not healthy (empty when it is)."""
    if health.get("healthy"):
        return []
    status = health.get("status")
    lines = [f"it answered {status} on {url}" if status is not None else f"no answer from its wrangler dev on {url}"]
    thrown = first_exception(str(health.get("said") or "")) or first_exception(_tail(log))
    if thrown:
        lines.append(f"first exception: {thrown}")
        reading = _READING.search(thrown)
        if reading and reading.group(1) in _METHODS:
            lines.append(f"it calls .{reading.group(1)}() on a binding that is undefined: "
                         f"{_METHODS[reading.group(1)]} that its config does not bind for this env, or that the sandbox "
                         "does not give it")
    lines += [f"not rehearsable here: {binding}" for binding in not_given(live_dir)]
    lines.append(f"log: {log}")
    return lines


def _tail(log: Path, limit: int = 200_000) -> str:
    try:
        with log.open("rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - limit))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""

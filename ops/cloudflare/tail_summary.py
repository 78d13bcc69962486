"""What a stretch of tail events says: counts by status, outcome and exception, the slowest paths, one line each.

An event is a ``TailEventMessage`` (``ops.cloudflare.tail``). ``status`` is the HTTP
status the Worker answered (``event.response.status``), or ``none`` without an answer
(an exception, a client that hung up). ``rate_5xx`` counts what clients saw as a 5xx:
an answer of 500-599, or an exception (Cloudflare answers it with a 500).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from ops.cloudflare.tail import Event, http_class, http_status

SLOWEST = 5
EXCEPTIONS = 10


def summarize(events: list[Event], *, seconds: float) -> dict[str, Any]:
    total = len(events)
    statuses = Counter(str(http_status(e) or "none") for e in events)
    outcomes = Counter(str(e.get("outcome") or "unknown") for e in events)
    exceptions = Counter(f"{x.get('name', 'Error')}: {x.get('message', '')}" for e in events
                         for x in e.get("exceptions") or [])
    return {
        "seconds": seconds, "events": total,
        "by_status": dict(sorted(statuses.items())), "by_outcome": dict(sorted(outcomes.items())),
        "rate_5xx": _rate(sum(http_class(e) == "5xx" for e in events), total),
        "rate_4xx": _rate(sum(http_class(e) == "4xx" for e in events), total),
        "exceptions": [{"exception": text, "count": n} for text, n in exceptions.most_common(EXCEPTIONS)],
        "slowest": slowest(events),
        "by_path": by_path(events),
        "inconclusive": None if total else f"no events in {seconds:g} s: the Worker had no (matching) traffic",
    }


def slowest(events: list[Event], limit: int = SLOWEST) -> list[dict[str, Any]]:
    """The paths with the longest wall time seen, each with its count and its slowest request."""
    by_path: dict[tuple[str, str], list[int]] = {}
    for event in events:
        wall = event.get("wallTime")
        if isinstance(wall, int):
            by_path.setdefault((method_of(event), path_of(event)), []).append(wall)
    ranked = sorted(by_path.items(), key=lambda item: max(item[1]), reverse=True)[:limit]
    return [{"method": m, "path": p, "count": len(w), "max_ms": max(w), "mean_ms": round(sum(w) / len(w), 1)}
            for (m, p), w in ranked]


def by_path(events: list[Event], limit: int = SLOWEST) -> list[dict[str, Any]]:
    """Each path with its count by HTTP class and its 5xx rate, the most failing first: which endpoint fails."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    for event in events:
        counts.setdefault((method_of(event), path_of(event)), Counter())[http_class(event) or "none"] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1]["5xx"], -sum(item[1].values()), item[0]))[:limit]
    return [{"method": m, "path": p, "count": sum(c.values()), "by_class": dict(sorted(c.items())),
             "rate_5xx": _rate(c["5xx"], sum(c.values()))} for (m, p), c in ranked]


def line(event: Event) -> str:
    """One event as a readable line (its logs and exceptions indented below it)."""
    when = datetime.fromtimestamp(int(event.get("eventTimestamp") or 0) / 1000, timezone.utc).strftime("%H:%M:%S")
    status = http_status(event)
    head = (f"{when} {method_of(event)} {path_of(event)} {status if status is not None else '-'} "
            f"{event.get('outcome', '?')} {event.get('wallTime', '?')}ms")
    extra = [f"  ({log.get('level', 'log')}) {' '.join(str(m) for m in log.get('message') or [])}"
             for log in event.get("logs") or []]
    extra += [f"  {x.get('name', 'Error')}: {x.get('message', '')}" for x in event.get("exceptions") or []]
    return "\n".join([head, *extra])


def method_of(event: Event) -> str:
    request = (event.get("event") or {}).get("request") or {}
    return str(request.get("method") or "-").upper()


def path_of(event: Event) -> str:
    request = (event.get("event") or {}).get("request") or {}
    return urlsplit(str(request.get("url") or "")).path or "-"


def _rate(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None

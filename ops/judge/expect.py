"""Expectations on an action's outputs: `{"status": 200, "json.hit_rate": {">=": 0.9}}`."""

from __future__ import annotations

import re
from typing import Any, Callable

__all__ = ["MISSING", "OPERATORS", "Failure", "evaluate", "holds", "lookup", "pairs"]

MISSING = object()

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a is not None and a < b,
    "<=": lambda a, b: a is not None and a <= b,
    ">": lambda a, b: a is not None and a > b,
    ">=": lambda a, b: a is not None and a >= b,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
    "matches": lambda a, b: isinstance(a, str) and re.search(b, a) is not None,
    "contains": lambda a, b: b in a,
    "not_contains": lambda a, b: b not in a,
    "exists": lambda a, b: (a is not MISSING) == bool(b),
}


class Failure(str):
    """Why an expectation did not hold, in words."""


def lookup(data: Any, dotted: str) -> Any:
    current = data
    for part in dotted.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return MISSING
    return current


def evaluate(expect: dict[str, Any], outputs: dict[str, Any]) -> list[Failure]:
    failures: list[Failure] = []
    for path, matcher in expect.items():
        actual = lookup(outputs, path)
        for op, wanted in pairs(matcher):
            if not holds(op, actual, wanted):
                shown = "missing" if actual is MISSING else repr(actual)
                failures.append(Failure(f"expected {path} {op} {wanted!r}, got {shown}"))
    return failures


def pairs(matcher: Any) -> list[tuple[str, Any]]:
    if isinstance(matcher, dict) and matcher and all(k in OPERATORS for k in matcher):
        return list(matcher.items())
    return [("==", matcher)]


def holds(op: str, actual: Any, wanted: Any) -> bool:
    if op == "exists":
        return OPERATORS[op](actual, wanted)
    if actual is MISSING:
        return False
    try:
        return OPERATORS[op](actual, wanted)
    except TypeError:
        return False

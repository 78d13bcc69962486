"""Introspection (``__type(name: …)``) of the types the analytics emulator answers, and which quantiles exist.

GraphQL's introspection is part of the spec (June 2018, section 4.1): ``__type(name:)``
answers the named type's ``name``, ``kind`` and ``fields { name }``, or null for a type
the schema does not have. Cloudflare's schema names the quantiles of
``workersInvocationsAdaptive`` ``AccountWorkersInvocationsAdaptiveQuantiles`` (public
clients introspect it by that name, and its error for an unknown field reads
'Unknown field "cpuTimeP99" on type "AccountWorkersInvocationsAdaptiveQuantiles"').

Whether that type has ``wallTimeP95`` is not settled by a public source: listings of
it give P25/P50/P75/P90/P99/P999 and the tutorial shows P50 and P99, while other
clients ask for P95. So the emulator serves either schema (``Invocations.wall_time_p95``),
without P95 by default, and a query for a field its schema lacks fails as a whole.
"""

from __future__ import annotations

from typing import Any

from ops.sandbox.emulator.graphql_parse import Field, QueryError, only, resolve

QUANTILES_TYPE = "AccountWorkersInvocationsAdaptiveQuantiles"
_PERCENTILES = (25, 50, 75, 90, 95, 99, 999)


def quantiles(wall_time_p95: bool) -> dict[str, float]:
    """The wall-time quantile fields of the schema, each with its fraction."""
    return {f"wallTimeP{p}": float(p) / (1000 if p == 999 else 100) for p in _PERCENTILES if p != 95 or wall_time_p95}


def types(wall_time_p95: bool, sums: list[str], dimensions: list[str]) -> dict[str, list[str]]:
    return {QUANTILES_TYPE: list(quantiles(wall_time_p95)),
            "AccountWorkersInvocationsAdaptiveSum": sums,
            "AccountWorkersInvocationsAdaptiveDimensions": dimensions}


def type_answer(f: Field, variables: dict[str, Any], known: dict[str, list[str]]) -> dict[str, Any] | None:
    """The answer to one ``__type(name: …) { name kind fields { name } }`` selection."""
    args = resolve(f.args, variables)
    if set(args) != {"name"} or not isinstance(args["name"], str):
        raise QueryError('__type takes one argument, name: "TypeName"', [f.key])
    fields = known.get(args["name"])
    if fields is None:
        return None
    out: dict[str, Any] = {}
    for child in only(f, "__Type", {"name", "kind", "fields"}, [f.key]):
        if child.name == "fields":
            names = only(child, "__Field", {"name"}, [f.key, child.key])
            out[child.key] = [{n.key: name for n in names} for name in fields]
        else:
            out[child.key] = args["name"] if child.name == "name" else "OBJECT"
    return out

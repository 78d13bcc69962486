"""JSON Schema errors, turned into located problems with helpful messages."""

from __future__ import annotations

import re
from typing import Any, Iterable

from ops.engine.load import Loaded
from ops.engine.model import NAME_PATTERN
from ops.engine.problems import Problem, did_you_mean, json_path

__all__ = ["schema_problems"]

_UNEXPECTED = re.compile(r"'([^']+)' (?:was|were) unexpected")


def schema_problems(loaded: Loaded, validator: Any) -> list[Problem]:
    problems: list[Problem] = []
    for error in validator.iter_errors(loaded.data):
        problems.extend(_problems_for(loaded, error))
    return sorted(set(problems))


def _problems_for(loaded: Loaded, error: Any) -> Iterable[Problem]:
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        for key in _unexpected_keys(error):
            where = (*path, key)
            yield loaded.problem(where, f"unknown key {key!r}{did_you_mean(key, allowed)}", json_path(where))
        return
    if error.validator in ("anyOf", "oneOf") and error.context:
        yield from _problems_for(loaded, _deepest(error))
        return
    yield loaded.problem(path, _message(error), json_path(path))


def _unexpected_keys(error: Any) -> list[str]:
    match = _UNEXPECTED.search(error.message)
    if not match:
        return []
    return re.findall(r"'([^']+)'", error.message[: match.end()])


def _deepest(error: Any) -> Any:
    from jsonschema.exceptions import best_match

    return best_match(error.context)


def _message(error: Any) -> str:
    kind = error.validator
    if kind == "required":
        missing = _UNEXPECTED_QUOTED.search(error.message)
        return f"missing required key {missing.group(1)!r}" if missing else error.message
    if kind == "enum":
        options = [str(v) for v in error.validator_value]
        value = error.instance
        hint = did_you_mean(str(value), options) if isinstance(value, str) else ""
        if error.absolute_path and error.absolute_path[-1] == "action":
            return f"unknown action type {value!r}{hint or '; known: ' + ', '.join(options)}"
        return f"{value!r} is not one of {', '.join(map(repr, options))}{hint}"
    if kind == "type":
        return f"expected {_article(error.validator_value)}, got {_describe(error.instance)}"
    if kind == "pattern" and error.validator_value == NAME_PATTERN:
        return f"{error.instance!r} must be lowercase words joined by - or _, such as cache-warm"
    return str(error.message)


_UNEXPECTED_QUOTED = re.compile(r"'([^']+)' is a required property")


def _article(kind: Any) -> str:
    if isinstance(kind, list):
        return " or ".join(_article(k) for k in kind)
    return {"object": "a mapping", "array": "a list", "integer": "an integer", "null": "nothing (null)"}.get(kind, f"a {kind}")


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if value is None:
        return "nothing (null)"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 40 else text[:37] + '...'}"

"""A `when:` condition: `path`, `not path`, or such terms joined by `and` (jwt-rotation's login runs only with a
probe user and an existing secret)."""

from __future__ import annotations

import pytest

from ops.engine.template import UNKNOWN, condition_holds, parse_condition

SCOPE = {"params": {"probe_email": "probe@example.test", "create": False, "empty": ""}}


@pytest.mark.parametrize(("condition", "holds"), [
    ("params.probe_email and not params.create", True),
    ("params.probe_email and params.create", False),
    ("not params.create and params.empty", False),
    ("params.probe_email", True),
])
def test_every_term_must_hold(condition: str, holds: bool) -> None:
    assert condition_holds(condition, SCOPE) is holds


def test_a_false_term_decides_even_beside_an_unknown_one() -> None:
    scope = {"params": {"create": True, "later": UNKNOWN}}
    assert condition_holds("params.later and not params.create", scope) is False
    assert condition_holds("params.later and params.create", scope) is UNKNOWN


def test_anything_else_is_refused_with_the_forms_it_takes() -> None:
    assert parse_condition("a.b and not c.d") == [(False, "a.b"), (True, "c.d")]
    with pytest.raises(ValueError, match="joined by `and`"):
        parse_condition("a.b or c.d")

"""The ladder's steps, splits and the evidence→look conversion that the ladder and journal.rejudge share."""

from __future__ import annotations

import pytest

from ops.actions.ladder_rungs import describe_split, look_from, parse_settings, parse_steps, split_for
from ops.errors import InputError
from ops.judge.compare import Arm, Look


def test_steps_rise_to_100() -> None:
    assert parse_steps("10,50,100") == [10, 50, 100]
    assert parse_steps("5%, 25%, 100%") == [5, 25, 100]
    assert parse_steps("100") == [100]


@pytest.mark.parametrize(("text", "says"), [
    ("10,50", "the last step must be 100"),
    ("50,10,100", "each larger than the one before"),
    ("0,100", "from 1 to 100"),
    ("ten,100", "whole percentages"),
])
def test_a_bad_ladder_is_named_with_an_example(text: str, says: str) -> None:
    with pytest.raises(InputError, match=says):
        parse_steps(text)


def test_each_step_is_one_split_of_target_and_control() -> None:
    assert split_for("new", "old", 10) == [("new", 10), ("old", 90)]
    assert split_for("new", "old", 100) == [("new", 100)]
    assert describe_split(split_for("new", "old", 25)) == "25% new + 75% old"


def test_judge_settings_come_from_key_value_pairs() -> None:
    settings = parse_settings("min_requests=50,alpha=0.05,critical=error_rate+wall_time")
    assert (settings.min_requests, settings.alpha, settings.critical) == (50, 0.05, ("error_rate", "wall_time"))
    with pytest.raises(InputError, match="unknown keys"):
        parse_settings("min_request=50")
    with pytest.raises(InputError, match="key=value"):
        parse_settings("fifty")


def test_a_look_is_each_versions_cumulative_numbers_from_analytics() -> None:
    folded = {"by_version": {"old": {"requests": 90, "errors": 9, "wall_ms": {"p50": 400.0, "p95": None, "p99": 900.0}},
                             "new": {"requests": 10, "errors": 0, "wall_ms": {"p50": 60.0, "p95": None, "p99": 120.0}}}}
    assert look_from(folded, "old", "new") == Look(control=Arm(90, 9, quantiles={"P50": 400.0, "P99": 900.0}),
                                                   candidate=Arm(10, 0, quantiles={"P50": 60.0, "P99": 120.0}))
    assert look_from({"by_version": {}}, "old", "new") == Look(Arm(0, 0), Arm(0, 0))  # no traffic yet: no evidence

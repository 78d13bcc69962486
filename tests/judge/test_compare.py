"""The statistical judge on hand-made looks: each rule, the edge cases, the settings round-trip."""

from __future__ import annotations

import json

import pytest

from ops.errors import InputError
from ops.judge.compare import Arm, JudgeSettings, Look, judge


def test_a_ten_point_regression_at_decent_volume_is_worse() -> None:
    verdict = judge([Look(Arm(600, 3), Arm(600, 35))])
    assert verdict.outcome == "worse"
    assert "error rate 5.83% against 0.50%" in verdict.reason


def test_a_control_without_data_is_inconclusive_not_no_worse() -> None:
    verdict = judge([Look(Arm(0, 0), Arm(5000, 0))])
    assert verdict.outcome == "inconclusive"
    assert verdict.reason == "The control has no requests yet, so nothing can be compared: hold."


def test_settings_round_trip_through_json() -> None:
    settings = JudgeSettings(alpha=0.05, critical=("error_rate",))
    assert JudgeSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings


def test_counts_that_go_down_are_refused() -> None:
    with pytest.raises(InputError, match="look 2, control: counts went down"):
        judge([Look(Arm(200, 1), Arm(200, 1)), Look(Arm(100, 1), Arm(300, 1))])

"""The statistical judge on hand-made looks: each rule, the edge cases, bad input."""

from __future__ import annotations

import json

import pytest

from ops.errors import InputError
from ops.judge.compare import Arm, JudgeSettings, Look, Verdict, judge
from ops.judge.ranks import quantile_level

QUANTILES = {"P50": 50.0, "P90": 90.0, "P99": 200.0}


def outcome_of(verdict: Verdict, metric: str) -> str:
    return next(m.outcome for m in verdict.metrics if m.name == metric)


def test_a_ten_point_regression_at_decent_volume_is_worse() -> None:
    verdict = judge([Look(Arm(600, 3), Arm(600, 35))])
    assert verdict.outcome == "worse"
    assert verdict.reason.startswith("The candidate is worse: error rate 5.83% against 0.50% (p ")


def test_the_same_rates_at_high_volume_are_no_worse() -> None:
    verdict = judge([Look(Arm(20_000, 40), Arm(20_000, 44))])
    assert verdict.outcome == "no-worse"
    assert verdict.reason == ("The candidate is no worse than the control on error_rate "
                              "(20000 control and 20000 candidate requests).")


def test_a_lower_error_rate_is_better() -> None:
    assert judge([Look(Arm(2000, 200), Arm(2000, 4))]).outcome == "better"


@pytest.mark.parametrize("control, candidate, why", [
    (Arm(0, 0), Arm(5000, 0), "The control has no requests yet, so nothing can be compared: hold."),
    (Arm(0, 0), Arm(0, 0), "The control has no requests yet, so nothing can be compared: hold."),
    (Arm(5000, 0), Arm(0, 0), "The candidate has no requests yet, so nothing can be compared: hold."),
    (Arm(5000, 0), Arm(49, 49), "The candidate has 49 of the 50 requests needed to judge: hold."),
])
def test_missing_or_thin_traffic_is_inconclusive_never_no_worse(control: Arm, candidate: Arm, why: str) -> None:
    verdict = judge([Look(control, candidate)])
    assert (verdict.outcome, verdict.reason, verdict.metrics) == ("inconclusive", why, ())


def test_no_look_yet_is_inconclusive() -> None:
    assert judge([]).outcome == "inconclusive"


def test_all_zero_errors_are_no_evidence_at_low_volume_and_no_worse_at_high_volume() -> None:
    assert judge([Look(Arm(80, 0), Arm(80, 0))]).outcome == "inconclusive"
    assert judge([Look(Arm(5000, 0), Arm(5000, 0))]).outcome == "no-worse"


def test_mostly_zero_errors_one_failure_against_none_is_not_worse() -> None:
    verdict = judge([Look(Arm(1000, 0), Arm(1000, 1))])
    assert outcome_of(verdict, "error_rate") != "worse"
    assert verdict.metrics[0].e_value < 10


def test_a_tiny_difference_on_huge_traffic_is_below_the_floors() -> None:
    look = Look(Arm(1_000_000, 2000), Arm(1_000_000, 3000))  # 0.2% against 0.3%: 1.5 times, 0.1 point
    assert judge([look]).outcome == "no-worse"
    below_absolute = judge([look], JudgeSettings(rate_ratio_floor=1.2))
    assert below_absolute.metrics[0].p_value < 1e-10
    assert below_absolute.outcome == "no-worse"
    assert judge([look], JudgeSettings(error_rate_floor=0.0)).outcome == "no-worse"  # not above 1.5 times
    assert judge([look], JudgeSettings(error_rate_floor=0.0, rate_ratio_floor=1.2)).outcome == "worse"


def test_a_non_critical_regression_holds_and_a_critical_one_vetoes() -> None:
    look = Look(Arm(5000, 0, client_errors=50), Arm(5000, 0, client_errors=600))
    held = judge([look])
    assert held.outcome == "inconclusive"
    assert held.reason.startswith("Non-critical regression, hold for a human: client error rate 12.00% against 1.00%")
    vetoed = judge([look], JudgeSettings(critical=("error_rate", "client_error_rate")))
    assert vetoed.outcome == "worse"


def test_a_crossing_at_an_earlier_look_stands() -> None:
    early = Look(Arm(100, 0), Arm(100, 30))
    late = Look(Arm(1_000_100, 2000), Arm(1_000_100, 2030))  # on its own: no worse
    assert judge([late]).outcome == "no-worse"
    verdict = judge([early, late])
    assert verdict.outcome == "worse"
    assert verdict.reason.startswith("The candidate is worse: error rate 30.00% against 0.00% (p ")
    assert verdict.metrics[0].note.endswith("; decided at look 1")


def test_wall_time_from_samples_three_hundred_ms_slower_is_worse() -> None:
    control = tuple(40.0 + (i * 37) % 60 for i in range(300))
    slower = tuple(value + 300 for value in control)
    verdict = judge([Look(Arm(300, 0, wall_ms=control), Arm(300, 0, wall_ms=slower))])
    assert verdict.outcome == "worse"
    assert "median wall time 370 ms against 70 ms" in verdict.reason
    same = judge([Look(Arm(300, 0, wall_ms=control), Arm(300, 0, wall_ms=control))])
    assert outcome_of(same, "wall_time") == "no-worse"


def test_wall_time_from_analytics_quantiles_is_approximate_but_decides() -> None:
    slower = {key: value + 300 for key, value in QUANTILES.items()}
    verdict = judge([Look(Arm(1000, 0, quantiles=QUANTILES), Arm(1000, 0, quantiles=slower))])
    assert outcome_of(verdict, "wall_time") == "worse"
    assert verdict.metrics[-1].note == "from analytics quantiles (approximate)"
    same = judge([Look(Arm(1000, 0, quantiles=QUANTILES), Arm(1000, 0, quantiles={"wallTimeP50": 50.0,
                                                                                      "wallTimeP90": 90.0,
                                                                                      "wallTimeP99": 200.0}))])
    assert outcome_of(same, "wall_time") == "no-worse"


def test_wall_time_from_one_version_only_is_inconclusive() -> None:
    verdict = judge([Look(Arm(5000, 0, quantiles=QUANTILES), Arm(5000, 0))])
    assert outcome_of(verdict, "wall_time") == "inconclusive"
    assert verdict.outcome == "inconclusive"
    assert verdict.metrics[-1].note == "no wall time from the candidate"


def test_the_verdict_is_plain_json() -> None:
    verdict = judge([Look(Arm(600, 3, wall_ms=(1.0,) * 600), Arm(600, 35, wall_ms=(2.0,) * 600))])
    data = json.loads(json.dumps(verdict.to_dict(), allow_nan=False))
    assert data["outcome"] == "worse"
    assert [m["name"] for m in data["metrics"]] == ["error_rate", "client_error_rate", "wall_time"]
    assert JudgeSettings.from_dict(data["settings"]) == JudgeSettings()


@pytest.mark.parametrize("looks, message", [
    ([Look(Arm(200, 1), Arm(200, 1)), Look(Arm(100, 1), Arm(300, 1))],
     "look 2, control: counts went down from look 1; looks are cumulative"),
    ([Look(Arm(10, 8, client_errors=3), Arm(10, 0))],
     "look 1, control: 8 errors and 3 client errors exceed 10 requests; pass cumulative counts of that version's requests"),
    ([Look(Arm(10, 0), Arm(10, -1))], "look 1, candidate: counts must not be negative"),
    ([Look(Arm(10, 0, wall_ms=(float("nan"),)), Arm(10, 0))], "look 1, control: wall_ms samples must be finite"),
    ([Look(Arm(10, 0), Arm(10, 0, quantiles={"P50": 3.0, "median": 3.0}))],
     "look 1, candidate: unknown quantile keys ['median']; name them P50, P99, P999 or wallTimeP50 (values in ms)"),
])
def test_bad_looks_are_refused_naming_the_look(looks: list[Look], message: str) -> None:
    with pytest.raises(InputError) as raised:
        judge(looks)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize("data, message", [
    ({"alpha": 1.5}, "judge settings: alpha must be between 0 and 1, got 1.5"),
    ({"critical": ["latency"]}, "judge settings: critical names unknown metrics ['latency']"),
    ({"alpah": 0.1}, "judge settings: unknown keys ['alpah']"),
])
def test_bad_settings_are_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        JudgeSettings.from_dict(data)


def test_quantile_names_read_as_levels() -> None:
    names = ("P50", "wallTimeP99", "P999", "P99.9", "p25", "P0", "median")
    assert [quantile_level(name) for name in names] == pytest.approx([0.5, 0.99, 0.999, 0.999, 0.25, None, None])


def test_recorded_looks_judge_to_the_same_numbers_bit_for_bit() -> None:
    """Journals are judged again later: a change to these figures must be deliberate (and say so in docs/judge.md)."""
    looks = [Look(Arm(300, 1, 6, quantiles={"P50": 48.0, "P90": 95.0, "P99": 240.0}),
                  Arm(290, 4, 5, quantiles={"P50": 52.0, "P90": 99.0, "P99": 260.0})),
             Look(Arm(640, 2, 12, quantiles={"P50": 48.0, "P90": 95.0, "P99": 240.0}),
                  Arm(601, 31, 11, quantiles={"P50": 51.0, "P90": 99.0, "P99": 260.0}))]
    figures = [(m.name, m.outcome, m.e_value, m.statistic) for m in judge(looks).metrics]
    assert figures == [("error_rate", "worse", 12986.375635228676, 0.9393939393939394),
                       ("client_error_rate", "no-worse", 0.22773022815124297, 0.4782608695652174),
                       ("wall_time", "no-worse", 1.0, 0.023475000000000024)]

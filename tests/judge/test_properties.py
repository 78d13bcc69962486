"""Properties of the judge over generated looks, and its rates on seeded simulated traffic."""

from __future__ import annotations

import json
import math
import random

import pytest

from hypothesis import given, settings, strategies as st

from ops.judge.compare import METRICS, Arm, JudgeSettings, Look, judge
from ops.judge.rates import binomial_log_cdf, rate_bounds, share_evidence


@st.composite
def arms(draw: st.DrawFn, previous: Arm | None = None) -> Arm:
    base = previous or Arm(0, 0, 0)
    more = draw(st.integers(0, 3000))
    errors = draw(st.integers(0, more))
    client = draw(st.integers(0, more - errors))
    return Arm(base.requests + more, base.errors + errors, base.client_errors + client)


@st.composite
def look_series(draw: st.DrawFn) -> list[Look]:
    looks: list[Look] = []
    for _ in range(draw(st.integers(0, 5))):
        before = looks[-1] if looks else None
        looks.append(Look(draw(arms(before.control if before else None)),
                          draw(arms(before.candidate if before else None))))
    return looks


setting_values = st.builds(
    JudgeSettings, alpha=st.floats(0.001, 0.2), beta=st.floats(0.001, 0.5), min_requests=st.integers(1, 500),
    error_rate_floor=st.floats(0, 0.2), error_rate_margin=st.floats(0.001, 0.5),
    latency_floor_ms=st.floats(0, 500), latency_margin_ms=st.floats(1, 1000),
    critical=st.lists(st.sampled_from(METRICS), unique=True).map(tuple))


@given(look_series())
@settings(max_examples=150, deadline=None)
def test_any_valid_series_gets_a_verdict_and_the_same_one_twice(looks: list[Look]) -> None:
    first, second = judge(looks), judge(list(looks))
    assert first.outcome in ("better", "worse", "no-worse", "inconclusive")
    assert json.dumps(first.to_dict(), allow_nan=False) == json.dumps(second.to_dict(), allow_nan=False)
    if not looks or min(looks[-1].control.requests, looks[-1].candidate.requests) < JudgeSettings().min_requests:
        assert first.outcome == "inconclusive"


@given(setting_values)
def test_settings_round_trip_through_json(values: JudgeSettings) -> None:
    assert JudgeSettings.from_dict(json.loads(json.dumps(values.to_dict()))) == values


@given(st.integers(0, 400), st.integers(0, 400), st.floats(0.01, 0.99))
def test_share_evidence_is_no_evidence_without_failures_and_never_both_ways(x: int, extra: int, share: float) -> None:
    worse, better = share_evidence(x, x + extra, share)
    if x + extra == 0:
        assert (worse, better) == (0.0, 0.0)
    assert min(worse, better) < 4.6  # log(100): strong evidence of both directions at once is impossible


@given(st.integers(0, 2000), st.integers(0, 2000), st.floats(0.001, 0.2))
def test_rate_bounds_hold_the_observed_rate(failures: int, extra: int, alpha: float) -> None:
    low, high = rate_bounds(failures, failures + extra, alpha)
    observed = failures / (failures + extra) if failures + extra else 0.5
    assert 0.0 <= low <= observed <= high <= 1.0


def simulate(seed: int, candidate_error: float, per_look: int = 300, looks: int = 20) -> list[str]:
    """Outcomes at each look of a 50/50 split; both versions fail 0.5% plus the candidate's extra."""
    rng = random.Random(seed)
    control, candidate = Arm(0, 0), Arm(0, 0)
    series: list[Look] = []
    outcomes = []
    for _ in range(looks):
        n_c = sum(rng.random() < 0.5 for _ in range(per_look))
        n_t = per_look - n_c
        control = Arm(control.requests + n_c, control.errors + sum(rng.random() < 0.005 for _ in range(n_c)))
        candidate = Arm(candidate.requests + n_t,
                        candidate.errors + sum(rng.random() < 0.005 + candidate_error for _ in range(n_t)))
        series.append(Look(control, candidate))
        outcomes.append(judge(series).outcome)
    return outcomes


def test_healthy_against_healthy_is_rarely_worse() -> None:
    alarms = sum("worse" in simulate(seed, 0.0) for seed in range(100))
    assert alarms <= 2


def test_a_ten_point_regression_at_decent_volume_is_worse_within_five_looks() -> None:
    assert all("worse" in simulate(seed, 0.10)[:5] for seed in range(20))


def test_a_tenth_of_a_point_regression_is_not_called_worse() -> None:
    assert not any("worse" in simulate(seed, 0.001) for seed in range(20))


@given(st.integers(1, 3000), st.data(), st.floats(1e-6, 1 - 1e-6))
@settings(max_examples=200)
def test_the_binomial_tail_matches_the_whole_sum(n: int, data: st.DataObject, p: float) -> None:
    k = data.draw(st.integers(0, n - 1))
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * math.log(p) + (n - i) * math.log1p(-p)
             for i in range(k + 1)]
    top = max(terms)
    whole = top + math.log(sum(math.exp(t - top) for t in terms))
    assert binomial_log_cdf(k, n, p) == pytest.approx(whole, rel=1e-9, abs=1e-9)

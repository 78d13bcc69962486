"""Compare a candidate version against a control measured over the same minutes.

A split deployment routes each request at random to one of two versions, so the
control is a concurrent experiment's control. ``judge`` takes every look so far
(cumulative counts per version at each poll) and returns a verdict: better, worse,
no-worse or inconclusive, with the numbers behind it. Pure: no I/O, no clock, no
randomness; the same looks and settings give the same verdict bit for bit.

How it decides (docs/judge.md has the full story and the measured rates):

- Below ``min_requests`` on either version: inconclusive (the caller holds). A
  control without data is never "no worse".
- Error and client-error rates: ``rates.share_evidence`` (exact beta-binomial
  e-values on which version the failures came from) for worse and better;
  ``rates.rate_bounds`` (time-uniform bounds per version) for no-worse.
- Wall time: ``ranks`` (Mann–Whitney with a normal-mixture sequential test) from
  samples, or approximately from analytics quantiles.
- Every e-value is checked at every look; a crossing at any look stands (Ville's
  inequality keeps the false-alarm rate at alpha however often one polls).
- Floors: "worse" needs the observed effect at or above the floor; "no-worse" needs
  the bound on the effect below the margin. Tiny differences on huge traffic are
  not failures.
- Critical metrics veto: one critical "worse" makes the verdict "worse". A
  non-critical "worse" holds (inconclusive) for a human.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from typing import Any, Literal, Mapping, Sequence

from ops.errors import InputError
from ops.judge import ranks, rates

__all__ = ["METRICS", "Arm", "JudgeSettings", "Look", "MetricResult", "Outcome", "Verdict", "judge"]

Outcome = Literal["better", "worse", "no-worse", "inconclusive"]
METRICS = ("error_rate", "client_error_rate", "wall_time")
_MAX_LOG_E = 700.0


@dataclass(frozen=True)
class Arm:
    """One version's cumulative counts at one look."""

    requests: int
    errors: int  # 5xx, exceptions, exceededResources: what the runbooks call errors
    client_errors: int = 0  # 4xx
    wall_ms: tuple[float, ...] = ()  # per-request samples (from tail), if any
    quantiles: Mapping[str, float] | None = None  # analytics wall-time quantiles ("P50", "P99": ms) without samples


@dataclass(frozen=True)
class Look:
    """Cumulative control and candidate at one poll."""

    control: Arm
    candidate: Arm


@dataclass(frozen=True)
class JudgeSettings:
    """The judge's knobs; every default is documented in docs/judge.md."""

    alpha: float = 0.01  # risk of a false "worse" (or "better") per verdict, split evenly over the metrics measured
    beta: float = 0.05  # risk of a false "no-worse" (candidate in fact worse by the margin), split the same way
    min_requests: int = 50  # per version, before anything but "inconclusive"
    rate_ratio_floor: float = 1.5  # "worse" needs evidence the candidate's rate is above this multiple of the control's
    error_rate_floor: float = 0.005  # and the observed candidate − control error rate >= this (absolute)
    error_rate_margin: float = 0.02  # "no-worse" needs the bound on that difference < this
    client_error_rate_floor: float = 0.02
    client_error_rate_margin: float = 0.05
    latency_floor_ms: float = 100.0  # "worse" needs the candidate slower by at least this (rank shift)
    latency_margin_ms: float = 250.0  # "no-worse" needs it shown faster than control + this
    rank_prior_sd: float = 0.2  # the wall-time test's mixture prior, in units of P(slower) − ½
    critical: tuple[str, ...] = ("error_rate", "wall_time")

    def __post_init__(self) -> None:
        problems = []
        for name in ("alpha", "beta"):
            if not 0 < getattr(self, name) < 1:
                problems.append(f"{name} must be between 0 and 1, got {getattr(self, name)}")
        if self.min_requests < 1:
            problems.append(f"min_requests must be at least 1, got {self.min_requests}")
        for name in ("error_rate", "client_error_rate"):
            floor, margin = getattr(self, f"{name}_floor"), getattr(self, f"{name}_margin")
            if not 0 <= floor <= 1 or not 0 < margin <= 1:
                problems.append(f"{name}_floor and {name}_margin must be rates in [0, 1], got {floor} and {margin}")
        if self.rate_ratio_floor < 1:
            problems.append(f"rate_ratio_floor must be >= 1, got {self.rate_ratio_floor}")
        if self.latency_floor_ms < 0 or self.latency_margin_ms <= 0:
            problems.append("latency_floor_ms must be >= 0 and latency_margin_ms > 0")
        if self.rank_prior_sd <= 0:
            problems.append(f"rank_prior_sd must be > 0, got {self.rank_prior_sd}")
        unknown = [name for name in self.critical if name not in METRICS]
        if unknown:
            problems.append(f"critical names unknown metrics {unknown}; known: {list(METRICS)}")
        if problems:
            raise InputError("judge settings: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["critical"] = list(self.critical)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JudgeSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"judge settings: unknown keys {unknown}; known: {sorted(known)}")
        values = dict(data)
        if "critical" in values:
            values["critical"] = tuple(values["critical"])
        return cls(**values)


@dataclass(frozen=True)
class MetricResult:
    """One metric's outcome over the looks so far, with the numbers of the look that decided it (else the last)."""

    name: str
    outcome: Outcome
    critical: bool
    control: float | None  # the control's value (a rate, or median wall time in ms)
    candidate: float | None
    effect: float | None  # candidate − control, in the metric's unit
    statistic: float | None  # candidate's share of failures, or P(candidate slower) − ½
    e_value: float  # largest evidence of "worse" seen at any look (capped at e^700)
    p_value: float  # always-valid p-value of "worse": min(1, 1 / e_value)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    metrics: tuple[MetricResult, ...]
    reason: str  # one sentence a human reads at 3 a.m.
    looks: int = 0
    control_requests: int = 0
    candidate_requests: int = 0
    settings: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "reason": self.reason, "looks": self.looks,
                "control_requests": self.control_requests, "candidate_requests": self.candidate_requests,
                "metrics": [m.to_dict() for m in self.metrics], "settings": dict(self.settings)}


def judge(looks: Sequence[Look], settings: JudgeSettings = JudgeSettings()) -> Verdict:
    """The verdict on the candidate after every look so far (cumulative counts)."""
    _validate(looks)
    if not looks:
        return Verdict("inconclusive", (), "No look yet: hold.", settings=settings.to_dict())
    last = looks[-1]
    short = _too_few(last, settings.min_requests)
    if short:
        outcome: Outcome = "inconclusive"
        metrics: tuple[MetricResult, ...] = ()
        reason = short
    else:
        names = [name for name in METRICS if name != "wall_time" or _has_wall_time(last)]
        metrics = tuple(_metric(name, looks, settings, len(names)) for name in names)
        outcome, reason = _combine(metrics, last)
    return Verdict(outcome, metrics, reason, looks=len(looks), control_requests=last.control.requests,
                   candidate_requests=last.candidate.requests, settings=settings.to_dict())


def _too_few(last: Look, needed: int) -> str:
    for role, arm in (("control", last.control), ("candidate", last.candidate)):
        if arm.requests == 0:
            return f"The {role} has no requests yet, so nothing can be compared: hold."
        if arm.requests < needed:
            return f"The {role} has {arm.requests} of the {needed} requests needed to judge: hold."
    return ""


def _has_wall_time(look: Look) -> bool:
    return _measured(look.control) or _measured(look.candidate)


def _measured(arm: Arm) -> bool:
    return bool(arm.wall_ms or arm.quantiles)


def _metric(name: str, looks: Sequence[Look], settings: JudgeSettings, measured: int) -> MetricResult:
    critical = name in settings.critical
    eligible = [look for look in looks if look.control.requests >= settings.min_requests
                and look.candidate.requests >= settings.min_requests]
    if name == "wall_time":
        steps = [_wall_time(look, settings, measured) for look in eligible]
    else:
        steps = [_rate(name, look, settings, measured) for look in eligible]
    seen = [step.outcome for step in steps]
    outcome: Outcome = "worse" if "worse" in seen else "better" if "better" in seen else \
        "no-worse" if "no-worse" in seen else "inconclusive"
    at = seen.index(outcome) if outcome != "inconclusive" else len(steps) - 1
    decided = steps[at]
    note = decided.note if at == len(steps) - 1 else f"{decided.note}; decided at look {len(looks) - len(steps) + at + 1}"
    log_e = max(math.log(max(step.e_value, 1e-300)) for step in steps)
    e_value = math.exp(min(log_e, _MAX_LOG_E))
    return MetricResult(name=name, outcome=outcome, critical=critical, control=decided.control,
                        candidate=decided.candidate, effect=decided.effect, statistic=decided.statistic,
                        e_value=e_value, p_value=min(1.0, 1.0 / e_value), note=note)


def _count(arm: Arm, name: str) -> int:
    return arm.errors if name == "error_rate" else arm.client_errors


def _rate(name: str, look: Look, settings: JudgeSettings, measured: int) -> MetricResult:
    control, candidate = look.control, look.candidate
    return _rate_counts(name, _count(control, name), control.requests, _count(candidate, name), candidate.requests,
                        settings, measured)


@lru_cache(maxsize=4096)
def _rate_counts(name: str, x_c: int, n_c: int, x_t: int, n_t: int, settings: JudgeSettings,
                 measured: int) -> MetricResult:
    floor = getattr(settings, f"{name}_floor")
    margin = getattr(settings, f"{name}_margin")
    p_c, p_t = x_c / n_c, x_t / n_t
    share = n_t / (n_t + n_c)
    ratio = settings.rate_ratio_floor
    log_worse, _ = rates.share_evidence(x_t, x_c + x_t, rates.null_share(share, ratio))
    _, log_better = rates.share_evidence(x_t, x_c + x_t, rates.null_share(share, 1 / ratio))
    threshold = math.log(measured / settings.alpha)
    effect = p_t - p_c
    _, high_t = rates.rate_bounds(x_t, n_t, settings.beta / measured / 2)
    low_c, _ = rates.rate_bounds(x_c, n_c, settings.beta / measured / 2)
    outcome: Outcome
    if log_worse >= threshold and effect >= floor:
        outcome = "worse"
    elif log_better >= threshold and -effect >= floor:
        outcome = "better"
    elif high_t - low_c < margin:
        outcome = "no-worse"
    else:
        outcome = "inconclusive"
    note = f"bound on the difference {high_t - low_c:+.4f} (margin {margin})"
    statistic = x_t / (x_c + x_t) if x_c + x_t else None
    return _step(name, outcome, p_c, p_t, effect, statistic, log_worse, note)


def _wall_time(look: Look, settings: JudgeSettings, measured: int) -> MetricResult:
    return _wall_time_cached(_arm_key(look.control), _arm_key(look.candidate), settings, measured)


_ArmKey = tuple[int, tuple[float, ...], tuple[tuple[str, float], ...] | None]


def _arm_key(arm: Arm) -> _ArmKey:
    quantiles = tuple(sorted(arm.quantiles.items())) if arm.quantiles is not None else None
    return arm.requests, arm.wall_ms, quantiles


@lru_cache(maxsize=1024)
def _wall_time_cached(control_key: _ArmKey, candidate_key: _ArmKey, settings: JudgeSettings,
                      measured: int) -> MetricResult:
    control, candidate = (Arm(key[0], 0, 0, key[1], dict(key[2]) if key[2] is not None else None)
                          for key in (control_key, candidate_key))
    look = Look(control, candidate)
    missing = [role for role, arm in (("control", look.control), ("candidate", look.candidate)) if not _measured(arm)]
    if missing:
        return _step("wall_time", "inconclusive", None, None, None, None, 0.0,
                     f"no wall time from the {' and '.join(missing)}")
    worse_theta, worse_var = _theta(look, settings.latency_floor_ms)
    safe_theta, safe_var = _theta(look, settings.latency_margin_ms)
    better_theta, better_var = _theta(look, -settings.latency_floor_ms)
    threshold = math.log(measured / settings.alpha)
    safe_threshold = math.log(measured / settings.beta)
    log_worse = ranks.mixture_log_evidence(worse_theta, worse_var, settings.rank_prior_sd) if worse_theta > 0 else 0.0
    log_safe = ranks.mixture_log_evidence(safe_theta, safe_var, settings.rank_prior_sd) if safe_theta < 0 else 0.0
    log_better = ranks.mixture_log_evidence(better_theta, better_var, settings.rank_prior_sd) if better_theta < 0 else 0.0
    outcome: Outcome = "worse" if log_worse >= threshold else "better" if log_better >= threshold else \
        "no-worse" if log_safe >= safe_threshold else "inconclusive"
    control_ms, candidate_ms = _median(look.control), _median(look.candidate)
    plain, _ = _theta(look, 0.0)
    source = "samples" if look.control.wall_ms and look.candidate.wall_ms else "analytics quantiles (approximate)"
    return _step("wall_time", outcome, control_ms, candidate_ms, candidate_ms - control_ms, plain, log_worse,
                 f"from {source}")


def _theta(look: Look, shift: float) -> tuple[float, float]:
    control, candidate = look.control, look.candidate
    theta, variance = ranks.rank_theta(_sample(control), _sample(candidate), shift)
    if control.wall_ms and candidate.wall_ms:
        return theta, variance
    n_c, n_t = control.requests, candidate.requests
    return theta, (n_c + n_t + 1) / (12 * n_c * n_t)


def _sample(arm: Arm) -> tuple[float, ...]:
    if arm.wall_ms:
        return arm.wall_ms
    return _quantile_sample(tuple(sorted((arm.quantiles or {}).items())))


@lru_cache(maxsize=256)
def _quantile_sample(quantiles: tuple[tuple[str, float], ...]) -> tuple[float, ...]:
    return ranks.quantile_sample(dict(quantiles))


def _median(arm: Arm) -> float:
    sample = sorted(_sample(arm))
    middle = len(sample) // 2
    return sample[middle] if len(sample) % 2 else (sample[middle - 1] + sample[middle]) / 2


def _step(name: str, outcome: Outcome, control: float | None, candidate: float | None, effect: float | None,
          statistic: float | None, log_worse: float, note: str) -> MetricResult:
    e_value = math.exp(min(log_worse, _MAX_LOG_E))
    return MetricResult(name=name, outcome=outcome, critical=False, control=control, candidate=candidate,
                        effect=effect, statistic=statistic, e_value=e_value, p_value=min(1.0, 1.0 / e_value), note=note)


def _combine(metrics: Sequence[MetricResult], last: Look) -> tuple[Outcome, str]:
    vetoes = [m for m in metrics if m.critical and m.outcome == "worse"]
    if vetoes:
        return "worse", "The candidate is worse: " + "; ".join(_describe(m) for m in vetoes) + "."
    warnings = [m for m in metrics if m.outcome == "worse"]
    if warnings:
        return "inconclusive", ("Non-critical regression, hold for a human: "
                                + "; ".join(_describe(m) for m in warnings) + ".")
    critical = [m for m in metrics if m.critical]
    undecided = [m for m in critical if m.outcome == "inconclusive"]
    if undecided:
        return "inconclusive", ("Not enough evidence yet on " + ", ".join(m.name for m in undecided)
                                + f" ({last.control.requests} control and {last.candidate.requests} candidate requests): hold.")
    if any(m.outcome == "better" for m in critical):
        better = [m for m in critical if m.outcome == "better"]
        return "better", "The candidate is better: " + "; ".join(_describe(m) for m in better) + "."
    return "no-worse", ("The candidate is no worse than the control on " + ", ".join(m.name for m in critical)
                        + f" ({last.control.requests} control and {last.candidate.requests} candidate requests).")


def _describe(m: MetricResult) -> str:
    if m.name == "wall_time":
        return f"median wall time {m.candidate:.0f} ms against {m.control:.0f} ms"
    label = "error rate" if m.name == "error_rate" else "client error rate"
    return f"{label} {m.candidate:.2%} against {m.control:.2%} (p {m.p_value:.2g})"


def _validate(looks: Sequence[Look]) -> None:
    previous: Look | None = None
    for index, look in enumerate(looks, start=1):
        for role in ("control", "candidate"):
            arm: Arm = getattr(look, role)
            where = f"look {index}, {role}"
            if min(arm.requests, arm.errors, arm.client_errors) < 0:
                raise InputError(f"{where}: counts must not be negative, got {arm}")
            if arm.errors + arm.client_errors > arm.requests:
                raise InputError(f"{where}: {arm.errors} errors and {arm.client_errors} client errors exceed "
                                 f"{arm.requests} requests; pass cumulative counts of that version's requests")
            if any(not math.isfinite(v) or v < 0 for v in arm.wall_ms):
                raise InputError(f"{where}: wall_ms samples must be finite and >= 0")
            if arm.quantiles is not None:
                unknown = sorted(key for key in arm.quantiles if ranks.quantile_level(key) is None)
                if unknown:
                    raise InputError(f"{where}: unknown quantile keys {unknown}; name them P50, P99, P999 "
                                     "or wallTimeP50 (values in ms)")
                if not all(math.isfinite(v) and v >= 0 for v in arm.quantiles.values()):
                    raise InputError(f"{where}: quantiles must be finite ms >= 0")
            if previous is not None:
                before: Arm = getattr(previous, role)
                if arm.requests < before.requests or arm.errors < before.errors or arm.client_errors < before.client_errors:
                    raise InputError(f"{where}: counts went down from look {index - 1}; looks are cumulative")
        previous = look

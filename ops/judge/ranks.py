"""Wall time: a Mann–Whitney rank statistic, watched with a normal-mixture sequential test.

``theta`` is P(candidate − shift > control) + ½·P(tie) − ½: zero when the candidate,
``shift`` ms slower, is as fast as the control; positive when it is slower still.
Under that null its variance is the Mann–Whitney one (with the tie correction), and
``mixture_log_evidence`` turns it into the mixture likelihood ratio of Johari et al.
(always-valid p-values): an e-process in the large-sample limit, so a look every
interval does not inflate false alarms.

From per-request samples the statistic is exact. From analytics quantiles alone
(P50/P90/P99…) each version's distribution is rebuilt as the quantile function
through those points (linear between them, from 0 ms at the bottom, the last step
repeated above the top one) and read on a grid: an approximation, documented in
docs/judge.md.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from typing import Mapping, Sequence

__all__ = ["GRID", "mixture_log_evidence", "mixture_radius", "quantile_level", "quantile_sample", "rank_theta"]

GRID = 200
_QUANTILE_KEY = re.compile(r"^(?:wallTime)?[Pp](\d+(?:\.\d+)?)$")


def quantile_level(key: str) -> float | None:
    """0.5 for "P50" or "wallTimeP50", 0.999 for "P999" or "P99.9"; None for any other key."""
    match = _QUANTILE_KEY.match(key)
    if not match:
        return None
    digits = match.group(1)
    level = float(digits) / 100 if "." in digits else float("0." + digits)
    return level if 0 < level < 1 else None


def rank_theta(control: Sequence[float], candidate: Sequence[float], shift: float) -> tuple[float, float]:
    """(theta, its variance under the null) for candidate − shift against control."""
    n_c, n_t = len(control), len(candidate)
    ordered = sorted(control)
    shifted = [value - shift for value in candidate]
    u = 0.0
    for value in shifted:
        below = bisect.bisect_left(ordered, value)
        u += below + 0.5 * (bisect.bisect_right(ordered, value, lo=below) - below)
    total = n_c + n_t
    ties = Counter(ordered)
    ties.update(shifted)
    tie_term = sum(size**3 - size for size in ties.values() if size > 1)
    theta = u / (n_c * n_t) - 0.5
    variance = ((total + 1) - tie_term / (total * (total - 1))) / (12 * n_c * n_t)
    return theta, max(variance, 1e-12)


def quantile_sample(quantiles: Mapping[str, float]) -> tuple[float, ...]:
    """GRID evenly spaced draws of the distribution the quantiles describe."""
    knots = sorted((level, float(v)) for k, v in quantiles.items() if (level := quantile_level(k)) is not None)
    points = [(0.0, 0.0), *knots]
    top_u, top_v = points[-1]
    prev_u, prev_v = points[-2]
    if top_u < 1.0:
        slope = (top_v - prev_v) / (top_u - prev_u) if top_u > prev_u else 0.0
        points.append((1.0, top_v + slope * (1.0 - top_u)))
    us = [u for u, _ in points]
    sample = []
    for g in range(GRID):
        u = (g + 0.5) / GRID
        k = min(max(bisect.bisect_right(us, u), 1), len(points) - 1)
        (u0, v0), (u1, v1) = points[k - 1], points[k]
        sample.append(v0 if u1 == u0 else v0 + (v1 - v0) * (u - u0) / (u1 - u0))
    return tuple(sample)


def mixture_log_evidence(theta: float, variance: float, prior_sd: float) -> float:
    """log of the normal-mixture likelihood ratio against theta = 0."""
    tau2 = prior_sd**2
    return 0.5 * math.log(variance / (variance + tau2)) + tau2 * theta**2 / (2 * variance * (variance + tau2))


def mixture_radius(variance: float, prior_sd: float, alpha: float) -> float:
    """Half-width of the always-valid confidence interval on theta at level alpha."""
    tau2 = prior_sd**2
    return math.sqrt(2 * variance * (variance + tau2) / tau2 * (math.log(1 / alpha) + 0.5 * math.log((variance + tau2) / variance)))

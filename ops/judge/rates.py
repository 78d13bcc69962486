"""Exact beta-binomial evidence for error and status rates, in the stdlib.

Two tools, both e-processes (their running maximum stays below ``1/alpha`` with
probability ``1 - alpha`` when the null holds, however often one looks):

- ``share_evidence``: among the requests that failed, each one came from the
  candidate with probability ``s·r / (s·r + 1 − s)`` when the candidate (share ``s``
  of the traffic) fails ``r`` times as often as the control, whatever the control's
  rate. ``null_share`` gives that probability for the ``r`` under test. A uniform
  prior on the probability, truncated to one side, gives the Bayes factor of "more
  of the failures come from the candidate" (or fewer) against ``null_share``; for a
  one-sided null it is an e-process at every ``r`` beyond the boundary too (the
  likelihood ratio is monotone). Exact for any count, zeros included: no failures is
  no evidence (an e-value of 1), never a division by zero.
- ``rate_bounds``: a confidence sequence for one version's rate, the rates whose
  uniform-prior Bayes factor stays below ``1/alpha`` (valid at every look at once).
"""

from __future__ import annotations

import math
from typing import Callable

__all__ = ["binomial_log_cdf", "log_beta", "null_share", "rate_bounds", "share_evidence"]


def log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _log_add(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    high, low = max(a, b), min(a, b)
    return high + math.log1p(math.exp(low - high))


def binomial_log_cdf(k: int, n: int, p: float) -> float:
    """log P(Binomial(n, p) <= k), summed in log space from k away from the mode.

    The terms shrink monotonically on that side, so the sum stops once they fall
    e^-50 below it: exact to double precision, in time independent of n.
    """
    if k < 0:
        return -math.inf
    if k >= n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return -math.inf
    if k < (n + 1) * p - 1:
        return _tail(k, n, p, -1)
    upper = _tail(k + 1, n, p, +1)
    return math.log1p(-math.exp(upper)) if upper < -1e-300 else -math.inf


def _tail(start: int, n: int, p: float, step: int) -> float:
    """log of the sum of P(X = i) from i = start outwards (step -1 down to 0, +1 up to n)."""
    log_odds = math.log(p) - math.log1p(-p)
    term = (math.lgamma(n + 1) - math.lgamma(start + 1) - math.lgamma(n - start + 1)
            + start * math.log(p) + (n - start) * math.log1p(-p))
    total, i = term, start
    while 0 < i < n if step < 0 else i < n:
        term += (math.log(i / (n - i + 1)) - log_odds) if step < 0 else (math.log((n - i) / (i + 1)) + log_odds)
        i += step
        total = _log_add(total, term)
        if term < total - 50 or (step < 0 and i == 0):
            break
    return min(total, 0.0)


def _log_sf(k: int, n: int, p: float) -> float:
    """log P(Binomial(n, p) >= k)."""
    if k <= 0:
        return 0.0
    if k > n:
        return -math.inf
    # the shorter of the two sums, for precision in the far tail
    return binomial_log_cdf(n - k, n, 1.0 - p)


def null_share(traffic_share: float, ratio: float) -> float:
    """The candidate's share of failures when it fails ``ratio`` times as often as the control."""
    return traffic_share * ratio / (traffic_share * ratio + 1.0 - traffic_share)


def share_evidence(candidate_failures: int, total_failures: int, share: float) -> tuple[float, float]:
    """(log e-value that the candidate's share of failures is above ``share``, that it is below).

    ``share`` is strictly between 0 and 1.
    """
    x, n = candidate_failures, total_failures
    if n == 0:
        return 0.0, 0.0
    log_null = x * math.log(share) + (n - x) * math.log1p(-share)
    log_marginal = log_beta(x + 1, n - x + 1)
    # ∫_share^1 q^x (1-q)^(n-x) dq = B(x+1, n-x+1) · P(Binomial(n+1, share) <= x)
    log_worse = log_marginal + binomial_log_cdf(x, n + 1, share) - math.log1p(-share) - log_null
    log_better = log_marginal + _log_sf(x + 1, n + 1, share) - math.log(share) - log_null
    return log_worse, log_better


def _log_evidence_against(rate: float, failures: int, requests: int) -> float:
    if rate <= 0.0:
        return 0.0 if failures == 0 else math.inf
    if rate >= 1.0:
        return 0.0 if failures == requests else math.inf
    return log_beta(failures + 1, requests - failures + 1) - failures * math.log(rate) - (requests - failures) * math.log1p(-rate)


def rate_bounds(failures: int, requests: int, alpha: float) -> tuple[float, float]:
    """Time-uniform (1 - alpha) bounds on a rate from ``failures`` of ``requests``."""
    if requests == 0:
        return 0.0, 1.0
    threshold = math.log(1.0 / alpha)
    estimate = failures / requests

    def outside(rate: float) -> bool:
        return _log_evidence_against(rate, failures, requests) >= threshold

    return _bisect(outside, estimate, 0.0), _bisect(outside, estimate, 1.0)


def _bisect(outside: Callable[[float], bool], inside: float, edge: float) -> float:
    if not outside(edge):
        return edge
    for _ in range(45):
        middle = (inside + edge) / 2
        if outside(middle):
            edge = middle
        else:
            inside = middle
    return inside


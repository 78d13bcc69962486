"""Exact beta-binomial evidence for error and status rates, in the stdlib.

Two tools, both e-processes (their running maximum stays below ``1/alpha`` with
probability ``1 - alpha`` when the null holds, however often one looks):

- ``share_evidence``: among the requests that failed, each one came from the
  candidate with probability ``share`` (the candidate's share of traffic) when both
  versions fail at the same rate, whatever that rate is. A uniform prior on that
  probability, truncated to one side, gives the Bayes factor of "the candidate fails
  more" (or less) against the traffic share. Exact for any count, zeros included:
  no failures is no evidence (an e-value of 1), never a division by zero.
- ``rate_bounds``: a confidence sequence for one version's rate, the rates whose
  uniform-prior Bayes factor stays below ``1/alpha`` (valid at every look at once).
"""

from __future__ import annotations

import math
from typing import Callable

__all__ = ["binomial_log_cdf", "log_beta", "rate_bounds", "share_evidence"]


def log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _log_add(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    high, low = max(a, b), min(a, b)
    return high + math.log1p(math.exp(low - high))


def binomial_log_cdf(k: int, n: int, p: float) -> float:
    """log P(Binomial(n, p) <= k), summed exactly in log space."""
    if k < 0:
        return -math.inf
    if k >= n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return -math.inf
    log_p, log_q = math.log(p), math.log1p(-p)
    total = -math.inf
    for i in range(k + 1):
        term = math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        total = _log_add(total, term)
    return min(total, 0.0)


def _log_sf(k: int, n: int, p: float) -> float:
    """log P(Binomial(n, p) >= k)."""
    if k <= 0:
        return 0.0
    if k > n:
        return -math.inf
    # the shorter of the two sums, for precision in the far tail
    return binomial_log_cdf(n - k, n, 1.0 - p)


def share_evidence(candidate_failures: int, total_failures: int, share: float) -> tuple[float, float]:
    """(log e-value that the candidate fails more, log e-value that it fails less).

    ``share`` is the candidate's share of requests, strictly between 0 and 1.
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
    for _ in range(60):
        middle = (inside + edge) / 2
        if outside(middle):
            edge = middle
        else:
            inside = middle
    return inside


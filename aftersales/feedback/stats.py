"""The figures of satisfaction results: a share's 95% Wilson score interval and a mean's normal
interval. Plain floats: these are estimates, shown rounded."""

from __future__ import annotations

import math
from collections.abc import Sequence

# The normal quantile of a two-sided 95% interval.
Z95 = 1.959963984540054


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes / trials`` (``None`` without a trial). Unlike the
    normal approximation it stays within [0, 1] and is sound for small samples and shares near
    0 or 1, which monthly samples per agent are."""
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def mean_interval(values: Sequence[int], z: float = Z95) -> tuple[float, float] | None:
    """The mean ± z standard errors (sample standard deviation); ``None`` under two values."""
    n = len(values)
    if n < 2:
        return None
    mean = sum(values) / n
    variance = sum((value - mean) ** 2 for value in values) / (n - 1)
    half = z * math.sqrt(variance / n)
    return (mean - half, mean + half)


def summary(scores: Sequence[int], sent: int) -> dict:
    """The figures of one group: surveys sent, answered (``scores``), response rate, mean score
    with its interval, and the CSAT share (scores 4 and 5) with its Wilson interval."""
    answered = len(scores)
    satisfied = sum(1 for score in scores if score >= 4)
    mean = sum(scores) / answered if answered else None
    return {
        "sent": sent,
        "answered": answered,
        "response_rate": answered / sent if sent else None,
        "mean_score": mean,
        "mean_interval": mean_interval(scores),
        "satisfied": satisfied,
        "csat": satisfied / answered if answered else None,
        "csat_interval": wilson(satisfied, answered),
    }

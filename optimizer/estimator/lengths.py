"""Prompt and output lengths as distributions: a mean with a spread, or a histogram.

The serving estimator needs more than the mean. A decode slot is held for the request's whole output, so the
context a slot carries on average is weighted by how long each request stays (E[L²]/E[L], the length-biased
mean); attention in prefill grows with the square of the prompt; the p99 time to first token belongs to the long
prompts (the 99th percentile); and a scheduler that reserves the whole output up front sizes blocks by the mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Lengths:
    """Moments and tail of a token-length distribution (all in tokens)."""

    mean: float
    second_moment: float  # E[L²]
    p99: float
    maximum: float

    @property
    def std(self) -> float:
        """Standard deviation."""
        return math.sqrt(max(self.second_moment - self.mean * self.mean, 0.0))

    @property
    def cv2(self) -> float:
        """Squared coefficient of variation (0 for fixed lengths)."""
        return max(self.second_moment / (self.mean * self.mean) - 1.0, 0.0)

    @property
    def biased_mean(self) -> float:
        """Length-biased mean E[L²]/E[L]: the mean of the length a randomly chosen token belongs to."""
        return self.second_moment / self.mean

    def scaled(self, factor: float) -> Lengths:
        """The same shape with every length multiplied by ``factor`` (e.g. the uncached share of a prompt)."""
        f2 = factor * factor
        return Lengths(self.mean * factor, self.second_moment * f2, self.p99 * factor, self.maximum * factor)


_Z99 = 2.326
"""Standard normal 99th percentile."""


def from_mean(mean: float, std: float = 0.0) -> Lengths:
    """A distribution given by its mean and standard deviation.

    The tail uses a log-normal of the same mean and spread (lengths are positive and right-skewed); a fixed
    length (std 0) is its own 99th percentile.
    """
    if mean <= 0:
        raise ValueError("a mean length must be positive")
    if std <= 0:
        return Lengths(mean, mean * mean, mean, mean)
    sigma2 = math.log(1.0 + (std / mean) ** 2)
    mu = math.log(mean) - sigma2 / 2.0
    p99 = math.exp(mu + _Z99 * math.sqrt(sigma2))
    return Lengths(mean, mean * mean + std * std, p99, max(p99, mean + 4 * std))


def from_histogram(bins: list[tuple[float, float]]) -> Lengths:
    """A distribution given as (length, weight) pairs; weights need not sum to one.

    Raises:
        ValueError: no positive weight, or a length that is not positive.
    """
    total = sum(w for _, w in bins if w > 0)
    if total <= 0:
        raise ValueError("a length histogram needs a positive weight")
    if any(n <= 0 for n, _ in bins):
        raise ValueError("histogram lengths must be positive")
    pts = sorted((float(n), w / total) for n, w in bins if w > 0)
    mean = sum(n * w for n, w in pts)
    second = sum(n * n * w for n, w in pts)
    acc, p99 = 0.0, pts[-1][0]
    for n, w in pts:
        acc += w
        if acc >= 0.99 - 1e-12:
            p99 = n
            break
    return Lengths(mean, second, p99, pts[-1][0])

"""Queueing for serving latency percentiles under a request rate (Poisson arrivals).

Requests are spread evenly over the replicas and each replica keeps its own admission queue (round-robin
dispatch, as benchmark harnesses and most gateways do). A continuous-batching replica runs up to ``B`` requests at
once, each holding its slot (KV cache and a place in the batch) from admission to its last token, so for admission
it is an M/G/c queue with c = B slots, each serving one request per lifetime (prefill plus output tokens at the
full-batch step time). The Allen–Cunneen approximation gives the waiting time:

    P(wait) = Erlang C(c, a = λ/μ)
    P(W > t) ≈ P(wait) · exp(−(cμ − λ) · t · 2 / (c_a² + c_s²))       c_a² = 1 (Poisson), c_s² = service spread

so the q-quantile of the wait is ln(P(wait) / (1 − q)) · (c_a² + c_s²) / 2 / (cμ − λ) when P(wait) > 1 − q, else
0. Once admitted, a request holds a decode slot for its lifetime; the number of requests decoding at once is then
the occupancy of an M/G/∞ system, Poisson with mean λ·T, whose upper percentile sets the p99 step time.
"""

from __future__ import annotations

import math
from statistics import NormalDist

Z = {0.5: 0.0, 0.9: 1.2816, 0.95: 1.6449, 0.99: 2.3263}
"""Standard normal quantiles used for occupancy percentiles."""


_EXACT_UP_TO = 128
"""Erlang C by recursion up to this many servers; beyond, the Halfin–Whitt limit (within about 5 %: the p99 wait,
which depends on ln(C), moves by under 2 %)."""


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with ``offered`` = λ/μ erlangs (1 when saturated).

    Exact recursion for small ``servers``; for many servers the Halfin–Whitt limit
    C ≈ 1 / (1 + β·Φ(β)/φ(β)), β = (c − a)/√a, which a batch of hundreds of sequences needs to stay fast.
    """
    if offered <= 0:
        return 0.0
    if offered >= servers:
        return 1.0
    if servers > _EXACT_UP_TO:
        beta = (servers - offered) / math.sqrt(offered)
        if beta > 30.0:  # φ(β) underflows; C < 1e-190
            return 0.0
        phi = math.exp(-beta * beta / 2.0) / math.sqrt(2.0 * math.pi)
        cdf = 0.5 * (1.0 + math.erf(beta / math.sqrt(2.0)))
        return min(1.0, 1.0 / (1.0 + beta * cdf / phi))
    b = 1.0  # Erlang B by the stable recursion B(k) = a·B(k−1) / (k + a·B(k−1))
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    return servers * b / (servers - offered * (1.0 - b))


def wait_quantile(q: float, *, servers: int, rate: float, mu: float, cs2: float, ca2: float = 1.0) -> float:
    """The ``q``-quantile of the admission wait (seconds) at ``rate`` requests/s (inf when saturated)."""
    if rate <= 0:
        return 0.0
    slack = servers * mu - rate
    if slack <= 0:
        return math.inf
    p_wait = erlang_c(servers, rate / mu)
    if p_wait <= 1.0 - q:
        return 0.0
    return math.log(p_wait / (1.0 - q)) * (ca2 + cs2) / 2.0 / slack


def mean_wait(*, servers: int, rate: float, mu: float, cs2: float, ca2: float = 1.0) -> float:
    """Mean admission wait (seconds), Allen–Cunneen."""
    slack = servers * mu - rate
    if slack <= 0:
        return math.inf
    return erlang_c(servers, rate / mu) / slack * (ca2 + cs2) / 2.0


def expected_max_poisson(mean: float, n: int) -> float:
    """E[max of ``n`` independent Poisson(``mean``) counts]: Σ_k P(max ≥ k) = Σ_k 1 − F(k−1)ⁿ (exact sum).

    The busiest of ``n`` data-parallel attention ranks when each receives new prompts at random.
    """
    if mean <= 0 or n < 1:
        return 0.0
    if n == 1:
        return mean
    if mean > 50.0:  # normal limit; Blom's approximation of the expected maximum of n standard normals
        return mean + NormalDist().inv_cdf((n - 0.375) / (n + 0.25)) * math.sqrt(mean)
    total, cdf, pmf, k = 0.0, 0.0, math.exp(-mean), 0
    while True:
        cdf += pmf  # F(k)
        tail = 1.0 - cdf**n  # P(max ≥ k + 1)
        if tail < 1e-9 or k > 10_000:
            return total
        total += tail
        k += 1
        pmf *= mean / k


def occupancy_quantile(mean: float, q: float) -> float:
    """Upper ``q``-quantile of a Poisson count with this mean (normal approximation, never below the mean)."""
    if mean <= 0:
        return 0.0
    return mean + Z.get(q, 2.3263) * math.sqrt(mean)


def quantile_of(basis: str) -> float:
    """The probability a latency basis refers to: p50 → 0.5, p90 → 0.9, p99 → 0.99 (mean → 0.5 for waits)."""
    return {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}.get(basis, 0.5)

"""Prometheus metrics of the HTTP service, served at ``/metrics`` in the text exposition format.

Metric names: ``procure_http_requests_total{method,route,status}``, ``procure_http_request_seconds{method,route}``,
``procure_http_requests_in_progress``, ``procure_solver_seconds`` (CP-SAT seconds per request),
``procure_rejected_total{reason}`` (deadline, queue_timeout, client_disconnected, rate_limited, quota),
``procure_estimate_cache_entries`` / ``procure_estimate_cache_hits_total`` / ``procure_estimate_cache_misses_total``,
``procure_work_in_flight`` and ``procure_jobs{state}`` (batch jobs, filled by a collector a jobs module registers
with :func:`register_jobs_source`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

REQUESTS = Counter("procure_http_requests", "HTTP requests answered.", ["method", "route", "status"],
                   registry=REGISTRY)
LATENCY = Histogram("procure_http_request_seconds", "Time to answer an HTTP request.", ["method", "route"],
                    buckets=_LATENCY_BUCKETS, registry=REGISTRY)
IN_PROGRESS = Gauge("procure_http_requests_in_progress", "HTTP requests being answered.", registry=REGISTRY)
SOLVER_SECONDS = Histogram("procure_solver_seconds", "CP-SAT seconds spent by one request (all its solves).",
                           buckets=_LATENCY_BUCKETS, registry=REGISTRY)
REJECTED = Counter("procure_rejected", "Requests refused or cancelled by a limit.", ["reason"], registry=REGISTRY)

_sources: dict[str, Callable[[], Any]] = {}


def register_source(name: str, source: Callable[[], Any]) -> None:
    """Register a zero-argument function read at scrape time (``cache``: the estimate cache; ``in_flight``)."""
    _sources[name] = source


def register_jobs_source(source: Callable[[], dict[str, int]]) -> None:
    """Register the function that counts batch jobs by state (``{"queued": 2, "running": 1}``)."""
    _sources["jobs"] = source


class _StateCollector(Collector):
    def collect(self) -> Iterator[Any]:
        cache = _sources.get("cache")
        if cache is not None:
            c = cache()
            yield GaugeMetricFamily("procure_estimate_cache_entries", "Estimates held by the LRU cache.", value=len(c))
            yield CounterMetricFamily("procure_estimate_cache_hits", "Estimate cache hits.", value=c.hits)
            yield CounterMetricFamily("procure_estimate_cache_misses", "Estimate cache misses.", value=c.misses)
        in_flight = _sources.get("in_flight")
        if in_flight is not None:
            yield GaugeMetricFamily("procure_work_in_flight", "Requests running under a work control.",
                                    value=in_flight())
        jobs = _sources.get("jobs")
        family = GaugeMetricFamily("procure_jobs", "Batch jobs by state.", labels=["state"])
        for state, count in (jobs() if jobs is not None else {}).items():
            family.add_metric([state], count)
        yield family


REGISTRY.register(_StateCollector())


def exposition() -> tuple[bytes, str]:
    """The metrics page and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

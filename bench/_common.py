"""Helpers shared by the benchmark scripts: timing statistics, machine description, result files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """Where the numbers were measured."""
    return {
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def time_calls(fn: Callable[[], object], *, repeat: int, warmup: int = 3) -> dict[str, float]:
    """Run ``fn`` repeatedly; return median/p95/mean wall-clock milliseconds, and the median CPU time of this
    process per call (``cpu_median_ms``: what one call costs; on a shared, loaded machine the wall clock also
    counts the time the scheduler gives to other processes)."""
    for _ in range(warmup):
        fn()
    samples = []
    cpu = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        c0 = time.process_time()
        fn()
        cpu.append((time.process_time() - c0) * 1000)
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {
        "cpu_median_ms": statistics.median(cpu),
        "n": repeat,
        "median_ms": statistics.median(samples),
        "p95_ms": samples[min(len(samples) - 1, int(0.95 * len(samples)))],
        "mean_ms": statistics.fmean(samples),
        "max_ms": samples[-1],
    }


def write(name: str, payload: dict[str, Any], markdown: str) -> None:
    """Write ``results/<name>.json`` and ``results/<name>.md``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (RESULTS / f"{name}.md").write_text(markdown, encoding="utf-8")

"""Run every benchmark and record its results in bench/results (``make bench``).

Each benchmark runs in its own process (``python -m bench.NAME``), one after the other, so a slow or failing one
does not disturb the timings of the next; the exit status is non-zero when any of them failed.

Run: .venv/bin/python -m bench.run_all                  (all; several minutes on 2 CPUs)
     .venv/bin/python -m bench.run_all --only estimator_bench --only validation_record
     .venv/bin/python -m bench.run_all --list
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS: dict[str, str] = {
    "estimator_bench": "estimator latency and accuracy (results/estimator.*)",
    "validation_record": "estimator vs published training runs (results/validation.*)",
    "optimizer_bench": "recommend() latency, scaling, CP-SAT vs MIP and brute force (results/optimizer.*)",
    "retrieval_bench": "search latency at 10,000+ chunks and recall (results/retrieval.*)",
    "load_bench": "50 loopback clients per endpoint, memory over 5,000 recommendations (results/load.*)",
    "jobs_bench": "batch scenarios/min, store cost SQLite vs PostgreSQL, Ray vs local (results/jobs.*)",
    "usecases_bench": "application-layer overhead: core vs usecases vs HTTP, CLI start-up (results/usecases.*)",
    "ask_bench": "deterministic ask over HTTP on a warm service, p50/p95 per intent (results/ask.*)",
    "risk_bench": "hedged recommend latency, 1 and 5 workloads x 50 and 500 scenarios (results/risk.*)",
    "data_bench": "break-even prices on top of recommend(), data-pack import/diff, screening (results/data.*)",
    "page_bench": "planner page load in Chromium on a warm local service, plan from the form (results/page.*)",
    "cli_startup_bench": "cold procure processes: --help and ask, CPU and wall per stage (results/cli_startup.*)",
    "llm_bench": "the LLM path with the packaged SmolLM2-135M on a sample of questions; slow (results/llm.*)",
}


def discovered() -> list[str]:
    """Benchmark modules present in bench/ (every ``*_bench.py`` plus the validation record)."""
    here = Path(__file__).resolve().parent
    return sorted(p.stem for p in here.glob("*.py") if p.stem.endswith("_bench") or p.stem == "validation_record")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="run only this benchmark (repeat)")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args(argv)
    if args.list:
        for name, what in BENCHMARKS.items():
            print(f"{name:20} {what}")
        return 0
    failed = []
    for name in args.only or list(BENCHMARKS):
        print(f"== {name}: {BENCHMARKS[name]}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=ROOT, check=False)
        took = time.perf_counter() - t0
        print(f"== {name}: {'ok' if proc.returncode == 0 else f'FAILED ({proc.returncode})'} in {took:.0f} s",
              file=sys.stderr, flush=True)
        if proc.returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

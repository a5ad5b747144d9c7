"""`make bench` runs bench/run_all.py, which knows every benchmark module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench import run_all

ROOT = Path(__file__).resolve().parents[1]


def test_run_all_covers_every_benchmark_module() -> None:
    assert run_all.discovered() == sorted(run_all.BENCHMARKS)


def test_run_all_lists_and_make_bench_calls_it() -> None:
    proc = subprocess.run([sys.executable, "-m", "bench.run_all", "--list"], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert all(name in proc.stdout for name in run_all.BENCHMARKS)
    assert "$(BIN)/python -m bench.run_all" in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_run_all_refuses_an_unknown_benchmark() -> None:
    proc = subprocess.run([sys.executable, "-m", "bench.run_all", "--only", "nope"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr

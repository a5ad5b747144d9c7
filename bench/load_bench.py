"""Load benchmark on loopback: 50 concurrent httpx clients against a real ``procure serve``.

Phase 1, per endpoint: 50 clients send requests for ``--seconds`` (bounded also by ``--max-requests``); errors,
throughput and p50/p95/p99 latency are recorded.
Phase 2, memory: the server's RSS before and after ``--recommendations`` (5,000) varied recommendation requests
from 50 clients, while one more client probes ``/healthz`` every 50 ms: its p99 is "liveness under load".

An error is any transport failure or any status other than 200. The server runs with a raised per-address rate
limit (all clients share 127.0.0.1) and otherwise default limits.

Run: .venv/bin/python -m bench.load_bench            (about 5-8 minutes on 2 CPUs)
     .venv/bin/python -m bench.load_bench --quick    (a smoke run; nothing written)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench._common import machine, write

CLIENTS = 50
Request = tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]  # method, path, params, json body


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _stats(latencies: list[float], errors: int, seconds: float) -> dict[str, Any]:
    return {
        "requests": len(latencies) + errors,
        "errors": errors,
        "rps": round((len(latencies) + errors) / seconds, 1) if seconds else None,
        "p50_ms": round(_pct(latencies, 0.50) * 1000, 1),
        "p95_ms": round(_pct(latencies, 0.95) * 1000, 1),
        "p99_ms": round(_pct(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
    }


def _training(rng: random.Random) -> dict[str, Any]:
    return {"kind": "training", "name": f"t{rng.randrange(10**6)}", "params": f"{rng.randint(1, 70)}B",
            "tokens": f"{rng.randint(2, 30) / 10:.1f}T", "deadline_days": rng.randint(20, 150),
            "precision": rng.choice(["bf16", "bf16", "fp8"])}


def varied_recommendation(rng: random.Random) -> dict[str, Any]:
    """A valid recommendation request with random sizes, deadlines, buyer and options."""
    workloads = [_training(rng)]
    if rng.random() < 0.4:
        workloads.append({"kind": "inference", "name": f"s{rng.randrange(10**6)}",
                          "params": f"{rng.choice([7, 14, 32, 70, 72])}B", "requests_per_s": rng.randint(5, 200)})
    return {"workloads": workloads,
            "buyer": {"country": rng.choice(["CN", "CN", "US", "DE", "JP", "SG"]), "date": "2026-02-15"},
            "objective": "min_cost", "alternatives": rng.choice([0, 0, 1, 2]), "pareto": rng.random() < 0.05}


ENDPOINTS: dict[str, Callable[[random.Random], Request]] = {
    "GET /healthz": lambda r: ("GET", "/healthz", None, None),
    "GET /readyz": lambda r: ("GET", "/readyz", None, None),
    "GET /v1/catalog/accelerators": lambda r: ("GET", "/v1/catalog/accelerators", None, None),
    "GET /v1/catalog/accelerators/{sku}": lambda r: (
        "GET", f"/v1/catalog/accelerators/{r.choice(['h20', 'h100', 'ascend-910b', 'mi308x'])}", None, None),
    "POST /v1/compliance/check": lambda r: ("POST", "/v1/compliance/check", None, {
        "sku": r.choice(["h20", "h200", "b200", "h100"]), "buyer_country": r.choice(["CN", "US", "AE"]),
        "date": "2026-02-15"}),
    "POST /v1/estimates/training": lambda r: ("POST", "/v1/estimates/training", None, {
        "params": r.randint(1, 70) * 1e9, "tokens": r.randint(1, 20) * 1e11, "accelerator": "h20",
        "count": r.choice([8, 64, 256])}),
    "POST /v1/estimates/inference": lambda r: ("POST", "/v1/estimates/inference", None, {
        "params": r.choice([7, 70]) * 1e9, "accelerator": "h20", "requests_per_s": r.randint(1, 100)}),
    "GET /v1/corpus/search": lambda r: ("GET", "/v1/corpus/search", {
        "q": r.choice(["H20 memory bandwidth", "昇腾910B 算力", "export licence H200", "TPP threshold"]), "k": 5},
        None),
    "POST /v1/recommendations": lambda r: ("POST", "/v1/recommendations", None, varied_recommendation(r)),
}


async def _client(http: httpx.AsyncClient, make: Callable[[random.Random], Request], seed: int, stop_at: float,
                  budget: list[int], latencies: list[float], errors: list[str]) -> None:
    rng = random.Random(seed)
    while time.monotonic() < stop_at and budget[0] > 0:
        budget[0] -= 1
        method, path, params, body = make(rng)
        t0 = time.perf_counter()
        try:
            r = await http.request(method, path, params=params, json=body)
            if r.status_code == 200:
                latencies.append(time.perf_counter() - t0)
            else:
                errors.append(f"{r.status_code} {path}: {r.text[:200]}")
        except httpx.HTTPError as exc:
            errors.append(f"{exc.__class__.__name__} {path}")


async def _load(url: str, make: Callable[[random.Random], Request], seconds: float, count: int,
                seed: int) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    budget = [count]
    # idle pooled connections expire before the server's 5 s keep-alive timeout closes them, so no request is
    # ever sent on a connection the server is closing (the usual keep-alive race, a client-side setting)
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        start = time.monotonic()
        await asyncio.gather(*(_client(http, make, seed * 1000 + i, start + seconds, budget, latencies, errors)
                               for i in range(CLIENTS)))
        return latencies, errors, time.monotonic() - start


async def _probe(url: str, stop: asyncio.Event, latencies: list[float], errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(keepalive_expiry=2.0)) as http:
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                r = await http.get("/healthz")
                (latencies.append(time.perf_counter() - t0) if r.status_code == 200
                 else errors.append(str(r.status_code)))
            except httpx.HTTPError as exc:
                errors.append(exc.__class__.__name__)
            await asyncio.sleep(0.05)


async def _memory_phase(url: str, proc: psutil.Process, count: int, seconds: float) -> dict[str, Any]:
    rss_before = proc.memory_info().rss
    stop = asyncio.Event()
    health: list[float] = []
    health_errors: list[str] = []
    probe = asyncio.create_task(_probe(url, stop, health, health_errors))
    latencies, errors, elapsed = await _load(url, ENDPOINTS["POST /v1/recommendations"], seconds, count, seed=99)
    stop.set()
    await probe
    rss_after = proc.memory_info().rss
    return {
        "recommendations": _stats(latencies, len(errors), elapsed),
        "error_samples": errors[:5],
        "rss_before_mb": round(rss_before / 2**20, 1),
        "rss_after_mb": round(rss_after / 2**20, 1),
        "rss_growth_mb": round((rss_after - rss_before) / 2**20, 1),
        "healthz_under_load": _stats(health, len(health_errors), elapsed),
    }


def cache_entry_bytes(requests: int = 40) -> dict[str, float]:
    """Memory of one estimate-cache entry, measured with tracemalloc over the tables of varied requests."""
    import gc
    import tracemalloc

    from optimizer.catalog import load_catalog
    from optimizer.compliance import load_engine
    from optimizer.request import PurchaseRequest
    from optimizer.table import EstimateCache, build_table

    catalog = load_catalog()
    engine = load_engine(catalog)
    cache = EstimateCache(max_entries=10**6)
    rng = random.Random(3)
    reqs = [PurchaseRequest.model_validate(varied_recommendation(rng)) for _ in range(requests)]
    build_table(catalog, engine, reqs[0], cache)
    gc.collect()
    tracemalloc.start()
    before, entries = tracemalloc.get_traced_memory()[0], len(cache)
    for req in reqs[1:]:
        build_table(catalog, engine, req, cache)
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    added = len(cache) - entries
    return {"entries": added, "bytes_per_entry": round(grown / max(1, added))}


def _start_server(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    exe = shutil.which("procure", path=str(Path(sys.executable).parent))
    if exe is None:
        raise SystemExit("procure is not installed in this environment (make install)")
    port = _free_port()
    env = {**os.environ, "PROCURE_DATA_DIR": str(data), "PROCURE_PORT": str(port), "PROCURE_HOST": "127.0.0.1",
           "PROCURE_SECURITY__RATE_LIMIT": "1000000/minute", "PROCURE_SECURITY__QUOTA": "100000000/day",
           "PROCURE_LOG_LEVEL": "warning"}
    proc = subprocess.Popen([exe, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            if proc.poll() is not None:
                break
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("the server did not become ready")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per endpoint")
    parser.add_argument("--max-requests", type=int, default=5000, help="request cap per endpoint")
    parser.add_argument("--recommendations", type=int, default=5000, help="varied recommendations in phase 2")
    parser.add_argument("--memory-seconds", type=float, default=420.0, help="time cap of phase 2")
    parser.add_argument("--quick", action="store_true", help="2 s per endpoint, 200 recommendations; no files")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.recommendations = 2.0, 200
    entry = cache_entry_bytes()
    print(f"estimate cache: {entry}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="procure-load-") as tmp:
        proc, url = _start_server(Path(tmp))
        try:
            server = psutil.Process(proc.pid)
            endpoints: dict[str, Any] = {}
            samples: dict[str, list[str]] = {}
            for i, (name, make) in enumerate(ENDPOINTS.items()):
                latencies, errors, elapsed = asyncio.run(_load(url, make, args.seconds, args.max_requests, seed=i))
                endpoints[name] = _stats(latencies, len(errors), elapsed)
                samples[name] = errors[:3]
                print(f"{name:40s} {endpoints[name]}", file=sys.stderr)
            memory = asyncio.run(_memory_phase(url, server, args.recommendations, args.memory_seconds))
            print(f"memory phase {memory}", file=sys.stderr)
            metrics = httpx.get(f"{url}/metrics", timeout=10).text
            cache = next((line.split()[-1] for line in metrics.splitlines()
                          if line.startswith("procure_estimate_cache_entries ")), None)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    payload = {"machine": machine(), "clients": CLIENTS, "seconds_per_endpoint": args.seconds,
               "max_requests_per_endpoint": args.max_requests, "endpoints": endpoints, "error_samples": samples,
               "memory": memory, "estimate_cache_entries_after": cache, "estimate_cache_entry": entry,
               "total_errors": sum(e["errors"] for e in endpoints.values()) + memory["recommendations"]["errors"]}
    if args.quick:
        print(payload)
        return
    rows = "\n".join(f"| `{n}` | {e['requests']} | {e['errors']} | {e['rps']} | {e['p50_ms']} | {e['p95_ms']} | "
                     f"{e['p99_ms']} |" for n, e in endpoints.items())
    rec, hz = memory["recommendations"], memory["healthz_under_load"]
    rss = f"{memory['rss_before_mb']} MB → {memory['rss_after_mb']} MB (growth {memory['rss_growth_mb']} MB)"
    probes = f"{hz['requests']}, {hz['errors']}, {hz['p50_ms']} ms / {hz['p99_ms']} ms"
    md = f"""# Load benchmark (loopback, {CLIENTS} concurrent httpx clients)

Measured {payload['machine']['measured_at']} on {payload['machine']['cpu_count']} CPUs (shared machine), Python
{payload['machine']['python']}, one `procure serve` process with default limits (rate limit raised: all clients
share one address). Re-run: `.venv/bin/python -m bench.load_bench`.

## Per endpoint ({args.seconds:g} s or {args.max_requests} requests each)

| endpoint | requests | errors | req/s | p50 ms | p95 ms | p99 ms |
|---|---|---|---|---|---|---|
{rows}

## Memory across {rec['requests']} varied recommendation requests

| | value |
|---|---|
| recommendations answered / errors | {rec['requests']} / {rec['errors']} |
| recommendation p50 / p99 | {rec['p50_ms']} ms / {rec['p99_ms']} ms |
| server RSS before → after | {rss} |
| estimate cache entries after (LRU bound 5,000) | {cache} |
| one cache entry (tracemalloc, {entry['entries']} entries) | {entry['bytes_per_entry'] / 1024:.1f} KB |
| `/healthz` under that load: probes, errors, p50 / p99 | {probes} |

Total errors (non-200 or transport): **{payload['total_errors']}**.
"""
    write("load", payload, md)
    print(md)


if __name__ == "__main__":
    main()

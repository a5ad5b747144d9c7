"""Batch job benchmarks: scenarios per minute, the store's cost per scenario (SQLite vs PostgreSQL), Ray vs local.

(a) Throughput: the analyst's sweep (examples/sweep.yaml: 70B training, min_time, 20 budgets x CN/DE/AE x 13
    quarterly dates x with/without H20 = 1,560 scenarios) on the local pool with 2 workers (2 cores). *Warm* is
    the steady rate after each worker's first 5% of scenarios (its estimate cache is then filled); *end to end*
    counts from submission to the last result, including process start-up and domain loading.
(b) Store cost: the same job machinery with a no-op scenario runner, so only creating the job, claiming,
    leasing and recording results is timed, on SQLite (file, WAL) and PostgreSQL (127.0.0.1:5432, own schema).
(c) Ray vs local: the same spec and worker count on the local pool and on a local Ray (127.0.0.1); the results
    must be identical.
(d) Submission (issue 23): the largest sweep the default cap admits (20,000 scenarios) is expanded and streamed
    into the store; time, and the peak memory Python allocated for it (tracemalloc), against expanding the same
    spec into a list first (what submission did before). The probe's 500,000-budget spec is refused from its axes:
    the time to refuse it.

Target (issue 12): >= 3,000 scenarios/min on 2 cores for single-workload training sweeps with a warm cache.
Run: .venv/bin/python -m bench.jobs_bench [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench._common import machine, write
from service.jobs.executors import Executor, LocalExecutor, RayExecutor, run_job
from service.jobs.spec import SweepSpec, load_spec, parse_spec
from service.jobs.store import JobStore
from service.jobs.worker import WorkerConfig
from service.storage import make_engine, upgrade
from service.usecases.batch import ScenarioContext

ROOT = Path(__file__).resolve().parents[1]
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_PER_MIN = 3000
WORKERS = 2


def noop_runner(ctx: ScenarioContext, payload: dict[str, Any]) -> dict[str, Any]:
    """A scenario that does no work: what is left is the store's cost."""
    return {"plan_status": "optimal", "parts": "h20", "total_cost": 1.0, "binding_constraints": ["budget"]}


def _sqlite(folder: Path, name: str) -> str:
    return f"sqlite:///{folder / name}.db"


def _pg_schema() -> tuple[str, str] | None:
    try:
        admin = make_engine(PG_URL)
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        return PG_URL + f"?options=-csearch_path%3D{schema}", schema
    except Exception:
        return None


def _drop_pg(schema: str) -> None:
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _run(url: str, spec: SweepSpec, executor: Executor, *, runner: str | None = None,
         batch: int = 8) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade(engine)
    store = JobStore(engine)
    t0 = time.perf_counter()
    job, _ = store.create(spec)
    t_create = time.perf_counter() - t0
    final = run_job(store, job.id, executor, WorkerConfig(db_url=url, job_id=job.id, batch=batch, poll_s=0.2,
                                                          runner=runner), workers=WORKERS, poll_s=0.1)
    wall = time.perf_counter() - t0
    rows = list(store.results(job.id))
    assert final.state == "completed" and len(rows) == final.total, final
    # steady rate: skip each worker's first 5% of results (start-up and cache filling)
    by_worker: dict[str, list[float]] = {}
    for r in rows:
        by_worker.setdefault(r["worker"], []).append(r["created_at"])
    kept, first, last = 0, [], []
    for stamps in by_worker.values():
        stamps.sort()
        skip = max(1, len(stamps) // 20)
        if len(stamps) > skip + 1:
            kept += len(stamps) - skip
            first.append(stamps[skip - 1])
            last.append(stamps[-1])
    span = max(last) - min(first) if first else float("nan")
    durations = sorted(r["duration_ms"] for r in rows if r["duration_ms"] is not None)
    outcome = {"total": final.total, "done": final.counts.get("done", 0), "failed": final.counts.get("failed", 0),
               "create_s": t_create, "wall_s": wall, "end_to_end_per_min": final.total / wall * 60,
               "warm_per_min": kept / span * 60 if span and span > 0 else None,
               "scenario_ms_median": statistics.median(durations) if durations else None,
               "scenario_ms_p95": durations[int(0.95 * (len(durations) - 1))] if durations else None,
               "results": {r["scenario_id"]: (r["status"], r["result"], r["error"]) for r in rows}}
    engine.dispose()
    return outcome


def _store_cost(url: str, n: int) -> dict[str, Any]:
    """Per-scenario store cost with a no-op runner: creation (insert) and claim+complete (the run)."""
    spec = parse_spec({"base": {"workloads": [{"params": "7B", "tokens": "1T"}], "buyer": {"country": "DE",
                                                                                           "date": "2025-08-01"},
                                "budget": {"amount": 1e8}, "objective": "min_time"},
                       "sweep": {"budget.amount": {"from": 1e7, "to": 1e9, "steps": n}}})
    out = _run(url, spec, LocalExecutor(), runner="bench.jobs_bench:noop_runner")
    return {"scenarios": n, "create_ms_per_scenario": out["create_s"] * 1000 / n,
            "run_ms_per_scenario_2_workers": 1000 * 60 / out["warm_per_min"] / 1 if out["warm_per_min"] else None,
            "store_scenarios_per_min": out["warm_per_min"], "wall_s": out["wall_s"]}


def _per_core(spec: SweepSpec) -> dict[str, Any]:
    """One worker's compute alone, in this process: every scenario twice; the second pass is warm."""
    from service.container import build_context
    from service.jobs.runner import run_scenario
    from service.jobs.spec import expand
    from service.settings import Settings
    from service.usecases.batch import scenario_context

    scenarios = expand(spec)
    ctx = scenario_context(build_context(Settings()))
    passes = []
    for _ in range(2):
        t0 = time.perf_counter()
        for s in scenarios:
            run_scenario(ctx, s.payload())
        passes.append(time.perf_counter() - t0)
    return {"scenarios": len(scenarios), "cold_per_min": len(scenarios) / passes[0] * 60,
            "warm_per_min": len(scenarios) / passes[1] * 60, "warm_ms_per_scenario": passes[1] * 1000 / len(scenarios)}


def _submission(url: str, n_budgets: int = 180) -> dict[str, Any]:
    """Stream the cap-size sweep into the store; peak memory against a materialised expansion; the F1 refusal."""
    import gc
    import tracemalloc

    from service.jobs.spec import DEFAULT_MAX_SCENARIOS, expand
    from service.usecases import LimitExceededError

    base = {"workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T"}],
            "buyer": {"country": "CN", "date": "2025-08-01"}, "budget": {"amount": "5000万"},
            "objective": "min_time", "alternatives": 0}
    spec = parse_spec({"base": base, "sweep": {
        "budget.amount": {"from": 2e7, "to": 5e8, "steps": n_budgets, "scale": "log"},
        "buyer.country": ["CN", "DE", "AE", "SG", "JP"],
        "buyer.date": {"from": "2023-06-01", "to": "2025-12-01", "every": "quarter"},
        "whatif.remove_skus": [[], ["h20"]]}})
    engine = make_engine(url)
    upgrade(engine)
    store = JobStore(engine)
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    job, _ = store.create(spec)
    streamed_s = time.perf_counter() - t0
    streamed_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    gc.collect()
    tracemalloc.start()
    scenarios = expand(spec)
    listed_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del scenarios
    probe = {"base": base, "sweep": {"budget.amount": {"from": 2e7, "to": 1e9, "steps": 500_000, "scale": "log"}}}
    t0 = time.perf_counter()
    try:
        parse_spec(probe)
        refused = False
    except LimitExceededError:
        refused = True
    refuse_ms = (time.perf_counter() - t0) * 1000
    engine.dispose()
    return {"scenarios": job.total, "cap": DEFAULT_MAX_SCENARIOS, "stream_s": streamed_s,
            "stream_peak_mb": streamed_peak / 2**20, "list_peak_mb": listed_peak / 2**20,
            "probe_refused": refused, "probe_refuse_ms": refuse_ms}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test of the script)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jobs-bench-"))
    spec = load_spec(ROOT / "examples" / "sweep.yaml")
    if args.quick:
        spec = spec.model_copy(update={"sweep": {**spec.sweep, "buyer.date": spec.sweep["buyer.date"][:2]}})
    payload: dict[str, Any] = {"machine": machine(), "workers": WORKERS, "target_per_min": TARGET_PER_MIN,
                               "load_average_at_start": os.getloadavg()}
    try:
        print("(a0) one worker's compute in-process ...", flush=True)
        payload["per_core_in_process"] = _per_core(spec)
        print(payload["per_core_in_process"], flush=True)

        print("(a) throughput, local pool, SQLite ...", flush=True)
        local = _run(_sqlite(tmp, "a"), spec, LocalExecutor())
        payload["throughput_local_sqlite"] = {k: v for k, v in local.items() if k != "results"}
        print({k: v for k, v in local.items() if k != "results"}, flush=True)

        print("(b) store cost ...", flush=True)
        n = 500 if args.quick else 3000
        payload["store_cost"] = {"sqlite": _store_cost(_sqlite(tmp, "b"), n)}
        pg = _pg_schema()
        if pg:
            try:
                payload["store_cost"]["postgresql"] = _store_cost(pg[0], n)
            finally:
                _drop_pg(pg[1])
        print(payload["store_cost"], flush=True)

        print("(c) Ray vs local ...", flush=True)
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        ray_tmp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
        ray_ex = RayExecutor(None, num_cpus=WORKERS, temp_dir=ray_tmp)
        try:
            ray_out = _run(_sqlite(tmp, "c"), spec, ray_ex)
        finally:
            ray_ex.close()
            shutil.rmtree(ray_tmp, ignore_errors=True)
        payload["throughput_ray_sqlite"] = {k: v for k, v in ray_out.items() if k != "results"}
        payload["ray_results_identical_to_local"] = ray_out["results"] == local["results"]
        print(payload["throughput_ray_sqlite"], payload["ray_results_identical_to_local"], flush=True)

        print("(d) submission of the cap-size sweep ...", flush=True)
        big = 20 if args.quick else 180  # 180 budgets x 5 countries x 11 quarters x 2 = 19,800, under the cap
        payload["submission"] = {"sqlite (small)": _submission(_sqlite(tmp, "d0"), 20),
                                 "sqlite": _submission(_sqlite(tmp, "d"), big)}
        pg = _pg_schema()
        if pg:
            try:
                payload["submission"]["postgresql"] = _submission(pg[0], big)
            finally:
                _drop_pg(pg[1])
        print(payload["submission"], flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    payload["load_average_at_end"] = os.getloadavg()
    payload["history"] = _history(payload)
    if not args.quick:
        write("jobs", payload, _markdown(payload))


def _headline(p: dict[str, Any]) -> dict[str, Any]:
    return {"measured_at": p["machine"]["measured_at"],
            "load_average_at_start": round(p["load_average_at_start"][0], 1),
            "local_warm_per_min": round(p["throughput_local_sqlite"]["warm_per_min"] or 0),
            "ray_warm_per_min": round(p["throughput_ray_sqlite"]["warm_per_min"] or 0),
            "per_core_warm_per_min": round(p["per_core_in_process"]["warm_per_min"])}


def _history(p: dict[str, Any]) -> list[dict[str, Any]]:
    """Headline figures of earlier recorded runs (kept in results/jobs.json) plus this one, newest last."""
    from bench._common import RESULTS

    old: list[dict[str, Any]] = []
    path = RESULTS / "jobs.json"
    if path.exists():
        import json

        previous = json.loads(path.read_text(encoding="utf-8"))
        old = list(previous.get("history") or ([_headline(previous)] if "per_core_in_process" in previous else []))
    return [*old[-9:], _headline(p)]


def _f(v: Any, digits: int = 0) -> str:
    return "–" if v is None else f"{v:,.{digits}f}"


def _markdown(p: dict[str, Any]) -> str:
    m = p["machine"]
    a, r = p["throughput_local_sqlite"], p["throughput_ray_sqlite"]
    met = a["warm_per_min"] is not None and a["warm_per_min"] >= TARGET_PER_MIN
    lines = [
        "# Batch job benchmarks",
        "",
        f"Measured {m['measured_at']} on {m['cpu_count']} CPUs ({m['processor']}), Python {m['python']}, "
        f"{WORKERS} workers. The machine is shared with other engineers' work (load average "
        f"{p['load_average_at_start'][0]:.1f} at the start, {p['load_average_at_end'][0]:.1f} at the end, on "
        f"{m['cpu_count']} CPUs); under load the workers get only part of the 2 cores, so rates vary several-fold "
        "from run to run (see the history at the end). "
        "Reproduce with `.venv/bin/python -m bench.jobs_bench`.",
        "",
        "Spec: `examples/sweep.yaml` (70B/1.4T training, min_time, 20 log-spaced budgets ¥20M–¥500M × buyer "
        "CN/DE/AE × 13 quarterly dates 2023-06…2026-06 × with/without H20 = 1,560 scenarios, `alternatives: 0`). "
        "*warm* = steady rate after each worker's first 5 % of scenarios (its estimate cache filled); "
        "*end to end* = from submission (expanding and storing the spec included) to the last result, with "
        "worker start-up.",
        "",
        "## (a) Scenarios per minute, local pool, SQLite",
        "",
        "| executor | scenarios | done | failed | warm /min | end to end /min | wall s | scenario median ms | "
        "p95 ms | target /min | met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, row in (("local", a), ("ray (local, 127.0.0.1)", r)):
        lines.append(f"| {name} | {row['total']} | {row['done']} | {row['failed']} | {_f(row['warm_per_min'])} | "
                     f"{_f(row['end_to_end_per_min'])} | {_f(row['wall_s'], 1)} | "
                     f"{_f(row['scenario_ms_median'], 1)} | {_f(row['scenario_ms_p95'], 1)} | {TARGET_PER_MIN:,} | "
                     f"{'yes' if row['warm_per_min'] and row['warm_per_min'] >= TARGET_PER_MIN else '**no**'} |")
    c = p["per_core_in_process"]
    lines += [
        "",
        f"Target ≥ {TARGET_PER_MIN:,}/min warm on 2 cores: **{'met' if met else 'not met'}** on this shared machine.",
        "",
        f"One worker's compute alone (in-process, no store, the same {c['scenarios']:,} scenarios twice): cold "
        f"{_f(c['cold_per_min'])}/min, warm {_f(c['warm_per_min'])}/min ({_f(c['warm_ms_per_scenario'], 1)} ms per "
        "scenario, all of it in `recommend()`: option table, CP-SAT stages, binding-constraint solves, "
        "re-validation). Two such workers on two otherwise idle cores would give about twice that; that figure is "
        "a projection, not a measurement.",
        "",
        "## (b) Store cost per scenario (no-op scenarios)",
        "",
        "A runner that returns a fixed row leaves only the store's work: inserting the scenarios, claiming them "
        "in batches of 8 under a lease, heartbeats, and recording each result once (2 worker processes).",
        "",
        "| database | scenarios | create ms/scenario | store-bound scenarios/min | run ms/scenario (2 workers) |",
        "|---|---:|---:|---:|---:|",
    ]
    for db, row in p["store_cost"].items():
        lines.append(f"| {db} | {row['scenarios']:,} | {_f(row['create_ms_per_scenario'], 3)} | "
                     f"{_f(row['store_scenarios_per_min'])} | {_f(row['run_ms_per_scenario_2_workers'], 3)} |")
    lines += [
        "",
        "## (c) Ray vs local on the same spec",
        "",
        f"Results identical (status, plan row, error for every scenario id): "
        f"**{'yes' if p['ray_results_identical_to_local'] else 'NO'}**. Warm rate local "
        f"{_f(a['warm_per_min'])}/min vs Ray {_f(r['warm_per_min'])}/min; end to end {_f(a['wall_s'], 1)} s vs "
        f"{_f(r['wall_s'], 1)} s (Ray's start-up included). Near-linear scaling across Ray nodes is not measured "
        "here: this machine has 2 cores.",
        "",
        "## (d) Submitting the largest sweep the default cap admits",
        "",
        "The spec's scenarios are expanded one at a time and streamed into the store in chunks of 2,000 inside one "
        "transaction (which a cancelled request rolls back). *Peak* is the most memory Python had allocated for "
        "the submission at any moment (tracemalloc), against expanding the same spec into a list first, as "
        "submission did before: the streamed peak stays flat as the sweep grows ten-fold, the list's grows with it. "
        "The probe's spec (500,000 log-spaced budgets) is refused from its axes.",
        "",
        "| database | scenarios | stream + store s | peak MB streamed | peak MB as a list | probe refused | "
        "refused in ms |",
        "|---|---:|---:|---:|---:|---|---:|",
        *[f"| {db} | {row['scenarios']:,} | {_f(row['stream_s'], 1)} | {_f(row['stream_peak_mb'], 1)} | "
          f"{_f(row['list_peak_mb'], 1)} | {'yes' if row['probe_refused'] else '**no**'} | "
          f"{_f(row['probe_refuse_ms'], 1)} |" for db, row in p.get("submission", {}).items()],
        "",
        "## History of recorded runs (same script; earlier rows may predate later code changes)",
        "",
        "| measured at (UTC) | load average at start | local warm /min | Ray warm /min | "
        "one worker in-process warm /min |",
        "|---|---:|---:|---:|---:|",
    ]
    for h in p["history"]:
        lines.append(f"| {h['measured_at']} | {h['load_average_at_start']} | {h['local_warm_per_min']:,} | "
                     f"{h['ray_warm_per_min']:,} | {h['per_core_warm_per_min']:,} |")
    lines += [
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

"""Purchase optimizer benchmarks: recommend() latency, solve latency vs SKUs and workloads, CP-SAT vs MIP
(SCIP, HiGHS) and vs brute-force enumeration.

Targets (issue 8, tighter than DESIGN.md §8): single workload with the full catalog ≤ 50 ms warm / ≤ 100 ms cold
median; 5-workload portfolio ≤ 500 ms warm (≤ 1 s cold, DESIGN.md §8) on 2 cores. Also timed: relaxations of
infeasible requests (searched on the real model and verified by re-solving).

Synthetic SKUs for the scaling runs are clones of the sourced, admissible SKUs with perturbed prices and
specs, written to a user catalog file in a temporary folder and loaded with ``load_catalog([path])``.

Run: .venv/bin/python -m bench.optimizer_bench            (about 2-3 minutes on 2 CPUs)
     .venv/bin/python -m bench.optimizer_bench --profile  (cProfile of recommend(), printed; nothing written)
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import cProfile
import io
import math
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import ortools
import yaml
from ortools.linear_solver import pywraplp

import optimizer.solve as solve_module
from bench._common import machine, write
from optimizer.catalog import Catalog, load_catalog
from optimizer.compliance import ComplianceEngine, load_engine
from optimizer.model.objectives import ModelObjective
from optimizer.recommend import recommend
from optimizer.request import PurchaseRequest
from optimizer.solve import SolveResult, SolveStatus, solve
from optimizer.table import EstimateCache, OptionTable, build_table
from tests.oracles.brute import brute_force
from tests.oracles.mip import available_mip_solvers, objective_value, solve_mip

TARGET_SINGLE_MS = {"cold": 100.0, "warm": 50.0}
TARGET_PORTFOLIO_MS = {"cold": 1000.0, "warm": 500.0}
BUYER_DE = {"country": "DE", "date": "2026-02-15"}
BUYER_SG = {"country": "SG", "date": "2026-02-15"}
BUYER_CN = {"country": "CN", "date": "2026-02-15"}  # H200 case-by-case regime


# ---------------------------------------------------------------------- statistics
def stats(samples_ms: Sequence[float]) -> dict[str, float]:
    s = sorted(samples_ms)
    return {"n": len(s), "median_ms": statistics.median(s), "p95_ms": s[min(len(s) - 1, math.ceil(0.95 * len(s)) - 1)],
            "mean_ms": statistics.fmean(s), "max_ms": s[-1]}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t0) * 1000, out


def sample(fn: Callable[[], Any], repeat: int, budget_ms: float = 2000.0) -> tuple[list[float], Any]:
    """Up to ``repeat`` timed calls, fewer once ``budget_ms`` is spent (slow solves are timed once)."""
    out: list[float] = []
    result = None
    for _ in range(repeat):
        ms, result = timed(fn)
        out.append(ms)
        if sum(out) > budget_ms:
            break
    return out, result


@contextlib.contextmanager
def cpsat_parameters(**params: Any) -> Iterator[None]:
    """Within the block, every optimizer.solve call runs CP-SAT with these parameters instead of the defaults."""
    original = dict(solve_module.CPSAT_PARAMETERS)
    solve_module.CPSAT_PARAMETERS.update(params)
    try:
        yield
    finally:
        solve_module.CPSAT_PARAMETERS.clear()
        solve_module.CPSAT_PARAMETERS.update(original)


TUNED = {"linearization_level": 1}
"""Comparison setting: CP-SAT's own default linearisation (level 1). `optimizer/solve.py` uses level 2 since this
benchmark showed level 1 stalling on domestic-share portfolios; the *lin1* rows keep that evidence visible."""


# ---------------------------------------------------------------------- synthetic catalog
def _scale_figure(fig: Any, factor: float) -> Any:
    """A perturbed copy of a figure (value and range scaled), re-sourced as a benchmark assumption."""
    if not isinstance(fig, dict) or fig.get("value") is None:
        return fig
    out = {k: v for k, v in fig.items() if k not in ("note", "source", "grade", "unit")}
    unit = fig.get("unit")
    for key in ("value", "low", "high"):
        if fig.get(key) is not None:
            out[key] = round(float(fig[key]) * factor, 4)
    if unit:
        out["unit"] = unit
    out.update(source=["BENCH"], grade="A", note="synthetic benchmark clone (perturbed)")
    return out


def _scale_price(price: Any, factor: float) -> Any:
    if not isinstance(price, dict):
        return price
    out = {**price, "source": ["BENCH"], "grade": "A", "note": "synthetic benchmark clone (perturbed)"}
    for key in ("low", "base", "high"):
        out[key] = round(float(price[key]) * factor, 2)
    return out


def write_synthetic_catalog(folder: Path, bases: Sequence[str], clones_per_sku: int, seed: int = 7) -> tuple[
        Path, list[str]]:
    """Write a user catalog with ``clones_per_sku`` perturbed clones of each base SKU (and of its node types)."""
    data = resources.files("optimizer.data")
    raw = yaml.safe_load(data.joinpath("catalog.yaml").read_text(encoding="utf-8"))
    prices = yaml.safe_load(data.joinpath("prices.yaml").read_text(encoding="utf-8"))  # prices are a pack of their own
    for kind in ("accelerators", "nodes"):
        priced = {r["id"]: r for r in prices.get(kind, [])}
        for rec in raw[kind]:
            rec.update({k: v for k, v in priced.get(rec["id"], {}).items() if k != "id"})
    accs = {a["id"]: a for a in raw["accelerators"]}
    nodes = raw["nodes"]
    rng = random.Random(seed)
    out_accs: list[dict[str, Any]] = []
    out_nodes: list[dict[str, Any]] = []
    ids: list[str] = []
    for k in range(1, clones_per_sku + 1):
        for sku in bases:
            base = accs[sku]
            cid = f"{sku}-x{k}"
            price_f, perf_f, bw_f = rng.uniform(0.8, 1.25), rng.uniform(0.9, 1.1), rng.uniform(0.9, 1.1)
            acc = copy.deepcopy(base)
            acc.update(id=cid, name=f"{base['name']} synthetic {k}", aliases=[])
            acc.pop("released", None)
            acc["dense"] = {p: _scale_figure(f, perf_f) for p, f in base["dense"].items()}
            if base.get("sparse"):
                acc["sparse"] = {p: _scale_figure(f, perf_f) for p, f in base["sparse"].items()}
            acc["memory_bandwidth_tbps"] = _scale_figure(base["memory_bandwidth_tbps"], bw_f)
            if base.get("price"):
                acc["price"] = _scale_price(base["price"], price_f)
            out_accs.append(acc)
            for n in nodes:
                if n["accelerator"] == sku:
                    node = copy.deepcopy(n)
                    node.update(id=f"{n['id']}-x{k}", name=f"{n['name']} synthetic {k}", accelerator=cid)
                    if n.get("price"):
                        node["price"] = _scale_price(n["price"], price_f)
                    out_nodes.append(node)
            ids.append(cid)
    doc = {"sources": {"BENCH": {"title": "Synthetic benchmark clones (perturbed copies of sourced SKUs)"}},
           "accelerators": out_accs, "nodes": out_nodes}
    path = folder / "synthetic_skus.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, ids


# ---------------------------------------------------------------------- requests
def training(name: str = "train-70b", params: str = "70B", tokens: str = "1.4T",
             deadline: float | None = None) -> dict[str, Any]:
    w: dict[str, Any] = {"kind": "training", "name": name, "params": params, "tokens": tokens}
    if deadline is not None:
        w["deadline_days"] = deadline
    return w


def inference(name: str, params: str, rps: float, **kw: Any) -> dict[str, Any]:
    return {"kind": "inference", "name": name, "params": params, "requests_per_s": rps, **kw}


MIXED_WORKLOADS: list[dict[str, Any]] = [
    training("train-70b", "70B", "1.4T", 120),
    inference("serve-72b", "72B", 150),
    training("finetune-13b", "13B", "200B", 30),
    inference("serve-7b", "7B", 600, prompt_tokens=1024, output_tokens=256),
    inference("serve-32b", "32B", 80),
    training("train-8b", "8B", "2T", 60),
    inference("serve-14b", "14B", 300),
    training("train-34b", "34B", "1T", 90),
    inference("serve-70b-long", "70B", 40, prompt_tokens=8192),
    training("finetune-7b", "7B", "50B", 14),
]
"""Portfolio mix: the first k form the k-workload portfolio (training jobs carry deadlines)."""


def single_requests(buyer: dict[str, Any], skus: list[str] | None, n: int = 32) -> list[PurchaseRequest]:
    """Varied single-training requests: half min_cost under deadlines, half min_time under budgets."""
    out = []
    half = n // 2
    for i in range(half):
        deadline = round(45 + i * (180 - 45) / max(1, half - 1))
        out.append(PurchaseRequest.model_validate({
            "workloads": [training(deadline=deadline)], "buyer": buyer, "objective": "min_cost",
            "budget": {"amount": 5e8, "currency": "CNY"}, "skus": skus, "break_even_prices": False}))
    for i in range(n - half):
        budget = 2e7 * (300e6 / 2e7) ** (i / max(1, n - half - 1))
        out.append(PurchaseRequest.model_validate({
            "workloads": [training()], "buyer": buyer, "objective": "min_time",
            "budget": {"amount": round(budget, -4), "currency": "CNY"}, "skus": skus, "break_even_prices": False}))
    return out


def portfolio_requests(buyer: dict[str, Any], skus: list[str] | None, k: int, n: int = 30,
                       policy: dict[str, Any] | None = None) -> list[PurchaseRequest]:
    """Varied k-workload min_cost portfolios: deadlines stretched and budgets scaled per run."""
    out = []
    for i in range(n):
        stretch = 0.8 + 0.8 * i / max(1, n - 1)
        ws = []
        for w in MIXED_WORKLOADS[:k]:
            w = dict(w)
            if w["kind"] == "training":
                w["deadline_days"] = round(w["deadline_days"] * stretch, 1)
            ws.append(w)
        out.append(PurchaseRequest.model_validate({
            "workloads": ws, "buyer": buyer, "objective": "min_cost", "skus": skus,
            "budget": {"amount": 2e9 * stretch, "currency": "CNY"}, "policy": policy or {},
            "break_even_prices": False}))  # the core plan; break-even prices are measured apart (data_bench)
    return out


# ---------------------------------------------------------------------- helpers
def admissible_skus(catalog: Catalog, engine: ComplianceEngine, buyer: dict[str, Any]) -> list[str]:
    """SKUs that yield admissible options for a 70B training job (priced, estimable, allowed by policy)."""
    req = PurchaseRequest.model_validate({"workloads": [training(deadline=120)], "buyer": buyer,
                                          "objective": "min_cost"})
    table = build_table(catalog, engine, req, EstimateCache())
    return list(dict.fromkeys(o.sku for o in table.options if o.blocked is None))


def key_of(table: OptionTable, r: SolveResult, objective: ModelObjective) -> tuple[int, int] | None:
    """(primary, secondary) integer objective of a solve, for equality checks across solvers."""
    if not r.status.ok:
        return None
    cost = objective_value(table, r.selection, "min_cost")
    span = objective_value(table, r.selection, "min_time") if any(o.kind == "training" for o in table.options) \
        else 0
    return (cost, span) if objective == "min_cost" else (span, cost)


def solver_versions() -> dict[str, str]:
    out = {"ortools": ortools.__version__}
    for name in available_mip_solvers():
        s = pywraplp.Solver.CreateSolver(name)
        version = s.SolverVersion() if s is not None else ""
        # OR-Tools' HiGHS interface reports "PDLP Solver" as its version string (upstream bug).
        out[name] = version if name != "HIGHS" else "HiGHS (bundled with OR-Tools; version string not exposed)"
    return out


# ---------------------------------------------------------------------- (a) recommend() latency
def bench_recommend(catalog: Catalog, engine: ComplianceEngine, label: str, requests: list[PurchaseRequest],
                    target_ms: dict[str, float], tuned: bool = False) -> list[dict[str, Any]]:
    """Cold (fresh EstimateCache per call) and warm (shared, pre-filled cache) recommend() latency.

    Each timed call is split into its two parts, which add up to ``recommend()`` exactly: building the table
    (``build_table``) and the rest (``recommend(table=...)``: solve, binding constraints, alternatives,
    re-validation, explanation).
    """
    ctx = cpsat_parameters(**TUNED) if tuned else contextlib.nullcontext()
    rows = []
    with ctx:
        recommend(catalog, engine, requests[0], cache=EstimateCache())  # warm imports and lazy data
        shared = EstimateCache()
        parts: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
        statuses: dict[str, int] = {}
        options: list[int] = []
        for req in requests:
            b_ms, table = timed(lambda req=req: build_table(catalog, engine, req, EstimateCache()))
            r_ms, plan = timed(lambda req=req, table=table: recommend(catalog, engine, req, table=table))
            parts["cold"].append((b_ms, r_ms))
            statuses[plan.status] = statuses.get(plan.status, 0) + 1
            options.append(len(table.options))
            build_table(catalog, engine, req, shared)  # fill the shared cache (what recommend() would do)
        for req in requests:
            b_ms, table = timed(lambda req=req: build_table(catalog, engine, req, shared))
            r_ms, _ = timed(lambda req=req, table=table: recommend(catalog, engine, req, table=table))
            parts["warm"].append((b_ms, r_ms))
    skus = len({o.sku for o in build_table(catalog, engine, requests[0], shared).options if o.blocked is None})
    for mode, pairs in parts.items():
        s = stats([b + r for b, r in pairs])
        rows.append({"case": label, "cache": mode, "cpsat": "linearization_level=1" if tuned else "default (level 2)",
                     "admissible_skus": skus, "options_median": statistics.median(options), **s,
                     "target_ms": target_ms[mode], "meets_target": s["median_ms"] <= target_ms[mode],
                     "statuses": statuses,
                     "build_table_median_ms": statistics.median(b for b, _ in pairs),
                     "rest_median_ms": statistics.median(r for _, r in pairs)})
    print(f"  recommend {label}{' (lin1)' if tuned else ''}: cold {rows[0]['median_ms']:.0f} ms, "
          f"warm {rows[1]['median_ms']:.0f} ms", file=sys.stderr)
    return rows


# ---------------------------------------------------------------------- (b)+(c) solve scaling, CP-SAT vs MIP
def bench_solvers(table: OptionTable, objective: ModelObjective, repeat: int) -> dict[str, Any]:
    """Solve-only latency of CP-SAT (solve(), two lexicographic stages; default and *lin1*) and each MIP back-end.

    *equal*: same status and the same (primary, secondary) integer objective as the reference, which is the
    *lin1* CP-SAT solve when the default one did not prove optimality.
    """
    out: dict[str, Any] = {"options": len(table.options),
                           "admissible": sum(1 for o in table.options if o.blocked is None)}
    samples, default = sample(lambda: solve(table, objective=objective), repeat)
    out["cpsat"] = {**stats(samples), "status": default.status.value}
    with cpsat_parameters(**TUNED):
        samples, tuned = sample(lambda: solve(table, objective=objective), repeat)
    out["cpsat_tuned"] = {**stats(samples), "status": tuned.status.value}
    ref = tuned if default.status != SolveStatus.optimal and tuned.status == SolveStatus.optimal else default
    out["status"] = ref.status.value
    ref_key = key_of(table, ref, objective)
    out["cpsat"]["equal"] = default.status == ref.status and key_of(table, default, objective) == ref_key
    out["cpsat_tuned"]["equal"] = tuned.status == ref.status and key_of(table, tuned, objective) == ref_key
    for name in available_mip_solvers():
        samples, r = sample(lambda name=name: solve_mip(table, objective=objective, solver=name), repeat)
        out[name] = {**stats(samples), "status": r.status.value,
                     "equal": r.status == ref.status and key_of(table, r, objective) == ref_key}
    return out


def bench_scaling(catalog: Catalog, engine: ComplianceEngine, skus: list[str], base: Catalog,
                  base_engine: ComplianceEngine, repeat: int) -> dict[str, Any]:
    by_skus = []
    for n in (10, 20, 40, 60):
        chosen = skus[:n]
        for objective, req in (
            ("min_time", PurchaseRequest.model_validate({
                "workloads": [training()], "buyer": BUYER_DE, "objective": "min_time", "skus": chosen,
                "budget": {"amount": 1e8, "currency": "CNY"}})),
            ("min_cost", PurchaseRequest.model_validate({
                "workloads": [training(deadline=60)], "buyer": BUYER_DE, "objective": "min_cost", "skus": chosen})),
        ):
            build_ms, table = timed(lambda req=req: build_table(catalog, engine, req, EstimateCache()))
            row = {"case": f"{len(chosen)} SKUs, DE", "skus": len(chosen), "workloads": 1, "objective": objective,
                   "build_table_ms": build_ms, **bench_solvers(table, objective, repeat)}  # type: ignore[arg-type]
            by_skus.append(row)
            print(f"  skus={len(chosen):>2} {objective}: {row['options']} options, CP-SAT "
                  f"{row['cpsat']['median_ms']:.1f} ms", file=sys.stderr)
    by_workloads = []
    cases: list[tuple[str, Catalog, ComplianceEngine, dict[str, Any], list[str] | None, dict[str, Any] | None]] = [
        ("20 SKUs, DE", catalog, engine, BUYER_DE, skus[:20], None),
        ("embedded catalog, CN 2026-02-15, ≥30% domestic", base, base_engine, BUYER_CN, None,
         {"min_domestic_share": 0.3}),
    ]
    for label, cat, eng, buyer, sku_list, policy in cases:
        for k in (1, 2, 5, 10):
            req = portfolio_requests(buyer, sku_list, k, n=1, policy=policy)[0]
            build_ms, table = timed(lambda req=req, cat=cat, eng=eng: build_table(cat, eng, req, EstimateCache()))
            row = {"case": label, "skus": len({o.sku for o in table.options if o.blocked is None}),
                   "workloads": k, "objective": "min_cost", "build_table_ms": build_ms,
                   **bench_solvers(table, "min_cost", repeat)}
            by_workloads.append(row)
            print(f"  {label} workloads={k:>2}: {row['options']} options, CP-SAT {row['cpsat']['median_ms']:.1f} ms "
                  f"({row['cpsat']['status']}), tuned {row['cpsat_tuned']['median_ms']:.1f} ms", file=sys.stderr)
    return {"by_skus": by_skus, "by_workloads": by_workloads}


# ---------------------------------------------------------------------- (e) relaxations
def bench_relax(catalog: Catalog, engine: ComplianceEngine) -> list[dict[str, Any]]:
    """Latency and probe count of the relaxation search on infeasible requests (warm estimate cache)."""
    from optimizer import relax
    from optimizer.recommend import recommend as run

    cases: dict[str, dict[str, Any]] = {
        "70B/1.4T, CN 2025-08-01, ¥10M, 30 days": {"budget": {"amount": 1e7}},
        "70B/1.4T, CN 2025-08-01, ¥1M, 30 days (deadline beyond 3,650 days)": {"budget": {"amount": 1e6}},
        "70B/1.4T, CN 2026-02-15, ¥100M, 30 days, H200 only (pairs)": {
            "budget": {"amount": 1e8}, "skus": ["h200"], "buyer": {"country": "CN", "date": "2026-02-15"}},
        "70B/1.4T, CN 2025-08-01, ¥20M, 30 days, 100% domestic, H20/910B": {
            "budget": {"amount": 2e7}, "skus": ["h20", "ascend-910b"], "policy": {"min_domestic_share": 1.0}},
    }
    cache = EstimateCache()
    rows = []
    for label, extra in cases.items():
        req = PurchaseRequest.model_validate({
            "workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T", "deadline_days": 30}],
            "buyer": {"country": "CN", "date": "2025-08-01"}, "objective": "min_cost", **extra})
        run(catalog, engine, req, cache=cache)  # fill the cache
        ms, plan = timed(lambda req=req: run(catalog, engine, req, cache=cache))
        counts: dict[str, int] = {}
        table = build_table(catalog, engine, req, cache)
        relax.relaxations(catalog, engine, table, req.resolved_objective, cache=cache, stats=counts)
        probes = [1] * counts.get("probes", 0)
        found = ", ".join(r.constraint for r in plan.relaxations if r.feasible) or "none"
        rows.append({"case": label, "ms": ms, "probes": len(probes), "found": found})
        print(f"  relax {label}: {ms:.0f} ms, {len(probes)} probes", file=sys.stderr)
    return rows


# ---------------------------------------------------------------------- (d) CP-SAT vs brute force
def combinations(table: OptionTable) -> int:
    """Size of the space brute_force enumerates (homogeneous pools)."""
    n = 1
    for w in table.request.workloads:
        opts = [o for o in table.for_workload(w.name) if o.blocked is None]
        n *= math.prod(o.max_units + 1 for o in opts) if w.kind == "inference" else len(opts)
    return n


def bench_brute(catalog: Catalog, engine: ComplianceEngine) -> list[dict[str, Any]]:
    cases: list[tuple[str, dict[str, Any]]] = [
        ("70B training, 4 SKUs (DE), min_cost", {
            "workloads": [training(deadline=90)], "buyer": BUYER_DE, "objective": "min_cost",
            "skus": ["h100-sxm", "h200", "gaudi3", "a100-80gb"]}),
        ("70B training, 4 SKUs (DE), min_time ¥1亿", {
            "workloads": [training()], "buyer": BUYER_DE, "objective": "min_time",
            "budget": {"amount": 1e8, "currency": "CNY"}, "skus": ["h100-sxm", "h200", "gaudi3", "a100-80gb"]}),
        ("2 training jobs, 3 SKUs (SG), min_cost", {
            "workloads": [training(deadline=100), training("finetune-13b", "13B", "200B", 20)], "buyer": BUYER_SG,
            "objective": "min_cost", "skus": ["h100-sxm", "h20", "b200"]}),
        ("training + 7B service, 3 SKUs (SG), min_cost, ¥1.5亿", {
            "workloads": [training(deadline=100), inference("serve-7b", "7B", 150)], "buyer": BUYER_SG,
            "objective": "min_cost", "budget": {"amount": 1.5e8, "currency": "CNY"},
            "skus": ["h100-sxm", "h20", "b200"]}),
        ("training + 7B service, 4 SKUs (CN 2026-02-15), ≥50% domestic", {
            "workloads": [training(deadline=120), inference("serve-7b", "7B", 40)], "buyer": BUYER_CN,
            "objective": "min_cost", "policy": {"min_domestic_share": 0.5},
            "skus": ["h20", "h200", "ascend-910b", "ascend-910c"]}),
        ("2 training + 7B service, 2 SKUs (CN 2026-02-15), min_time ¥3亿", {
            "workloads": [training(), training("finetune-13b", "13B", "200B"), inference("serve-7b", "7B", 60)],
            "buyer": BUYER_CN, "objective": "min_time", "budget": {"amount": 3e8, "currency": "CNY"},
            "skus": ["h200", "ascend-910c"]}),
        ("70B training, 1 SKU (DE), deadline 3 days: infeasible", {
            "workloads": [training(deadline=3)], "buyer": BUYER_DE, "objective": "min_cost",
            "budget": {"amount": 5e7, "currency": "CNY"}, "skus": ["h200"]}),
    ]
    rows = []
    for label, data in cases:
        req = PurchaseRequest.model_validate(data)
        table = build_table(catalog, engine, req, EstimateCache())
        objective: ModelObjective = req.resolved_objective
        brute_ms, best = timed(lambda table=table, objective=objective: brute_force(table, objective))
        cp_samples, cp = sample(lambda table=table, objective=objective: solve(table, objective=objective), 5)
        cp_key = key_of(table, cp, objective)
        rows.append({"case": label, "options": len(table.options), "combinations": combinations(table),
                     "brute_ms": brute_ms, "cpsat_median_ms": statistics.median(cp_samples),
                     "brute_optimum": list(best) if best else None, "cpsat_optimum": cp_key,
                     "cpsat_status": cp.status.value,
                     "equal": (best is None and cp.status == SolveStatus.infeasible)
                     or (best is not None and cp_key == best)})
        print(f"  brute {label}: {rows[-1]['combinations']} combinations, equal={rows[-1]['equal']}", file=sys.stderr)
    return rows


# ---------------------------------------------------------------------- profiling
def profile(catalog: Catalog, engine: ComplianceEngine, requests: list[PurchaseRequest], label: str,
            top: int = 30) -> str:
    """cProfile of recommend() over the requests (cold cache), sorted by cumulative and by own time."""
    recommend(catalog, engine, requests[0], cache=EstimateCache())
    prof = cProfile.Profile()
    prof.enable()
    for req in requests:
        recommend(catalog, engine, req, cache=EstimateCache())
    prof.disable()
    buf = io.StringIO()
    buf.write(f"## {label}: {len(requests)} recommend() calls, cold cache\n")
    st = pstats.Stats(prof, stream=buf)
    st.strip_dirs().sort_stats("cumulative").print_stats(top)
    st.sort_stats("tottime").print_stats(top)
    return buf.getvalue()


# ---------------------------------------------------------------------- report
def _ms(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else (f"{v:.1f}" if v >= 10 else f"{v:.2f}")


def _yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def markdown(payload: dict[str, Any]) -> str:
    m = payload["machine"]
    v = payload["solvers"]
    c = payload["catalog"]
    lines = [
        "# Purchase optimizer latency and cross-checks", "",
        f"Measured {m['measured_at']} on {m['cpu_count']} CPUs ({m['processor']}, {m['affinity_cpus']} usable), "
        f"Python {m['python']}, OR-Tools {v['ortools']}" + (f", {v['SCIP']}" if "SCIP" in v else "")
        + (", HiGHS (bundled)" if "HIGHS" in v else "") + ". Reproduce with `.venv/bin/python -m bench.optimizer_bench`"
        " (cProfile: `--profile`).", "",
        "CP-SAT runs as `recommend()` runs it (1 worker, 5 s per stage, `linearization_level=2`). *lin1* rows re-run "
        "the same solve with CP-SAT's own default `linearization_level=1`, which `recommend()` used before this "
        "benchmark showed it stalling on domestic-share portfolios. MIP "
        "solvers run through `pywraplp` (`tests/oracles/mip.py`) at zero gap. Buyers: DE and SG on 2026-02-15 (the "
        "same admissible set), CN on 2026-02-15 (H200 case-by-case regime).",
        f"Synthetic SKUs: {c['synthetic_skus'] - c['embedded_skus']} perturbed clones (price ×0.8–1.25, peak "
        "FLOPS and HBM bandwidth ×0.9–1.1) of the sourced SKUs admissible in DE "
        f"({', '.join(c['clone_bases'])}), written to a user catalog file in a temp folder; "
        f"{c['synthetic_admissible_de']} SKUs are admissible for DE in that catalog. Rules keyed to SKU ids "
        "(e.g. H20 guidance) do not apply to clones, and clones get their vendor's efficiency profile or the generic "
        "one (NVIDIA clones: generic, 0.8 × Hopper).",
        "", "Targets (issue 8): single workload with the full catalog ≤ 50 ms warm / ≤ 100 ms cold median; 5-workload "
        "portfolio ≤ 500 ms warm (≤ 1 s cold, DESIGN.md §8), 2 cores.", "",
        "## (a) End-to-end `recommend()`", "",
        "Every run is a different request: single 70B/1.4T training jobs alternate min_cost under deadlines of "
        "45–180 days and min_time under budgets of ¥20M–¥300M; portfolios stretch every deadline and the budget by "
        "×0.8–1.6. *cold*: a fresh `EstimateCache` per call (the CLI); *warm*: one shared cache already holding "
        "these requests' estimates (the HTTP service keeps one per process). total = `build_table` + rest "
        "(`recommend(table=...)`: 2-stage solve, binding-constraint solves, 3 alternatives, re-validation).", "",
        "| case | admissible SKUs | options | CP-SAT | cache | runs | median ms | p95 ms | build_table ms "
        "| rest ms | target ms | met |",
        "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in payload["recommend"]:
        lines.append(f"| {r['case']} | {r['admissible_skus']} | {r['options_median']:.0f} | {r['cpsat']} | "
                     f"{r['cache']} | {r['n']} | {_ms(r['median_ms'])} | {_ms(r['p95_ms'])} | "
                     f"{_ms(r['build_table_median_ms'])} | {_ms(r['rest_median_ms'])} | {r['target_ms']:,.0f} | "
                     f"{_yes(r['meets_target'])} |")
    mips = [s for s in ("SCIP", "HIGHS") if s in v]
    lines += ["", "## (b, c) Solve-only latency (table prebuilt): CP-SAT vs MIP", "",
              "`solve()` with both lexicographic stages; SCIP/HiGHS = `tests.oracles.mip.solve_mip` on the same table "
              "(same model, integer scaling and tie-break). *eq*: same status and the same (primary, secondary) "
              f"integer objective as the reference (CP-SAT, or the *lin1* solve when the default did not prove "
              f"optimality). Medians of up to {payload['repeat']} solves (a slow solve is timed once).", ""]
    head = ("| case | SKUs | workloads | objective | options | optimum | build_table ms | CP-SAT ms (status) "
            "| CP-SAT p95 | lin1 ms | lin1 eq")
    sep = "|---|---:|---:|---|---:|---|---:|---:|---:|---:|---"
    for s in mips:
        head += f" | {s} ms | {s} eq"
        sep += "|---:|---"
    lines += [head + " |", sep + "|"]
    for r in payload["scaling"]["by_skus"] + payload["scaling"]["by_workloads"]:
        cps = r["cpsat"]
        status = "" if cps["status"] == "optimal" else (
            f" (**{cps['status']}**{'' if cps['equal'] else ', worse objective'})")
        line = (f"| {r['case']} | {r['skus']} | {r['workloads']} | {r['objective']} | {r['options']} | "
                f"{r['status']} | {_ms(r['build_table_ms'])} | {_ms(cps['median_ms'])}{status} | "
                f"{_ms(cps['p95_ms'])} | {_ms(r['cpsat_tuned']['median_ms'])} | {_yes(r['cpsat_tuned']['equal'])}")
        for s in mips:
            line += f" | {_ms(r[s]['median_ms'])} | {_yes(r[s]['equal'])}"
        lines.append(line + " |")
    lines += ["", "## (d) CP-SAT vs brute-force enumeration (`tests/oracles/brute.py`)", "",
              "| case | options | combinations | brute force ms | CP-SAT median ms | optimum (primary, secondary) "
              "| equal |", "|---|---:|---:|---:|---:|---|---|"]
    for r in payload["brute"]:
        opt = "infeasible" if r["brute_optimum"] is None else f"{tuple(r['brute_optimum'])}"
        lines.append(f"| {r['case']} | {r['options']} | {r['combinations']:,} | {_ms(r['brute_ms'])} | "
                     f"{_ms(r['cpsat_median_ms'])} | {opt} | {_yes(r['equal'])} |")
    lines += ["", "Objectives are in the model's integer units: money in ¥1,000 (min_cost: (cost, makespan)), "
              "time in 0.01 day (min_time: (makespan, cost)).", ""]
    lines += ["## (e) Relaxations of infeasible requests (`optimizer/relax.py`)", "",
              "Each relaxation is searched on the real model (one option table and solve per probe) and verified by "
              "re-solving; a warm shared estimate cache, as in the service.", "",
              "| case | relaxations (feasible) | probes | ms |", "|---|---|---:|---:|"]
    for r in payload.get("relax", []):
        lines.append(f"| {r['case']} | {r['found']} | {r['probes']} | {_ms(r['ms'])} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--profile", action="store_true", help="profile recommend() with cProfile and print it")
    ap.add_argument("--repeat", type=int, default=5, help="solves per table in the scaling runs")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    base = load_catalog()
    engine = load_engine(base)
    with tempfile.TemporaryDirectory(prefix="procure-bench-") as tmp:
        sourced = admissible_skus(base, engine, BUYER_DE)
        path, _ = write_synthetic_catalog(Path(tmp), sourced, clones_per_sku=8)
        synth = load_catalog([path])
        synth_engine = load_engine(synth)
        synth_skus = admissible_skus(synth, synth_engine, BUYER_DE)
        sku24 = synth_skus[:24]
        if args.profile:
            print(profile(base, engine, single_requests(BUYER_DE, None, 16), "1 × 70B, embedded catalog, DE"))
            print(profile(synth, synth_engine, single_requests(BUYER_DE, sku24, 16), "1 × 70B, 24 SKUs, DE"))
            print(profile(base, engine, portfolio_requests(BUYER_CN, None, 5, n=3, policy={"min_domestic_share": 0.3}),
                          "5-workload portfolio, CN 2026-02-15, ≥30% domestic"))
            return
        print(f"synthetic catalog: {len(synth.accelerators)} SKUs, {len(synth_skus)} admissible for DE",
              file=sys.stderr)
        payload: dict[str, Any] = {"machine": {**machine(), "affinity_cpus": len(os.sched_getaffinity(0))},
                                   "solvers": solver_versions(), "repeat": args.repeat,
                                   "catalog": {"embedded_skus": len(base.accelerators),
                                               "synthetic_skus": len(synth.accelerators),
                                               "synthetic_admissible_de": len(synth_skus),
                                               "clone_bases": sourced}}
        n_emb = len(base.accelerators)
        rec: list[dict[str, Any]] = []
        rec += bench_recommend(base, engine, f"1 × 70B training, embedded catalog ({n_emb} SKUs), DE",
                               single_requests(BUYER_DE, None), TARGET_SINGLE_MS)
        rec += bench_recommend(base, engine, f"1 × 70B training, embedded catalog ({n_emb} SKUs), CN 2026-02-15",
                               single_requests(BUYER_CN, None), TARGET_SINGLE_MS)
        rec += bench_recommend(synth, synth_engine, "1 × 70B training, 24 admissible SKUs (synthetic), SG",
                               single_requests(BUYER_SG, sku24), TARGET_SINGLE_MS)
        port_de = portfolio_requests(BUYER_DE, sku24, 5, n=10)
        rec += bench_recommend(synth, synth_engine, "5-workload portfolio, 24 admissible SKUs (synthetic), DE",
                               port_de, TARGET_PORTFOLIO_MS)
        rec += bench_recommend(synth, synth_engine, "5-workload portfolio, 24 admissible SKUs (synthetic), DE",
                               port_de, TARGET_PORTFOLIO_MS, tuned=True)
        port_cn = portfolio_requests(BUYER_CN, None, 5, n=6, policy={"min_domestic_share": 0.3})
        rec += bench_recommend(base, engine, "5-workload portfolio, embedded catalog, CN 2026-02-15, ≥30% domestic",
                               port_cn, TARGET_PORTFOLIO_MS)
        rec += bench_recommend(base, engine, "5-workload portfolio, embedded catalog, CN 2026-02-15, ≥30% domestic",
                               port_cn, TARGET_PORTFOLIO_MS, tuned=True)
        payload["recommend"] = rec
        payload["scaling"] = bench_scaling(synth, synth_engine, synth_skus, base, engine, args.repeat)
        payload["brute"] = bench_brute(base, engine)
        payload["relax"] = bench_relax(base, engine)
    payload["bench_wall_s"] = time.perf_counter() - t0
    md = markdown(payload)
    write("optimizer", payload, md)
    print(md)
    print(f"benchmark took {payload['bench_wall_s']:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()

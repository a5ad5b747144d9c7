"""Cost of the market-data work: break-even searches on top of recommend(), data-pack import/diff, compliance checks.

Measured: recommend() with and without break-even prices (warm estimate cache, as in the HTTP service) on four
requests; per searched part its re-solves and the verification from a user catalog file pricing it 0.5 % below and
above the reported bounds (chosen / not chosen); data-pack import (validation of the whole set + install) and diff
(rules, 32 parts × 12 destinations sampled); one compliance check with entity screening.

Run: .venv/bin/python -m bench.data_bench
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import machine, time_calls, write
from optimizer.catalog import load_catalog
from optimizer.compliance import Buyer, load_engine
from optimizer.packs import embedded_pack
from optimizer.recommend import recommend
from optimizer.request import PurchaseRequest
from optimizer.table import EstimateCache

CASES: dict[str, dict[str, Any]] = {
    "CN 70B training, ¥50M, fastest (2026-12-06)": {
        "workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T"}],
        "buyer": {"country": "CN", "date": "2026-12-06"}, "budget": {"amount": "¥5000万"}, "objective": "min_time"},
    "CN 13B training, 60-day deadline, cheapest": {
        "workloads": [{"kind": "training", "params": "13B", "tokens": "300B", "deadline_days": 60}],
        "buyer": {"country": "CN", "date": "2026-12-06"}},
    "CN 7B serving, 50 req/s": {
        "workloads": [{"kind": "inference", "params": "7B", "requests_per_s": 50}],
        "buyer": {"country": "CN", "date": "2026-12-06"}},
    "DE 70B training, 120-day deadline": {
        "workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T", "deadline_days": 120}],
        "buyer": {"country": "DE", "date": "2026-12-06"}},
}


def _verify(tmp: Path, req: PurchaseRequest, sku: str, price: float, currency: str, cache: EstimateCache) -> bool:
    path = tmp / f"{sku}-{price:.0f}.yaml"
    path.write_text("sources:\n  QUOTE: {title: bench}\naccelerators:\n  - id: " + sku + "\n    price: {currency: "
                    f"{currency}, low: {price!r}, base: {price!r}, high: {price!r}, basis: per_accelerator, "
                    "date: '2026-12', source: [QUOTE], grade: A}\n", encoding="utf-8")
    cat = load_catalog([path])
    plan = recommend(cat, load_engine(cat), req.model_copy(update={"break_even_prices": False}), cache=cache)
    return sku in {i.sku for i in plan.items}


def bench_break_even(tmp: Path) -> list[dict[str, Any]]:
    catalog = load_catalog()
    engine = load_engine(catalog)
    rows = []
    for label, body in CASES.items():
        req = PurchaseRequest.model_validate(body)
        cache = EstimateCache()
        recommend(catalog, engine, req, cache=cache)  # warm the estimate cache (the service keeps it)
        off = req.model_copy(update={"break_even_prices": False})
        base = time_calls(lambda off=off, cache=cache: recommend(catalog, engine, off, cache=cache), repeat=7,
                          warmup=1)
        with_be = time_calls(lambda req=req, cache=cache: recommend(catalog, engine, req, cache=cache), repeat=7,
                             warmup=1)
        plan = recommend(catalog, engine, req, cache=cache)
        parts = []
        for b in plan.break_even:
            row: dict[str, Any] = {"sku": b.sku, "status": b.status, "probes": b.probes, "verified": b.verified}
            if b.status == "found" and b.price is not None and b.price_above is not None:
                row.update(price=round(b.price), price_above=round(b.price_above), currency=b.currency,
                           below_chosen=_verify(tmp, req, b.sku, b.price * 0.995, b.currency, cache),
                           above_not_chosen=not _verify(tmp, req, b.sku, b.price_above * 1.005, b.currency, cache))
            if b.status == "missing_figures":
                row["missing"] = b.missing
            parts.append(row)
        rows.append({"case": label, "plan": [f"{i.accelerators} × {i.sku}" for i in plan.items],
                     "recommend_median_ms": round(base["median_ms"], 1),
                     "recommend_cpu_median_ms": round(base["cpu_median_ms"], 1),
                     "with_break_even_median_ms": round(with_be["median_ms"], 1),
                     "with_break_even_cpu_median_ms": round(with_be["cpu_median_ms"], 1),
                     "parts": parts})
        print(f"  {label}: {base['median_ms']:.0f} ms → {with_be['median_ms']:.0f} ms with break-even",
              file=sys.stderr)
    return rows


def bench_packs(tmp: Path) -> dict[str, Any]:
    from service import usecases
    from service.container import build_context
    from service.settings import Settings

    os.environ["PROCURE_DATA_DIR"] = str(tmp / "data")
    ctx = build_context(Settings(data_dir=tmp / "data"), lazy_domain=True)
    text = embedded_pack("us_rules").text.replace('version: "2026.12.1"', 'version: "2026.12.2"', 1)
    pack = tmp / "us.yaml"
    pack.write_text(text.replace("as_of: 2026-06-05", "as_of: 2026-06-06", 1), encoding="utf-8")
    t0 = time.perf_counter()
    diff = usecases.data_diff(ctx, "us_rules", str(pack), on="2026-12-06")
    diff_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    usecases.data_import(ctx, [usecases.read_pack_file(pack)], today="2026-12-06")
    import_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    usecases.data_rollback(ctx)
    rollback_ms = (time.perf_counter() - t0) * 1000
    status = time_calls(lambda: usecases.data_status(ctx, today="2026-12-06"), repeat=10, warmup=1)
    return {"diff_ms": round(diff_ms), "verdicts_sampled": diff.verdicts_sampled, "import_ms": round(import_ms),
            "rollback_ms": round(rollback_ms), "status_median_ms": round(status["median_ms"], 1)}


def bench_check() -> dict[str, float]:
    catalog = load_catalog()
    engine = load_engine(catalog)
    on = dt.date(2026, 12, 6)
    plain = time_calls(lambda: engine.check("h100-sxm", Buyer(country="CN", on=on)), repeat=200)
    screened = time_calls(lambda: engine.check("h100-sxm", Buyer(country="CN", on=on, name="Sofgo Trading Ltd",
                                                                 parent="华为技术有限公司")), repeat=200)
    from optimizer.compliance.screening import screen_name

    entities = engine.screening.entities if engine.screening is not None else ()
    first = time_calls(lambda: (screen_name("Sofgo Trading Ltd", entities), screen_name("华为技术有限公司", entities)),
                       repeat=20)
    return {"check_median_ms": round(plain["median_ms"], 3), "screened_check_median_ms":
            round(screened["median_ms"], 3), "first_screening_median_ms": round(first["median_ms"], 3)}


def markdown(p: dict[str, Any]) -> str:
    m = p["machine"]
    lines = [
        "# Market-data benchmark: break-even prices, data packs, screening", "",
        f"Measured {m['measured_at']} on {m['cpu_count']} CPUs (shared), Python {m['python']}; warm estimate cache "
        "(as in the HTTP service). Wall-clock medians of 7 calls; CPU medians say what one call costs when the "
        "machine is shared.", "",
        "| request | plan | recommend ms (CPU) | + break-even ms (CPU) | parts searched: status, probes, verified |",
        "|---|---|---:|---:|---|",
    ]
    for r in p["break_even"]:
        searched = "; ".join(
            f"{x['sku']} {x['status']}" + (f" ≤ {x['price']:,} {x['currency']}" if "price" in x else "")
            + (f", {x['probes']} probes" if x["probes"] else "") + (", verified" if x["verified"] else "")
            for x in r["parts"] if x["status"] != "missing_figures")
        lines.append(f"| {r['case']} | {', '.join(r['plan'])} | {r['recommend_median_ms']} "
                     f"({r['recommend_cpu_median_ms']}) | {r['with_break_even_median_ms']} "
                     f"({r['with_break_even_cpu_median_ms']}) | {searched} |")
    checks = [(x["below_chosen"], x["above_not_chosen"]) for r in p["break_even"] for x in r["parts"]
              if "below_chosen" in x]
    ok = sum(1 for a, b in checks if a and b)
    lines += ["", f"Independent re-check from a user catalog file pricing each part 0.5 % below the lower bound and "
              f"0.5 % above the upper bound: **{ok} of {len(checks)}** chosen below and not chosen above.", ""]
    missing = sorted({x["sku"] for r in p["break_even"] for x in r["parts"] if x["status"] == "missing_figures"})
    lines += [f"Parts listed with missing figures instead of a price: {', '.join(missing)}.", ""]
    probes = [x["probes"] for r in p["break_even"] for x in r["parts"] if x["status"] == "found"]
    if probes:
        lines += [f"Re-solves per part with a break-even price: median {statistics.median(probes):g}, max "
                  f"{max(probes)}.", ""]
    k = p["packs"]
    lines += ["Data packs (`service.usecases.data`):", "",
              f"- diff of the US rules pack: {k['diff_ms']:,} ms ({k['verdicts_sampled']} verdicts sampled)",
              f"- import (validate the whole pack set, install a generation, reload): {k['import_ms']:,} ms",
              f"- rollback: {k['rollback_ms']:,} ms; status: {k['status_median_ms']} ms median", "",
              f"Compliance check: {p['check']['check_median_ms']} ms median; with buyer name and parent screened "
              f"against {p['entities']} listed parties: {p['check']['screened_check_median_ms']} ms (the match is "
              f"memoised per name: the first check of a name and parent costs "
              f"{p['check']['first_screening_median_ms']} ms more, once per request).", "",
              "Reproduce: `.venv/bin/python -m bench.data_bench`", ""]
    return "\n".join(lines)


def main() -> None:
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="procure-data-bench-") as tmp:
        payload: dict[str, Any] = {"machine": machine(), "break_even": bench_break_even(Path(tmp)),
                                   "packs": bench_packs(Path(tmp)), "check": bench_check()}
    engine = load_engine(load_catalog())
    payload["entities"] = len(engine.screening.entities) if engine.screening else 0
    payload["bench_wall_s"] = round(time.perf_counter() - t0, 1)
    md = markdown(payload)
    write("data", payload, md)
    print(md)


if __name__ == "__main__":
    main()

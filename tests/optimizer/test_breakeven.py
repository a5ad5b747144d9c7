"""Break-even prices: found on the real model and verified here by re-solving, from a user catalog file that prices the
part, at a price just below (it is chosen) and just above (it is not)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from optimizer.breakeven import _Search, with_price
from optimizer.catalog import Catalog, load_catalog
from optimizer.compliance import ComplianceEngine, load_engine
from optimizer.plan import PurchasePlan
from optimizer.recommend import recommend
from optimizer.request import PurchaseRequest
from optimizer.table import EstimateCache, build_table
from optimizer.units import MONEY_UNIT

CASES: dict[str, dict[str, Any]] = {
    # the December-2026 question of the issue: 70B in China under ¥50M, as fast as possible
    "cn-70b-min-time": {"workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T"}],
                        "buyer": {"country": "CN", "date": "2026-12-06"}, "budget": {"amount": "¥5000万"},
                        "objective": "min_time"},
    # cheapest plan that meets a deadline
    "cn-13b-deadline": {"workloads": [{"kind": "training", "params": "13B", "tokens": "300B", "deadline_days": 60}],
                        "buyer": {"country": "CN", "date": "2026-12-06"}},
    # serving capacity, split across parts
    "cn-serve-7b": {"workloads": [{"kind": "inference", "params": "7B", "requests_per_s": 50}],
                    "buyer": {"country": "CN", "date": "2026-12-06"}},
}


@pytest.fixture(scope="module")
def cache() -> EstimateCache:
    return EstimateCache()


@pytest.fixture(scope="module")
def plans(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache) -> dict[str, PurchasePlan]:
    return {name: recommend(catalog, engine, PurchaseRequest.model_validate(req), cache=cache)
            for name, req in CASES.items()}


def _priced_plan(tmp_path: Path, req: PurchaseRequest, sku: str, price: float, currency: str,
                 cache: EstimateCache) -> PurchasePlan:
    """Re-solve from scratch with the part priced by a user catalog file, as a buyer with a quote would."""
    path = tmp_path / f"{sku}-{price:.0f}.yaml"
    path.write_text(
        "sources:\n  QUOTE: {title: 'hypothetical quote for the test'}\n"
        f"accelerators:\n  - id: {sku}\n    price: {{currency: {currency}, low: {price!r}, base: {price!r}, "
        f"high: {price!r}, basis: per_accelerator, date: '2026-12', source: [QUOTE], grade: A}}\n",
        encoding="utf-8")
    cat = load_catalog([path])
    return recommend(cat, load_engine(cat), req.model_copy(update={"break_even_prices": False}), cache=cache)


def test_the_950pr_gets_a_price_for_the_december_2026_question(plans: dict[str, PurchasePlan]) -> None:
    plan = plans["cn-70b-min-time"]
    assert {i.sku for i in plan.items} == {"ascend-910c"}
    be = {b.sku: b for b in plan.break_even}
    pr = be["ascend-950pr"]
    assert pr.status == "found" and pr.verified and pr.currency == "CNY"
    assert pr.price is not None and pr.price_above is not None and 1 < pr.price_above / pr.price <= 1.0101
    assert {i.sku for i in pr.items} == {"ascend-950pr"}
    assert pr.time_days is not None and plan.time_days is not None and pr.time_days < plan.time_days
    assert pr.total_cost is not None and pr.total_cost <= 5e7  # within the budget
    assert pr.node_price is not None and pr.accelerators_per_node == 4
    assert be["l2"].status == "missing_figures" and any("tdp_w" in m for m in be["l2"].missing)
    assert be["l20"].status in ("found", "not_chosen")


@pytest.mark.parametrize("case", sorted(CASES))
def test_break_even_prices_hold_when_re_solved_below_and_above(case: str, plans: dict[str, PurchasePlan],
                                                               tmp_path: Path, cache: EstimateCache) -> None:
    plan = plans[case]
    req = PurchaseRequest.model_validate(CASES[case])
    found = [b for b in plan.break_even if b.status == "found"]
    assert found, f"{case}: no part with a break-even price"
    for b in found:
        assert b.price is not None and b.price_above is not None and b.verified
        below = _priced_plan(tmp_path, req, b.sku, b.price * 0.995, b.currency, cache)
        above = _priced_plan(tmp_path, req, b.sku, b.price_above * 1.005, b.currency, cache)
        assert b.sku in {i.sku for i in below.items}, f"{case}: {b.sku} not chosen just below {b.price:,.0f}"
        assert b.sku not in {i.sku for i in above.items}, f"{case}: {b.sku} still chosen above {b.price_above:,.0f}"
        # what the plan would then be is the plan found from the user's file
        assert {(i.sku, i.accelerators) for i in below.items} == {(i.sku, i.accelerators) for i in b.items} or (
            below.total_cost is not None and b.total_cost is not None and below.total_cost <= b.total_cost * 1.01)
        if req.resolved_objective == "min_cost":  # no dearer than the plan, up to the model's money unit per item
            assert b.total_cost is not None and plan.total_cost is not None
            assert b.total_cost <= plan.total_cost + MONEY_UNIT * (len(b.items) + len(plan.items))


def test_a_part_that_loses_even_when_nearly_free_says_why(plans: dict[str, PurchasePlan]) -> None:
    rows = [b for p in plans.values() for b in p.break_even if b.status == "not_chosen"]
    assert rows
    for b in rows:
        assert b.price is not None and b.reason and "even at this price" in b.reason and not b.items


def test_the_search_runs_on_the_same_table_a_full_rebuild_gives(catalog: Catalog, engine: ComplianceEngine,
                                                               plans: dict[str, PurchasePlan],
                                                               cache: EstimateCache) -> None:
    req = PurchaseRequest.model_validate(CASES["cn-70b-min-time"])
    table = build_table(catalog, engine, req, cache)
    search = _Search(catalog, engine, table, "ascend-950pr", "min_time", cache, {"time_limit_s": 5.0,
                                                                                 "num_workers": 1})
    spliced = search.table_at(15_000.0)
    full = build_table(with_price(catalog, "ascend-950pr", 15_000.0, "CNY", req.buyer.date), engine, req, cache)
    assert sorted((o.id, round(o.cost, 2), o.days) for o in spliced.options) == sorted(
        (o.id, round(o.cost, 2), o.days) for o in full.options)
    assert {e.sku for e in spliced.exclusions} == {e.sku for e in full.exclusions}


def test_missing_figures_are_named_with_how_to_supply_them(plans: dict[str, PurchasePlan], tmp_path: Path,
                                                           cache: EstimateCache) -> None:
    be = {b.sku: b for b in plans["cn-70b-min-time"].break_even}
    for sku in ("mlu590", "hygon-k100", "kunlunxin-p800"):
        b = be[sku]
        assert b.status == "missing_figures" and b.price is None
        assert any(m.startswith("dense.bf16") for m in b.missing) and "memory_gb" in b.missing
        assert b.how_to_supply is not None and "--catalog" in b.how_to_supply and sku in b.how_to_supply
    # supplying the one missing figure of the L2 (its TDP) lets the search run
    path = tmp_path / "l2-tdp.yaml"
    path.write_text("sources:\n  MYSPEC: {title: 'vendor sheet (test)'}\naccelerators:\n  - id: l2\n"
                    "    tdp_w: {value: 72, source: [MYSPEC], grade: A}\n", encoding="utf-8")
    cat = load_catalog([path])
    plan = recommend(cat, load_engine(cat), PurchaseRequest.model_validate(CASES["cn-serve-7b"]), cache=cache)
    l2 = next(b for b in plan.break_even if b.sku == "l2")
    assert l2.status in ("found", "not_chosen") and not l2.missing


def test_parts_held_back_by_licence_policy_are_not_priced(catalog: Catalog, engine: ComplianceEngine,
                                                          cache: EstimateCache) -> None:
    req = PurchaseRequest.model_validate(CASES["cn-70b-min-time"])
    held = recommend(catalog, engine, req, cache=cache)
    assert "mi325x" not in {b.sku for b in held.break_even}  # case by case: held back by default
    risky = recommend(catalog, engine, req.model_copy(update={"accept_license_risk": True}), cache=cache)
    mi325x = next(b for b in risky.break_even if b.sku == "mi325x")
    assert mi325x.status == "missing_figures" and any("bf16" in m for m in mi325x.missing)


def test_break_even_can_be_switched_off(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache) -> None:
    req = PurchaseRequest.model_validate({**CASES["cn-70b-min-time"], "break_even_prices": False})
    plan = recommend(catalog, engine, req, cache=cache)
    assert plan.break_even == [] and plan.items
    listed = recommend(catalog, engine, PurchaseRequest.model_validate(CASES["cn-70b-min-time"]), cache=cache,
                       max_break_even_parts=0).break_even  # no search: only the parts missing figures are listed
    assert listed and all(b.status == "missing_figures" for b in listed)

"""Issue 8 (part B): dated availability, any budget, bounded inputs, licence policy, lead time."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from pydantic import ValidationError

from optimizer.catalog import Catalog
from optimizer.compliance import ComplianceEngine
from optimizer.plan import PurchasePlan
from optimizer.recommend import recommend
from optimizer.request import PurchaseRequest
from optimizer.table import EstimateCache, build_table, size_grid
from optimizer.whatif import WhatIfChange


@pytest.fixture(scope="module")
def cache() -> EstimateCache:
    return EstimateCache()


def _req(country: str, date: str, budget: Any = "¥5000万", **kw: Any) -> PurchaseRequest:
    data: dict[str, Any] = {
        "workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T"}],
        "buyer": {"country": country, "date": date}, "budget": {"amount": budget}, "objective": "min_time",
    }
    data.update(kw)
    return PurchaseRequest.model_validate(data)


def _plan(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache, req: PurchaseRequest) -> PurchasePlan:
    return recommend(catalog, engine, req, cache=cache, time_limit_s=5.0)


def _row(plan: PurchasePlan, sku: str) -> Any:
    return next(r for r in plan.considered if r.sku == sku)


# ------------------------------------------------------------------ 2. availability on the evaluation date
def test_cn_2023_does_not_get_parts_that_shipped_later(catalog: Catalog, engine: ComplianceEngine,
                                                       cache: EstimateCache) -> None:
    plan = _plan(catalog, engine, cache, _req("CN", "2023-06-01"))
    assert plan.status == "optimal"
    chosen = {i.sku for i in plan.items}
    assert not chosen & {"rtx-pro-6000", "h20", "ascend-910c", "rtx-pro-6000d"}
    row = _row(plan, "rtx-pro-6000")
    assert row.status == "excluded" and "not yet shipping on 2023-06-01" in row.reason and "2025-04" in row.reason
    assert "excluded" == _row(plan, "h20").status  # announced Nov 2023, volume Q2 2024


@pytest.mark.parametrize("country", ["DE", "US"])
def test_2023_buyers_in_germany_and_the_us_do_not_get_gaudi3(catalog: Catalog, engine: ComplianceEngine,
                                                             cache: EstimateCache, country: str) -> None:
    plan = _plan(catalog, engine, cache, _req(country, "2023-09-01", budget="$7M"))
    assert plan.status == "optimal"
    assert "gaudi3" not in {i.sku for i in plan.items}
    row = _row(plan, "gaudi3")
    assert row.status == "excluded" and "2024-04" in row.reason
    for sku in ("h200", "b200"):  # H200 shipped Q2 2024, B200 volume Q4 2024
        assert _row(plan, sku).status == "excluded"
    assert {i.sku for i in plan.items} <= {"h100-sxm", "a100-80gb", "a800", "gaudi2"}


def test_ascend_910c_not_in_china_before_volume_shipments(catalog: Catalog, engine: ComplianceEngine,
                                                          cache: EstimateCache) -> None:
    early = _plan(catalog, engine, cache, _req("CN", "2024-12-15"))
    assert early.status == "optimal" and "ascend-910c" not in {i.sku for i in early.items}
    assert "volume shipments from 2025-05" in _row(early, "ascend-910c").reason
    later = _plan(catalog, engine, cache, _req("CN", "2025-08-01"))
    assert {i.sku for i in later.items} == {"ascend-910c"}  # the headline case still holds


def test_halts_and_end_of_sale_are_dated(catalog: Catalog) -> None:
    h20, h800 = catalog.accelerators["h20"], catalog.accelerators["h800"]
    assert h20.unavailable_reason(dt.date(2025, 5, 1), "CN") is not None  # April 2025 licence requirement
    assert h20.unavailable_reason(dt.date(2025, 8, 1), "CN") is None  # resumed July 2025
    assert h20.unavailable_reason(dt.date(2025, 5, 1), "SG") is None  # the halt concerned China
    assert h800.unavailable_reason(dt.date(2023, 6, 1), "CN") is None
    reason = h800.unavailable_reason(dt.date(2023, 12, 1), "CN")
    assert reason is not None and "end of sale" in reason


@pytest.mark.parametrize(("sku", "on_sale", "off_sale", "words"), [
    # the 2023-10-23 acceleration (Nvidia 8-K of 2023-10-24) ended A800/H800 China sales before 2023-11-17
    ("a800", "2023-10-22", "2023-10-23", "NV-8K-2023-10-24"),
    ("h800", "2023-10-22", "2023-10-23", "NV-8K-2023-10-24"),
    # the RTX 4090 was not accelerated: off sale in China from the rule's effective date
    ("rtx-4090", "2023-11-16", "2023-11-17", "NV-8K-2023-10-17"),
    # the RTX 4090D replaced it from its China launch; the 5090D (V1) was pulled when the V2 came
    ("rtx-4090d", "2023-12-28", "2023-12-27", "RTX4090D-LAUNCH"),
    ("rtx-5090d", "2025-08-11", "2025-08-12", "RTX5090D-V2"),
])
def test_china_sale_dates_of_the_oct_2023_parts_and_consumer_cards(catalog: Catalog, sku: str, on_sale: str,
                                                                   off_sale: str, words: str) -> None:
    acc = catalog.accelerators[sku]
    assert acc.availability is not None
    assert acc.unavailable_reason(dt.date.fromisoformat(on_sale), "CN") is None
    reason = acc.unavailable_reason(dt.date.fromisoformat(off_sale), "CN")
    assert reason is not None and words in reason


def test_parts_without_an_availability_block_fall_back_to_release_date(catalog: Catalog) -> None:
    h20 = catalog.accelerators["h20"].model_copy(update={"availability": None})  # released 2024-02
    assert h20.unavailable_reason(dt.date(2024, 3, 1), "CN") is None
    reason = h20.unavailable_reason(dt.date(2024, 1, 1), "CN")
    assert reason is not None and "not yet released" in reason


def test_lead_time_counts_against_the_deadline(catalog: Catalog, engine: ComplianceEngine,
                                               cache: EstimateCache) -> None:
    base = {"workloads": [{"kind": "training", "params": "13B", "tokens": "1T", "deadline_days": 60}],
            "buyer": {"country": "DE", "date": "2026-02-15"}}
    plain = _plan(catalog, engine, cache, PurchaseRequest.model_validate(base))
    lead = _plan(catalog, engine, cache, PurchaseRequest.model_validate({**base, "lead_time_days": 30}))
    assert plain.status == lead.status == "optimal"
    assert plain.time_days is not None and lead.time_days is not None
    assert plain.time_days > 30  # the cheapest plan uses most of the 60 days …
    assert lead.time_days <= 30  # … which a 30-day delivery leaves only half of
    assert lead.total_cost is not None and plain.total_cost is not None and lead.total_cost > plain.total_cost
    with pytest.raises(ValidationError, match="lead time"):
        PurchaseRequest.model_validate({**base, "lead_time_days": 60})


# ------------------------------------------------------------------ 3. any budget, bounded inputs
def test_a_larger_budget_never_gives_a_slower_plan(catalog: Catalog, engine: ComplianceEngine,
                                                   cache: EstimateCache) -> None:
    ten = _plan(catalog, engine, cache, _req("CN", "2026-02-15", budget=1e10))
    hundred = _plan(catalog, engine, cache, _req("CN", "2026-02-15", budget=1e11))
    assert ten.status == hundred.status == "optimal"
    assert ten.time_days is not None and hundred.time_days is not None
    assert hundred.time_days <= ten.time_days < 5  # today: 24 × H100 taking 734 days at ¥1e11
    assert hundred.accelerators is not None and hundred.accelerators > 200_000
    assert hundred.total_cost is not None and hundred.total_cost <= 1e11


def test_size_grid_is_canonical() -> None:
    assert size_grid(1, 40) == [*range(1, 17), 18, 20, 22, 24, 26, 28, 30, 32, 36, 40]
    big = size_grid(1, 10**6)
    assert all(b / a <= 1.125 for a, b in zip(big[8:], big[9:], strict=False))  # at most 12.5 % apart
    assert set(size_grid(5, 100)) <= set(size_grid(1, 1000))  # independent of the limits


@pytest.mark.parametrize(("field", "value", "message"), [
    ("budget", {"amount": 1e22}, "less than or equal to"),
    ("budget", {"amount": "1e309"}, "not a finite number"),
    ("budget", {"amount": float("inf")}, "finite number"),
    ("budget", {"amount": float("nan")}, "finite number"),
    ("params", float("nan"), "finite number"),
    ("tokens", "Infinity", "cannot read"),
    ("tokens", 1e30, "less than or equal to"),
])
def test_absurd_or_non_finite_inputs_are_rejected(field: str, value: Any, message: str) -> None:
    data: dict[str, Any] = {"workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T"}],
                            "buyer": {"country": "CN", "date": "2026-02-15"}, "budget": {"amount": 5e7}}
    if field == "budget":
        data["budget"] = value
    else:
        data["workloads"][0][field] = value
    with pytest.raises(ValidationError, match=message):
        PurchaseRequest.model_validate(data)


def test_what_if_values_are_bounded() -> None:
    with pytest.raises(ValidationError):
        WhatIfChange(price_changes={"h20": math.nan})
    with pytest.raises(ValidationError):
        WhatIfChange(budget=1e22)
    with pytest.raises(ValidationError):
        WhatIfChange(budget=math.inf)


def test_largest_budget_accepted_solves(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache) -> None:
    plan = _plan(catalog, engine, cache, _req("US", "2026-02-15", budget=1e15))  # CP-SAT integer range
    assert plan.status == "optimal" and plan.time_days is not None


# ------------------------------------------------------------------ 6. licence policy
def test_h20_in_may_2025_is_not_recommended_by_default(catalog: Catalog, engine: ComplianceEngine,
                                                       cache: EstimateCache) -> None:
    req = _req("CN", "2025-05-01", skus=["h20", "ascend-910b"])
    plan = _plan(catalog, engine, cache, req)
    assert "h20" not in {i.sku for i in plan.items}
    assert _row(plan, "h20").status in ("excluded", "blocked by policy")
    risky = _plan(catalog, engine, cache, _req("CN", "2025-05-01", skus=["h20", "ascend-910b"],
                                               accept_license_risk=True))
    assert "h20" not in {i.sku for i in risky.items}  # not for sale at all in May 2025


def test_case_by_case_licences_need_the_buyer_to_accept_the_risk(catalog: Catalog, engine: ComplianceEngine,
                                                                 cache: EstimateCache) -> None:
    req = _req("CN", "2026-02-15", skus=["h200", "h20", "ascend-910c"])
    assert engine.check("h200", _buyer(req)).license_outlook == "case_by_case"
    default = _plan(catalog, engine, cache, req)
    row = _row(default, "h200")
    assert row.status == "blocked by policy" and "accept-license-risk" in row.reason
    assert "h200" not in {i.sku for i in default.items}
    assert _row(default, "ascend-910c").status == "chosen"
    h20 = _row(default, "h20")  # licences granted, but NVIDIA stopped H20 production in Aug 2025 (facts.md U2)
    assert h20.status == "excluded" and "U2" in h20.reason and "2025-08-22" in h20.reason
    opted = _plan(catalog, engine, cache, req.model_copy(update={"accept_license_risk": True}))
    assert "h200" in {i.sku for i in opted.items}
    assert opted.time_days is not None and default.time_days is not None and opted.time_days < default.time_days


def _buyer(req: PurchaseRequest) -> Any:
    from optimizer.compliance import Buyer

    return Buyer(country=req.buyer.country, on=req.buyer.date)


# ------------------------------------------------------------------ 5. weakly priced parts
def test_buyer_can_exclude_weakly_priced_parts(catalog: Catalog, engine: ComplianceEngine,
                                               cache: EstimateCache) -> None:
    req = _req("CN", "2026-02-15", skus=["mi300x", "h200", "ascend-910b"], accept_license_risk=True)
    table = build_table(catalog, engine, req, cache)
    assert table.skus["mi300x"].price_grade == "W"  # street pricing from a spec aggregator only
    assert table.skus["h200"].price_grade == "S"  # Reuters, 2025-12-31 (facts.md U16)
    strict = build_table(catalog, engine, req.model_copy(update={"exclude_weak_prices": True}), cache)
    assert not [o for o in strict.options if o.sku == "mi300x"]
    assert any(e.sku == "mi300x" and "grade W" in e.reason for e in strict.exclusions)
    assert [o for o in strict.options if o.sku == "ascend-910b"] and [o for o in strict.options if o.sku == "h200"]


# ------------------------------------------------------------------ 4. correct relaxations
TEN_MILLION_30_DAYS = {
    "workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T", "deadline_days": 30}],
    "buyer": {"country": "CN", "date": "2025-08-01"}, "budget": {"amount": "¥1000万"}, "objective": "min_cost",
}


def _status(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache, req: PurchaseRequest) -> str:
    from optimizer.solve import solve

    return solve(build_table(catalog, engine, req, cache), objective=req.resolved_objective).status.value


def test_relaxations_are_the_smallest_verified_changes(catalog: Catalog, engine: ComplianceEngine,
                                                       cache: EstimateCache) -> None:
    from optimizer.relax import changed

    req = PurchaseRequest.model_validate(TEN_MILLION_30_DAYS)
    plan = _plan(catalog, engine, cache, req)
    assert plan.status == "infeasible"
    by = {r.kind: r for r in plan.relaxations}
    dl = by["deadline"]
    assert dl.feasible and dl.verified and dl.unit == "days" and dl.workload == "training"
    # before: "at least 5,656 days", beyond the 3,650-day cap, while far shorter deadlines were feasible
    assert isinstance(dl.value, float) and 30 < dl.value <= 3650
    field = "workloads.training.deadline_days"
    assert _status(catalog, engine, cache, changed(req, {field: dl.value})) == "optimal"
    assert _status(catalog, engine, cache, changed(req, {field: dl.value - 1})) == "infeasible"  # smallest
    b = by["budget"]
    assert b.feasible and b.verified and b.unit == "CNY" and isinstance(b.value, float)
    assert _status(catalog, engine, cache, changed(req, {"budget.amount": b.value})) == "optimal"
    assert _status(catalog, engine, cache, changed(req, {"budget.amount": b.value - 1000})) == "infeasible"
    for r in plan.relaxations:  # typed values only: no pre-formatted money text anywhere
        assert not any(isinstance(v, str) and ("¥" in v or "M" in v) for v in r.model_dump().values())


def test_values_beyond_the_limits_are_not_offered(catalog: Catalog, engine: ComplianceEngine,
                                                  cache: EstimateCache) -> None:
    req = PurchaseRequest.model_validate({**TEN_MILLION_30_DAYS, "budget": {"amount": 1e6}})
    plan = _plan(catalog, engine, cache, req)
    dl = next(r for r in plan.relaxations if r.kind == "deadline")
    assert not dl.feasible and dl.value is None and dl.limit == 3650
    assert all(r.value is None or r.kind != "deadline" or r.value <= 3650 for r in plan.relaxations)


def test_a_pair_is_named_when_no_single_change_suffices(catalog: Catalog, engine: ComplianceEngine,
                                                        cache: EstimateCache) -> None:
    from optimizer.relax import changed

    req = PurchaseRequest.model_validate({
        "workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T", "deadline_days": 30}],
        "buyer": {"country": "CN", "date": "2026-02-15"}, "budget": {"amount": "¥1亿"}, "skus": ["h200"]})
    plan = _plan(catalog, engine, cache, req)
    assert plan.status == "infeasible"
    singles = [r for r in plan.relaxations if r.kind != "pair"]
    assert singles and not any(r.feasible for r in singles)
    pairs = [r for r in plan.relaxations if r.kind == "pair"]
    assert pairs and all(p.feasible and p.verified and len(p.pair) == 2 for p in pairs)
    first = pairs[0]
    assert {c.kind for c in first.pair} == {"license_policy", "budget"}
    updates = {c.field: c.value for c in first.pair if c.field}
    assert _status(catalog, engine, cache, changed(req, updates)) == "optimal"


def test_relaxation_text_rounds_up_in_both_languages() -> None:
    from optimizer.plan import Relaxation
    from service.presenters.relaxations import describe

    b = Relaxation(kind="budget", constraint="budget", feasible=True, verified=True, field="budget.amount",
                   current=1e7, value=302_342_000.0, unit="CNY")
    assert describe(b) == "budget must be at least ¥302.35M (now ¥10M)"
    assert describe(b, "zh") == "预算至少需要 ¥3.03亿（当前 ¥1,000万）"
    d = Relaxation(kind="deadline", constraint="deadline[t]", feasible=False, reason="insufficient_alone",
                   workload="t", limit=3650, unit="days", current=30.0)
    assert "3,650" in describe(d) and "3,650" in describe(d, "zh")


# ------------------------------------------------------------------ 7. break-even of the what-if's own outcome
def test_break_even_describes_the_changed_plan(catalog: Catalog, engine: ComplianceEngine,
                                               cache: EstimateCache) -> None:
    from optimizer.whatif import what_if

    base = PurchaseRequest.model_validate({
        "workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T", "deadline_days": 180}],
        "buyer": {"country": "CN", "date": "2025-08-01"}, "budget": {"amount": "2亿"},
        "skus": ["h20", "ascend-910b", "ascend-910c"]})
    first = what_if(catalog, engine, base, WhatIfChange(), cache=cache)
    winner = first.base.items[0].sku
    r = what_if(catalog, engine, base, WhatIfChange(remove_skus=[winner]), cache=cache)
    now = {i.sku for i in r.changed.items}
    assert winner not in now and r.break_even
    assert all(b.sku != winner for b in r.break_even)  # the removed part is not part of the what-if's outcome
    chosen = [b for b in r.break_even if b.role == "chosen"]
    assert all(b.sku in now for b in chosen)
    runner = [b for b in r.break_even if b.role == "runner-up"]
    assert runner and all(b.sku not in now for b in runner)


# ------------------------------------------------------------------ 5. coverage of the market and cost lines
def test_h800_is_considered_in_china_before_the_october_2023_rule(catalog: Catalog, engine: ComplianceEngine,
                                                                  cache: EstimateCache) -> None:
    plan = _plan(catalog, engine, cache, _req("CN", "2023-06-01", skus=["h800", "a800"]))
    row = _row(plan, "h800")
    assert row.status in ("chosen", "feasible") and row.time_days is not None  # before: "TDP not sourced"
    tdp = catalog.accelerators["h800"].tdp_w
    assert tdp.value == 700 and tdp.grade == "A"  # assumption-grade, stated as such


def test_72b_serving_in_china_uses_the_910c_node(catalog: Catalog, engine: ComplianceEngine,
                                                 cache: EstimateCache) -> None:
    req = PurchaseRequest.model_validate({
        "workloads": [{"kind": "inference", "name": "serve", "params": "72B", "requests_per_s": 100}],
        "buyer": {"country": "CN", "date": "2026-02-15"}, "skus": ["ascend-910b", "ascend-910c"]})
    plan = _plan(catalog, engine, cache, req)
    assert plan.status == "optimal"
    row = _row(plan, "ascend-910c")
    assert row.status in ("chosen", "feasible")  # before: excluded, weights did not fit one 910C
    acc = catalog.accelerators["ascend-910c"]
    assert acc.intra_node_link_gbps.value is not None and acc.intra_node_domain == 8
    assert plan.accelerators is not None and plan.accelerators < 1008


@pytest.mark.parametrize("sku", ["mi300x", "h800"])
def test_more_parts_are_priced(catalog: Catalog, sku: str) -> None:
    from optimizer.estimator import CostRequest, estimate_cost

    est = estimate_cost(catalog, CostRequest(accelerator=sku, accelerators=8, currency="USD"))
    assert est.total.base > 0 and est.total.low <= est.total.base <= est.total.high


def test_network_and_hosting_are_cost_lines_in_the_totals(catalog: Catalog, engine: ComplianceEngine,
                                                          cache: EstimateCache) -> None:
    plan = _plan(catalog, engine, cache, _req("US", "2026-02-15", budget="$20M", skus=["h100-sxm"]))
    assert plan.status == "optimal" and plan.nodes is not None and plan.nodes > 1
    item = plan.items[0]
    per_node = catalog.networks[item.fabric or ""].price_per_node
    assert per_node is not None and item.network == pytest.approx(per_node.base * item.nodes)
    hardware = 290_000 * item.nodes  # DGX H100 base price (USD)
    assert item.hosting == pytest.approx(0.05 * hardware * 3)  # 5 % of hardware a year over 3 years
    assert plan.capex is not None and plan.opex is not None and plan.total_cost is not None
    assert plan.capex == pytest.approx(item.capex) == pytest.approx(hardware + item.network)  # no fees in the US
    assert plan.total_cost == pytest.approx(plan.capex + plan.opex)
    assert plan.network_cost == pytest.approx(item.network) and plan.hosting_cost == pytest.approx(item.hosting)
    assert any("assumption (grade A)" in w for w in plan.warnings)


def test_a_single_node_buys_no_scale_out_network(catalog: Catalog, engine: ComplianceEngine,
                                                 cache: EstimateCache) -> None:
    req = PurchaseRequest.model_validate({
        "workloads": [{"kind": "training", "params": "1B", "tokens": "20B", "deadline_days": 60}],
        "buyer": {"country": "US", "date": "2026-02-15"}, "skus": ["h100-sxm"]})
    plan = _plan(catalog, engine, cache, req)
    assert plan.status == "optimal" and plan.nodes == 1 and plan.network_cost == 0


def test_json_bodies_with_overflowing_numbers_are_rejected() -> None:
    body = ('{"workloads": [{"kind": "training", "params": 7e10, "tokens": 1.4e12}], '
            '"buyer": {"country": "CN", "date": "2026-02-15"}, "budget": {"amount": 1e309}}')
    with pytest.raises(ValidationError, match="finite number"):
        PurchaseRequest.model_validate_json(body)


@pytest.mark.parametrize("field", ["electricity_per_kwh", "hosting_per_node_year", "rental_per_accelerator_hour"])
def test_cost_inputs_are_finite_and_bounded(field: str) -> None:
    from optimizer.estimator import CostRequest

    for bad in (math.inf, math.nan, 1e30):
        with pytest.raises(ValidationError):
            CostRequest.model_validate({"accelerator": "h20", "accelerators": 8, field: bad})

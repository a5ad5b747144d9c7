"""Ecosystem switching in today's plan: porting charges and ramped times, by hand, against brute force, and against
the hedge with no risk (issue 24 item 3)."""

from __future__ import annotations

from typing import Any

import pytest

from optimizer.catalog import Catalog
from optimizer.compliance import ComplianceEngine
from optimizer.errors import InvalidInputError
from optimizer.recommend import recommend
from optimizer.request import PurchaseRequest
from optimizer.risk import RiskSettings, recommend_hedged
from optimizer.risk.defaults import load_defaults
from optimizer.solve import solve
from optimizer.table import EstimateCache, build_table
from optimizer.validate import check_selection, revalidate
from tests.optimizer.factories import inference, node, pool, request, switching, table, training
from tests.oracles.brute import brute_force, porting_units

CACHE = EstimateCache()


def _req(**kw: Any) -> PurchaseRequest:
    data: dict[str, Any] = {
        "workloads": [{"kind": "training", "name": "train", "params": 7e9, "tokens": 2e11, "deadline_days": 60}],
        "buyer": {"country": "CN", "date": "2026-03-01"}, "budget": {"amount": 2e8, "currency": "CNY"},
        "alternatives": 0,
    }
    data.update(kw)
    return PurchaseRequest.model_validate(data)


def _selection(items: Any) -> dict[str, int]:
    return {i.option_id: i.units for i in items}


# ------------------------------------------------------------------------------------------ synthetic, by hand
def _two_stacks(current: str | None, **kw: Any) -> Any:
    """A job on "a" (family cuda, ¥5.0M) or "b" (family cann, ¥4.0M), and serving on "b" only (2 × ¥1.0M).

    Porting (¥100K per engineer-month): cuda 6 training / 2 serving months, cann 24 / 6 months.
    """
    req = request([training("t", deadline=100), inference("s", rate=10)], objective="min_cost", **kw)
    options = [pool("t", "a", cost=5.0e6, days=90), pool("t", "b", cost=4.0e6, days=80),
               node("s", "b", cost=1.0e6, capacity=5, max_units=3)]
    sw = None if current is None else switching(current, {"a": "cuda", "b": "cann"},
                                                training_months={"cuda": 6, "cann": 24},
                                                inference_months={"cuda": 2, "cann": 6})
    return table(req, options, switching=sw)


def test_porting_is_charged_once_per_workload_and_family_by_hand() -> None:
    # No stack: the cheaper part for both: 4.0M + 2 × 1.0M = 6.0M.
    r = solve(_two_stacks(None), objective="min_cost")
    assert r.selection == {"t:b:1n": 1, "s:b:node": 2} and r.cost == pytest.approx(6.0e6)
    # On CUDA: b costs 4.0M + 24 × 100K = 6.4M for the job (a: 5.0M); serving must port anyway (6 × 100K = 0.6M).
    t = _two_stacks("cuda")
    r = solve(t, objective="min_cost")
    assert r.selection == {"t:a:1n": 1, "s:b:node": 2}
    assert r.cost == pytest.approx(5.0e6 + 2 * 1.0e6 + 6 * 1e5)
    check = check_selection(t, r.selection)
    assert check.ok and check.switching_cost == pytest.approx(6e5) and check.cost == pytest.approx(7.6e6)
    # On CANN: b pays nothing, a would pay 6 × 100K: 4.0M + 2.0M, nothing to port.
    r = solve(_two_stacks("cann"), objective="min_cost")
    assert r.selection == {"t:b:1n": 1, "s:b:node": 2} and r.cost == pytest.approx(6.0e6)
    # Both workloads on b from "other": two charges (24 and 6 months), not one per node bought.
    t = _two_stacks("other")
    sel = {"t:b:1n": 1, "s:b:node": 2}
    assert check_selection(t, sel).switching_cost == pytest.approx((24 + 6) * 1e5)
    assert porting_units(t, sel) == 3000


def test_a_budget_counts_the_porting() -> None:
    t2 = _two_stacks("cuda", budget={"amount": 7.5e6, "currency": "CNY"})
    r = solve(t2, objective="min_cost")
    assert not r.status.ok  # 7.6M with porting: over a 7.5M budget that the hardware alone (7.0M) would meet
    assert "exceeds the budget" in " ".join(check_selection(t2, {"t:a:1n": 1, "s:b:node": 2}).problems)


# ------------------------------------------------------------------------------------------ real catalog, by hand
def test_ramped_days_and_porting_on_the_real_catalog_by_hand(catalog: Catalog, engine: ComplianceEngine) -> None:
    d = load_defaults().switching
    cann = d.targets["cann"]
    steady = build_table(catalog, engine, _req(skus=["ascend-910c"]), CACHE)
    ramped = build_table(catalog, engine, _req(skus=["ascend-910c"], current_stack="CUDA"), CACHE)
    one = next(o for o in steady.options if o.nodes == 1)
    one_r = next(o for o in ramped.options if o.nodes == 1)
    assert one.days is not None and one_r.days is not None
    # T' = T / e when the whole job runs inside the ramp (T ≤ e·R), else T + R·(1 − e).
    by_hand = (one.days / cann.ramp_efficiency if one.days <= cann.ramp_efficiency * cann.ramp_days
               else one.days + cann.ramp_days * (1 - cann.ramp_efficiency))
    assert one_r.days == pytest.approx(by_hand) and one_r.ramp_days_added == pytest.approx(by_hand - one.days)
    assert one_r.cost == one.cost  # the hardware is the same; the porting is a line of its own
    plan = recommend(catalog, engine, _req(skus=["ascend-910c"], current_stack="CUDA"), cache=CACHE)
    assert plan.switching is not None and plan.switching.current_stack == "cuda"
    porting = cann.training_person_months * d.person_month_cost.amount  # 24 × ¥60,000 = ¥1.44M
    assert plan.switching_cost == pytest.approx(porting) and plan.switching.cost == pytest.approx(porting)
    assert plan.total_cost == pytest.approx(sum(i.total_cost for i in plan.items) + porting)
    (item,) = plan.items
    assert item.time_days is not None and item.time_days <= 60  # the pool is sized on its ramped time
    assert plan.switching.charges[0].ramp_days_added == pytest.approx(item.ramp_days_added)
    assert plan.validation is not None and plan.validation.ok and plan.validation.recomputed
    assert plan.validation.switching_cost == pytest.approx(porting)
    term = next(t for t in plan.switching.terms if t.target == "cann")
    assert term.grade == "A" and term.sources == list(cann.sources) and term.ramp_days == cann.ramp_days
    # Without a stack nothing changes: no switching line, the same plan as before this feature.
    before = recommend(catalog, engine, _req(skus=["ascend-910c"]), cache=CACHE)
    assert before.switching is None and before.switching_cost is None
    assert before.total_cost == pytest.approx(sum(i.total_cost for i in before.items))


def test_the_validator_catches_a_table_whose_terms_differ(catalog: Catalog, engine: ComplianceEngine) -> None:
    req = _req(skus=["ascend-910c"], current_stack="CUDA")
    t = build_table(catalog, engine, req, CACHE)
    sel = {o.id: 1 for o in t.options if o.nodes == 2}
    assert revalidate(catalog, engine, t, sel).ok
    other = build_table(catalog, engine, req.model_copy(update={"person_month_cost": 1.0}), CACHE)
    forged = other.__class__(**{**other.__dict__, "request": req})  # cheap porting in the table, not in the request
    problems = revalidate(catalog, engine, forged, sel).problems
    assert any("switching cost" in p for p in problems)
    steady = build_table(catalog, engine, _req(skus=["ascend-910c"]), CACHE)
    unramped = steady.__class__(**{**steady.__dict__, "request": req, "switching": t.switching})
    sel0 = {o.id: 1 for o in unramped.options if o.nodes == 1}
    assert any("recomputed time" in p for p in revalidate(catalog, engine, unramped, sel0).problems)


def test_a_cann_buyer_stays_on_ascend_and_a_cuda_buyer_returns(catalog: Catalog, engine: ComplianceEngine) -> None:
    kw: dict[str, Any] = {"skus": ["ascend-910c", "h200"], "accept_license_risk": True}
    none = recommend(catalog, engine, _req(**kw), cache=CACHE)
    cann = recommend(catalog, engine, _req(current_stack="CANN", **kw), cache=CACHE)
    cuda = recommend(catalog, engine, _req(current_stack="CUDA", **kw), cache=CACHE)
    assert [i.sku for i in none.items] == ["ascend-910c"]  # cheaper with no stack in view
    assert [i.sku for i in cann.items] == ["ascend-910c"] and cann.switching_cost == 0
    assert cann.total_cost == pytest.approx(none.total_cost)
    # On CUDA the Ascend pool would pay 24 engineer-months and a slower start: returning to H200 is cheaper.
    assert [i.sku for i in cuda.items] == ["h200"] and cuda.switching_cost == 0
    row = next(c for c in cuda.considered if c.sku == "ascend-910c")
    assert row.total_cost is not None and cuda.total_cost is not None and row.total_cost > cuda.total_cost
    for p in (none, cann, cuda):
        assert p.validation is not None and p.validation.ok, p.validation


def test_an_unknown_stack_is_one_clear_error(catalog: Catalog, engine: ComplianceEngine) -> None:
    with pytest.raises(InvalidInputError, match="unknown software stack"):
        build_table(catalog, engine, _req(current_stack="fortran"), CACHE)
    with pytest.raises(InvalidInputError, match="unknown target ecosystem"):
        build_table(catalog, engine, _req(current_stack="CUDA", switching={"cobol": {"ramp_days": 1}}), CACHE)


def test_overrides_change_the_terms_and_say_so(catalog: Catalog, engine: ComplianceEngine) -> None:
    req = _req(skus=["ascend-910c"], current_stack="CUDA", person_month_cost=10_000,
               switching={"cann": {"training_person_months": 3, "ramp_days": 0}})
    plan = recommend(catalog, engine, req, cache=CACHE)
    assert plan.switching is not None and plan.switching_cost == pytest.approx(3 * 10_000)
    assert plan.items[0].ramp_days_added == 0
    term = next(t for t in plan.switching.terms if t.target == "cann")
    assert term.basis == "set by the request" and term.sources == []
    assert plan.switching.person_month_basis == "set by the request"


# ------------------------------------------------------------------------------------------ the hedge agrees
@pytest.mark.parametrize("stack", ["CUDA", "CANN"])
@pytest.mark.parametrize("kw", [
    {"accept_license_risk": True},
    {"accept_license_risk": True,
     "workloads": [{"kind": "training", "name": "train", "params": 7e9, "tokens": 2e11, "deadline_days": 60},
                   {"kind": "inference", "name": "serve", "params": 7e9, "requests_per_s": 10}]},
])
def test_with_no_risk_the_hedge_is_todays_plan_with_a_stack(catalog: Catalog, engine: ComplianceEngine,
                                                             kw: dict[str, Any], stack: str) -> None:
    req = _req(current_stack=stack, **kw)
    today = recommend(catalog, engine, req, cache=CACHE)
    assert today.switching is not None
    plan = recommend_hedged(catalog, engine, req, RiskSettings(probability_scale=0), cache=CACHE)
    r = plan.risk
    assert r is not None and r.same_as_base and r.status in ("optimal", "feasible")
    assert _selection(plan.items) == _selection(today.items) == _selection(r.items)
    assert plan.total_cost == pytest.approx(today.total_cost)
    assert r.expected_total_cost.base == pytest.approx(today.total_cost)  # porting counted alike in both models
    assert r.nominal_cost.base == pytest.approx(today.total_cost)
    assert r.switching is not None and sum(c.porting_cost for c in r.switching.base) == pytest.approx(
        today.switching_cost or 0.0)
    assert r.validation is not None and r.validation.ok, r.validation
    # The stack given in the risk section instead reaches today's plan too.
    plain = req.model_copy(update={"current_stack": None})
    via_risk = recommend_hedged(catalog, engine, plain, RiskSettings(probability_scale=0, current_stack=stack),
                                cache=CACHE)
    assert _selection(via_risk.items) == _selection(today.items)
    assert via_risk.switching_cost == pytest.approx(today.switching_cost or 0.0)


def test_brute_force_agrees_with_switching_terms_on_a_real_table(catalog: Catalog, engine: ComplianceEngine) -> None:
    req = _req(skus=["ascend-910c", "h200", "mi300x"], accept_license_risk=True, current_stack="CUDA",
               workloads=[{"kind": "training", "name": "train", "params": 7e9, "tokens": 2e11, "deadline_days": 60},
                          {"kind": "inference", "name": "serve", "params": 7e9, "requests_per_s": 4}])
    t = build_table(catalog, engine, req, CACHE)
    t = t.__class__(**{**t.__dict__, "options": [o for o in t.options if o.max_units <= 3]})
    expected = brute_force(t, "min_cost")
    r = solve(t, objective="min_cost")
    assert expected is not None and r.status.ok
    from optimizer.model.variables import to_int

    ints = {o.id: to_int(o) for o in t.options}
    cost = sum(ints[i].cost * n for i, n in r.selection.items()) + porting_units(t, r.selection)
    span = max((ints[i].days or 0 for i in r.selection if ints[i].days is not None), default=0)
    assert (cost, span) == expected

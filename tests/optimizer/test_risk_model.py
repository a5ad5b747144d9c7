"""The two-stage model on small synthetic instances: CP-SAT equals exhaustive enumeration; invariants hold."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from optimizer.risk.coefficients import HedgeTerms, build_coefficients
from optimizer.risk.evaluate import evaluate
from optimizer.risk.sampling import build_scenarios
from optimizer.risk.solver import solve_hedge
from optimizer.risk.spec import DayRange, DelayEvent, LicenceEvent, PriceEvent, TighteningEvent
from optimizer.solve import solve
from tests.optimizer.factories import inference, node, pool, request, table, training
from tests.oracles.hedge_brute import brute_hedge, on_weight

SKUS = ["s0", "s1", "s2"]


def _pool(workload: str, sku: str, cost: float, days: float, nodes: int, **kw: Any):  # type: ignore[no-untyped-def]
    o = pool(workload, sku, cost=cost, days=days, nodes=nodes, **kw)
    return o.__class__(**{**o.__dict__, "cost_low": cost * 0.8, "cost_high": cost * 1.3, "capex": cost * 0.9})


@st.composite
def instances(draw):  # type: ignore[no-untyped-def]
    objective = draw(st.sampled_from(["on_time", "expected_cost", "cvar"]))
    workloads, options = [], []
    for t in range(draw(st.integers(1, 2))):
        workloads.append(training(f"t{t}", deadline=draw(st.integers(40, 120))))
        for sku in draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=3, unique=True)):
            for nodes in draw(st.lists(st.integers(1, 4), min_size=1, max_size=2, unique=True)):
                options.append(_pool(f"t{t}", sku, cost=draw(st.integers(2, 30)) * 1e5 * nodes,
                                     days=draw(st.integers(20, 150)) / nodes, nodes=nodes,
                                     power=draw(st.integers(1, 10)), vendor=sku, domestic=sku == "s2"))
    if draw(st.booleans()):
        workloads.append(inference("s", rate=draw(st.integers(2, 8))))
        for sku in draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=2, unique=True)):
            options.append(node("s", sku, cost=draw(st.integers(1, 8)) * 1e5, capacity=draw(st.integers(2, 5)),
                                max_units=draw(st.integers(1, 3)), power=2, vendor=sku, domestic=sku == "s2"))
    kw: dict[str, Any] = {"objective": "min_cost"}
    if draw(st.booleans()):
        kw["budget"] = {"amount": draw(st.integers(5, 120)) * 1e5}
    if draw(st.booleans()):
        kw["limits"] = {"power_kw": draw(st.integers(10, 60))}
    if draw(st.booleans()):
        kw["policy"] = {"min_domestic_share": 0.25}
    t = table(request(workloads, **kw), options)
    events = []
    for sku in draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=2, unique=True)):
        kind = draw(st.sampled_from(["licence", "tightening", "delay", "price"]))
        group = draw(st.sampled_from([None, "g"]))
        p = draw(st.sampled_from([0.1, 0.25, 0.5]))
        if kind == "licence":
            events.append(LicenceEvent(id=f"l:{sku}", sku=sku, revoke=p, pause=draw(st.sampled_from([0.0, 0.2])),
                                       pause_days=DayRange(low=30, high=30), discovered_after_days=20, group=group))
        elif kind == "tightening":
            events.append(TighteningEvent(id=f"t:{sku}", sku=sku, probability=p, discovered_after_days=30,
                                          group=group))
        elif kind == "delay":
            events.append(DelayEvent(id=f"d:{sku}", sku=sku, probability=p, days=DayRange(low=10, high=40),
                                     levels=2, group=group))
        else:
            events.append(PriceEvent(id=f"p:{sku}", sku=sku, low=0.25, base=0.5, high=0.25, group=group))
    sset = build_scenarios(events, method="exact")
    terms = HedgeTerms(objective=objective, deposit_lost=0.1, recourse_price_factor=1.1, recourse_lead_days=5,
                       lead_time_days=draw(st.sampled_from([0.0, 10.0])), service_deadline_days=draw(
                           st.sampled_from([None, 60.0])), cvar_alpha=0.8)
    return build_coefficients(t, sset, terms, None)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(instances())
def test_hedged_optimum_equals_brute_force_and_validates(co) -> None:  # type: ignore[no-untyped-def]
    base = solve(co.table, objective="min_cost")
    require = None
    if co.terms.objective != "on_time":
        require = on_weight(co, base.selection) if base.status.ok else 0
        require = require or 0
    expected = brute_hedge(co, require_on=require)
    event(f"feasible={expected is not None} obj={co.terms.objective} scen={len(co.per_scenario)}")
    got = solve_hedge(co, require_on=require)
    if expected is None:
        assert not got.status.ok
        return
    assert got.status.ok, got.status
    assert got.objective == expected[0]
    for j in range(len(co.per_scenario)):
        ev = evaluate(co, j, got.selection, got.recourse[j])
        assert ev.problems == []
        assert ev.outcome.feasible != got.fail[j]
        if got.on[j]:
            assert ev.outcome.on_time


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(instances())
def test_a_pinned_plan_gets_its_best_recourse(co) -> None:  # type: ignore[no-untyped-def]
    base = solve(co.table, objective="min_cost")
    if not base.status.ok:
        return
    pinned = solve_hedge(co.__class__(**{**co.__dict__, "terms": co.terms.__class__(
        **{**co.terms.__dict__, "objective": "on_time"})}), fixed=base.selection)
    best = on_weight(co, base.selection)
    if best is None:
        assert not pinned.status.ok
        return
    assert pinned.status.ok
    assert pinned.on_weight == best
    assert pinned.selection == {k: v for k, v in base.selection.items() if v}

"""Properties of hedged plans on synthetic instances: monotone in revocation risk, never less likely on time."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.risk.coefficients import HedgeTerms, build_coefficients
from optimizer.risk.hedge import solve_pair
from optimizer.risk.sampling import build_scenarios
from optimizer.risk.spec import DayRange, DelayEvent, LicenceEvent, PriceEvent, RiskEvent
from optimizer.solve import solve
from optimizer.table import OptionTable
from tests.optimizer.factories import inference, node, pool, request, table, training

SKUS = ["s0", "s1", "s2"]


@st.composite
def cases(draw):  # type: ignore[no-untyped-def]
    workloads, options = [], []
    for t in range(draw(st.integers(1, 2))):
        workloads.append(training(f"t{t}", deadline=draw(st.integers(40, 120))))
        for sku in draw(st.lists(st.sampled_from(SKUS), min_size=2, max_size=3, unique=True)):
            for nodes in draw(st.lists(st.integers(1, 4), min_size=1, max_size=2, unique=True)):
                o = pool(f"t{t}", sku, cost=draw(st.integers(2, 30)) * 1e5 * nodes,
                         days=draw(st.integers(20, 150)) / nodes, nodes=nodes, vendor=sku)
                options.append(o)
    if draw(st.booleans()):
        workloads.append(inference("s", rate=draw(st.integers(2, 8))))
        for sku in draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=2, unique=True)):
            options.append(node("s", sku, cost=draw(st.integers(1, 8)) * 1e5, capacity=draw(st.integers(2, 5)),
                                max_units=draw(st.integers(1, 3)), vendor=sku))
    kw: dict[str, Any] = {"objective": "min_cost"}
    if draw(st.booleans()):
        kw["budget"] = {"amount": draw(st.integers(5, 120)) * 1e5}
    others: list[RiskEvent] = []
    for sku in draw(st.lists(st.sampled_from(SKUS[1:]), max_size=2, unique=True)):
        if draw(st.booleans()):
            others.append(DelayEvent(id=f"d:{sku}", sku=sku, probability=draw(st.sampled_from([0.1, 0.3])),
                                     days=DayRange(low=10, high=40), levels=2))
        else:
            others.append(PriceEvent(id=f"p:{sku}", sku=sku))
    p1 = draw(st.sampled_from([0.0, 0.05, 0.2, 0.4]))
    p2 = draw(st.sampled_from([0.05, 0.2, 0.4, 0.8]).filter(lambda p: p > p1))
    objective = "on_time"
    lead = draw(st.sampled_from([0.0, 10.0]))
    return table(request(workloads, **kw), options), others, p1, p2, objective, lead


def _hedged(t: OptionTable, events: list[RiskEvent], objective: str, lead: float):  # type: ignore[no-untyped-def]
    sset = build_scenarios(events, method="exact")
    terms = HedgeTerms(objective=objective, deposit_lost=0.1, recourse_price_factor=1.1,  # type: ignore[arg-type]
                       recourse_lead_days=0, lead_time_days=lead, service_deadline_days=None, cvar_alpha=0.8)
    co = build_coefficients(t, sset, terms, None)
    base = solve(t, objective="min_cost")
    return co, solve_pair(co, base.selection if base.status.ok else None)


def _share(t: OptionTable, selection: dict[str, int], sku: str) -> float:
    opts = {o.id: o for o in t.options}
    total = sum(opts[i].accelerators * n for i, n in selection.items())
    return sum(opts[i].accelerators * n for i, n in selection.items() if opts[i].sku == sku) / total if total else 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_raising_a_revocation_probability_never_raises_that_parts_share(case) -> None:  # type: ignore[no-untyped-def]
    t, others, p1, p2, objective, lead = case
    low = [LicenceEvent(id="l:s0", sku="s0", revoke=p1, discovered_after_days=20), *others]
    high = [LicenceEvent(id="l:s0", sku="s0", revoke=p2, discovered_after_days=20), *others]
    _, (_, h1, _) = _hedged(t, low, objective, lead)
    _, (_, h2, _) = _hedged(t, high, objective, lead)
    if not (h1.status.ok and h2.status.ok):
        return
    assert _share(t, h2.selection, "s0") <= _share(t, h1.selection, "s0") + 1e-9

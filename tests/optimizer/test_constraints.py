"""One feasible and one infeasible micro-model per constraint family (synthetic option tables)."""

from __future__ import annotations

import pytest

from optimizer.solve import SolveStatus, solve
from optimizer.validate import check_selection
from tests.optimizer.factories import inference, node, pool, request, table, training


def _status(t, objective: str = "min_cost") -> SolveStatus:  # type: ignore[no-untyped-def]
    r = solve(t, objective=objective)  # type: ignore[arg-type]
    if r.status.ok:
        assert check_selection(t, r.selection).ok, check_selection(t, r.selection).problems
    return r.status


def test_coverage_training_needs_an_option() -> None:
    req = request([training(deadline=30)])
    assert _status(table(req, [pool("t", "a", cost=1e6, days=10)])).ok
    assert _status(table(req, [])) == SolveStatus.infeasible


def test_coverage_inference_capacity() -> None:
    req = request([inference(rate=10)])
    ok = table(req, [node("s", "a", cost=1e5, capacity=4.0, max_units=3)])
    r = solve(ok, objective="min_cost")
    assert r.status.ok and r.selection == {"s:a:node": 3}
    assert _status(table(req, [node("s", "a", cost=1e5, capacity=4.0, max_units=2)])) == SolveStatus.infeasible


def test_deadline() -> None:
    opts = [pool("t", "a", cost=1e6, days=10)]
    assert _status(table(request([training(deadline=12)]), opts)).ok
    assert _status(table(request([training(deadline=8)]), opts)) == SolveStatus.infeasible


def test_budget() -> None:
    opts = [pool("t", "a", cost=1e6, days=10)]
    assert _status(table(request([training()], budget={"amount": 1.5e6}), opts), "min_time").ok
    assert _status(table(request([training()], budget={"amount": 0.5e6}), opts), "min_time") == SolveStatus.infeasible


def test_budget_rounding_is_conservative() -> None:
    # 1,000,000.5 does not fit a budget of exactly 1,000,000 even though both round to 1,000 money units.
    opts = [pool("t", "a", cost=1_000_000.5, days=10)]
    assert _status(table(request([training()], budget={"amount": 1_000_000}), opts), "min_time") == (
        SolveStatus.infeasible)


def test_power_cap() -> None:
    opts = [pool("t", "a", cost=1e6, days=10, power=5.0)]
    assert _status(table(request([training(deadline=30)], limits={"power_kw": 10}), opts)).ok
    assert _status(table(request([training(deadline=30)], limits={"power_kw": 3}), opts)) == SolveStatus.infeasible


def test_rack_space() -> None:
    opts = [pool("t", "a", cost=1e6, days=10, nodes=8)]
    assert _status(table(request([training(deadline=30)], limits={"racks": 2, "nodes_per_rack": 4}), opts)).ok
    assert _status(table(request([training(deadline=30)], limits={"racks": 1, "nodes_per_rack": 4}), opts)) == (
        SolveStatus.infeasible)


def test_supply() -> None:
    opts = [pool("t", "a", cost=1e6, days=10, nodes=8)]  # 64 accelerators
    req = request([training(deadline=30)])
    assert _status(table(req, opts, supply={"a": 64})).ok
    assert _status(table(req, opts, supply={"a": 63})) == SolveStatus.infeasible


def test_policy_blocked_options_are_never_chosen() -> None:
    req = request([training(deadline=30)])
    assert _status(table(req, [pool("t", "a", cost=1e6, days=10)])).ok
    assert _status(table(req, [pool("t", "a", cost=1e6, days=10, blocked="licence required")])) == (
        SolveStatus.infeasible)
    both = table(req, [pool("t", "a", cost=1e5, days=10, blocked="restricted"), pool("t", "b", cost=1e6, days=10)])
    assert solve(both, objective="min_cost").selection == {"t:b:1n": 1}


def test_domestic_share() -> None:
    req_ok = request([training(deadline=30), inference(rate=4)], policy={"min_domestic_share": 0.5})
    opts = [pool("t", "dom", cost=2e6, days=10, domestic=True, vendor="d"),
            pool("t", "for", cost=1e6, days=10, vendor="f"),
            node("s", "for", cost=1e5, capacity=4.0, max_units=1, vendor="f")]
    r = solve(table(req_ok, opts), objective="min_cost")
    assert r.status.ok and "t:dom:1n" in r.selection  # 8 domestic of 16 = 50%
    req_bad = request([training(deadline=30), inference(rate=4)], policy={"min_domestic_share": 0.75})
    assert _status(table(req_bad, opts)) == SolveStatus.infeasible


def test_vendor_cap() -> None:
    opts = [pool("t", "a", cost=1e6, days=10, vendor="x"), node("s", "b", cost=1e5, capacity=4, max_units=1,
                                                                  vendor="y")]
    ok = request([training(deadline=30), inference(rate=4)],
                 policy={"max_vendor_share": 0.5, "vendor_allow": ["x", "y"]})
    assert _status(table(ok, opts)).ok  # 8 and 8 accelerators: 50% each
    bad = request([training(deadline=30), inference(rate=4)], policy={"max_vendor_share": 0.5})
    single = [pool("t", "a", cost=1e6, days=10, vendor="x"), node("s", "a", cost=1e5, capacity=4, max_units=1,
                                                                 vendor="x")]
    assert _status(table(bad, single)) == SolveStatus.infeasible


def test_mixed_pools_pool_throughput() -> None:
    # Each SKU alone takes 20 days; together (at 85% efficiency) 20/2/0.85 = 11.8 days.
    opts = [pool("t", "a", cost=1e6, days=20), pool("t", "b", cost=1e6, days=20)]
    homogeneous = request([training(deadline=12)])
    assert _status(table(homogeneous, opts)) == SolveStatus.infeasible
    mixed = request([training(deadline=12)], allow_mixed_pools=True)
    r = solve(table(mixed, opts), objective="min_cost")
    assert r.status.ok and len(r.selection) == 2
    assert r.makespan_days == pytest.approx(20 / 2 / 0.85)


def test_min_time_tie_breaks_on_cost() -> None:
    req = request([training()], budget={"amount": 5e6})
    opts = [pool("t", "a", cost=3e6, days=10), pool("t", "b", cost=2e6, days=10), pool("t", "c", cost=1e6, days=30)]
    r = solve(table(req, opts), objective="min_time")
    assert r.selection == {"t:b:1n": 1}  # as fast as a, cheaper


def test_min_cost_tie_breaks_on_time() -> None:
    req = request([training(deadline=40)])
    opts = [pool("t", "a", cost=1e6, days=30), pool("t", "b", cost=1e6, days=20)]
    assert solve(table(req, opts), objective="min_cost").selection == {"t:b:1n": 1}


def test_solver_status_is_data_for_an_empty_problem() -> None:
    r = solve(table(request([training(deadline=1)]), []), objective="min_cost")
    assert r.status == SolveStatus.infeasible and r.selection == {}

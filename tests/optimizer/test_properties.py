"""Property tests: on random small instances CP-SAT equals exhaustive enumeration; plans validate."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.model.variables import to_int
from optimizer.solve import solve
from optimizer.validate import check_selection
from tests.optimizer.factories import inference, node, pool, request, table, training
from tests.oracles.brute import brute_force

VENDORS = ["x", "y", "z"]


@st.composite
def instances(draw):  # type: ignore[no-untyped-def]
    n_train = draw(st.integers(1, 2))
    has_inf = draw(st.booleans())
    objective = draw(st.sampled_from(["min_cost", "min_time"]))
    workloads = []
    options = []
    for t in range(n_train):
        deadline = draw(st.one_of(st.none(), st.integers(5, 60))) if objective == "min_time" else draw(
            st.integers(5, 60))
        workloads.append(training(f"t{t}", deadline=deadline))
        for j in range(draw(st.integers(1, 3))):
            vendor = draw(st.sampled_from(VENDORS))
            options.append(pool(f"t{t}", f"s{j}", cost=draw(st.integers(1, 40)) * 1e5,
                                days=draw(st.integers(2, 80)) + draw(st.floats(0, 0.99)),
                                nodes=draw(st.integers(1, 4)), power=draw(st.integers(1, 30)),
                                vendor=vendor, domestic=vendor == "z"))
    if has_inf:
        workloads.append(inference("s", rate=draw(st.integers(1, 12))))
        for j in range(draw(st.integers(1, 2))):
            vendor = draw(st.sampled_from(VENDORS))
            options.append(node("s", f"s{j}", cost=draw(st.integers(1, 10)) * 1e5, capacity=draw(st.integers(2, 6)),
                                max_units=draw(st.integers(1, 4)), power=draw(st.integers(1, 10)), vendor=vendor,
                                domestic=vendor == "z"))
    kw = {"objective": objective}
    if objective == "min_time" or draw(st.booleans()):
        kw["budget"] = {"amount": draw(st.integers(2, 120)) * 1e5}
    if draw(st.booleans()):
        kw["limits"] = {"power_kw": draw(st.integers(5, 60))}
    if draw(st.booleans()):
        kw["policy"] = {"min_domestic_share": draw(st.sampled_from([0.25, 0.5]))}
    return table(request(workloads, **kw), options), objective


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_cp_sat_equals_brute_force_and_plans_validate(inst) -> None:  # type: ignore[no-untyped-def]
    t, objective = inst
    expected = brute_force(t, objective)
    r = solve(t, objective=objective)
    if expected is None:
        assert not r.status.ok
        return
    assert r.status.ok
    ints = {o.id: to_int(o) for o in t.options}
    cost = sum(ints[i].cost * n for i, n in r.selection.items())
    span = max((ints[i].days or 0 for i in r.selection if ints[i].days is not None), default=0)
    got = (cost, span) if objective == "min_cost" else (span, cost)
    assert got == expected
    check = check_selection(t, r.selection)
    assert check.ok, check.problems

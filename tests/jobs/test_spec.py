"""Sweep specs: axes, ranges, cartesian products, explicit scenarios, what-if axes, stable ids."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.errors import InvalidInputError
from service.jobs.spec import (
    axis_length,
    axis_values,
    count_scenarios,
    expand,
    iter_scenarios,
    load_spec,
    parse_spec,
    scenario_id,
)
from service.usecases import LimitExceededError
from tests.jobs.conftest import BASE

ROOT = Path(__file__).resolve().parents[2]


def test_log_range_hits_both_ends_and_the_geometric_middle() -> None:
    assert axis_values("budget.amount", {"from": 2e7, "to": 5e8, "steps": 3, "scale": "log"}) == [2e7, 1e8, 5e8]


def test_linear_ranges_by_steps_and_by_step() -> None:
    assert axis_values("x", {"from": 0, "to": 1, "steps": 5}) == [0, 0.25, 0.5, 0.75, 1]
    assert axis_values("x", {"from": "1亿", "to": "3亿", "step": "1亿"}) == [1e8, 2e8, 3e8]


def test_quarterly_dates_from_june_2023_to_june_2026_are_13() -> None:
    dates = axis_values("buyer.date", {"from": "2023-06-01", "to": "2026-06-01", "every": "quarter"})
    assert len(dates) == 13
    assert dates[:3] == ["2023-06-01", "2023-09-01", "2023-12-01"] and dates[-1] == "2026-06-01"


def test_month_ends_are_clamped() -> None:
    assert axis_values("d", {"from": "2024-01-31", "to": "2024-03-31", "every": "month"}) == [
        "2024-01-31", "2024-02-29", "2024-03-31"]


@pytest.mark.parametrize("values, message", [
    ([], "no values"),
    ({"from": 1, "to": 0, "step": 1}, "a range needs"),
    ({"from": 1, "to": 2, "steps": 2, "scale": "cubic"}, "scale"),
    ({"from": "2024-01-01", "to": "2023-01-01", "every": "month"}, "before"),
    ({"from": 1, "to": 2, "stride": 1}, "unknown range key"),
    ("CN", "give a list"),
])
def test_bad_axes_are_one_line_errors(values: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        axis_values("a.b", values)


def test_the_analysts_question_expands_to_the_full_cartesian_product() -> None:
    spec = load_spec(ROOT / "examples" / "sweep.yaml")
    assert count_scenarios(spec) == 20 * 3 * 13 * 2
    scenarios = expand(spec)
    assert len(scenarios) == 1560
    assert len({s.id for s in scenarios}) == 1560
    last = scenarios[-1]
    assert last.values == {"budget.amount": 5e8, "buyer.country": "AE", "buyer.date": "2026-06-01",
                           "whatif.remove_skus": ["h20"]}
    assert last.request["buyer"] == {"country": "AE", "date": "2026-06-01", "kind": "commercial"}
    assert last.whatif == {"remove_skus": ["h20"]}
    assert scenarios[0].whatif is None  # removing nothing is no change at all


def test_ids_depend_on_the_resolved_scenario_not_on_how_it_is_written() -> None:
    a = parse_spec({"base": BASE, "sweep": {"budget.amount": ["1亿"]}})
    b = parse_spec({"base": {**BASE, "workloads": [{"params": 7e10, "tokens": 1.4e12, "kind": "training"}],
                             "budget": {"currency": "CNY", "amount": 1e8}}, "scenarios": [{}]})
    assert expand(a)[0].id == expand(b)[0].id
    other = parse_spec({"base": BASE, "sweep": {"budget.amount": ["2亿"]}})
    assert expand(other)[0].id != expand(a)[0].id


def test_the_same_spec_always_gives_the_same_ids() -> None:
    spec = load_spec(ROOT / "examples" / "sweep_small.yaml")
    assert [s.id for s in expand(spec)] == [s.id for s in expand(spec)]


def test_explicit_scenarios_combine_with_the_grid_and_duplicates_collapse() -> None:
    spec = parse_spec({"base": BASE, "sweep": {"buyer.country": ["CN", "DE"]},
                       "scenarios": [{}, {"whatif.price_changes.h20": 0.5},
                                     {"whatif": {"price_changes": {"h20": 0.5}}}]})
    scenarios = expand(spec)
    assert len(scenarios) == 4  # the third scenario is the second written differently
    assert scenarios[2].whatif == {"price_changes": {"h20": 0.5}}


def test_list_indexes_in_paths() -> None:
    spec = parse_spec({"base": BASE, "sweep": {"workloads.0.params": ["7B", "70B"]}})
    assert [s.request["workloads"][0]["params"] for s in expand(spec)] == [7e9, 7e10]
    with pytest.raises(InvalidInputError, match="not an index"):
        expand(parse_spec({"base": BASE, "sweep": {"workloads.0.params": ["7B"], "workloads.3.params": ["7B"]}}))


def test_a_spec_whose_scenarios_are_all_invalid_is_rejected() -> None:
    bad = {**BASE, "buyer": {"country": "CN", "date": "not a date"}}
    with pytest.raises(InvalidInputError, match="no valid scenario"):
        parse_spec({"base": bad, "sweep": {"budget.amount": [1e8, 2e8]}})


def test_a_sweep_with_some_invalid_corners_is_accepted() -> None:
    # min_cost needs a deadline, which the base lacks: those scenarios fail when run; min_time ones are fine.
    spec = parse_spec({"base": BASE, "sweep": {"objective": ["min_cost", "min_time"]}})
    assert len(expand(spec)) == 2


@pytest.mark.parametrize("data, message", [
    ([1, 2], "must be a mapping"),
    ({"sweep": {}}, "needs `base:`"),
    ({"base": BASE}, "give `sweep:`"),
    ({"base": BASE, "sweep": {"a..b": [1]}}, "dotted path"),
    ({"base": BASE, "sweep": {"x": [1]}, "extra": 1}, "extra"),
])
def test_malformed_specs(data: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_spec(data)


def test_too_many_scenarios_is_refused_before_expanding() -> None:
    data = {"base": BASE, "sweep": {"budget.amount": {"from": 1e7, "to": 1e9, "steps": 1000},
                                    "workloads.0.tokens": {"from": 1e11, "to": 1e13, "steps": 1000}}}
    # the cap is checked from the axes' lengths: refused at once, before any axis is expanded
    with pytest.raises(LimitExceededError, match=r"expands to 1,000,000 scenarios; .* at most 20,000 .*"
                                                 r"PROCURE_JOBS__MAX_SCENARIOS"):
        parse_spec(data)
    assert isinstance(LimitExceededError("x"), InvalidInputError)  # the CLI answers it with exit 2
    # a raised cap lets it through; expanding it under a lower cap is refused before the first scenario
    spec = parse_spec(data, max_scenarios=1_000_000)
    with pytest.raises(LimitExceededError, match="at most 999"):
        next(iter_scenarios(spec, max_scenarios=999))


@pytest.mark.parametrize("axis, expected", [
    ({"from": 1, "to": 9, "steps": 5}, 5),
    ({"from": 1, "to": 10, "step": 0.5}, 19),
    ({"from": "2023-01-31", "to": "2026-06-01", "every": "quarter"}, 14),
    ({"from": "2024-02-29", "to": "2025-02-28", "every": "year"}, 2),  # a leap day steps to 28 February
    ({"from": "2023-01-01", "to": "2023-12-31", "every": 7}, 53),
    (["CN", "DE", "AE"], 3),
])
def test_axis_length_is_computed_without_expanding(axis: object, expected: int) -> None:
    assert axis_length("x", axis) == expected == len(axis_values("x", axis))


def test_the_scenario_stream_is_lazy_and_equals_the_list() -> None:
    spec = load_spec(ROOT / "examples" / "sweep.yaml")
    stream = iter_scenarios(spec)
    first = list(itertools.islice(stream, 3))
    assert [s.seq for s in first] == [0, 1, 2]
    assert [s.id for s in first] + [s.id for s in stream] == [s.id for s in expand(spec)]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["CN", "DE", "AE", "SG", "US"]), min_size=1, max_size=5, unique=True),
       st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=6, unique=True))
def test_grid_size_is_the_product_and_ids_are_unique(countries: list[str], budgets_m: list[int]) -> None:
    spec = parse_spec({"base": BASE, "sweep": {"buyer.country": countries,
                                               "budget.amount": [b * 1e7 for b in budgets_m]}})
    scenarios = expand(spec)
    assert len(scenarios) == len(countries) * len(budgets_m) == count_scenarios(spec)
    assert len({s.id for s in scenarios}) == len(scenarios)
    assert all(s.id == scenario_id(s.request, s.whatif) for s in scenarios)

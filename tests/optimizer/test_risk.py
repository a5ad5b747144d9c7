"""Hedged plans on the real catalog: derivation, sampling, switching, the must-be-true invariants of issue 24."""

from __future__ import annotations

import math
from typing import Any

import pytest

from optimizer.catalog import Catalog
from optimizer.compliance import ComplianceEngine
from optimizer.errors import InvalidInputError, UnknownSkuError
from optimizer.recommend import recommend
from optimizer.request import PurchaseRequest
from optimizer.risk import RiskSettings, recommend_hedged, risk_scenarios
from optimizer.risk.defaults import load_defaults
from optimizer.risk.derive import scenario_events
from optimizer.risk.sampling import build_scenarios, joint_outcome_count
from optimizer.risk.spec import DayRange, DelayEvent, LicenceEvent, PriceEvent, TighteningEvent
from optimizer.risk.switching import family, normalise_stack, ramped_days
from optimizer.table import EstimateCache, build_table

CACHE = EstimateCache()


def _req(**kw: Any) -> PurchaseRequest:
    data: dict[str, Any] = {
        "workloads": [{"kind": "training", "name": "train", "params": 7e9, "tokens": 2e11, "deadline_days": 60}],
        "buyer": {"country": "CN", "date": "2026-03-01"}, "budget": {"amount": 2e8, "currency": "CNY"},
        "accept_license_risk": True,
    }
    data.update(kw)
    return PurchaseRequest.model_validate(data)


def _selection(items: Any) -> dict[str, int]:
    return {i.option_id: i.units for i in items}


# ------------------------------------------------------------------------------------------ derivation
def test_events_follow_the_licence_outlooks_and_china_side_measures(catalog: Catalog, engine: ComplianceEngine
                                                                   ) -> None:
    # August 2025: the H20 sells under a granted licence (production stops on 2025-08-22), before the customs checks
    req = _req(buyer={"country": "CN", "date": "2025-08-15"})
    table = build_table(catalog, engine, req, CACHE)
    events = {e.id: e for e in scenario_events(table, catalog, engine, load_defaults(), RiskSettings())}
    d = load_defaults().outlooks
    h20 = events["licence:h20"]
    assert isinstance(h20, LicenceEvent) and h20.outlook == "granted"
    assert (h20.revoke, h20.pause) == (d["granted"].revoke, d["granted"].pause)
    assert "licence:ascend-910c" not in events  # domestic, no licence
    tight = events["tightening:h20"]  # China-side guidance on the H20 (caution for a commercial buyer)
    assert isinstance(tight, TighteningEvent) and tight.probability == 0.20
    ordinary = events["delay:h20"]  # no customs checks yet: an ordinary delivery slip
    assert isinstance(ordinary, DelayEvent) and ordinary.group != "cn-customs"
    hbm = events["delay:ascend-910c"]  # the engine's imported-HBM warning
    assert isinstance(hbm, DelayEvent) and hbm.group == "hbm-supply"
    assert isinstance(events["price:h20"], PriceEvent)
    ranged = {o.sku for o in table.options if o.blocked is None and o.cost_high > o.cost_low}
    assert {e.sku for e in events.values() if isinstance(e, PriceEvent)} == ranged  # a single figure: no event
    assert all(e.grade == "A" for e in events.values())

    # March 2026: the H20 is no longer made; the H200 is reviewed case by case and meets China's customs checks
    table = build_table(catalog, engine, _req(), CACHE)
    later = {e.id: e for e in scenario_events(table, catalog, engine, load_defaults(), RiskSettings())}
    assert not any(k.endswith(":h20") for k in later)
    h200 = later["licence:h200"]
    assert isinstance(h200, LicenceEvent) and h200.outlook == "case_by_case" and h200.revoke == 0.30
    assert h200.group == h20.group == "us-licences"  # declared correlated: the April 2025 letters came together
    customs = later["delay:h200"]  # US-origin part into China after the customs checks of October 2025
    assert isinstance(customs, DelayEvent) and customs.group == "cn-customs" and customs.probability == 0.30


def test_state_funded_buyers_face_tightening_on_every_foreign_part(catalog: Catalog, engine: ComplianceEngine
                                                                    ) -> None:
    req = _req(buyer={"country": "CN", "kind": "state_funded", "date": "2025-07-20"})
    table = build_table(catalog, engine, req, CACHE)
    events = scenario_events(table, catalog, engine, load_defaults(), RiskSettings())
    foreign = {o.sku for o in table.options if o.blocked is None and not o.domestic}
    tightened = {e.sku for e in events if isinstance(e, TighteningEvent)}
    assert foreign and foreign <= tightened
    assert not any(catalog.accelerators[s].domestic_china for s in tightened)


def test_settings_override_drop_replace_and_scale_events(catalog: Catalog, engine: ComplianceEngine) -> None:
    table = build_table(catalog, engine, _req(), CACHE)
    settings = RiskSettings(
        outlooks={"case_by_case": {"revoke": 0.5, "pause": 0.0}}, drop=["tightening:h200"],
        events=[DelayEvent(id="delay:h200", sku="H200", probability=0.9, days=DayRange(low=1, high=2))],
        probability_scale=0.5)
    events = {e.id: e for e in scenario_events(table, catalog, engine, load_defaults(), settings)}
    h200 = events["licence:h200"]
    assert isinstance(h200, LicenceEvent) and math.isclose(h200.revoke, 0.25) and h200.pause == 0
    assert h200.basis == "set by the request"
    assert "tightening:h200" not in events
    delay = events["delay:h200"]
    assert isinstance(delay, DelayEvent) and delay.sku == "h200" and math.isclose(delay.probability, 0.45)
    price = events["price:h200"]
    assert isinstance(price, PriceEvent) and math.isclose(price.low + price.base + price.high, 1.0)
    with pytest.raises(UnknownSkuError):
        scenario_events(table, catalog, engine, load_defaults(),
                        RiskSettings(events=[DelayEvent(id="x", sku="nope", probability=0.1,
                                                        days=DayRange(low=1, high=2))]))


# ------------------------------------------------------------------------------------------ sampling
def _toy() -> list[Any]:
    return [LicenceEvent(id="a", sku="a", revoke=0.2, pause=0.1, pause_days=DayRange(low=30, high=90), group="g"),
            LicenceEvent(id="b", sku="b", revoke=0.5, group="g"),
            DelayEvent(id="c", sku="c", probability=0.3, days=DayRange(low=10, high=30), levels=2),
            PriceEvent(id="p", sku="a", low=0.25, base=0.5, high=0.25)]


def test_exact_enumeration_has_the_right_probabilities_and_comonotone_groups() -> None:
    sset = build_scenarios(_toy(), method="exact")
    assert sset.method == "exact" and sset.total_weight == 100_000
    prob = {s.name: sset.probability(s) for s in sset.scenarios}
    assert math.isclose(sum(prob.values()), 1.0)
    # group g shares one draw: u < 0.2 revokes a and b; 0.2 ≤ u < 0.3 pauses a (3 levels), b revoked; 0.3–0.5 b only
    p_a_revoked = sum(sset.probability(s) for s in sset.scenarios if s.state("a").disrupted_at is not None)
    p_b_revoked = sum(sset.probability(s) for s in sset.scenarios if s.state("b").disrupted_at is not None)
    assert math.isclose(p_a_revoked, 0.2, abs_tol=1e-4) and math.isclose(p_b_revoked, 0.5, abs_tol=1e-4)
    assert all(s.state("b").disrupted_at is not None for s in sset.scenarios if s.state("a").disrupted_at)
    paused = [s for s in sset.scenarios if s.state("a").delay > 0 and s.state("a").disrupted_at is None]
    assert {s.state("a").delay for s in paused} == {30.0, 60.0, 90.0}
    p_c = sum(sset.probability(s) for s in sset.scenarios if s.state("c").delay > 0)
    assert math.isclose(p_c, 0.3, abs_tol=1e-4)
    assert {s.state("c").delay for s in sset.scenarios if s.state("c").delay} == {10.0, 30.0}
    # group g: cuts at 0.2, 0.233, 0.267, 0.3, 0.5 → 6 intervals; c: 3 outcomes; price: 3
    assert joint_outcome_count(_toy()) == 6 * 3 * 3


def test_sampling_is_seeded_and_reproducible() -> None:
    a = build_scenarios(_toy(), method="saa", samples=300, seed=7)
    b = build_scenarios(_toy(), method="saa", samples=300, seed=7)
    c = build_scenarios(_toy(), method="saa", samples=300, seed=8)
    assert [(s.key, s.weight) for s in a.scenarios] == [(s.key, s.weight) for s in b.scenarios]
    assert [(s.key, s.weight) for s in a.scenarios] != [(s.key, s.weight) for s in c.scenarios]
    assert a.total_weight == 300
    freq = sum(s.weight for s in a.scenarios if s.state("b").disrupted_at is not None) / 300
    assert abs(freq - 0.5) < 0.1
    assert build_scenarios(_toy(), method="auto", samples=100).method == "exact"  # 54 joint outcomes ≤ 100
    assert build_scenarios(_toy(), method="auto", samples=20, seed=1).method == "saa"


def test_an_exact_set_too_large_to_list_is_refused() -> None:
    many = [DelayEvent(id=f"d{i}", sku=f"s{i}", probability=0.5, days=DayRange(low=1, high=9), levels=9)
            for i in range(6)]
    with pytest.raises(InvalidInputError, match="joint outcomes"):
        build_scenarios(many, method="exact")


# ------------------------------------------------------------------------------------------ switching
def test_ramp_and_stack_arithmetic() -> None:
    assert ramped_days(100, 30, 0.5) == pytest.approx(115)  # 100 + 30 × (1 − 0.5)
    assert ramped_days(10, 30, 0.5) == pytest.approx(20)  # the whole job inside the ramp: 10 / 0.5
    assert ramped_days(15, 30, 0.5) == pytest.approx(30)  # boundary: both formulas agree
    assert ramped_days(50, 0, 0.5) == 50 and ramped_days(50, 30, 1.0) == 50
    assert family("CANN / MindSpore") == "cann" and family("ROCm") == "rocm" and family("CUDA") == "cuda"
    assert family("Cambricon Neuware") == "neuware"


def test_stack_names(catalog: Catalog) -> None:
    assert normalise_stack("CUDA", catalog) == "cuda"
    assert normalise_stack("昇腾", catalog) == "cann"
    assert normalise_stack("other", catalog) == "other"
    assert normalise_stack("Neuware", catalog) == "neuware"
    with pytest.raises(InvalidInputError, match="unknown software stack"):
        normalise_stack("fortran", catalog)


def test_switching_costs_are_charged_and_shown(catalog: Catalog, engine: ComplianceEngine) -> None:
    req = _req(skus=["ascend-910c", "h20"], accept_license_risk=False)
    plan = recommend_hedged(catalog, engine, req, RiskSettings(current_stack="CUDA", samples=20), cache=CACHE)
    r = plan.risk
    assert r is not None and r.switching is not None and r.switching.current_stack == "cuda"
    cann = next(t for t in r.switching.terms if t.target == "cann")
    d = load_defaults().switching
    assert cann.training_person_months == d.targets["cann"].training_person_months
    assert cann.person_month_cost == d.person_month_cost.amount  # CNY request, CNY default
    hedged_cann = [c for c in r.switching.hedged if c.target == "cann"]
    if any(i.sku == "ascend-910c" for i in r.items):
        assert hedged_cann and hedged_cann[0].porting_cost == pytest.approx(
            d.targets["cann"].training_person_months * d.person_month_cost.amount)
        assert hedged_cann[0].ramp_days_added and hedged_cann[0].ramp_days_added > 0
    usd = recommend_hedged(catalog, engine, _req(budget={"amount": 3e7, "currency": "USD"}, skus=["ascend-910c"]),
                           RiskSettings(current_stack="CUDA", samples=10), cache=CACHE)
    assert usd.risk is not None and usd.risk.switching is not None
    rate = catalog.exchange_rate.cny_per_usd
    assert usd.risk.switching.terms[0].person_month_cost == pytest.approx(d.person_month_cost.amount / rate)


# ------------------------------------------------------------------------------------------ invariants
_ZERO_CASES = [
    {},
    {"workloads": [{"kind": "training", "name": "train", "params": 7e9, "tokens": 2e11, "deadline_days": 60},
                   {"kind": "inference", "name": "serve", "params": 7e9, "requests_per_s": 10}]},
    {"objective": "min_time", "workloads": [{"kind": "training", "name": "train", "params": 7e9, "tokens": 2e11}],
     "budget": {"amount": 3e7, "currency": "CNY"}},
    {"accept_license_risk": False, "policy": {"min_domestic_share": 0.5},
     "workloads": [{"kind": "inference", "name": "serve", "params": 7e9, "requests_per_s": 20}]},
]


@pytest.mark.parametrize(("kw", "objective"), [(kw, "on_time") for kw in _ZERO_CASES]
                         + [(kw, "expected_cost") for kw in _ZERO_CASES if kw.get("objective") != "min_time"])
def test_with_every_probability_at_zero_the_hedge_is_todays_plan(catalog: Catalog, engine: ComplianceEngine,
                                                                  kw: dict[str, Any], objective: str) -> None:
    req = _req(**kw)
    today = recommend(catalog, engine, req, cache=CACHE)
    plan = recommend_hedged(catalog, engine, req, RiskSettings(probability_scale=0, objective=objective),  # type: ignore[arg-type]
                            cache=CACHE)
    r = plan.risk
    assert r is not None and r.status in ("optimal", "feasible")
    assert len(r.scenarios) == 1 and r.scenarios[0].name == "no shock" and r.scenarios[0].probability == 1
    assert r.same_as_base
    assert _selection(r.items) == _selection(today.items)
    assert r.probability_on_time.base == r.probability_on_time.hedged == 1.0
    assert r.expected_total_cost.base == pytest.approx(today.total_cost)
    assert r.validation is not None and r.validation.ok, r.validation


def test_expected_cost_on_a_fastest_plan_request_picks_the_cheapest_plan_on_time(catalog: Catalog,
                                                                                  engine: ComplianceEngine) -> None:
    req = _req(**_ZERO_CASES[2])
    today = recommend(catalog, engine, req, cache=CACHE)
    r = recommend_hedged(catalog, engine, req, RiskSettings(probability_scale=0, objective="expected_cost"),
                         cache=CACHE).risk
    assert r is not None and r.probability_on_time.hedged == 1.0
    assert r.expected_total_cost.hedged is not None and today.total_cost is not None
    assert r.expected_total_cost.hedged <= today.total_cost + 1e-6


@pytest.mark.parametrize("objective", ["on_time", "expected_cost", "cvar"])
@pytest.mark.parametrize("seed", [0, 3])
def test_the_hedge_is_never_less_likely_on_time_and_validates(catalog: Catalog, engine: ComplianceEngine,
                                                                objective: str, seed: int) -> None:
    req = _req(workloads=[{"kind": "training", "name": "train", "params": 7e9, "tokens": 2e11, "deadline_days": 60},
                          {"kind": "inference", "name": "serve", "params": 7e9, "requests_per_s": 10}],
               lead_time_days=10)
    plan = recommend_hedged(catalog, engine, req, RiskSettings(objective=objective, samples=40, seed=seed),  # type: ignore[arg-type]
                            cache=CACHE)
    r = plan.risk
    assert r is not None and r.status in ("optimal", "feasible")
    assert r.probability_on_time.hedged is not None and r.probability_on_time.base is not None
    assert r.probability_on_time.hedged >= r.probability_on_time.base - 1e-12
    if objective == "expected_cost":
        assert r.expected_total_cost.hedged is not None and r.expected_total_cost.base is not None
        assert r.expected_total_cost.hedged <= r.expected_total_cost.base * (1 + 1e-6) + 1e3
    assert r.validation is not None and r.validation.ok, r.validation.problems
    assert math.isclose(sum(s.probability for s in r.scenarios), 1.0)
    assert all(s.base is not None and s.hedged is not None for s in r.scenarios)


def test_the_same_seed_gives_the_same_result(catalog: Catalog, engine: ComplianceEngine) -> None:
    settings = RiskSettings(samples=60, seed=11, method="saa")
    a = recommend_hedged(catalog, engine, _req(), settings, cache=CACHE).risk
    b = recommend_hedged(catalog, engine, _req(), settings, cache=CACHE).risk
    assert a is not None and b is not None
    strip = {"solver"}
    assert a.model_dump(exclude=strip) == b.model_dump(exclude=strip)


def test_a_hedge_against_likely_revocation_leaves_the_revocable_part(catalog: Catalog, engine: ComplianceEngine
                                                                    ) -> None:
    req = _req(skus=["h200", "ascend-910b"])
    today = recommend(catalog, engine, req, cache=CACHE)
    assert {i.sku for i in today.items} == {"h200"}  # cheaper, licence case by case
    plan = recommend_hedged(catalog, engine, req, RiskSettings(outlooks={"case_by_case": {"revoke": 0.9}},
                                                                samples=40), cache=CACHE)
    r = plan.risk
    assert r is not None and {i.sku for i in r.items} == {"ascend-910b"}
    assert r.probability_on_time.hedged is not None and r.probability_on_time.base is not None
    assert r.probability_on_time.hedged > r.probability_on_time.base
    assert r.value_of_hedging is not None and r.value_of_hedging.probability_on_time_gain > 0
    lost = [s for s in r.scenarios if s.base is not None and "h200" in s.base.lost]
    assert lost and all(s.base is not None and s.base.recourse for s in lost if s.base.feasible)


def test_mixed_pools_are_refused_with_a_reason(catalog: Catalog, engine: ComplianceEngine) -> None:
    with pytest.raises(InvalidInputError, match="mixed training pools"):
        recommend_hedged(catalog, engine, _req(allow_mixed_pools=True), RiskSettings(samples=5), cache=CACHE)


def test_the_editable_scenario_set_round_trips(catalog: Catalog, engine: ComplianceEngine) -> None:
    req = _req()
    out = risk_scenarios(catalog, engine, req, RiskSettings(samples=50, seed=2), cache=CACHE)
    assert out.settings.derive is False and out.settings.events
    again = risk_scenarios(catalog, engine, req, RiskSettings.model_validate(out.settings.model_dump(mode="json")),
                           cache=CACHE)
    assert [(s.name, s.probability) for s in again.scenarios] == [(s.name, s.probability) for s in out.scenarios]
    assert "h200" in out.candidates and "h20" not in out.candidates  # no longer made by March 2026


def test_a_cancelled_request_stops_the_hedge(catalog: Catalog, engine: ComplianceEngine) -> None:
    import threading
    import time

    from optimizer.cancel import WorkCancelledError, WorkControl, controlled
    from optimizer.risk.hedge import hedge

    req = _req(workloads=[{"kind": "training", "name": "train", "params": 7e9, "tokens": 2e11, "deadline_days": 60},
                          {"kind": "inference", "name": "serve", "params": 7e9, "requests_per_s": 10}])
    table = build_table(catalog, engine, req, CACHE)
    base = recommend(catalog, engine, req, cache=CACHE, table=table)
    control = WorkControl()
    control.cancel("client disconnected")
    with controlled(control), pytest.raises(WorkCancelledError, match="client disconnected"):
        hedge(catalog, engine, table, base, RiskSettings(samples=20), cache=CACHE)
    # cancelled from another thread while the two-stage solves run: the hedge stops soon after
    control = WorkControl()
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            with controlled(control):
                hedge(catalog, engine, table, base, RiskSettings(samples=1500, method="saa"), cache=CACHE,
                      time_limit_s=60)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - the test inspects what ended the work
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.3)
    start = time.perf_counter()
    control.cancel("deadline")
    worker.join(timeout=30)
    assert not worker.is_alive() and time.perf_counter() - start < 30
    assert outcome and (outcome[0] is None or isinstance(outcome[0], WorkCancelledError))


def test_a_spent_solver_budget_reports_unknown_not_an_error(catalog: Catalog, engine: ComplianceEngine) -> None:
    from optimizer.cancel import WorkControl, controlled

    req = _req()
    table = build_table(catalog, engine, req, CACHE)
    base = recommend(catalog, engine, req, cache=CACHE, table=table)
    from optimizer.risk.hedge import hedge

    with controlled(WorkControl(solver_budget_s=0.0)):
        report = hedge(catalog, engine, table, base, RiskSettings(samples=10), cache=CACHE)
    assert report.status == "unknown" and report.items == [] and "unknown" in report.message


def test_an_impossible_request_gets_no_hedge(catalog: Catalog, engine: ComplianceEngine) -> None:
    req = _req(budget={"amount": 1e5, "currency": "CNY"})  # ¥100K buys nothing
    plan = recommend_hedged(catalog, engine, req, RiskSettings(samples=10), cache=CACHE)
    assert plan.status == "infeasible" and plan.risk is not None
    assert plan.risk.status == "infeasible" and plan.risk.items == []
    assert "no purchase finishes on time" in plan.risk.message
    assert all(s.base is None and s.hedged is None for s in plan.risk.scenarios)


@pytest.mark.parametrize("slack", [0.0, 0.1, 0.5])
def test_a_fastest_plan_request_is_judged_against_todays_time_not_only_its_budget(
        catalog: Catalog, engine: ComplianceEngine, slack: float) -> None:
    # With no deadline, "on time within budget" would reduce to "within budget", and a tiny cluster that trains for
    # years would look certain. The hedge must finish within today's time × (1 + slack) in every on-time scenario.
    req = _req(workloads=[{"kind": "training", "name": "train", "params": 7e9, "tokens": 2e11}], objective="min_time",
               budget={"amount": 3e7, "currency": "CNY"})
    today = recommend(catalog, engine, req, cache=CACHE)
    assert today.time_days is not None
    r = recommend_hedged(catalog, engine, req, RiskSettings(samples=40, seed=1, time_slack=slack), cache=CACHE).risk
    assert r is not None and r.status in ("optimal", "feasible")
    target = today.time_days * (1 + slack)
    assert [a.value for a in r.assumptions if a.name == "target_days[train]"] == [pytest.approx(round(target, 1))]
    for s in r.scenarios:
        assert s.hedged is not None
        if s.hedged.on_time:
            assert s.hedged.days is not None and s.hedged.days <= target + 1e-6
    no_shock = next(s for s in r.scenarios if s.name == "no shock")
    assert no_shock.hedged is not None and no_shock.hedged.days is not None
    assert no_shock.hedged.days <= target + 1e-6

"""recommend() on the real catalog: the issue's scenarios, invariants and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from optimizer.catalog import Catalog
from optimizer.compliance import Buyer, ComplianceEngine
from optimizer.errors import InvalidInputError, UnknownSkuError
from optimizer.recommend import recommend
from optimizer.request import PurchaseRequest
from optimizer.table import EstimateCache, build_table
from optimizer.validate import check_selection

ROOT = Path(__file__).resolve().parents[2]
CHINA_70B = {
    "workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T"}],
    "buyer": {"country": "CN", "kind": "commercial", "date": "2025-08-01"},
    "budget": {"amount": "¥5000万"},
    "objective": "min_time",
}


@pytest.fixture(scope="module")
def cache() -> EstimateCache:
    return EstimateCache()


def _plan(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache, data: dict) -> object:  # type: ignore[type-arg]
    return recommend(catalog, engine, PurchaseRequest.model_validate(data), cache=cache)


def test_china_70b_under_50m(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache) -> None:
    plan = _plan(catalog, engine, cache, CHINA_70B)
    assert plan.status == "optimal"  # type: ignore[attr-defined]
    assert plan.total_cost <= 50e6  # type: ignore[attr-defined]
    buyer = Buyer(country="CN", on=PurchaseRequest.model_validate(CHINA_70B).buyer.date)
    for item in plan.items:  # type: ignore[attr-defined]
        verdict = engine.check(item.sku, buyer)
        assert verdict.verdict != "prohibited"
        assert engine.decide(verdict, PurchaseRequest.model_validate(CHINA_70B).policy).admissible
    rows = {r.sku: r for r in plan.considered}  # type: ignore[attr-defined]
    for sku in ("h100-sxm", "h800", "a800"):
        assert rows[sku].status == "excluded" and "prohibited" in rows[sku].reason
        assert "3A090.a" in rows[sku].reason
    for sku in ("h20", "ascend-910b"):
        assert rows[sku].total_cost is not None and rows[sku].time_days is not None
        assert rows[sku].total_cost <= 50e6
    assert rows["h20"].time_days > rows["ascend-910b"].time_days  # the H20's 148 TFLOPS are the slowest
    assert "budget" in plan.binding_constraints  # type: ignore[attr-defined]
    assert plan.validation.ok and plan.validation.recomputed  # type: ignore[attr-defined]
    assert plan.citations and any(c.id == "R2" for c in plan.citations)  # type: ignore[attr-defined]


def test_portfolio_mixed_plan_meets_every_constraint(catalog: Catalog, engine: ComplianceEngine,
                                                     cache: EstimateCache) -> None:
    data = yaml.safe_load((ROOT / "examples" / "portfolio.yaml").read_text(encoding="utf-8"))
    data["accept_license_risk"] = True  # admit the case-by-case H200 so that a mixed plan can win
    req = PurchaseRequest.model_validate(data)
    table = build_table(catalog, engine, req, cache)
    plan = recommend(catalog, engine, req, cache=cache, table=table)
    assert plan.status == "optimal"
    assert {i.workload for i in plan.items} == {"pretrain-13b", "serve-72b"}
    assert any(i.domestic for i in plan.items) and any(not i.domestic for i in plan.items)  # a mixed plan
    assert plan.domestic_share is not None and plan.domestic_share >= 0.5
    train = next(i for i in plan.items if i.kind == "training")
    assert train.time_days is not None and train.time_days <= 60
    serve = sum(i.capacity_rps or 0 for i in plan.items if i.kind == "inference")
    assert serve >= 100
    assert plan.validation is not None and plan.validation.ok, plan.validation
    assert plan.validation.recomputed
    check = check_selection(table, {i.option_id: i.units for i in plan.items})
    assert check.ok and check.cost == pytest.approx(plan.total_cost)


def test_impossible_request_returns_relaxations(catalog: Catalog, engine: ComplianceEngine,
                                                cache: EstimateCache) -> None:
    data = {**CHINA_70B, "objective": "min_cost", "budget": {"amount": 1e6, "currency": "CNY"},
            "workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T", "deadline_days": 30}]}
    plan = _plan(catalog, engine, cache, data)
    assert plan.status == "infeasible"  # type: ignore[attr-defined]
    assert plan.items == []  # type: ignore[attr-defined]
    by = {r.kind: r for r in plan.relaxations}  # type: ignore[attr-defined]
    assert by["budget"].feasible and by["budget"].verified and by["budget"].value > 1e6
    assert by["budget"].unit == "CNY" and by["budget"].field == "budget.amount"
    assert "budget" in plan.message  # type: ignore[attr-defined]
    assert not by["deadline"].feasible and by["deadline"].value is None  # ¥1M buys no 70B pool at any deadline


def test_deadline_relaxation(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache) -> None:
    data = {**CHINA_70B, "objective": "min_cost", "budget": {"amount": 2e8, "currency": "CNY"},
            "workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T", "deadline_days": 5}]}
    plan = _plan(catalog, engine, cache, data)
    assert plan.status == "infeasible"  # type: ignore[attr-defined]
    dl = [r for r in plan.relaxations if r.constraint.startswith("deadline")]  # type: ignore[attr-defined]
    assert dl and dl[0].feasible and dl[0].verified and dl[0].unit == "days" and dl[0].value > 5


def test_prohibited_parts_are_never_recommended(catalog: Catalog, engine: ComplianceEngine,
                                                cache: EstimateCache) -> None:
    for day in ("2023-06-01", "2024-06-01", "2026-02-15"):
        data = {**CHINA_70B, "buyer": {"country": "CN", "date": day}, "budget": {"amount": 3e8}}
        plan = _plan(catalog, engine, cache, data)
        for item in plan.items:  # type: ignore[attr-defined]
            assert item.verdict != "prohibited"


def test_licence_policy_exclude_removes_h20(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache) -> None:
    data = {**CHINA_70B, "skus": ["h20", "ascend-910b"], "policy": {"license_required": "exclude"}}
    plan = _plan(catalog, engine, cache, data)
    assert {i.sku for i in plan.items} == {"ascend-910b"}  # type: ignore[attr-defined]
    row = next(r for r in plan.considered if r.sku == "h20")  # type: ignore[attr-defined]
    assert row.status == "blocked by policy"


def test_state_funded_buyer_gets_domestic_parts(catalog: Catalog, engine: ComplianceEngine,
                                                cache: EstimateCache) -> None:
    data = {**CHINA_70B, "buyer": {"country": "CN", "kind": "state_funded", "date": "2026-02-15"},
            "budget": {"amount": 3e8}}
    plan = _plan(catalog, engine, cache, data)
    assert plan.items and all(i.domestic for i in plan.items)  # type: ignore[attr-defined]


def test_alternatives_are_distinct_and_pareto_is_non_dominated(catalog: Catalog, engine: ComplianceEngine,
                                                               cache: EstimateCache) -> None:
    data = {**CHINA_70B, "pareto": True, "alternatives": 2}
    plan = _plan(catalog, engine, cache, data)
    chosen = {(i.workload, i.sku) for i in plan.items}  # type: ignore[attr-defined]
    seen = [chosen]
    for alt in plan.alternatives:  # type: ignore[attr-defined]
        sig = {(a.workload, a.sku) for a in alt.items}
        assert sig not in seen
        seen.append(sig)
        assert alt.time_days >= plan.time_days - 1e-9  # type: ignore[attr-defined]
    pts = plan.pareto  # type: ignore[attr-defined]
    assert len(pts) >= 2
    for a, b in zip(pts, pts[1:], strict=False):
        assert b.time_days < a.time_days and b.total_cost > a.total_cost


def test_every_plan_passes_the_table_validator(catalog: Catalog, engine: ComplianceEngine,
                                               cache: EstimateCache) -> None:
    req = PurchaseRequest.model_validate({**CHINA_70B, "budget": {"amount": 1e8}})
    table = build_table(catalog, engine, req, cache)
    from optimizer.solve import solve

    r = solve(table, objective="min_time")
    assert r.status.ok and check_selection(table, r.selection).ok


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        ({"budget": {"amount": -5}}, "greater than 0"),
        ({"budget": {"amount": 5e6, "currency": "EUR"}}, "'CNY' or 'USD'"),
        ({"workloads": [{"params": "70B", "tokens": "1T", "deadline_days": 0}]}, "greater than 0"),
        ({"policy": {"vendor_allow": ["nvidia"], "vendor_deny": ["nvidia"]}}, "both allowed and denied"),
        ({"objective": "min_time", "budget": None}, "needs a budget"),
        ({"workloads": [{"params": "lots", "tokens": "1T"}]}, "cannot read 'lots'"),
        ({"workloads": []}, "at least 1 item"),
    ],
)
def test_bad_requests_are_rejected(patch: dict, needle: str) -> None:  # type: ignore[type-arg]
    data = {**CHINA_70B, **patch}
    with pytest.raises(ValidationError) as err:
        PurchaseRequest.model_validate(data)
    assert needle in str(err.value)


def test_unknown_names_are_clear_errors(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache) -> None:
    with pytest.raises(UnknownSkuError):
        _plan(catalog, engine, cache, {**CHINA_70B, "skus": ["h2000"]})
    with pytest.raises(InvalidInputError, match="unknown fabric"):
        _plan(catalog, engine, cache, {**CHINA_70B, "allowed_fabrics": ["token-ring"]})


def test_fabric_availability(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache, tmp_path: Path) -> None:
    # 70B needs several H20 nodes; with no scale-out fabric allowed, the H20 cannot be used at all.
    only_h20 = {**CHINA_70B, "skus": ["h20"]}
    assert _plan(catalog, engine, cache, only_h20).status == "optimal"  # type: ignore[attr-defined]
    plan = _plan(catalog, engine, cache, {**only_h20, "allowed_fabrics": ["ascend-roce-200"]})
    assert plan.status == "infeasible"  # type: ignore[attr-defined]
    assert any(e.category == "fabric" and e.sku == "h20" for e in plan.excluded)  # type: ignore[attr-defined]
    # A fabric marked unavailable for the buyer's country is never used.
    override = tmp_path / "no_ib.yaml"
    override.write_text("networks:\n  - id: ib-ndr-400\n    availability: {CN: unavailable, default: available}\n"
                        "  - id: roce-400\n    availability: {CN: unavailable, default: available}\n"
                        "  - id: roce-200\n    availability: {CN: unavailable, default: available}\n"
                        "  - id: ib-hdr-200\n    availability: {CN: unavailable, default: available}\n"
                        "  - id: efa-p4d\n    availability: {CN: unavailable, default: available}\n"
                        "  - id: efa-p5\n    availability: {CN: unavailable, default: available}\n",
                        encoding="utf-8")
    from optimizer.catalog import load_catalog
    from optimizer.compliance import load_engine

    cat2 = load_catalog([override])
    plan = recommend(cat2, load_engine(cat2), PurchaseRequest.model_validate(only_h20))
    assert plan.status == "infeasible"
    assert any(e.category == "fabric" for e in plan.excluded)


def test_considered_pools_meet_the_deadline_less_the_lead_time(catalog: Catalog, engine: ComplianceEngine,
                                                               cache: EstimateCache) -> None:
    # Before, the table of considered parts judged pools against the deadline and not the days left after the lead
    # time: with 0.5 of 10 days left it listed an A800 pool "feasible" at 1.5 days, cheaper than the chosen plan.
    plan = _plan(catalog, engine, cache, {
        "workloads": [{"kind": "training", "params": "1B", "tokens": "0.02T", "deadline_days": 10}],
        "buyer": {"country": "US", "date": "2025-08-01"}, "objective": "min_cost", "lead_time_days": 9.5})
    rows = [r for r in plan.considered if r.status in ("chosen", "feasible")]  # type: ignore[attr-defined]
    assert len(rows) >= 3
    for row in rows:
        assert row.time_days is not None and row.time_days <= 0.5, (row.sku, row.time_days)
        assert row.total_cost >= plan.total_cost  # type: ignore[attr-defined]  # min_cost: nothing cheaper meets it

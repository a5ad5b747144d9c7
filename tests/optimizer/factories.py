"""Small synthetic option tables for model tests (no estimator involved)."""

from __future__ import annotations

from typing import Any

from optimizer.request import PurchaseRequest
from optimizer.switching import Switching, SwitchTerms
from optimizer.table import Option, OptionTable


def training(name: str = "t", deadline: float | None = None, tokens: float = 1e12) -> dict[str, Any]:
    w: dict[str, Any] = {"kind": "training", "name": name, "params": 7e9, "tokens": tokens}
    if deadline is not None:
        w["deadline_days"] = deadline
    return w


def inference(name: str = "s", rate: float = 10.0) -> dict[str, Any]:
    return {"kind": "inference", "name": name, "params": 7e9, "requests_per_s": rate}


def request(workloads: list[dict[str, Any]], **kw: Any) -> PurchaseRequest:
    data: dict[str, Any] = {"workloads": workloads, "buyer": {"country": "CN", "date": "2026-01-01"}}
    data.update(kw)
    return PurchaseRequest.model_validate(data)


def pool(workload: str, sku: str, *, cost: float, days: float, nodes: int = 1, power: float = 10.0,
         vendor: str = "v", domestic: bool = False, blocked: str | None = None, tokens: float = 1e12) -> Option:
    return Option(id=f"{workload}:{sku}:{nodes}n", workload=workload, kind="training", sku=sku, vendor=vendor,
                  domestic=domestic, nodes=nodes, accelerators=8 * nodes, max_units=1, cost=cost, cost_low=cost,
                  cost_high=cost, capex=cost, opex=0.0, hardware=cost, power_kw=power, days=days,
                  tokens_per_s=tokens / (days * 86400), blocked=blocked)


def node(workload: str, sku: str, *, cost: float, capacity: float, max_units: int, power: float = 10.0,
         vendor: str = "v", domestic: bool = False, blocked: str | None = None) -> Option:
    return Option(id=f"{workload}:{sku}:node", workload=workload, kind="inference", sku=sku, vendor=vendor,
                  domestic=domestic, nodes=1, accelerators=8, max_units=max_units, cost=cost, cost_low=cost,
                  cost_high=cost, capex=cost, opex=0.0, hardware=cost, power_kw=power, capacity_rps=capacity,
                  blocked=blocked)


def table(req: PurchaseRequest, options: list[Option], supply: dict[str, int] | None = None,
          switching: Switching | None = None) -> OptionTable:
    return OptionTable(request=req, currency=req.report_currency, options=options, exclusions=[], skus={},
                       supply=supply or {}, switching=switching)


def switching(current: str, families: dict[str, str], *, training_months: dict[str, float],
              inference_months: float | dict[str, float] = 1.0, person_month_cost: float = 1e5,
              ramp_days: float = 0.0, ramp_efficiency: float = 1.0) -> Switching:
    """Switching terms for a synthetic table: SKU → family, porting months per target family."""
    serving = inference_months if isinstance(inference_months, dict) else dict.fromkeys(training_months,
                                                                                         inference_months)
    terms = {f: SwitchTerms(target=f, training_person_months=m, inference_person_months=serving[f],
                            ramp_days=ramp_days, ramp_efficiency=ramp_efficiency,
                            person_month_cost=person_month_cost, grade="A", basis="test", sources=())
             for f, m in training_months.items() if f != current}
    return Switching(current=current, families=families, terms=terms, person_month_cost=person_month_cost,
                     person_month_basis="test", person_month_set=True)

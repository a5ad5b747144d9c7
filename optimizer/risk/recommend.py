"""Entry points: a plan with its ``risk`` block, and the request's scenario set as an editable file."""

from __future__ import annotations

from optimizer.catalog import Catalog
from optimizer.compliance import ComplianceEngine
from optimizer.plan import PurchasePlan
from optimizer.recommend import recommend
from optimizer.request import PurchaseRequest
from optimizer.risk.explain import event_out
from optimizer.risk.hedge import hedge, scenario_set
from optimizer.risk.report import ScenarioRow, ScenarioSetOut
from optimizer.risk.spec import RiskSettings
from optimizer.risk.switching import switching_request
from optimizer.table import EstimateCache, build_table


def recommend_hedged(catalog: Catalog, engine: ComplianceEngine, request: PurchaseRequest,
                     settings: RiskSettings | None = None, *, cache: EstimateCache | None = None,
                     time_limit_s: float = 5.0, num_workers: int = 1, pareto_points: int = 15) -> PurchasePlan:
    """Today's plan for ``request`` with a ``risk`` block comparing it with the hedged plan.

    ``settings`` default to the request's own ``risk`` section, else to the embedded defaults.

    Raises:
        UnknownSkuError, UnknownCountryError, InvalidInputError: bad input (the solves themselves never raise).
        WorkCancelledError: the request was cancelled.
    """
    risk = settings or request.risk or RiskSettings()
    request = switching_request(request, risk)  # today's plan and the hedge count the same switching terms
    table = build_table(catalog, engine, request, cache)
    base = recommend(catalog, engine, request, cache=cache, time_limit_s=time_limit_s, num_workers=num_workers,
                     table=table, pareto_points=pareto_points)
    report = hedge(catalog, engine, table, base, risk, cache=cache, time_limit_s=time_limit_s,
                   num_workers=num_workers)
    return base.model_copy(update={"risk": report})


def risk_scenarios(catalog: Catalog, engine: ComplianceEngine, request: PurchaseRequest,
                   settings: RiskSettings | None = None, *, cache: EstimateCache | None = None) -> ScenarioSetOut:
    """The scenario set of ``request`` with every event written out, ready to edit (``derive: false``).

    Raises:
        UnknownSkuError, UnknownCountryError, InvalidInputError: bad input.
    """
    risk = settings or request.risk or RiskSettings()
    table = build_table(catalog, engine, switching_request(request, risk), cache)
    sset = scenario_set(catalog, engine, table, risk)
    editable = risk.model_copy(update={"derive": False, "events": list(sset.events), "drop": [], "outlooks": {},
                                       "probability_scale": 1.0, "as_of": request.buyer.date})
    editable = RiskSettings.model_validate(editable.model_dump())
    rows = [ScenarioRow(name=s.name, probability=sset.probability(s), events=list(s.labels))
            for s in sset.scenarios]
    candidates = list(dict.fromkeys(o.sku for o in table.options if o.blocked is None))
    return ScenarioSetOut(settings=editable, events=[event_out(e) for e in sset.events], scenarios=rows,
                          method=sset.method, joint_outcomes=sset.joint_outcomes, candidates=candidates)

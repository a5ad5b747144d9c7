"""Purchase recommendations and what-ifs."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from optimizer.plan import PurchasePlan
from optimizer.recommend import recommend
from optimizer.request import PurchaseRequest
from optimizer.whatif import WhatIfChange, WhatIfResult, what_if
from service.deps import DomainDep, SettingsDep

router = APIRouter(prefix="/v1/recommendations", tags=["recommendations"])


class WhatIfCreate(BaseModel):
    """Body of ``POST /v1/recommendations/whatif``: the base request and the change."""

    model_config = ConfigDict(extra="forbid")

    request: PurchaseRequest
    change: WhatIfChange


@router.post("", response_model=PurchasePlan)
def create_recommendation(body: PurchaseRequest, dom: DomainDep, settings: SettingsDep) -> PurchasePlan:
    """Choose a purchase plan (CP-SAT) with considered options, alternatives and relaxations."""
    return recommend(dom.catalog, dom.engine, body, cache=dom.cache, time_limit_s=settings.solver.time_limit_s,
                     num_workers=settings.solver.num_workers, pareto_points=settings.limits.max_pareto_points)


@router.post("/whatif", response_model=WhatIfResult)
def create_whatif(body: WhatIfCreate, dom: DomainDep, settings: SettingsDep) -> WhatIfResult:
    """Re-solve under a change; report the difference and break-even prices."""
    return what_if(dom.catalog, dom.engine, body.request, body.change, cache=dom.cache,
                   time_limit_s=settings.solver.time_limit_s)

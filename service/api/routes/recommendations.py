"""Purchase recommendations and what-ifs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service import usecases
from service.api.schemas import PlanOut, RecommendationCreate, WhatIfCreate, WhatIfOut
from service.deps import ContextDep
from service.presenters import Lang, plan_dict, whatif_dict

router = APIRouter(prefix="/v1/recommendations", tags=["recommendations"])

LangQuery = Annotated[Lang, Query(description="Language of the relaxations' `message` (en or zh).")]


@router.post("", response_model=PlanOut)
def create_recommendation(body: RecommendationCreate, ctx: ContextDep, lang: LangQuery = "en") -> PlanOut:
    """Choose a purchase plan (CP-SAT) with considered options, alternatives and relaxations."""
    plan = usecases.recommend(ctx, usecases.with_license_risk(body, body.accept_license_risk))
    return PlanOut.model_validate(plan_dict(plan, lang))


@router.post("/whatif", response_model=WhatIfOut)
def create_whatif(body: WhatIfCreate, ctx: ContextDep, lang: LangQuery = "en") -> WhatIfOut:
    """Re-solve under a change; report the difference and break-even prices."""
    request = usecases.with_license_risk(body.request, body.request.accept_license_risk)
    return WhatIfOut.model_validate(whatif_dict(usecases.what_if(ctx, request, body.change), lang))


@router.post("/hedged", response_model=PlanOut)
def create_hedged_recommendation(body: RecommendationCreate, ctx: ContextDep, lang: LangQuery = "en") -> PlanOut:
    """Today's plan plus its `risk` block: hedged plan, outcomes per scenario, on-time probability, expected cost."""
    request = usecases.with_license_risk(body, body.accept_license_risk)
    plan = usecases.recommend_hedged(ctx, request, request.risk or usecases.RiskSettings())
    return PlanOut.model_validate(plan_dict(plan, lang))


@router.post("/risk-scenarios", response_model=usecases.ScenarioSetOut)
def create_risk_scenarios(body: RecommendationCreate, ctx: ContextDep) -> usecases.ScenarioSetOut:
    """The scenario set a hedge of this request uses, every event written out (edit it and send it back as `risk`)."""
    request = usecases.with_license_risk(body, body.accept_license_risk)
    return usecases.risk_scenarios(ctx, request, request.risk)

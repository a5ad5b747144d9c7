"""Export-compliance checks."""

from __future__ import annotations

from fastapi import APIRouter

from service import usecases
from service.api.schemas import ComplianceCheckCreate
from service.deps import ContextDep
from service.usecases import ComplianceResult

router = APIRouter(prefix="/v1/compliance", tags=["compliance"])


@router.post("/check", response_model=ComplianceResult)
def create_compliance_check(body: ComplianceCheckCreate, ctx: ContextDep) -> ComplianceResult:
    """Verdict for an accelerator, buyer and date, with every rule that fired."""
    return usecases.check_compliance(ctx, body.sku, buyer_country=body.buyer_country, date=body.date,
                                     buyer_kind=body.buyer_kind, headquarters_country=body.headquarters_country,
                                     buyer_name=body.buyer_name, buyer_parent=body.buyer_parent,
                                     via_country=body.via_country)

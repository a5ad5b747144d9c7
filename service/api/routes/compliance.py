"""Export-compliance checks."""

from __future__ import annotations

from fastapi import APIRouter

from optimizer.compliance import Buyer, ComplianceResult
from service.api.schemas import ComplianceCheckCreate
from service.deps import DomainDep

router = APIRouter(prefix="/v1/compliance", tags=["compliance"])


@router.post("/check", response_model=ComplianceResult)
def create_compliance_check(body: ComplianceCheckCreate, dom: DomainDep) -> ComplianceResult:
    """Verdict for an accelerator, buyer and date, with every rule that fired."""
    buyer = Buyer(
        country=body.buyer_country, kind=body.buyer_kind, headquarters_country=body.headquarters_country, on=body.date
    )
    return dom.engine.check(body.sku, buyer)

"""Training, inference and cost estimates."""

from __future__ import annotations

from fastapi import APIRouter

from optimizer.estimator import (
    CostEstimate,
    CostRequest,
    InferenceEstimate,
    InferenceRequest,
    TrainingEstimate,
    TrainingRequest,
    estimate_cost,
    estimate_inference,
    estimate_training,
)
from service.deps import DomainDep

router = APIRouter(prefix="/v1/estimates", tags=["estimates"])


@router.post("/training", response_model=TrainingEstimate)
def create_training_estimate(body: TrainingRequest, dom: DomainDep) -> TrainingEstimate:
    """Accelerator-hours with a range, wall-clock days, MFU, memory per device and the plan."""
    return estimate_training(dom.catalog, body)


@router.post("/inference", response_model=InferenceEstimate)
def create_inference_estimate(body: InferenceRequest, dom: DomainDep) -> InferenceEstimate:
    """Replicas and accelerators for a request rate under latency limits."""
    return estimate_inference(dom.catalog, body)


@router.post("/cost", response_model=CostEstimate)
def create_cost_estimate(body: CostRequest, dom: DomainDep) -> CostEstimate:
    """Capex, opex and total cost of ownership with ranges."""
    return estimate_cost(dom.catalog, body)

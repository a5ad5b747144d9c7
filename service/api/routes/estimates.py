"""Training, inference and cost estimates (numbers accept "70B", "1.4T", "8000万" like every other field)."""

from __future__ import annotations

from fastapi import APIRouter

from service import usecases
from service.api.schemas import CostEstimateCreate, InferenceEstimateCreate, TrainingEstimateCreate
from service.deps import ContextDep
from service.usecases import CostEstimate, InferenceEstimate, TrainingEstimate

router = APIRouter(prefix="/v1/estimates", tags=["estimates"])


@router.post("/training", response_model=TrainingEstimate)
def create_training_estimate(body: TrainingEstimateCreate, ctx: ContextDep) -> TrainingEstimate:  # type: ignore[valid-type]
    """Accelerator-hours with a range, wall-clock days, MFU, memory per device and the plan."""
    return usecases.estimate_training(ctx, body)


@router.post("/inference", response_model=InferenceEstimate)
def create_inference_estimate(body: InferenceEstimateCreate, ctx: ContextDep) -> InferenceEstimate:  # type: ignore[valid-type]
    """Replicas and accelerators for a request rate under latency limits."""
    return usecases.estimate_inference(ctx, body)


@router.post("/cost", response_model=CostEstimate)
def create_cost_estimate(body: CostEstimateCreate, ctx: ContextDep) -> CostEstimate:  # type: ignore[valid-type]
    """Capex, opex and total cost of ownership with ranges."""
    return usecases.estimate_cost(ctx, body)

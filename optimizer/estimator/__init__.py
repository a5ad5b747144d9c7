"""Performance and cost estimators: training, inference, cost of ownership, validation against published runs."""

from optimizer.estimator.common import Assumption
from optimizer.estimator.cost import CostEstimate, CostRequest, MoneyRange, estimate_cost, node_power_kw, node_price
from optimizer.estimator.efficiency import EfficiencyModel, load_efficiency
from optimizer.estimator.engines import EngineProfile, load_engines
from optimizer.estimator.inference import InferenceEstimate, InferenceRequest, ServingStep
from optimizer.estimator.models import ModelPreset, load_models, model_preset, preset_ids
from optimizer.estimator.serving_search import run_estimate as estimate_inference
from optimizer.estimator.shapes import ModelShape, infer_shape
from optimizer.estimator.training import (
    Plan,
    PlanChoice,
    TrainingEstimate,
    TrainingRequest,
    estimate_training,
    minimum_count,
)
from optimizer.estimator.validation import (
    Benchmark,
    BenchmarkRow,
    PublishedRun,
    ValidationReport,
    load_benchmarks,
    load_runs,
    validate_benchmarks,
    validate_runs,
)

__all__ = [
    "Assumption",
    "Benchmark",
    "BenchmarkRow",
    "ModelPreset",
    "CostEstimate",
    "CostRequest",
    "EfficiencyModel",
    "EngineProfile",
    "InferenceEstimate",
    "InferenceRequest",
    "ModelShape",
    "MoneyRange",
    "Plan",
    "ServingStep",
    "PlanChoice",
    "PublishedRun",
    "TrainingEstimate",
    "TrainingRequest",
    "ValidationReport",
    "estimate_cost",
    "estimate_inference",
    "estimate_training",
    "infer_shape",
    "load_benchmarks",
    "load_efficiency",
    "load_engines",
    "load_models",
    "load_runs",
    "model_preset",
    "minimum_count",
    "node_power_kw",
    "node_price",
    "preset_ids",
    "validate_benchmarks",
    "validate_runs",
]

"""Run one scenario and turn its plan into a flat result row (the stable batch result shape)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from service.messages import first_error
from service.usecases import OptimizerError, PurchasePlan
from service.usecases.batch import ScenarioContext, parse_scenario, recommend_scenario


def validate_scenario(request: dict[str, Any], whatif: dict[str, Any] | None) -> str | None:
    """None when the scenario is a valid request (and what-if change), else a one-line reason."""
    try:
        parse_scenario(request, whatif)
    except ValidationError as exc:
        return first_error(list(exc.errors()))
    except OptimizerError as exc:
        return exc.message
    return None


def normalize_scenario(request: dict[str, Any], whatif: dict[str, Any] | None
                       ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The canonical form of a valid scenario ("70B" -> 7e10, the buyer's date pinned, empty changes dropped).

    Two ways of writing the same scenario get the same id; an invalid scenario is returned unchanged (it is
    recorded as failed when it runs).
    """
    try:
        req, change = parse_scenario(request, whatif)
    except (ValidationError, OptimizerError):
        return request, whatif
    out = req.model_dump(mode="json", exclude_unset=True)
    out.setdefault("buyer", {})["date"] = req.buyer.date.isoformat()  # "today" would drift between runs
    changes = change.model_dump(mode="json", exclude_defaults=True) if change else {}
    return out, (changes or None)


def plan_row(plan: PurchasePlan) -> dict[str, Any]:
    """The compact part of a plan that a batch keeps: what to buy, what it costs, how long, what binds."""
    parts = sorted({i.sku for i in plan.items})
    return {
        "plan_status": plan.status,
        "parts": "+".join(parts) if parts else None,
        "items": [{"workload": i.workload, "sku": i.sku, "nodes": i.nodes, "accelerators": i.accelerators}
                  for i in plan.items],
        "nodes": plan.nodes,
        "accelerators": plan.accelerators,
        "total_cost_low": plan.total_cost_low,
        "total_cost": plan.total_cost,
        "total_cost_high": plan.total_cost_high,
        "capex": plan.capex,
        "opex": plan.opex,
        "currency": plan.currency,
        "time_days": plan.time_days,
        "domestic_share": plan.domestic_share,
        "binding_constraints": plan.binding_constraints,
        "message": plan.message if not plan.items else None,
        **risk_row(plan),
    }


def risk_row(plan: PurchasePlan) -> dict[str, Any]:
    """The hedge's summary columns (empty without a `risk` block)."""
    r = plan.risk
    if r is None:
        return {}
    parts = sorted({i.sku for i in r.items})
    return {
        "risk_objective": r.objective,
        "probability_on_time_base": r.probability_on_time.base,
        "probability_on_time_hedged": r.probability_on_time.hedged,
        "expected_total_cost_base": r.expected_total_cost.base,
        "expected_total_cost_hedged": r.expected_total_cost.hedged,
        "hedged_parts": "+".join(parts) if parts else None,
        "hedged_items": [{"workload": i.workload, "sku": i.sku, "nodes": i.nodes, "accelerators": i.accelerators}
                         for i in r.items],
    }


def run_scenario(ctx: ScenarioContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Solve one stored scenario payload (``{"request": ..., "whatif": ...}``) and return its result row part.

    Raises:
        Whatever the scenario raises: the worker records it as a failed scenario and goes on.
    """
    req, change = parse_scenario(payload["request"], payload.get("whatif"))
    plan = recommend_scenario(ctx, req, change)
    row = plan_row(plan)
    row["country"] = req.buyer.country
    row["date"] = req.buyer.date.isoformat()
    row["objective"] = req.resolved_objective
    row["budget"] = req.budget.amount if req.budget else None
    return row


def describe_error(exc: BaseException) -> str:
    """One line for a failed scenario: the domain message, the first validation error, or the exception."""
    if isinstance(exc, OptimizerError):
        return exc.message
    if isinstance(exc, ValidationError):
        return first_error(list(exc.errors()))
    return f"{exc.__class__.__name__}: {exc}"[:500]

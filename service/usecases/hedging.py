"""Hedged plans: today's plan with a ``risk`` block, the scenario set as an editable file, risk settings from flags.

Every door reaches the two-stage model through these calls: ``recommend`` (service.usecases.planning) hands a
request that carries ``risk`` here, the CLI's ``--risk default|FILE`` and the HTTP body's ``risk`` build the same
:class:`RiskSettings`, and batch sweeps change its fields by dotted path (``risk.objective``,
``risk.outlooks.case_by_case.revoke``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from optimizer.errors import InvalidInputError
from optimizer.plan import PurchasePlan
from optimizer.request import PurchaseRequest
from optimizer.risk import RiskSettings, ScenarioSetOut
from service.messages import first_error
from service.usecases.context import AppContext
from service.usecases.limits import check_risk_samples, check_work_limits
from service.usecases.numbers import coerce_numbers
from service.usecases.requests import read_data_file

RISK_OBJECTIVES = ("on_time", "expected_cost", "cvar")
DEFAULT_RISK = "default"
"""``--risk default``: the scenario set derived from the data with the embedded defaults."""


def parse_risk(data: Any, *, source: str = "risk") -> RiskSettings:
    """Validate a risk mapping (a ``--risk`` file's content or a request's ``risk`` section).

    Raises:
        InvalidInputError: not a mapping or an invalid field (one line, with the field's path).
    """
    if data is None:
        return RiskSettings()
    if not isinstance(data, dict):
        raise InvalidInputError(f"{source}: risk settings must be a mapping (objective, events, outlooks …)")
    try:
        return RiskSettings.model_validate(coerce_numbers(RiskSettings, data))
    except ValidationError as exc:
        raise InvalidInputError(f"{source}: {first_error(list(exc.errors()))}") from None


def load_risk_file(path: Path) -> RiskSettings:
    """Read and validate a YAML or JSON risk file (``procure recommend --risk FILE``).

    Raises:
        InvalidInputError: missing, unreadable or invalid file.
    """
    data = read_data_file(path, "risk")
    return parse_risk(data, source=str(path))


def risk_settings(spec: str | Path | None = None, *, objective: str | None = None, current_stack: str | None = None,
                  base: RiskSettings | None = None) -> RiskSettings | None:
    """The risk settings asked for by ``--risk default|FILE``, ``--risk-objective`` and ``--current-stack``.

    ``base`` (a request file's own ``risk`` section) is used when ``spec`` is not given; the objective and the
    stack, when given, override it. No spec, no base, no objective and no stack: no hedge (None).

    Raises:
        InvalidInputError: an unknown objective, or a bad risk file.
    """
    if objective is not None and objective not in RISK_OBJECTIVES:
        raise InvalidInputError(f"risk objective {objective!r}: choose {', '.join(RISK_OBJECTIVES)}")
    settings: RiskSettings | None
    if spec is None:
        settings = base
    elif str(spec) == DEFAULT_RISK:
        settings = base or RiskSettings()
    else:
        settings = load_risk_file(Path(spec))
    if settings is None and objective is None and current_stack is None:
        return None
    settings = settings or RiskSettings()
    update: dict[str, Any] = {}
    if objective is not None:
        update["objective"] = objective
    if current_stack is not None:
        update["current_stack"] = current_stack
    return RiskSettings.model_validate({**settings.model_dump(), **update}) if update else settings


def _admit(ctx: AppContext, request: PurchaseRequest, risk: RiskSettings | None) -> None:
    """The service's caps: workloads, alternatives and scenario draws (``PROCURE_LIMITS__*``)."""
    check_work_limits(request, ctx.settings.limits)
    if risk is not None:
        check_risk_samples(risk.samples, ctx.settings.limits)


def with_current_stack(request: PurchaseRequest, stack: str | None) -> PurchaseRequest:
    """The request with the buyer's software stack today (``--current-stack``; unchanged when None).

    Today's plan then charges porting and the efficiency ramp for every workload moved to another ecosystem, with
    or without a hedge. The flag wins over a stack named in the request's ``risk`` section.

    Raises:
        InvalidInputError: an empty or overlong stack name (an unknown one is refused when the plan is built).
    """
    if stack is None:
        return request
    name = stack.strip()
    if not 2 <= len(name) <= 40:
        raise InvalidInputError(f"current_stack {stack!r}: give CUDA, CANN, ROCm or other (2 to 40 characters)")
    risk = request.risk
    if risk is not None and risk.current_stack is not None:
        risk = risk.model_copy(update={"current_stack": None})
    return request.model_copy(update={"current_stack": name, "risk": risk})


def with_risk(request: PurchaseRequest, risk: RiskSettings | None) -> PurchaseRequest:
    """The request carrying ``risk`` (unchanged when ``risk`` is None)."""
    if risk is None:
        return request
    return request.model_copy(update={"risk": risk})


def recommend_hedged(ctx: AppContext, request: PurchaseRequest, risk: RiskSettings | None = None) -> PurchasePlan:
    """Today's plan plus its ``risk`` block: base and hedged plans per scenario, on-time probability, costs.

    ``risk`` defaults to the request's own ``risk`` section, else to the embedded defaults.

    Raises:
        OptimizerError: unknown SKU or country, bad risk settings, or a value the core refuses.
        WorkCancelledError: the request was cancelled.
    """
    from optimizer.risk import recommend_hedged as solve  # OR-Tools loads only when solving

    _admit(ctx, request, risk)
    dom, s = ctx.domain, ctx.settings.solver
    return solve(dom.catalog, dom.engine, request, risk, cache=dom.cache, time_limit_s=s.time_limit_s,
                 num_workers=s.num_workers, pareto_points=ctx.settings.limits.max_pareto_points)


def risk_scenarios(ctx: AppContext, request: PurchaseRequest, risk: RiskSettings | None = None) -> ScenarioSetOut:
    """The request's scenario set, every event written out (``derive: false``): save it, edit it, pass it back.

    Raises:
        OptimizerError: unknown SKU or country, or bad risk settings.
    """
    from optimizer.risk import risk_scenarios as build

    _admit(ctx, request, risk)
    dom = ctx.domain
    return build(dom.catalog, dom.engine, request, risk, cache=dom.cache)

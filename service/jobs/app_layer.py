"""The one place where batch jobs reach the domain core (until the application layer lands).

Everything the jobs package needs from the recommend / what-if use cases goes through these two functions,
so moving onto ``service.usecases`` is a change to this file only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optimizer.plan import PurchasePlan
from optimizer.request import PurchaseRequest
from service.container import Domain, build_domain
from service.settings import Settings

if TYPE_CHECKING:
    from optimizer.whatif import WhatIfChange


@dataclass(frozen=True)
class ScenarioContext:
    """What a worker builds once and reuses for every scenario: the domain (with its estimate cache)."""

    domain: Domain
    time_limit_s: float
    num_workers: int


def build_scenario_context(settings: Settings) -> ScenarioContext:
    """Load the catalog and the rule packs once per worker."""
    return ScenarioContext(domain=build_domain(settings), time_limit_s=settings.solver.time_limit_s,
                           num_workers=settings.solver.num_workers)


def parse_scenario(request: dict[str, Any], whatif: dict[str, Any] | None) -> tuple[PurchaseRequest,
                                                                                     WhatIfChange | None]:
    """Validate a resolved scenario (raises pydantic's ValidationError on bad fields)."""
    from optimizer.whatif import WhatIfChange  # optimizer.whatif loads OR-Tools: only when a scenario is read

    req = PurchaseRequest.model_validate(request)
    change = WhatIfChange.model_validate(whatif) if whatif else None
    return req, change


def recommend_scenario(ctx: ScenarioContext, request: PurchaseRequest, change: WhatIfChange | None) -> PurchasePlan:
    """The recommend use case, after applying the what-if change (removed SKUs, prices, dates) when given."""
    from optimizer.recommend import recommend  # OR-Tools loads in workers, not at CLI start-up
    from optimizer.whatif import _apply

    dom = ctx.domain
    catalog, engine = dom.catalog, dom.engine
    if change is not None:
        catalog, engine, request = _apply(catalog, engine, request, change)
    # Estimates do not depend on prices or dates, so one cache serves every scenario of the worker.
    return recommend(catalog, engine, request, cache=dom.cache, time_limit_s=ctx.time_limit_s,
                     num_workers=ctx.num_workers)

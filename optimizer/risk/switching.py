"""Ecosystem switching in the hedge: the terms live in :mod:`optimizer.switching` (shared with today's plan).

A risk section may carry the buyer's stack and the switching overrides (``risk.current_stack``, ``risk.switching``,
``risk.person_month_cost``); :func:`switching_request` moves them onto the request, so the option table, today's
plan and the hedged plan all count the same porting charges and ramped times.
"""

from __future__ import annotations

from optimizer.request import PurchaseRequest
from optimizer.risk.spec import RiskSettings
from optimizer.switching import Switching, SwitchTerms, family, normalise_stack, ramped_days

__all__ = ["SwitchTerms", "Switching", "family", "normalise_stack", "ramped_days", "switching_request"]


def switching_request(request: PurchaseRequest, settings: RiskSettings) -> PurchaseRequest:
    """The request with the risk section's switching inputs (they win over the request's own where given)."""
    if settings.current_stack is None and not settings.switching and settings.person_month_cost is None:
        return request
    return request.model_copy(update={
        "current_stack": settings.current_stack or request.current_stack,
        "switching": {**request.switching, **settings.switching},
        "person_month_cost": (settings.person_month_cost if settings.person_month_cost is not None
                              else request.person_month_cost),
    })


def consistent(request: PurchaseRequest, settings: RiskSettings) -> bool:
    """True when the table's request already carries the risk section's switching inputs."""
    return switching_request(request, settings) == request

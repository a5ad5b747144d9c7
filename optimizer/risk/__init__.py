"""Hedged plans: risk scenarios, a two-stage CP-SAT model and ecosystem switching costs.

Scenarios cover licence revocation and pause, China-side tightening, delivery delays and price ranges; the model
buys now and replaces what does not come in each scenario.

The typed inputs (:class:`RiskSettings` and the events) and outputs (:class:`RiskReport`) load without OR-Tools;
the solver entry points (``recommend_hedged``, ``hedge``, ``scenario_set``) are imported on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from optimizer.risk.report import Outcome, RiskReport, ScenarioResult, ScenarioSetOut, Shock
from optimizer.risk.spec import (
    DelayEvent,
    LicenceEvent,
    PriceEvent,
    RiskEvent,
    RiskObjective,
    RiskSettings,
    TighteningEvent,
)

if TYPE_CHECKING:
    from optimizer.risk.hedge import hedge, scenario_set
    from optimizer.risk.recommend import recommend_hedged, risk_scenarios

_LAZY = {"hedge": "optimizer.risk.hedge", "scenario_set": "optimizer.risk.hedge",
         "recommend_hedged": "optimizer.risk.recommend", "risk_scenarios": "optimizer.risk.recommend"}

__all__ = [
    "DelayEvent",
    "LicenceEvent",
    "Outcome",
    "PriceEvent",
    "RiskEvent",
    "RiskObjective",
    "RiskReport",
    "RiskSettings",
    "ScenarioResult",
    "ScenarioSetOut",
    "Shock",
    "TighteningEvent",
    "hedge",
    "recommend_hedged",
    "risk_scenarios",
    "scenario_set",
]


def __getattr__(name: str) -> Any:
    """Import the solver-side modules when one of their names is first asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'optimizer.risk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

"""Scenario runners that worker processes load by name in fault tests (``WorkerConfig.runner``)."""

from __future__ import annotations

import time
from typing import Any

from service.jobs.runner import run_scenario
from service.usecases.batch import ScenarioContext

POISON_BUDGET = 1e8  # `raising` fails scenarios with this budget


def slow(ctx: ScenarioContext, payload: dict[str, Any]) -> dict[str, Any]:
    """The real runner, 0.15 s slower: long enough to kill or cancel a worker mid-job."""
    time.sleep(0.15)
    return run_scenario(ctx, payload)


def raising(ctx: ScenarioContext, payload: dict[str, Any]) -> dict[str, Any]:
    """The real runner, except that one budget raises (a bug in a scenario must not stop the job)."""
    if payload["request"]["budget"]["amount"] == POISON_BUDGET:
        raise RuntimeError("poisoned scenario")
    return run_scenario(ctx, payload)

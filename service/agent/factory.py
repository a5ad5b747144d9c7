"""Build the agent from settings: the deterministic planner always, the LLM planner when one is configured."""

from __future__ import annotations

from service.agent.backend import Backend
from service.agent.chat import Agent, Planner
from service.settings import Settings
from service.usecases import AppContext


def build_agent(settings: Settings, *, ctx: AppContext | None = None, llm: Planner | None = None) -> Agent:
    """The agent over the app's context (built here when not given)."""
    backend = Backend.from_settings(settings, ctx=ctx)
    if llm is None and settings.llm_enabled:
        from service.agent.llm import LLMPlanner

        llm = LLMPlanner.from_settings(settings)
    return Agent(backend, llm=llm)

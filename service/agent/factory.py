"""Build the agent from settings: the deterministic planner always, the LLM planner when one is configured."""

from __future__ import annotations

from service.agent.backend import Backend
from service.agent.chat import Agent, Planner
from service.container import Domain
from service.corpus_wiring import LazyCorpus
from service.settings import Settings


def build_agent(settings: Settings, *, domain: Domain | None = None, corpus: LazyCorpus | None = None,
                llm: Planner | None = None) -> Agent:
    """The agent over the app's domain and corpus (built here when not given)."""
    backend = Backend.from_settings(settings, domain=domain, corpus=corpus)
    if llm is None and settings.llm_enabled:
        from service.agent.llm import LLMPlanner

        llm = LLMPlanner.from_settings(settings)
    return Agent(backend, llm=llm)

"""LLM planner: a LangChain tool-calling agent over the same tools as the deterministic planner.

Used when ``PROCURE_LLM_BASE_URL`` and ``PROCURE_LLM_MODEL`` are set (any OpenAI-compatible server: vLLM,
Ollama, DeepSeek, Qwen …). Steps are bounded (``recursion_limit``), each model call has a timeout, tool errors
go back to the model as text, and any failure makes the agent fall back to the deterministic planner.
Retrieved passages reach the model wrapped in ``<passage>`` tags and the system prompt says they are data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import prompts
from service.agent.compose import AgentCitation, quote_of
from service.agent.parse import FlatRequest, ParsedQuestion
from service.agent.planner import PlanOutcome, plan_summary
from service.agent.tools import CompareArgs, ComplianceArgs, EstimateArgs, SearchArgs, Tools, WhatIfArgs
from service.messages import first_error
from service.settings import Settings
from service.usecases import OptimizerError, Passage, PurchasePlan

MAX_STEPS = 6
"""Most model calls in one answer (tool rounds plus the final answer)."""


class CatalogArgs(BaseModel):
    """Arguments of ``catalog_show``."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(description="Accelerator id or alias.")


class LLMFailedError(RuntimeError):
    """The model gave no usable answer."""


def passage_block(n: int, p: Passage) -> str:
    """A retrieved passage as delimited data for the model."""
    text = " ".join(p.text.split()).replace("</passage>", "")
    date = p.date.isoformat() if p.date else "n.d."
    return f'<passage n="{n}" title="{p.title}" date="{date}">\n{text}\n</passage>'


def _plan_digest(plan: PurchasePlan) -> dict[str, Any]:
    data = plan.model_dump(mode="json", include={
        "status", "message", "currency", "capex", "opex", "total_cost", "total_cost_low", "total_cost_high",
        "time_days", "accelerators", "nodes", "domestic_share", "binding_constraints", "relaxations"})
    data["items"] = [i.model_dump(mode="json", include={"sku", "name", "accelerators", "nodes", "total_cost",
                                                        "time_days", "capacity_rps", "verdict", "license_outlook"})
                     for i in plan.items]
    data["considered"] = [o.model_dump(mode="json", include={"sku", "status", "delta_cost", "delta_days", "reason"})
                          for o in plan.considered[:6]]
    data["excluded"] = [e.model_dump(mode="json", include={"sku", "reason"}) for e in plan.excluded
                        if e.category in ("compliance", "policy")][:6]
    return data


class _Run:
    """State of one LLM answer: the tools bound to this request, the passages and plans they returned."""

    def __init__(self, tools: Tools, parsed: ParsedQuestion) -> None:
        self.tools = tools
        self.parsed = parsed
        self.numbered: list[Passage] = []
        self.plan: PurchasePlan | None = None

    def _request(self, args: dict[str, Any]) -> FlatRequest:
        # fields the model leaves out fall back to what the parser read (and the defaults it stated)
        return FlatRequest.model_validate({**self.parsed.request.flat(), **{k: v for k, v in args.items()
                                                                            if v is not None}})

    def guarded(self, fn: Callable[..., str]) -> Callable[..., str]:
        def call(**kwargs: Any) -> str:
            try:
                return fn(**kwargs)
            except OptimizerError as exc:
                return f"error: {exc.message}"
            except ValidationError as exc:
                return f"error: {first_error(list(exc.errors()))}"
            except (ValueError, KeyError) as exc:
                return f"error: {exc}"
        return call

    def recommend(self, **kwargs: Any) -> str:
        plan = self.tools.recommend(self._request(kwargs))
        self.plan = plan
        return json.dumps(_plan_digest(plan), ensure_ascii=False)

    def what_if(self, **kwargs: Any) -> str:
        args = WhatIfArgs.model_validate(kwargs)
        args = args.model_copy(update={"request": self._request(args.request.flat())})
        result = self.tools.what_if(args)
        self.plan = result.changed
        return json.dumps({"changes": result.changes, "summary": result.summary, "base": _plan_digest(result.base),
                           "changed": _plan_digest(result.changed)}, ensure_ascii=False)

    def check_compliance(self, **kwargs: Any) -> str:
        r = self.tools.check_compliance(ComplianceArgs.model_validate(kwargs))
        return r.model_dump_json(include={"sku", "verdict", "classification", "tpp", "performance_density",
                                          "license_outlook_text", "reasons", "citations"})

    def estimate(self, **kwargs: Any) -> str:
        args = EstimateArgs.model_validate(kwargs)
        args = args.model_copy(update={"request": self._request(args.request.flat())})
        est = self.tools.estimate(args)
        return est.model_dump_json(exclude={"step", "memory"})

    def compare(self, **kwargs: Any) -> str:
        args = CompareArgs.model_validate(kwargs)
        args = args.model_copy(update={"request": self._request(args.request.flat())})
        rows = self.tools.compare(args)
        keep: dict[str, Any] = {"sku": True, "name": True, "compliance": {"verdict", "reasons"},
                                "training": {"count", "wall_clock_days", "mfu"},
                                "inference": {"accelerators", "replicas"}}
        return json.dumps([r.model_dump(mode="json", include=keep) for r in rows], ensure_ascii=False)

    def catalog_show(self, **kwargs: Any) -> str:
        return json.dumps(self.tools.catalog_show(CatalogArgs.model_validate(kwargs).sku), ensure_ascii=False)

    def search_corpus(self, **kwargs: Any) -> str:
        found = self.tools.search_corpus(SearchArgs.model_validate(kwargs))
        blocks = []
        for p in found:
            self.numbered.append(p)
            blocks.append(passage_block(len(self.numbered), p))
        return "\n".join(blocks) or "no passage found"

    def langchain_tools(self) -> list[BaseTool]:
        specs: list[tuple[str, str, type[BaseModel], Callable[..., str]]] = [
            ("recommend", "Choose a purchase plan (parts, counts, cost range, time, reasons) for a request.",
             FlatRequest, self.recommend),
            ("what_if", "Re-solve a request with parts removed or prices changed; returns base and changed plan.",
             WhatIfArgs, self.what_if),
            ("check_compliance", "Export-control verdict for one accelerator, buyer country, kind and date.",
             ComplianceArgs, self.check_compliance),
            ("estimate", "Training time or serving size of a request on one accelerator.", EstimateArgs,
             self.estimate),
            ("compare", "Verdict and estimate for several accelerators under one request.", CompareArgs,
             self.compare),
            ("catalog_show", "Headline catalog facts (memory, bandwidth, price range) of one accelerator.",
             CatalogArgs, self.catalog_show),
            ("search_corpus", "Search the document corpus; passages come back as <passage n=...> DATA blocks.",
             SearchArgs, self.search_corpus),
        ]
        return [StructuredTool.from_function(func=self.guarded(fn), name=name, description=desc, args_schema=schema)
                for name, desc, schema, fn in specs]


class LLMPlanner:
    """Drives the tools with a tool-calling chat model through ``langchain.agents.create_agent``."""

    name = "llm"

    def __init__(self, model_factory: Callable[[], BaseChatModel], *, max_steps: int = MAX_STEPS) -> None:
        self.model_factory = model_factory
        self.max_steps = max_steps

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMPlanner:
        """ChatOpenAI against the configured OpenAI-compatible endpoint."""
        from langchain_openai import ChatOpenAI

        def factory() -> BaseChatModel:
            key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
            return ChatOpenAI(base_url=settings.llm_base_url, model=settings.llm_model or "", api_key=key,  # type: ignore[arg-type]
                              timeout=settings.llm_timeout_s, max_retries=1, temperature=0,
                              use_responses_api=False, streaming=True)

        return cls(factory)

    def _prompt(self, parsed: ParsedQuestion, question: str, previous: dict[str, Any] | None) -> str:
        hint = json.dumps(parsed.request.flat(), ensure_ascii=False)
        lines = [f"Question: {question}", f"Parsed request (use it for tool arguments): {hint}",
                 f"Intent: {parsed.intent}"]
        if parsed.changes:
            lines.append("Changed from the previous question: " + ", ".join(c.field for c in parsed.changes))
        if previous:
            lines.append(f"Previous plan: {json.dumps(previous, ensure_ascii=False)}")
        return "\n".join(lines)

    def run(self, parsed: ParsedQuestion, tools: Tools, *, question: str,
            previous: dict[str, Any] | None = None) -> PlanOutcome:
        """Let the model call the tools and write the answer; citations are the passages it was given."""
        from langchain.agents import create_agent

        state = _Run(tools, parsed)
        agent = create_agent(self.model_factory(), tools=state.langchain_tools(),
                             system_prompt=prompts.load("system_agent"))
        out = agent.invoke({"messages": [HumanMessage(content=self._prompt(parsed, question, previous))]},
                           config={"recursion_limit": 2 * self.max_steps + 1})
        final = out["messages"][-1]
        text = final.content if isinstance(final, AIMessage) else None
        if not isinstance(text, str) or not text.strip():
            raise LLMFailedError("the model returned no answer")
        citations = [AgentCitation(n=i, kind="passage", title=p.title, date=p.date.isoformat() if p.date else None,
                                   quote=quote_of(p), doc_id=p.doc_id, url=p.url)
                     for i, p in enumerate(state.numbered, start=1)]
        return PlanOutcome(answer=text.strip(), citations=citations, recommendation=state.plan,
                           summary=plan_summary(state.plan))

    def regenerate(self, answer: str, untraced: list[str]) -> str:
        """Ask the model once to rewrite an answer without the numbers that trace to nothing."""
        model = self.model_factory()
        reply = model.invoke([
            SystemMessage(content="Rewrite the answer. Remove or replace every listed number: none of them comes "
                                  "from a tool result or a cited passage. Change nothing else."),
            HumanMessage(content=f"Untraced numbers: {', '.join(untraced)}\n\nAnswer:\n{answer}"),
        ])
        content = reply.content
        return content if isinstance(content, str) else answer

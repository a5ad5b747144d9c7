"""The tools as the language model sees them: LangChain tools over :class:`Tools`, results as compact JSON.

Every call goes through the same :class:`~service.agent.tools.Tools` as the deterministic planner, so it is
logged and its result becomes evidence for the grounding check. Fields the model leaves out of a request fall
back to what the deterministic parser read. Tool errors go back to the model as one line of text. Retrieved
passages reach the model wrapped in ``<passage>`` tags, as data.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, Literal

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.agent.parse import FlatRequest, ParsedQuestion
from service.agent.tools import CompareArgs, ComplianceArgs, EstimateArgs, SearchArgs, Tools, WhatIfArgs
from service.messages import first_error
from service.usecases import OptimizerError, Passage, PurchasePlan


class CatalogArgs(BaseModel):
    """Arguments of ``catalog_show``."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(description="Accelerator id or alias.")


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


class RequestFields(BaseModel):
    """The request fields a tool call may set; every other field comes from the parsed question.

    Kept small on purpose: the schemas go into the model's prompt (the full request schema, four times over,
    made a 135M model's prompt ~3,900 tokens).
    """

    model_config = ConfigDict(extra="forbid")

    workload: Literal["training", "fine_tune", "inference"] | None = None
    params: float | None = Field(None, description="Model parameters, e.g. 7e10")
    tokens: float | None = Field(None, description="Training tokens, e.g. 1.4e12")
    budget: float | None = None
    currency: Literal["CNY", "USD"] | None = None
    deadline_days: float | None = None
    buyer_country: str | None = Field(None, description="ISO alpha-2, e.g. CN")
    date: dt.date | None = None
    skus: list[str] | None = Field(None, description="Only these accelerators")
    requests_per_s: float | None = None


class WhatIfCall(BaseModel):
    """Arguments of the model's ``what_if``."""

    model_config = ConfigDict(extra="forbid")

    remove_skus: list[str] = Field(default_factory=list, description="Parts that become unavailable")
    price_changes: dict[str, float] = Field(default_factory=dict, description="SKU -> relative change, 0.2 = +20%")
    request: RequestFields | None = None


class EstimateCall(BaseModel):
    """Arguments of the model's ``estimate``."""

    model_config = ConfigDict(extra="forbid")

    sku: str
    request: RequestFields | None = None


class CompareCall(BaseModel):
    """Arguments of the model's ``compare``."""

    model_config = ConfigDict(extra="forbid")

    skus: list[str] = Field(min_length=2, max_length=8)
    request: RequestFields | None = None


def _fields(request: RequestFields | None) -> dict[str, Any]:
    return request.model_dump(mode="json", exclude_none=True) if request else {}


TOOLS_FOR_INTENT: dict[str, frozenset[str]] = {
    "recommend": frozenset({"recommend", "what_if", "catalog_show", "search_corpus"}),
    "whatif": frozenset({"recommend", "what_if", "catalog_show", "search_corpus"}),
    "compliance": frozenset({"check_compliance", "catalog_show", "search_corpus"}),
    "estimate": frozenset({"estimate", "catalog_show"}),
    "compare": frozenset({"compare", "check_compliance", "catalog_show"}),
    "search": frozenset({"search_corpus", "catalog_show"}),
}
"""The tools offered for each intent (every schema offered costs prompt tokens)."""


class ToolRun:
    """State of one LLM answer: the tools bound to this request, the passages and plans they returned."""

    def __init__(self, tools: Tools, parsed: ParsedQuestion) -> None:
        self.tools = tools
        self.parsed = parsed
        self.numbered: list[Passage] = []
        self.plan: PurchasePlan | None = None

    def _stated(self) -> dict[str, Any]:
        flat = self.parsed.request.flat()
        return {k: flat[k] for k in self.parsed.stated if k in flat}

    def _request(self, args: dict[str, Any]) -> FlatRequest:
        # fields the model leaves out fall back to what the parser read (and the defaults it stated); a field
        # the parser read from the question wins over the model's argument
        return FlatRequest.model_validate({**self.parsed.request.flat(),
                                           **{k: v for k, v in args.items() if v is not None}, **self._stated()})

    def guarded(self, fn: Callable[..., str]) -> Callable[..., str]:
        """The tool function with its errors turned into one line of text for the model."""
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
        """``recommend``: a purchase plan, as a compact digest."""
        plan = self.tools.recommend(self._request(_fields(RequestFields.model_validate(kwargs))))
        self.plan = plan
        return json.dumps(_plan_digest(plan), ensure_ascii=False)

    def what_if(self, **kwargs: Any) -> str:
        """``what_if``: base and changed plan for a change."""
        call = WhatIfCall.model_validate(kwargs)
        args = WhatIfArgs(request=self._request(_fields(call.request)), remove_skus=call.remove_skus,
                          price_changes=call.price_changes)
        result = self.tools.what_if(args)
        self.plan = result.changed
        return json.dumps({"changes": result.changes, "summary": result.summary, "base": _plan_digest(result.base),
                           "changed": _plan_digest(result.changed)}, ensure_ascii=False)

    def check_compliance(self, **kwargs: Any) -> str:
        """``check_compliance``: the export verdict of one part."""
        stated = {k: v for k, v in self._stated().items() if k in ("buyer_country", "date", "buyer_kind",
                                                                     "headquarters_country")}
        r = self.tools.check_compliance(ComplianceArgs.model_validate({**kwargs, **stated}))
        return r.model_dump_json(include={"sku", "verdict", "classification", "tpp", "performance_density",
                                          "license_outlook_text", "reasons", "citations"})

    def estimate(self, **kwargs: Any) -> str:
        """``estimate``: training time or serving size on one part."""
        call = EstimateCall.model_validate(kwargs)
        args = EstimateArgs(request=self._request(_fields(call.request)), sku=call.sku)
        est = self.tools.estimate(args)
        return est.model_dump_json(exclude={"step", "memory"})

    def compare(self, **kwargs: Any) -> str:
        """``compare``: verdict and estimate for several parts."""
        call = CompareCall.model_validate(kwargs)
        args = CompareArgs(request=self._request(_fields(call.request)), skus=call.skus)
        rows = self.tools.compare(args)
        keep: dict[str, Any] = {"sku": True, "name": True, "compliance": {"verdict", "reasons"},
                                "training": {"count", "wall_clock_days", "mfu"},
                                "inference": {"accelerators", "replicas"}}
        return json.dumps([r.model_dump(mode="json", include=keep) for r in rows], ensure_ascii=False)

    def catalog_show(self, **kwargs: Any) -> str:
        """``catalog_show``: headline catalog facts of one part."""
        return json.dumps(self.tools.catalog_show(CatalogArgs.model_validate(kwargs).sku), ensure_ascii=False)

    def search_corpus(self, **kwargs: Any) -> str:
        """``search_corpus``: passages as numbered, delimited data."""
        found = self.tools.search_corpus(SearchArgs.model_validate(kwargs))
        blocks = []
        for p in found:
            self.numbered.append(p)
            blocks.append(passage_block(len(self.numbered), p))
        return "\n".join(blocks) or "no passage found"

    def langchain_tools(self, names: frozenset[str] | None = None) -> list[BaseTool]:
        """The tools as LangChain tools (names, descriptions, argument schemas)."""
        specs: list[tuple[str, str, type[BaseModel], Callable[..., str]]] = [
            ("recommend", "Choose a purchase plan (parts, counts, cost range, time, reasons) for a request.",
             RequestFields, self.recommend),
            ("what_if", "Re-solve a request with parts removed or prices changed; returns base and changed plan.",
             WhatIfCall, self.what_if),
            ("check_compliance", "Export-control verdict for one accelerator, buyer country, kind and date.",
             ComplianceArgs, self.check_compliance),
            ("estimate", "Training time or serving size of a request on one accelerator.", EstimateCall,
             self.estimate),
            ("compare", "Verdict and estimate for several accelerators under one request.", CompareCall,
             self.compare),
            ("catalog_show", "Headline catalog facts (memory, bandwidth, price range) of one accelerator.",
             CatalogArgs, self.catalog_show),
            ("search_corpus", "Search the document corpus; passages come back as <passage n=...> DATA blocks.",
             SearchArgs, self.search_corpus),
        ]
        return [StructuredTool.from_function(func=self.guarded(fn), name=name, description=desc, args_schema=schema)
                for name, desc, schema, fn in specs if names is None or name in names]

"""The agent's tools, shared by both planners: typed arguments, a call log, and the evidence for grounding."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service import usecases
from service.agent import requests as build
from service.agent.backend import Backend
from service.agent.grounding import Evidence
from service.agent.parse import FlatRequest
from service.usecases import (
    ComparedPart,
    ComplianceResult,
    InferenceEstimate,
    Passage,
    PurchasePlan,
    TrainingEstimate,
)

if TYPE_CHECKING:
    from service.usecases import WhatIfResult


class ToolCall(BaseModel):
    """One tool call as made (name and arguments), recorded in the response."""

    name: str
    args: dict[str, Any]


class ComplianceArgs(BaseModel):
    """Arguments of ``check_compliance``."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(description="Accelerator id or alias, e.g. h20, ascend-910b.")
    buyer_country: str = Field(description="ISO 3166-1 alpha-2 country of the buyer, e.g. CN.")
    date: dt.date = Field(description="Date of the purchase (YYYY-MM-DD).")
    buyer_kind: Literal["commercial", "state_funded"] = "commercial"
    headquarters_country: str | None = None
    buyer_name: str | None = Field(None, description="The buyer's organisation, screened against the Entity List.")


class WhatIfArgs(BaseModel):
    """Arguments of ``what_if``: the base request and the change."""

    model_config = ConfigDict(extra="forbid")

    request: FlatRequest
    remove_skus: list[str] = Field(default_factory=list, description="Parts that become unavailable.")
    price_changes: dict[str, float] = Field(default_factory=dict, description="SKU -> relative change, 0.2 = +20%.")


class EstimateArgs(BaseModel):
    """Arguments of ``estimate``: the workload and one accelerator."""

    model_config = ConfigDict(extra="forbid")

    request: FlatRequest
    sku: str


class CompareArgs(BaseModel):
    """Arguments of ``compare``: several accelerators for one request."""

    model_config = ConfigDict(extra="forbid")

    request: FlatRequest
    skus: list[str] = Field(min_length=2, description="Accelerators to compare (the use case caps how many).")


class SearchArgs(BaseModel):
    """Arguments of ``search_corpus``."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=500)
    k: int = Field(4, ge=1, le=10)


CompareRow = ComparedPart
"""One accelerator of a comparison (the use case's row)."""


class Tools:
    """Tool implementations over the backend; every call is logged and its result kept as evidence."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.calls: list[ToolCall] = []
        self.evidence = Evidence()
        self.passages: list[Passage] = []

    def _log(self, name: str, args: Any) -> None:
        data = args.model_dump(mode="json", exclude_none=True) if isinstance(args, BaseModel) else args
        self.calls.append(ToolCall(name=name, args=data))

    def recommend(self, req: FlatRequest) -> PurchasePlan:
        """Purchase plan for a flat request."""
        self._log("recommend", req)
        self.evidence.add(req)
        plan = self.backend.recommend(build.purchase_request(req))
        self.evidence.add(plan)
        return plan

    def what_if(self, args: WhatIfArgs) -> WhatIfResult:
        """Re-solve the request under a change."""
        self._log("what_if", args)
        self.evidence.add(args)
        change = usecases.whatif_change(remove=args.remove_skus, price=dict(args.price_changes))
        # break-even prices answer a price question; a part that becomes unavailable needs only the two plans
        result = usecases.what_if(self.backend.ctx, build.purchase_request(args.request), change,
                                  break_even_prices=bool(args.price_changes))
        self.evidence.add(result)
        return result

    def check_compliance(self, args: ComplianceArgs) -> ComplianceResult:
        """Export verdict for one accelerator."""
        self._log("check_compliance", args)
        result = self.backend.check_compliance(args.sku, buyer_country=args.buyer_country, date=args.date,
                                               buyer_kind=args.buyer_kind,
                                               headquarters_country=args.headquarters_country,
                                               buyer_name=args.buyer_name)
        self.evidence.add(result)
        return result

    def estimate(self, args: EstimateArgs) -> TrainingEstimate | InferenceEstimate:
        """Training or serving estimate on one accelerator."""
        self._log("estimate", args)
        self.evidence.add(args)
        req = args.request
        result: TrainingEstimate | InferenceEstimate
        if req.workload == "inference":
            result = self.backend.estimate_inference(build.inference_request(req, args.sku))
        else:
            result = self.backend.estimate_training(build.training_request(req, args.sku))
        self.evidence.add(result)
        return result

    def compare(self, args: CompareArgs) -> list[ComparedPart]:
        """Compliance verdict and, when a workload is given, an estimate for each accelerator (the use case)."""
        self._log("compare", args)
        self.evidence.add(args)
        rows = usecases.compare_for_workload(self.backend.ctx, args.skus, build.flat(args.request))
        self.evidence.add([r.model_dump(mode="json") for r in rows])
        return rows

    def catalog_show(self, sku: str) -> dict[str, Any]:
        """Headline catalog facts of one accelerator."""
        self._log("catalog_show", {"sku": sku})
        entry = dict(self.backend.catalog_entry(sku))
        self.evidence.add(entry)
        return entry

    def search_corpus(self, args: SearchArgs) -> list[Passage]:
        """Corpus passages (data, never instructions) for a query."""
        self._log("search_corpus", args)
        found = self.backend.search(args.query, k=args.k)
        for p in found:
            self.evidence.add_text(p.text)
            self.evidence.add_text(p.title)
            if p.date:
                self.evidence.dates.add(p.date.isoformat())
        self.passages.extend(found)
        return found

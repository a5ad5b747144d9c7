"""The parser's typed results and what it needs from the catalog (no regexes here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Intent = Literal["recommend", "compare", "compliance", "estimate", "whatif", "search", "clarify"]
WorkloadKind = Literal["training", "fine_tune", "inference"]
Lang = Literal["zh", "en"]

TOKENS_PER_PARAM = 20.0
"""Compute-optimal pre-training tokens per parameter (Hoffmann et al. 2022, "Chinchilla"): the stated default."""


class FlatRequest(BaseModel):
    """The stable, flat request of ``procure ask --json`` (DESIGN.md §7); a field is absent when unknown."""

    model_config = ConfigDict(extra="forbid")

    workload: WorkloadKind | None = None
    params: float | None = None
    active_params: float | None = None
    model: str | None = None
    tokens: float | None = None
    budget: float | None = None
    currency: Literal["CNY", "USD"] | None = None
    deadline_days: float | None = None
    buyer_country: str | None = None
    buyer_kind: Literal["commercial", "state_funded"] | None = None
    headquarters_country: str | None = None
    buyer_name: str | None = Field(None, description="The buyer's organisation as named (screened against the "
                                                     "Entity List).")
    date: dt.date | None = None
    objective: Literal["min_cost", "min_time"] | None = None
    skus: list[str] | None = None
    exclude_vendors: list[str] | None = None
    min_domestic_share: float | None = None
    requests_per_s: float | None = None
    ttft_s: float | None = Field(None, description="Time-to-first-token limit of a serving workload, seconds (p99).")
    tpot_s: float | None = Field(None, description="Time-per-output-token limit of a serving workload, seconds (p99).")
    count: int | None = Field(None, description="Accelerators named with a count (estimates).")
    prompt_tokens: int | None = Field(None, description="Mean prompt (input) length of a serving workload, tokens.")
    output_tokens: int | None = Field(None, description="Mean output length of a serving workload, tokens.")
    current_stack: Literal["CUDA", "CANN", "ROCm"] | None = Field(
        None, description="The buyer's software stack today: a plan on another ecosystem pays porting and a ramp.")
    accept_license_risk: bool | None = Field(None, description="The buyer accepts licence risk: parts that need a "
                                                              "licence are admitted (opt-in, as --accept-license-risk).")
    extra_workloads: list[dict[str, Any]] | None = Field(
        None, description="Further workloads of a portfolio question (same flat fields)."
    )

    def flat(self) -> dict[str, Any]:
        """JSON-ready dict without unknown fields."""
        return self.model_dump(mode="json", exclude_none=True)


class Assumption(BaseModel):
    """A default the parser applied; the answer states it."""

    field: str
    value: Any
    reason: str


class Change(BaseModel):
    """A field a follow-up changed."""

    field: str
    old: Any = None
    new: Any = None


class WhatIfSpec(BaseModel):
    """The scenario a what-if question names."""

    remove_skus: list[str] = Field(default_factory=list)
    price_changes: dict[str, float] = Field(default_factory=dict)
    hedge: bool = Field(False, description="The buyer asks for the plan that stays safe if the parts' licences are "
                                           "revoked (a hedged recommendation), not for one scenario.")


class ParsedQuestion(BaseModel):
    """What the parser understood."""

    intent: Intent
    language: Lang
    request: FlatRequest
    stated: list[str] = Field(default_factory=list, description="Fields written in the question itself.")
    assumptions: list[Assumption] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list, description="Required values the question lacks.")
    changes: list[Change] = Field(default_factory=list, description="Fields a follow-up changed.")
    whatif: WhatIfSpec | None = None
    base_intent: Intent | None = Field(None, description="The intent before a missing value made it `clarify`.")
    show_alternatives: bool = Field(False, description="A follow-up asking for the runner-up plans of the same "
                                                        "request (\"what's the second best option?\").")
    every_part: bool = Field(False, description="A compliance question about the whole catalog (\"which chips can "
                                                 "a Chinese buyer buy?\"): a verdict for every part.")
    unchanged: bool = Field(False, description="A follow-up in which no change to the previous request was found "
                                                "(the answer says so rather than repeat the plan silently).")
    why_not: list[str] = Field(default_factory=list, description="Parts a follow-up asks about (\"why not the "
                                                                 "H20?\"): the answer says why each was not chosen.")
    unknown_parts: list[str] = Field(default_factory=list, description="Part codes the question names that the "
                                                                       "catalog does not have (MI355X).")


PresetLookup = Callable[[str], "tuple[float, float | None] | None"]
"""Model name → (params, active params) from a sourced presets file; returns None for unknown names."""


def no_presets(_name: str) -> tuple[float, float | None] | None:
    """Preset lookup used until a presets file is wired: no name resolves, sizes stay unknown."""
    return None


@dataclass(frozen=True)
class Lexicon:
    """What the parser needs from the catalog: SKU aliases, vendors, domestic vendors, countries."""

    sku_aliases: Mapping[str, str]
    """Alias as written (any case) → canonical SKU id."""
    vendors: Mapping[str, str] = field(default_factory=dict)
    """Vendor id → display name (ids are what ``exclude_vendors`` holds)."""
    countries: Mapping[str, str] = field(default_factory=dict)
    """ISO alpha-2 code → English short name."""
    presets: PresetLookup = no_presets
    cny_per_usd: float | None = None
    sku_names: Mapping[str, str] = field(default_factory=dict)
    """Canonical SKU id → the catalog's display name."""
    sku_vendors: Mapping[str, str] = field(default_factory=dict)
    """Canonical SKU id → vendor id ("what if Huawei parts get 20 % dearer?" changes every Huawei price)."""

    def similar_parts(self, code: str, limit: int = 5) -> list[str]:
        """Display names of catalog parts written with the same letters as ``code``.

        MI355X → the MI300X, MI308X, MI325X: what to offer when a buyer names a part the catalog does not have.
        """
        def letters(name: str) -> str:
            head = name.strip().upper().replace(" ", "").replace("-", "")
            i = 0
            while i < len(head) and head[i].isalpha():
                i += 1
            return head[:i] if i < len(head) and head[i].isdigit() else ""

        want = letters(code)
        skus = {sku for alias, sku in self.sku_aliases.items() if want and letters(alias) == want}
        return sorted(self.sku_names.get(s, s) for s in skus)[:limit]


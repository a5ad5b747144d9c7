"""Typed ``params`` of the rule kinds that carry thresholds (validated when a rule pack loads)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Params2022(_Frozen):
    """Oct-2022 3A090 thresholds."""

    tpp_min: float
    io_gbps_min: float


class Params2023(_Frozen):
    """Oct-2023 3A090.a/.b thresholds (TPP and performance density)."""

    a1_tpp: float
    a2_tpp: float
    a2_pd: float
    b1_tpp_low: float
    b1_pd_low: float
    b2_tpp: float
    b2_pd_low: float


class CaseByCaseParams(_Frozen):
    """Jan-2026 case-by-case eligibility limits."""

    tpp_below: float
    dram_gbps_below: float
    conditions: tuple[str, ...] = Field((), description="Conditions a licence is reviewed against (shown).")
    volume_cap: str | None = Field(None, description="Volume limit on shipments to the destination (shown).")
    reexport_denial: bool = Field(
        False, description="Re-exports, exports from abroad and in-country transfers keep the presumption of denial.")


class FractionParams(_Frozen):
    """A fee as a fraction of the purchase price."""

    fraction: float = Field(ge=0, le=5)


class TariffBand(_Frozen):
    """One TPP/bandwidth band of the Jan-2026 chip tariff."""

    tpp_min: float
    tpp_max: float
    dram_gbps_min: float
    dram_gbps_max: float


class TariffParams(_Frozen):
    """Tariff fraction and its bands."""

    fraction: float = Field(ge=0, le=5)
    bands: tuple[TariffBand, ...] = Field(min_length=1)


class HbmParams(_Frozen):
    """3A090.c memory-bandwidth-density threshold."""

    density_gbps_per_mm2: float


class ScreeningParams(_Frozen):
    """How close a name must be to a listed one to be reported as a possible match."""

    possible_match_score: float = Field(0.85, gt=0, le=1, description="Similarity from which a name may match.")

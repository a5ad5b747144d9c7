"""Typed records of the accelerator catalog.

Every numeric fact is a :class:`Figure`: a value (or a low/high range where sources conflict), the
source ids from ``shared/reference/facts.md`` and an evidence grade. Unknown facts are ``None`` with a
reason, never a guess. Field names carry their unit (``memory_bandwidth_tbps``); a figure may also
state its unit explicitly (``unit: GB/s``), which is converted to the field's unit or rejected.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from optimizer.reasons import Why

Grade = Literal["P", "S", "W", "D", "A"]
"""Evidence grade: Primary, Secondary, Weak, Derived (arithmetic on sourced inputs), Assumption."""

Currency = Literal["CNY", "USD"]
Precision = Literal["fp8", "bf16", "fp16", "tf32", "fp32", "int8"]
PRECISIONS: tuple[Precision, ...] = ("fp8", "bf16", "fp16", "tf32", "fp32", "int8")
BIT_LENGTH: dict[Precision, int] = {"fp8": 8, "int8": 8, "bf16": 16, "fp16": 16, "tf32": 19, "fp32": 32}
"""Bit length of the operation per precision, for TPP. TF32 operates on 19 bits (1 sign, 8 exponent, 10 mantissa)
although it is stored in 32 (source TF32-FORMAT)."""

SKU_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Figure(_Frozen):
    """A sourced number, a sourced range, or an explained unknown."""

    value: float | None = Field(None, description="Best value in the field's unit; None if unknown.")
    low: float | None = Field(None, description="Low end where sources conflict or a range is reported.")
    high: float | None = Field(None, description="High end where sources conflict or a range is reported.")
    unit: str | None = Field(None, description="Unit as written in the file; converted to the field's unit.")
    source: tuple[str, ...] = Field((), description="Source ids (facts.md section 9 or the file's own `sources`).")
    grade: Grade | None = Field(None, description="Evidence grade of the value.")
    supported: bool = Field(True, description="False when the feature does not exist (e.g. FP8 on Ampere).")
    reason: str | None = Field(None, description="Why the value is unknown or unsupported.")
    note: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Figure:
        if self.value is None:
            if self.low is not None or self.high is not None:
                raise ValueError("a range (low/high) needs a best `value` inside it")
            if not self.reason:
                raise ValueError("an unknown figure (value: null) needs a `reason`")
            return self
        if not self.supported:
            raise ValueError("an unsupported feature cannot carry a value")
        if not self.source:
            raise ValueError(f"figure {self.value} has no `source` id")
        if self.grade is None:
            raise ValueError(f"figure {self.value} has no evidence `grade` (P, S, W, D or A)")
        for name, bound in (("value", self.value), ("low", self.low), ("high", self.high)):
            if bound is not None and bound < 0:
                raise ValueError(f"{name} must not be negative (got {bound})")
        if self.low is not None and self.low > self.value:
            raise ValueError(f"low {self.low} is above value {self.value}")
        if self.high is not None and self.high < self.value:
            raise ValueError(f"high {self.high} is below value {self.value}")
        return self

    @property
    def known(self) -> bool:
        """True when the figure has a value."""
        return self.value is not None

    @property
    def lo(self) -> float | None:
        """Low end (the value itself when no range is given)."""
        return self.low if self.low is not None else self.value

    @property
    def hi(self) -> float | None:
        """High end (the value itself when no range is given)."""
        return self.high if self.high is not None else self.value

    def scaled(self, factor: float) -> Figure:
        """Return the figure with value and range multiplied by ``factor`` (unit conversion)."""
        return self.model_copy(
            update={
                "value": None if self.value is None else self.value * factor,
                "low": None if self.low is None else self.low * factor,
                "high": None if self.high is None else self.high * factor,
                "unit": None,
            }
        )


def unknown(reason: str) -> Figure:
    """An unknown figure with its reason."""
    return Figure(reason=reason)


def _unit_checker(
    unit: str, *, convert: dict[str, float] | None = None, plausible: tuple[float, float] | None = None
) -> Callable[[Figure], Figure]:
    """Build a validator that converts a figure's declared unit and checks it is plausible."""
    table = {unit.lower(): 1.0, **{k.lower(): v for k, v in (convert or {}).items()}}

    def check(fig: Figure) -> Figure:
        if fig.unit is not None:
            factor = table.get(fig.unit.strip().lower())
            if factor is None:
                allowed = ", ".join([unit, *(convert or {})])
                raise ValueError(f"unit {fig.unit!r} is not valid here; expected {allowed}")
            fig = fig.scaled(factor)
        if plausible and fig.value is not None:
            lo, hi = plausible
            for v in (fig.value, fig.low, fig.high):
                if v is not None and not lo <= v <= hi:
                    raise ValueError(f"{v} {unit} is outside the plausible range {lo}–{hi} {unit}; wrong unit?")
        return fig

    return check


TflopsFig = Annotated[
    Figure, AfterValidator(_unit_checker("TFLOPS", convert={"TOPS": 1, "PFLOPS": 1e3}, plausible=(0.1, 50_000)))
]
MemoryGbFig = Annotated[
    Figure, AfterValidator(_unit_checker("GB", convert={"TB": 1e3, "GiB": 1.073741824}, plausible=(1, 4_000)))
]
BandwidthTbpsFig = Annotated[
    Figure, AfterValidator(_unit_checker("TB/s", convert={"GB/s": 1e-3}, plausible=(0.01, 100)))
]
LinkGbpsFig = Annotated[
    Figure, AfterValidator(_unit_checker("GB/s", convert={"TB/s": 1e3, "Gb/s": 0.125}, plausible=(1, 100_000)))
]
AreaFig = Annotated[Figure, AfterValidator(_unit_checker("mm2", convert={"mm²": 1}, plausible=(10, 20_000)))]
PowerWFig = Annotated[Figure, AfterValidator(_unit_checker("W", convert={"kW": 1e3}, plausible=(5, 20_000)))]
PowerKwFig = Annotated[Figure, AfterValidator(_unit_checker("kW", convert={"W": 1e-3}, plausible=(0.05, 2_000)))]
GbitFig = Annotated[Figure, AfterValidator(_unit_checker("Gb/s", convert={"GB/s": 8}, plausible=(1, 20_000)))]


class DensePeaks(_Frozen):
    """Dense (non-sparse) peak throughput per precision; TFLOPS for floats, TOPS for int8."""

    fp8: TflopsFig
    bf16: TflopsFig
    fp16: TflopsFig
    tf32: TflopsFig
    fp32: TflopsFig
    int8: TflopsFig
    fp4: TflopsFig | None = Field(
        None, description="Dense FP4 (NVFP4/MXFP4) tensor throughput; absent when the part has no FP4 tensor cores "
        "or no source gives it. Used by the serving estimator, not by TPP (an FP4 figure at 4 bits never exceeds "
        "the FP8 one at 8 on parts that have both).")

    def get(self, precision: Precision) -> Figure:
        """Figure for one precision."""
        fig: Figure = getattr(self, precision)
        return fig

    def low_precision(self, name: str) -> Figure | None:
        """Figure for a serving precision (``fp4`` included); None when the catalog has no record of it."""
        return self.fp4 if name == "fp4" else getattr(self, name, None)


class SparsePeaks(_Frozen):
    """Datasheet figures "with sparsity" (2:4), kept apart so they are never used as dense peaks."""

    fp8: TflopsFig | None = None
    bf16: TflopsFig | None = None
    fp16: TflopsFig | None = None
    tf32: TflopsFig | None = None
    int8: TflopsFig | None = None


class PriceRange(_Frozen):
    """A reported price range for one accelerator or one node."""

    currency: Currency
    low: float = Field(gt=0, description="Low end of reported prices.")
    base: float = Field(gt=0, description="Central estimate used by default.")
    high: float = Field(gt=0, description="High end of reported prices.")
    basis: Literal["per_accelerator", "per_node", "per_system"]
    date: str = Field(description="When the price was reported: YYYY, YYYY-MM or YYYY-MM-DD.")
    source: tuple[str, ...] = Field(min_length=1)
    grade: Grade
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> PriceRange:
        if not self.low <= self.base <= self.high:
            raise ValueError(f"price must satisfy low <= base <= high (got {self.low}, {self.base}, {self.high})")
        if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", self.date):
            raise ValueError(f"price date {self.date!r} must be YYYY, YYYY-MM or YYYY-MM-DD")
        return self


class SourcedDate(_Frozen):
    """A dated event (release, availability) with its source."""

    date: str
    source: tuple[str, ...] = Field(min_length=1)
    grade: Grade
    planned: bool = Field(False, description="A roadmap date, not a report that the event happened.")
    note: str | None = None

    @field_validator("date")
    @classmethod
    def _form(cls, v: str) -> str:
        if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", v):
            raise ValueError(f"date {v!r} must be YYYY, YYYY-MM or YYYY-MM-DD")
        return v

    def as_date(self) -> dt.date:
        """First day the event can have happened (YYYY -> Jan 1, YYYY-MM -> day 1)."""
        parts = [int(p) for p in self.date.split("-")] + [1, 1]
        return dt.date(parts[0], parts[1], parts[2])


class SaleWindow(_Frozen):
    """A period in which a part could not be bought (a halt), or from which it no longer can (end of sale)."""

    start: str = Field(description="First day of the halt or end of sale: YYYY, YYYY-MM or YYYY-MM-DD.")
    end: str | None = Field(None, description="Day sales resumed (None = not resumed).")
    countries: tuple[str, ...] = Field((), description="Buyer countries affected (ISO codes); empty = everywhere.")
    source: tuple[str, ...] = Field(min_length=1)
    grade: Grade
    reason: str = Field(min_length=3, description="Why the part could not be bought (shown to users).")

    @field_validator("start", "end")
    @classmethod
    def _form(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", v):
            raise ValueError(f"date {v!r} must be YYYY, YYYY-MM or YYYY-MM-DD")
        return v

    @field_validator("countries")
    @classmethod
    def _upper(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(c.strip().upper() for c in v)

    def covers(self, on: dt.date, country: str) -> bool:
        """True when this window blocks a purchase on ``on`` by a buyer in ``country``."""
        if self.countries and country.upper() not in self.countries:
            return False
        if on < _first_day(self.start):
            return False
        return self.end is None or on < _first_day(self.end)


def _first_day(text: str) -> dt.date:
    parts = [int(p) for p in text.split("-")] + [1, 1]
    return dt.date(parts[0], parts[1], parts[2])


class SkuAvailability(_Frozen):
    """When a part could be bought: announcement, volume shipments, halts and end of sale, each sourced."""

    announced: SourcedDate | None = None
    volume_shipments: SourcedDate | None = Field(
        description="First month of volume shipments: purchasable from then (None: no shipments reported).")
    not_shipping: str | None = Field(None, description="Why no volume shipments are known (when none are).")
    halts: tuple[SaleWindow, ...] = Field((), description="Periods (and buyer countries) in which sales stopped.")

    @model_validator(mode="after")
    def _shipping(self) -> SkuAvailability:
        if self.volume_shipments is None and not self.not_shipping:
            raise ValueError("give `volume_shipments` or `not_shipping` (why no shipments are known)")
        return self

    def blocked(self, on: dt.date, country: str) -> str | None:
        """Why the part cannot be bought on ``on`` by a buyer in ``country`` (None = purchasable)."""
        hit = self.block(on, country)
        return hit[0] if hit else None

    def block(self, on: dt.date, country: str) -> tuple[str, Why] | None:
        """``blocked`` as (English sentence, machine-readable reason)."""
        ann = self.announced.date if self.announced else ""
        if self.volume_shipments is None:
            return (f"no volume shipments reported ({self.not_shipping})",
                    Why(code="not_shipping", args={"date": on.isoformat(), "from": "", "announced": ann}))
        first = self.volume_shipments.as_date()
        if self.volume_shipments.planned:
            return (f"roadmap date only: volume shipments planned from {self.volume_shipments.date} "
                    f"({', '.join(self.volume_shipments.source)}); no report that shipments began",
                    Why(code="not_shipping", args={"date": on.isoformat(), "from": self.volume_shipments.date,
                                                   "announced": ann}))
        if on < first:
            ann = f"announced {self.announced.date}, " if self.announced else ""
            return (f"not yet shipping on {on} ({ann}volume shipments from {self.volume_shipments.date}, "
                    f"{', '.join(self.volume_shipments.source)})",
                    Why(code="not_shipping", args={"date": on.isoformat(), "from": self.volume_shipments.date,
                                                   "announced": self.announced.date if self.announced else ""}))
        for w in self.halts:
            if w.covers(on, country):
                until = f" until {w.end}" if w.end else ""
                return (f"not for sale to {country} on {on}: {w.reason} (from {w.start}{until}, "
                        f"{', '.join(w.source)})",
                        Why(code="not_for_sale", args={"country": country, "date": on.isoformat(), "start": w.start,
                                                       "end": w.end or ""}))
        return None


def _sku_id(v: str) -> str:
    if not SKU_ID_RE.fullmatch(v):
        raise ValueError(f"id {v!r} must be lower-case kebab case (e.g. 'ascend-910b')")
    return v


SkuId = Annotated[str, AfterValidator(_sku_id)]


class Accelerator(_Frozen):
    """One accelerator SKU."""

    id: SkuId
    name: str
    vendor: SkuId
    country_of_origin: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 of the vendor.")
    aliases: tuple[str, ...] = ()
    architecture: str | None = None
    form_factor: Literal["sxm", "oam", "pcie", "module"]
    datacenter: bool = Field(description="Designed or marketed for use in datacenters (3A090 Note 2).")
    us_commercially_available: bool | None = Field(
        None, description="Sold commercially in the US (a condition of the Jan-2026 case-by-case policy)."
    )
    domestic_china: bool = Field(False, description="Designed by a Chinese vendor (domestic-share rules).")
    released: SourcedDate | None = None
    availability: SkuAvailability | None = Field(
        None, description="Sourced sale dates; without it the part counts as purchasable from `released`."
    )
    dense: DensePeaks
    sparse: SparsePeaks | None = None
    memory_gb: MemoryGbFig
    memory_type: str | None = None
    memory_bandwidth_tbps: BandwidthTbpsFig
    intra_node_link_gbps: LinkGbpsFig = Field(
        description="Per-device accelerator-to-accelerator bandwidth, bidirectional."
    )
    intra_node_link: str | None = Field(None, description="Name of the scale-up link (NVLink 4, HCCS, PCIe 4.0 …).")
    intra_node_domain: int = Field(ge=1, le=512, description="Devices joined by the fast link (8 in an HGX node).")
    io_bandwidth_gbps: LinkGbpsFig = Field(
        description="Aggregate bidirectional chip-to-chip I/O for the Oct-2022 600 GB/s test."
    )
    logic_die_area_mm2: AreaFig
    tdp_w: PowerWFig
    software_ecosystem: str
    price: PriceRange | None = None
    price_reason: str | None = Field(None, description="Why no price is given.")
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _price_or_reason(self) -> Accelerator:
        if self.price is None and not self.price_reason:
            raise ValueError("give a `price` or a `price_reason` explaining why none is sourced")
        if self.price is not None and self.price.basis != "per_accelerator":
            raise ValueError("an accelerator price must have basis per_accelerator")
        return self

    def unavailable_reason(self, on: dt.date, country: str) -> str | None:
        """Why this part cannot be bought on ``on`` by a buyer in ``country`` (None = purchasable)."""
        hit = self.unavailable(on, country)
        return hit[0] if hit else None

    def unavailable(self, on: dt.date, country: str) -> tuple[str, Why] | None:
        """``unavailable_reason`` as (English sentence, machine-readable reason)."""
        if self.availability is not None:
            return self.availability.block(on, country)
        if self.released is not None and on < self.released.as_date():
            return (f"not yet released on {on} (released {self.released.date}, "
                    f"{', '.join(self.released.source)})",
                    Why(code="not_released", args={"date": on.isoformat(), "released": self.released.date}))
        return None

    def supports(self, precision: Precision) -> bool:
        """True when the precision exists and its peak is known."""
        return self.dense.get(precision).known


class NodeType(_Frozen):
    """A server (node) holding several accelerators, usually eight."""

    id: SkuId
    name: str
    accelerator: SkuId
    accelerators_per_node: int = Field(ge=1, le=64)
    price: PriceRange | None = None
    price_reason: str | None = None
    power_kw: PowerKwFig
    default_network: SkuId | None = Field(None, description="Scale-out network the node ships with, if fixed.")
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _price_or_reason(self) -> NodeType:
        if self.price is None and not self.price_reason:
            raise ValueError("give a `price` or a `price_reason` explaining why none is sourced")
        if self.price is not None and self.price.basis != "per_node":
            raise ValueError("a node price must have basis per_node")
        return self


class SystemType(_Frozen):
    """A rack-scale system of many accelerators (a SuperPoD), listed for reference; plans buy nodes, not systems."""

    id: SkuId
    name: str
    accelerator: SkuId
    accelerators: Figure = Field(description="Accelerators in one system.")
    availability: SkuAvailability | None = None
    power_kw: PowerKwFig
    price: PriceRange | None = None
    price_reason: str | None = None
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _price_or_reason(self) -> SystemType:
        if self.price is None and not self.price_reason:
            raise ValueError("give a `price` or a `price_reason` explaining why none is sourced")
        return self


Availability = Literal["available", "limited", "unavailable", "unknown"]


class NetworkOption(_Frozen):
    """A scale-out fabric that can join nodes."""

    id: SkuId
    name: str
    kind: Literal["infiniband", "roce", "vendor", "cloud"]
    per_accelerator_gbit: GbitFig = Field(description="Scale-out bandwidth per accelerator, one direction.")
    compatible_vendors: tuple[str, ...] = Field(description="Accelerator vendors it serves; empty = all.")
    price_per_node: PriceRange | None = None
    price_reason: str | None = None
    availability: dict[str, Availability] = Field(
        description="Availability by buyer country (ISO code) with 'default' for the rest."
    )
    availability_source: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> NetworkOption:
        if "default" not in self.availability:
            raise ValueError("availability needs a 'default' entry")
        if self.price_per_node is None and not self.price_reason:
            raise ValueError("give `price_per_node` or a `price_reason`")
        return self

    def availability_for(self, country: str) -> Availability:
        """Availability for a buyer country."""
        return self.availability.get(country, self.availability["default"])

    def serves(self, vendor: str) -> bool:
        """True when the fabric can connect this vendor's accelerators."""
        return not self.compatible_vendors or vendor in self.compatible_vendors


class ExchangeRate(_Frozen):
    """CNY per USD on a date."""

    cny_per_usd: float = Field(gt=0)
    date: str
    source: tuple[str, ...] = Field(min_length=1)
    grade: Grade
    note: str | None = None


class Source(_Frozen):
    """An entry of the source registry."""

    title: str
    url: str | None = None
    grade: Grade | None = None


class CostAssumptions(_Frozen):
    """Sourced or derived defaults of the cost model (each one a Figure with provenance)."""

    server_overhead_usd: Figure = Field(
        description="Host, chassis, CPUs, memory of an 8-way server beyond its accelerators."
    )
    server_power_factor: Figure = Field(description="Server IT power ÷ (accelerators × TDP).")
    pue: Figure = Field(description="Facility power ÷ IT power.")
    electricity_usd_per_kwh: Figure
    horizon_years: Figure
    average_load: Figure = Field(description="Average server power as a fraction of its maximum input.")
    hosting_maintenance_fraction_per_year: Figure | None = Field(
        None, description="Hosting (space, cooling plant) and maintenance (support contracts, spares) per year as a "
        "fraction of the hardware price; power is costed separately. None = not included.")

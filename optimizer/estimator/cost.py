"""Cost of ownership: capex (nodes, network, storage, fees, risk) and opex (power, hosting) over a horizon.

    capex = nodes · (node price + network per node + storage per node) · (1 + fees + risk premium on hardware)
    opex  = nodes · node kW · average load · PUE · 8,760 h · price per kWh · years  +  hosting/maintenance · years

Hosting/maintenance is a flat amount per node-year when given, else the catalog's fraction of the hardware price per
year (an assumption-grade range). Network is priced per node from the fabric's price range (grade as recorded).

Every price is a low/base/high range; ranges propagate (low uses every low input). Node prices come from a
sourced server price, or from accelerator price × count + server overhead when only chip prices are known.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from optimizer.catalog import Accelerator, Catalog, NodeType, PriceRange
from optimizer.errors import InvalidInputError, UnpricedError
from optimizer.estimator.common import Assumption
from optimizer.units import HOURS_PER_YEAR

Currency = Literal["CNY", "USD"]


class MoneyRange(BaseModel):
    """An amount with its low and high ends, in one currency."""

    model_config = ConfigDict(frozen=True)

    low: float
    base: float
    high: float

    def __add__(self, other: MoneyRange) -> MoneyRange:
        return MoneyRange(low=self.low + other.low, base=self.base + other.base, high=self.high + other.high)

    def scale(self, k: float) -> MoneyRange:
        """Multiply every end by ``k``."""
        return MoneyRange(low=self.low * k, base=self.base * k, high=self.high * k)


ZERO = MoneyRange(low=0, base=0, high=0)


class CostRequest(BaseModel):
    """What to price: a number of accelerators of one SKU, and the opex knobs."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    accelerator: str = Field(min_length=1)
    accelerators: int = Field(ge=1, le=10_000_000)
    currency: Currency = "CNY"
    horizon_years: float | None = Field(None, gt=0, le=20)
    fabric: str | None = None
    storage_per_node: float = Field(0.0, ge=0, le=1e12, description="Storage capex per node, in the request currency.")
    hosting_per_node_year: float = Field(0.0, ge=0, le=1e12,
                                         description="Hosting/maintenance per node-year (currency).")
    electricity_per_kwh: float | None = Field(None, gt=0, le=1e3, description="Price per kWh in the request currency.")
    pue: float | None = Field(None, ge=1.0, le=3.0)
    average_load: float | None = Field(None, gt=0, le=1.0)
    fee_fraction: float = Field(0.0, ge=0, le=5, description="Tariffs/revenue shares as a fraction of hardware.")
    risk_premium: float = Field(0.0, ge=0, le=5, description="Licence-risk premium as a fraction of hardware.")
    cny_per_usd: float | None = Field(None, gt=0, le=100)
    rental_per_accelerator_hour: float | None = Field(None, gt=0, le=1e6, description="Rental price (currency).")
    rental_hours: float | None = Field(None, gt=0, le=1e12,
                                       description="Accelerator-hours the work needs (for rent vs buy).")


class CostEstimate(BaseModel):
    """Capex, opex and total with ranges, plus what they rest on."""

    model_config = ConfigDict(frozen=True)

    accelerator: str
    currency: Currency
    cny_per_usd: float
    fx_date: str
    accelerators: int
    nodes: int
    node_type: str | None
    node_price: MoneyRange
    node_price_basis: str
    hardware: MoneyRange
    network: MoneyRange
    storage: MoneyRange
    fees: MoneyRange
    risk: MoneyRange
    capex: MoneyRange
    power_kw_per_node: MoneyRange = Field(description="kW per node (low/base/high), not money.")
    facility_kw: float = Field(description="Base facility power at average load × PUE (kW).")
    energy_mwh_per_year: float
    opex_per_year: MoneyRange
    hosting: MoneyRange = Field(description="Hosting/maintenance over the horizon (part of opex).")
    hosting_basis: str = ""
    network_basis: str = ""
    opex: MoneyRange
    total: MoneyRange
    horizon_years: float
    rental: MoneyRange | None = None
    assumptions: list[Assumption] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


def _convert(amount: float, src: str, dst: str, rate: float) -> float:
    if src == dst:
        return amount
    return amount * rate if (src, dst) == ("USD", "CNY") else amount / rate


def _price(p: PriceRange, dst: str, rate: float, k: float = 1.0) -> MoneyRange:
    return MoneyRange(low=_convert(p.low, p.currency, dst, rate) * k, base=_convert(p.base, p.currency, dst, rate) * k,
                      high=_convert(p.high, p.currency, dst, rate) * k)


def _node_of(catalog: Catalog, sku: str) -> tuple[Accelerator, NodeType | None, int]:
    """The accelerator, its first listed node type (if any) and accelerators per node (8 when none is listed)."""
    acc = catalog.accelerator(sku)
    nodes = catalog.nodes_for(acc.id)
    node = nodes[0] if nodes else None
    return acc, node, node.accelerators_per_node if node else 8


def price_grade(catalog: Catalog, sku: str) -> str | None:
    """Evidence grade of the price a node of this SKU is costed from (None when no price is sourced)."""
    acc, node, _ = _node_of(catalog, sku)
    if node is not None and node.price is not None:
        return node.price.grade
    return acc.price.grade if acc.price is not None else None


def node_price(catalog: Catalog, sku: str, currency: Currency, rate: float) -> tuple[MoneyRange, str, str | None, int]:
    """Price of one node of this accelerator: (range, basis text, node type id, accelerators per node).

    Raises:
        InvalidInputError: neither a node nor an accelerator price is sourced.
    """
    acc, node, per_node = _node_of(catalog, sku)
    if node is not None and node.price is not None:
        p = node.price
        return (_price(p, currency, rate), f"node price {node.id} ({p.date}, {', '.join(p.source)}, grade {p.grade})",
                node.id, per_node)
    if acc.price is None:
        raise UnpricedError(f"no sourced price for {acc.id} ({acc.price_reason}); add one with --catalog to price it")
    over = catalog.cost_assumptions.server_overhead_usd
    overhead = MoneyRange(low=_convert(over.lo or 0, "USD", currency, rate),
                          base=_convert(over.value or 0, "USD", currency, rate),
                          high=_convert(over.hi or 0, "USD", currency, rate))
    chips = _price(acc.price, currency, rate, per_node)
    basis = (f"{per_node} × accelerator price ({acc.price.date}, {', '.join(acc.price.source)}, grade "
             f"{acc.price.grade}) + server overhead (derived, {', '.join(over.source)})")
    return chips + overhead, basis, node.id if node else None, per_node


def node_power_kw(catalog: Catalog, sku: str) -> tuple[MoneyRange, str]:
    """Maximum power of one node (kW, low/base/high) and where it comes from.

    Raises:
        InvalidInputError: no node power and no accelerator TDP is sourced.
    """
    acc, node, per_node = _node_of(catalog, sku)
    if node is not None and node.power_kw.value is not None:
        f = node.power_kw
        return (MoneyRange(low=f.lo or f.value, base=f.value, high=f.hi or f.value),
                f"node maximum input ({', '.join(f.source)}, grade {f.grade})")
    tdp = acc.tdp_w
    if tdp.value is None:
        raise InvalidInputError(f"cannot estimate power for {acc.id}: TDP not sourced ({tdp.reason})")
    factor = catalog.cost_assumptions.server_power_factor
    k = per_node / 1000.0
    return (MoneyRange(low=(tdp.lo or tdp.value) * k * (factor.lo or 1), base=tdp.value * k * (factor.value or 1),
                       high=(tdp.hi or tdp.value) * k * (factor.hi or 1)),
            f"{per_node} × TDP {tdp.value:g} W × server factor {factor.value} (derived, {', '.join(factor.source)})")


def estimate_cost(catalog: Catalog, req: CostRequest) -> CostEstimate:
    """Price a purchase of ``req.accelerators`` accelerators over the horizon.

    Raises:
        UnknownSkuError, InvalidInputError: unknown SKU, missing price or power.
    """
    ca = catalog.cost_assumptions
    fx = catalog.exchange_rate
    rate = req.cny_per_usd or fx.cny_per_usd
    cur = req.currency
    acc = catalog.accelerator(req.accelerator)
    price, basis, node_id, per_node = node_price(catalog, acc.id, cur, rate)
    nodes = math.ceil(req.accelerators / per_node)
    hardware = price.scale(nodes)
    warnings: list[str] = []
    network = ZERO
    network_basis = ""
    if req.fabric:
        net = catalog.networks.get(req.fabric)
        if net is None:
            raise InvalidInputError(f"unknown fabric {req.fabric!r}")
        if net.price_per_node is not None:
            p = net.price_per_node
            network = _price(p, cur, rate, nodes)
            network_basis = f"{net.name}: {', '.join(p.source)}, grade {p.grade}" + (f" ({p.note})" if p.note else "")
        elif nodes > 1:
            warnings.append(f"{net.name}: no sourced network price; network cost not included")
    storage = MoneyRange(low=req.storage_per_node, base=req.storage_per_node, high=req.storage_per_node).scale(nodes)
    fees = hardware.scale(req.fee_fraction)
    risk = hardware.scale(req.risk_premium)
    capex = hardware + network + storage + fees + risk
    kw, kw_basis = node_power_kw(catalog, acc.id)
    years = req.horizon_years or (ca.horizon_years.value or 3.0)
    pue_b = req.pue or (ca.pue.value or 1.3)
    pue_lo, pue_hi = (pue_b, pue_b) if req.pue else (ca.pue.lo or pue_b, ca.pue.hi or pue_b)
    load_b = req.average_load or (ca.average_load.value or 0.75)
    load_lo, load_hi = (
        (load_b, load_b) if req.average_load else (ca.average_load.lo or load_b, ca.average_load.hi or load_b)
    )
    e_usd = ca.electricity_usd_per_kwh
    if req.electricity_per_kwh is not None:
        el_lo = el_b = el_hi = req.electricity_per_kwh
        el_src = "given"
    else:
        el_lo = _convert(e_usd.lo or 0.0, "USD", cur, rate)
        el_b = _convert(e_usd.value or 0.0, "USD", cur, rate)
        el_hi = _convert(e_usd.hi or 0.0, "USD", cur, rate)
        el_src = f"US${e_usd.value}/kWh China industrial average ({', '.join(e_usd.source)})"
    kwh_b = nodes * kw.base * load_b * pue_b * HOURS_PER_YEAR
    power_year = MoneyRange(low=nodes * kw.low * load_lo * pue_lo * HOURS_PER_YEAR * el_lo, base=kwh_b * el_b,
                            high=nodes * kw.high * load_hi * pue_hi * HOURS_PER_YEAR * el_hi)
    hm = ca.hosting_maintenance_fraction_per_year
    if req.hosting_per_node_year > 0 or hm is None or hm.value is None:
        hosting_year = MoneyRange(low=1, base=1, high=1).scale(req.hosting_per_node_year * nodes)
        hosting_basis = "given" if req.hosting_per_node_year > 0 else ""
    else:
        hosting_year = MoneyRange(low=hardware.low * (hm.lo or hm.value), base=hardware.base * hm.value,
                                  high=hardware.high * (hm.hi or hm.value))
        hosting_basis = (f"{hm.value:.0%} of hardware per year ({(hm.lo or hm.value):.0%}–{(hm.hi or hm.value):.0%}; "
                         f"{', '.join(hm.source)}, grade {hm.grade})")
    opex_year = power_year + hosting_year
    opex = opex_year.scale(years)
    rental = None
    if req.rental_per_accelerator_hour is not None:
        hours = req.rental_hours if req.rental_hours is not None else req.accelerators * HOURS_PER_YEAR * years
        r = hours * req.rental_per_accelerator_hour
        rental = MoneyRange(low=r, base=r, high=r)
    assumptions = [
        Assumption(name="node price", value=f"{price.base:,.0f} {cur} ({price.low:,.0f}–{price.high:,.0f})",
                   source=basis),
        Assumption(name="exchange rate", value=f"{rate:g} CNY per USD", source=(
            "given" if req.cny_per_usd else f"{fx.date}, {', '.join(fx.source)} (grade {fx.grade})")),
        Assumption(name="node power", value=f"{kw.base:.2f} kW max ({kw.low:.2f}–{kw.high:.2f})", source=kw_basis),
        Assumption(name="average load", value=f"{load_b:.2f} of maximum", source=(
            "given" if req.average_load else f"{', '.join(ca.average_load.source)} (grade {ca.average_load.grade})")),
        Assumption(name="PUE", value=f"{pue_b:g}", source=("given" if req.pue else ", ".join(ca.pue.source))),
        Assumption(name="electricity", value=f"{el_b:.3f} {cur}/kWh", source=el_src),
        Assumption(name="horizon", value=f"{years:g} years", source="given" if req.horizon_years else "default"),
    ]
    if hosting_basis:
        assumptions.append(Assumption(name="hosting/maintenance", value=f"{hosting_year.base:,.0f} {cur} per year",
                                      source=hosting_basis))
    else:
        warnings.append("hosting/maintenance not included (no figure; set hosting_per_node_year)")
    if network_basis:
        assumptions.append(Assumption(name="network", value=f"{network.base:,.0f} {cur}", source=network_basis))
    return CostEstimate(
        accelerator=acc.id, currency=cur, cny_per_usd=rate, fx_date=fx.date, accelerators=req.accelerators,
        nodes=nodes, node_type=node_id, node_price=price, node_price_basis=basis, hardware=hardware, network=network,
        storage=storage, fees=fees, risk=risk, capex=capex, power_kw_per_node=kw,
        facility_kw=nodes * kw.base * load_b * pue_b, energy_mwh_per_year=kwh_b / 1000, opex_per_year=opex_year,
        opex=opex, total=capex + opex, horizon_years=years, hosting=hosting_year.scale(years),
        hosting_basis=hosting_basis, network_basis=network_basis, rental=rental, assumptions=assumptions,
        warnings=warnings,
    )

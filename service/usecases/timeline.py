"""Verdicts of one part over time and destinations, and the version of the data a plan was computed with."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from optimizer import Accelerator
from service.usecases.catalog import check_compliance
from service.usecases.context import AppContext

MAX_DESTINATIONS = 12
MAX_DATES = 120


Availability = Literal["available", "not_yet_available", "not_for_sale"]
"""Whether the part could be bought on a date: before volume shipments (or release) it is ``not_yet_available``;
in a sales halt for the buyer's country it is ``not_for_sale``."""

_AVAILABILITY: dict[str, Availability] = {"not_shipping": "not_yet_available", "not_released": "not_yet_available",
                                          "not_for_sale": "not_for_sale"}


class TimelineRow(BaseModel):
    """The verdicts for one destination, one per sampled date, and whether the part could be bought then."""

    model_config = ConfigDict(frozen=True)

    destination: str
    verdicts: list[str]
    availability: list[Availability] = Field(
        default_factory=list, description="Same dates as `verdicts`: available, not_yet_available or not_for_sale "
        "(the export verdict says nothing about a part that was not on sale yet).")


class ComplianceTimeline(BaseModel):
    """Verdicts of one part by destination (rows) and date (columns)."""

    model_config = ConfigDict(frozen=True)

    sku: str
    name: str
    dates: list[str]
    rows: list[TimelineRow]


def month_starts(start: dt.date, end: dt.date, step_months: int = 1) -> list[dt.date]:
    """First day of every ``step_months``-th month from ``start``'s month through ``end``."""
    out: list[dt.date] = []
    y, m = start.year, start.month
    while dt.date(y, m, 1) <= end:
        out.append(dt.date(y, m, 1))
        m += step_months
        y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
    return out


def compliance_timeline(
    ctx: AppContext,
    sku: str,
    countries: Sequence[str],
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    buyer_kind: str = "commercial",
) -> ComplianceTimeline:
    """Verdict of ``sku`` for each destination on the first day of each month (July 2022 to today by default).

    Each row also says whether the part could be bought on each date (the catalog's sourced announcement, volume
    shipments and sales halts), so a part is never shown as "allowed" before it existed. At most 12 destinations and
    the last 120 months are evaluated.

    Raises:
        UnknownSkuError / UnknownCountryError: from the compliance engine, for bad input.
    """
    acc = ctx.domain.catalog.accelerator(sku)
    dates = month_starts(start or dt.date(2022, 7, 1), end or dt.date.today())[-MAX_DATES:]
    rows = [
        TimelineRow(
            destination=country.strip().upper(),
            verdicts=[check_compliance(ctx, acc.id, buyer_country=country, date=on, buyer_kind=buyer_kind).verdict
                      for on in dates],
            availability=[_availability(acc, on, country.strip().upper()) for on in dates],
        )
        for country in list(dict.fromkeys(c for c in countries if c.strip()))[:MAX_DESTINATIONS]
    ]
    return ComplianceTimeline(sku=acc.id, name=acc.name, dates=[d.isoformat() for d in dates], rows=rows)


def _availability(acc: Accelerator, on: dt.date, country: str) -> Availability:
    hit = acc.unavailable(on, country)
    return "available" if hit is None else _AVAILABILITY.get(hit[1].code, "not_yet_available")


def data_version(ctx: AppContext) -> str:
    """A short digest of the catalog and rule packs in use; it changes whenever any figure or rule changes.

    Computed once per loaded domain (~5 ms of serialising and hashing, once per report before).
    """
    domain = ctx.domain
    known = domain.derived.get("data_version")
    if known is not None:
        return known
    cat = domain.catalog
    payload = {
        "accelerators": {k: v.model_dump(mode="json") for k, v in sorted(cat.accelerators.items())},
        "nodes": {k: v.model_dump(mode="json") for k, v in sorted(cat.nodes.items())},
        "networks": {k: v.model_dump(mode="json") for k, v in sorted(cat.networks.items())},
        "rules": [r.model_dump(mode="json") for r in domain.engine.rules],
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    domain.derived["data_version"] = version = f"catalog-{digest[:12]}"
    return version

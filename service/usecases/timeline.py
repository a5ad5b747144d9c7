"""Verdicts of one part over time and destinations, and the version of the data a plan was computed with."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from service.usecases.catalog import check_compliance
from service.usecases.context import AppContext

MAX_DESTINATIONS = 12
MAX_DATES = 120


class TimelineRow(BaseModel):
    """The verdicts for one destination, one per sampled date."""

    model_config = ConfigDict(frozen=True)

    destination: str
    verdicts: list[str]


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

    At most 12 destinations and the last 120 months are evaluated.

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
        )
        for country in list(dict.fromkeys(c for c in countries if c.strip()))[:MAX_DESTINATIONS]
    ]
    return ComplianceTimeline(sku=acc.id, name=acc.name, dates=[d.isoformat() for d in dates], rows=rows)


def data_version(ctx: AppContext) -> str:
    """A short digest of the catalog and rule packs in use; it changes whenever any figure or rule changes."""
    cat = ctx.domain.catalog
    payload = {
        "accelerators": {k: v.model_dump(mode="json") for k, v in sorted(cat.accelerators.items())},
        "nodes": {k: v.model_dump(mode="json") for k, v in sorted(cat.nodes.items())},
        "networks": {k: v.model_dump(mode="json") for k, v in sorted(cat.networks.items())},
        "rules": [r.model_dump(mode="json") for r in ctx.domain.engine.rules],
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    return f"catalog-{digest[:12]}"

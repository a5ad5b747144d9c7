"""Verdicts for one part over time and destinations (the compliance timeline plot's data)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from optimizer.compliance import Buyer
from service.container import Domain


def month_starts(start: date, end: date, step_months: int = 1) -> list[date]:
    """First day of every ``step_months``-th month from ``start``'s month through ``end``."""
    if end < start:
        return []
    out: list[date] = []
    y, m = start.year, start.month
    while date(y, m, 1) <= end:
        out.append(date(y, m, 1))
        m += step_months
        y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
    return out


def compliance_timeline(
    domain: Domain,
    sku: str,
    countries: Sequence[str],
    dates: Sequence[date],
    *,
    buyer_kind: str = "commercial",
) -> dict[str, Any]:
    """Verdict of ``sku`` for each destination on each date (rule changes between samples are listed too).

    Raises:
        UnknownSkuError / UnknownCountryError: from the compliance engine, for bad input.
    """
    acc = domain.catalog.accelerator(sku)
    rows = []
    for country in countries:
        verdicts = []
        for on in dates:
            result = domain.engine.check(acc.id, Buyer(country=country, kind=buyer_kind, on=on))  # type: ignore[arg-type]
            verdicts.append(result.verdict)
        rows.append({"destination": country.upper(), "verdicts": verdicts})
    return {"sku": acc.id, "name": acc.name, "dates": [d.isoformat() for d in dates], "rows": rows}


def default_dates(today: date) -> list[date]:
    """Monthly samples from July 2022 (before the first 3A090 rule) to ``today``."""
    return month_starts(date(2022, 7, 1), today + timedelta(days=0))


def data_version(domain: Domain) -> str:
    """A short digest of the catalog and rule packs a plan was computed with (changes when any figure changes)."""
    import hashlib
    import json

    cat = domain.catalog
    payload = {
        "accelerators": {k: v.model_dump(mode="json") for k, v in sorted(cat.accelerators.items())},
        "nodes": {k: v.model_dump(mode="json") for k, v in sorted(cat.nodes.items())},
        "networks": {k: v.model_dump(mode="json") for k, v in sorted(cat.networks.items())},
        "rules": [r.model_dump(mode="json") for r in getattr(domain.engine, "rules", [])],
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    return f"catalog-{digest[:12]}"

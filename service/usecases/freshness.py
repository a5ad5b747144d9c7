"""How old the data in use is: the newest sourced date the catalog and rule packs hold, and its age today.

Until the data comes in dated packs (each with an ``as_of`` header), the date the data is current to is read off the
data itself: the newest price report, release, availability event or rule date that is not in the future. A part's
announced roadmap (volume shipments next year) is a plan, not news, so dates after today are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from service.usecases.context import AppContext
from service.usecases.timeline import data_version

STALE_AFTER_DAYS = 90
"""Data older than this is flagged: news after its date (a rule, a price move) is unknown to every answer."""


class DataAge(BaseModel):
    """The data's version, the newest sourced date it holds, and how many days ago that was."""

    model_config = ConfigDict(frozen=True)

    version: str = Field(description="Digest of the catalog and rule packs in use (changes with any figure or rule).")
    as_of: dt.date | None = Field(description="Newest dated fact (price report, release, sale event, rule date) "
                                  "not after today; None when the data holds no date.")
    today: dt.date
    age_days: int | None = Field(description="Days from `as_of` to `today`.")
    stale: bool = Field(description=f"Older than `stale_after_days` ({STALE_AFTER_DAYS}).")
    stale_after_days: int = STALE_AFTER_DAYS
    dated_facts: int = Field(description="How many dated facts `as_of` was read from.")


def _first_day(text: str) -> dt.date:
    parts = [int(p) for p in text.split("-")] + [1, 1]
    return dt.date(parts[0], parts[1], parts[2])


def _catalog_dates(ctx: AppContext) -> Iterator[dt.date]:
    cat = ctx.domain.catalog
    for acc in cat.accelerators.values():
        if acc.price is not None:
            yield _first_day(acc.price.date)
        if acc.released is not None:
            yield acc.released.as_date()
        if acc.availability is not None:
            av = acc.availability
            if av.announced is not None:
                yield av.announced.as_date()
            yield av.volume_shipments.as_date()
            for w in av.halts:
                yield _first_day(w.start)
                if w.end:
                    yield _first_day(w.end)
    for node in cat.nodes.values():
        if node.price is not None:
            yield _first_day(node.price.date)
    for net in cat.networks.values():
        if net.price_per_node is not None:
            yield _first_day(net.price_per_node.date)
    for rule in ctx.domain.engine.rules:
        yield rule.effective_from
        if rule.effective_to is not None:
            yield rule.effective_to


def data_age(ctx: AppContext, *, today: dt.date | None = None) -> DataAge:
    """The newest sourced date in the catalog and rule packs (not after ``today``) and its age in days."""
    when = today or dt.date.today()
    dates = [d for d in _catalog_dates(ctx) if d <= when]
    as_of = max(dates) if dates else None
    age = None if as_of is None else (when - as_of).days
    return DataAge(version=data_version(ctx), as_of=as_of, today=when, age_days=age,
                   stale=age is None or age > STALE_AFTER_DAYS, dated_facts=len(dates))

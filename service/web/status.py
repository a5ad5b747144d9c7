"""The page's "data as of" badge: when the data in use is current to, how old that is, and whether it is stale.

The date comes from the data packs' status (``usecases.data_status``: every pack's ``as_of`` and age): the oldest
pack dates the data, and any pack older than the stale limit makes the badge stale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from service.presenters.text import Lang


class PackDate(BaseModel):
    """One part of the data and the date it is current to."""

    name: str
    as_of: dt.date | None
    stale: bool = False


class DataBadge(BaseModel):
    """What the badge shows: the date the data is current to, its age, and the words for it in the page's language."""

    as_of: dt.date | None = Field(description="Oldest date any part of the data is current to.")
    age_days: int | None
    stale: bool = Field(description="Older than `stale_after_days`: news after `as_of` is unknown to every answer.")
    stale_after_days: int
    version: str = Field("", description="Digest or version label of the data in use.")
    packs: list[PackDate] = Field(default_factory=list)
    text: str = Field(description="The badge's words, e.g. 'Data as of 2026-01-28 (312 days old)'.")
    detail: str = Field(description="A longer sentence for the badge's tooltip and screen readers.")


_WORDS: dict[str, dict[Lang, str]] = {
    "as_of": {"en": "Data as of {date}", "zh": "数据截至 {date}"},
    "age": {"en": "{days} days old", "zh": "已 {days} 天"},
    "unknown": {"en": "Data date unknown", "zh": "数据日期未知"},
    "fresh": {"en": "Answers know of prices, parts and rules up to {date}.",
              "zh": "回答所知的价格、芯片与规则截至 {date}。"},
    "stale": {"en": "Older than {n} days: prices, parts or rules announced after {date} are unknown to every answer.",
              "zh": "已超过 {n} 天：{date} 之后公布的价格、芯片或规则，所有回答均不知道。"},
    "version": {"en": "version {v}", "zh": "版本 {v}"},
}


def _text(as_of: dt.date | None, age: int | None, stale: bool, limit: int, version: str, lang: Lang) -> tuple[str, str]:
    """(badge words, tooltip sentence)."""
    if as_of is None:
        return _WORDS["unknown"][lang], _WORDS["unknown"][lang]
    date = as_of.isoformat()
    text = _WORDS["as_of"][lang].format(date=date)
    detail = _WORDS["stale" if stale else "fresh"][lang].format(n=limit, date=date)
    ver = _WORDS["version"][lang].format(v=version) if version else ""
    if lang == "zh":
        text += f"（{_WORDS['age'][lang].format(days=age)}）" if age is not None else ""
        detail += f"（{ver}）" if ver else ""
    else:
        text += f" ({_WORDS['age'][lang].format(days=age)})" if age is not None else ""
        detail += f" ({ver})" if ver else ""
    return text, detail


def badge_from_status(status: Any, lang: Lang) -> DataBadge:
    """The badge from a data-pack status: the oldest pack dates the data, and any stale pack makes it stale.

    ``status`` has ``today``, ``oldest_as_of``, ``stale_after_days`` and ``packs`` (each with ``name``, ``version``,
    ``as_of`` and ``stale``), as the data-pack status use case returns it.
    """
    packs: Iterable[Any] = getattr(status, "packs", None) or []
    rows = [PackDate(name=str(p.name), as_of=p.as_of, stale=bool(getattr(p, "stale", False))) for p in packs]
    as_of: dt.date | None = getattr(status, "oldest_as_of", None)
    today: dt.date = getattr(status, "today", None) or dt.date.today()
    limit = int(getattr(status, "stale_after_days", 90))
    age = None if as_of is None else (today - as_of).days
    stale = any(r.stale for r in rows) or (age is not None and age > limit)
    version = ", ".join(f"{p.name} {p.version}" for p in (getattr(status, "packs", None) or []))
    text, detail = _text(as_of, age, stale, limit, version, lang)
    return DataBadge(as_of=as_of, age_days=age, stale=stale, stale_after_days=limit, version=version, packs=rows,
                     text=text, detail=detail)

"""Numbers, money and dates in the reader's language, in the notation the inputs accept ("70B", "8000万", "$7M").

The short names the presenters have always used; the writing itself is :mod:`service.presenters.numbers`.
"""

from __future__ import annotations

from service.presenters import numbers
from service.presenters.numbers import Lang

__all__ = ["Lang", "fmt_days", "fmt_money", "fmt_number", "fmt_share"]


def fmt_number(v: float | None, lang: Lang = "en", digits: int = 3) -> str:
    """A large count in short form: en ``70B``, ``1.4T``; zh ``700亿``, ``1.4万亿``, ``800万``; ``—`` if unknown."""
    return numbers.size(v, lang)


def fmt_money(v: float | None, currency: str, lang: Lang = "en", *, signed: bool = False) -> str:
    """An amount with its currency symbol: en ``¥48.2M``, ``$7M``; zh ``¥4,820万``, ``¥4.82亿``; ``—`` if unknown."""
    return numbers.money(v, currency, lang, signed=signed)


def fmt_days(v: float | None, lang: Lang = "en") -> str:
    """Days with one decimal below 10, whole days above: ``163 days`` / ``163 天``."""
    return numbers.days(v, lang)


def fmt_share(v: float | None) -> str:
    """A fraction as a whole percentage."""
    return numbers.share(v)

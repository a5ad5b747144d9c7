"""One way to say a number: money, counts and sizes for every door, and the reader that reads them back.

Every amount a person reads (the chat answer, the console, the page, the memo, batch tables, relaxation sentences)
is written by :func:`money` in the buyer's currency and the reader's notation:

* English: ``¥46.13M``, ``$1.25B``, ``$82.3K``, ``$640`` (K/M/B);
* Chinese: ``¥4,613万``, ``¥1.47亿``, ``¥8.23万``, ``$9,800`` (万/亿);
* two decimals for millions, billions and 亿, three significant figures otherwise (all whole digits when there
  are more: ``¥4,613万``); trailing zeros dropped;
* the currency as its symbol (``¥`` CNY, ``$`` USD) or, for any other, its ISO code before the amount
  (``EUR 7.5M``).

:func:`read_amount` reads those strings back (value and currency), and :func:`find_numbers` (re-exported from the
shared notation reader) is what the chat's grounding check reads answers with, so a figure written here always
traces to the value it came from within the precision written: ``round_trip_tolerance``.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from service.presenters.notation import MULTIPLIERS, NumberMatch, find_numbers

Lang = Literal["en", "zh"]
Rounding = Literal["nearest", "up", "down"]

SYMBOLS: dict[str, str] = {"CNY": "¥", "USD": "$"}
"""Currency code → the symbol written before an amount; other currencies are written as their code."""
_FROM_SYMBOL = {"¥": "CNY", "￥": "CNY", "$": "USD"}
_CODE_WORDS = {"cny": "CNY", "rmb": "CNY", "元": "CNY", "人民币": "CNY", "usd": "USD", "美元": "USD",
               "dollars": "USD", "dollar": "USD"}

_MONEY_STEPS: dict[Lang, tuple[tuple[float, str], ...]] = {
    "zh": ((1e8, "亿"), (1e4, "万")),
    "en": ((1e9, "B"), (1e6, "M"), (1e3, "K")),
}
_SIZE_STEPS: dict[Lang, tuple[tuple[float, str], ...]] = {
    "zh": ((1e12, "万亿"), (1e8, "亿"), (1e4, "万")),
    "en": ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")),
}
UNKNOWN = "—"
"""What an unknown (None or non-finite) value reads as."""


def _round(x: float, decimals: int, rounding: Rounding) -> float:
    scale = 10.0 ** decimals
    if rounding == "up":
        return math.ceil(x * scale - 1e-9) / scale
    if rounding == "down":
        return math.floor(x * scale + 1e-9) / scale
    return round(x, decimals)


def _digits(x: float, decimals: int, rounding: Rounding, *, trim: bool = True) -> str:
    text = f"{_round(x, decimals, rounding):,.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


MAX_DECIMALS = 8
"""A figure smaller than 10⁻⁸ reads as 0 (a subnormal such as 2.2e-309 asked for 311 decimals and overflowed)."""


def _decimals(x: float) -> int:
    """Decimals that give three significant figures (none once the whole part has three digits or more)."""
    return min(MAX_DECIMALS, max(0, 2 - int(math.floor(math.log10(x))))) if x > 0 else 0


def _scaled(a: float, steps: tuple[tuple[float, str], ...], rounding: Rounding,
            cents: frozenset[str] = frozenset()) -> str:
    """The figure in the largest step where it rounds to at least 1 (999,996 → ``1M``, never ``1,000K``).

    Steps in ``cents`` keep two decimals (``¥46.13M``, ``¥1.47亿``); the others three significant figures, all
    whole digits when there are more (``¥82.3K``, ``¥8.23万``, ``¥4,613万``). Trailing zeros are dropped.
    """
    for step, suffix in steps:
        x = a / step
        body = _digits(x, 2 if suffix in cents else _decimals(x), rounding)
        if float(body.replace(",", "")) >= 1:
            return f"{body}{suffix}"
    return _digits(a, _decimals(a), rounding)


_CENTS = frozenset({"M", "B", "亿"})
"""Money steps written with two decimals: millions and billions of a currency are read to 10,000s."""


def currency_prefix(currency: str | None) -> str:
    """``¥``, ``$``, ``EUR `` (an unknown or empty currency: nothing)."""
    if not currency:
        return ""
    return SYMBOLS.get(currency.upper(), f"{currency.upper()} ")


def money(value: float | None, currency: str | None, lang: Lang = "en", *, signed: bool = False,
          rounding: Rounding = "nearest") -> str:
    """An amount in the reader's notation with the currency before it (``¥48.2M`` / ``¥4,820万``; ``—`` if unknown).

    Args:
        value: The amount (None or non-finite: unknown).
        currency: ISO code (CNY, USD, ...); symbols for CNY and USD, the code otherwise.
        lang: ``en`` (K/M/B) or ``zh`` (万/亿).
        signed: Write ``+`` before a positive amount (deltas).
        rounding: ``up`` for a suggested minimum that must never read lower than verified, ``down`` for a maximum.
    """
    if value is None or not math.isfinite(value):
        return UNKNOWN
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    a = abs(value)
    if value < 0 and rounding != "nearest":  # rounding a negative amount "up" means towards zero in magnitude
        rounding = "down" if rounding == "up" else "up"
    return f"{sign}{currency_prefix(currency)}{_scaled(a, _MONEY_STEPS[lang], rounding, _CENTS)}"


def size(value: float | None, lang: Lang = "en") -> str:
    """A parameter or token count: ``70B``, ``1.4T``, ``800M`` / ``700亿``, ``1.4万亿``, ``800万``."""
    if value is None or not math.isfinite(value):
        return UNKNOWN
    sign, a = ("-" if value < 0 else ""), abs(value)
    return f"{sign}{_scaled(a, _SIZE_STEPS[lang], 'nearest')}"


def count(value: float | None) -> str:
    """A whole count with thousands separators (``1,024``)."""
    if value is None or not math.isfinite(value):
        return UNKNOWN
    return f"{round(value):,}"


def days(value: float | None, lang: Lang | None = None) -> str:
    """Days with one decimal below 10, whole days above; with ``lang`` the unit follows (``163 days`` / ``163 天``)."""
    if value is None or not math.isfinite(value):
        return UNKNOWN
    num = f"{value:,.1f}" if abs(value) < 10 else f"{value:,.0f}"
    if lang is None:
        return num
    return f"{num} 天" if lang == "zh" else f"{num} days"


def share(value: float | None) -> str:
    """A fraction as a whole percentage (``34%``)."""
    return UNKNOWN if value is None or not math.isfinite(value) else f"{value:.0%}"


# ---- reading back ---------------------------------------------------------------------------------------------

CURRENCY_CODES = frozenset({"CNY", "USD", "EUR", "GBP", "JPY", "AED", "SAR", "SGD", "HKD", "KRW", "INR", "CHF",
                            "CAD", "AUD", "TWD", "MYR", "RUB", "BRL"})
"""Codes read as a currency when written before or after an amount."""
_BEFORE = re.compile(r"(?:(?<![\w])(?P<sign>[-+−]))?\s*(?:(?P<sym>[¥￥$])|(?P<code>\b[A-Z]{3})\s+)?\s*$")
_AFTER = re.compile(r"^\s*(?P<word>[A-Za-z]{3}\b|元|人民币|美元|dollars?\b)", re.IGNORECASE)


def _currency(before: re.Match[str], after: str) -> str | None:
    if before.group("sym"):
        return _FROM_SYMBOL[before.group("sym")]
    if before.group("code") in CURRENCY_CODES:
        return before.group("code")
    m = _AFTER.match(after)
    if m is None:
        return None
    word = m.group("word")
    if word.upper() in CURRENCY_CODES:
        return word.upper()
    return _CODE_WORDS.get(word.lower())


def read_amounts(text: str) -> list[tuple[float, str | None]]:
    """Every amount written in ``text`` with the currency written beside it (signs kept), in order."""
    out = []
    for n in find_numbers(text):
        before = _BEFORE.search(text[:n.start])
        assert before is not None  # the pattern matches the empty string at the end
        if before.group("code") and before.group("code") not in CURRENCY_CODES:
            before = _BEFORE.search("")
            assert before is not None
        sign = -1.0 if before.group("sign") in ("-", "−") else 1.0
        out.append((sign * n.value, _currency(before, text[n.end:])))
    return out


def read_amount(text: str) -> tuple[float, str | None] | None:
    """The one amount in ``text`` (``¥4,820万`` → (48,200,000, "CNY"); ``EUR 7.5M`` → (7,500,000, "EUR")), or None.

    The inverse of :func:`money` (and of :func:`size` without a currency).
    """
    found = read_amounts(text)
    return found[0] if len(found) == 1 else None


def written_tolerance(text: str) -> float:
    """Half a unit of the last digit written, times the multiplier: how far a written figure may be from its value.

    ``¥48.2M`` → 50,000; ``¥4,820万`` → 5,000; ``$7M`` → 500,000.
    """
    nums = find_numbers(text)
    if len(nums) != 1:
        raise ValueError(f"expected one number in {text!r}")
    n = nums[0]
    digits = re.search(r"[\d,]*\.?(\d*)", n.raw.replace(",", ""))
    decimals = len(digits.group(1)) if digits else 0
    factor = MULTIPLIERS[n.mult.lower()] if n.mult else 1.0
    return 0.5 * 10.0 ** (-decimals) * factor


__all__ = ["SYMBOLS", "UNKNOWN", "Lang", "NumberMatch", "Rounding", "count", "currency_prefix", "days",
           "find_numbers", "money", "read_amount", "read_amounts", "share", "size", "written_tolerance"]

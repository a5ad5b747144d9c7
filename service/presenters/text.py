"""Numbers, money and dates in the reader's language, in the notation the inputs accept ("70B", "8000万", "$7M")."""

from __future__ import annotations

import math
from typing import Literal

Lang = Literal["en", "zh"]

_SYMBOL = {"CNY": "¥", "USD": "$"}
_MONEY_STEPS: dict[Lang, tuple[tuple[float, str, int], ...]] = {
    "zh": ((1e8, "亿", 2), (1e4, "万", 0)),
    "en": ((1e9, "B", 2), (1e6, "M", 2), (1e3, "K", 1)),
}


def _trim(x: float, digits: int) -> str:
    text = f"{x:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_number(v: float | None, lang: Lang = "en", digits: int = 3) -> str:
    """A large count in short form: en ``70B``, ``1.4T``; zh ``700亿``, ``1.4万亿``, ``800万``; ``—`` if unknown."""
    if v is None or not math.isfinite(v):
        return "—"
    sign, a = ("-" if v < 0 else ""), abs(v)
    steps: tuple[tuple[float, str], ...]
    if lang == "zh":
        steps = ((1e12, "万亿"), (1e8, "亿"), (1e4, "万"))
    else:
        steps = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))
    for size, suffix in steps:
        if a >= size:
            return f"{sign}{_trim(a / size, _decimals(a / size, digits))}{suffix}"
    return f"{sign}{_trim(a, _decimals(a, digits))}"


def _decimals(x: float, significant: int) -> int:
    if x == 0:
        return 0
    return max(0, significant - 1 - int(math.floor(math.log10(x))))


def fmt_money(v: float | None, currency: str, lang: Lang = "en", *, signed: bool = False) -> str:
    """An amount with its currency symbol: en ``¥48.2M``, ``$7M``; zh ``¥4,820万``, ``¥4.82亿``; ``—`` if unknown."""
    if v is None or not math.isfinite(v):
        return "—"
    sym = _SYMBOL.get(currency, f"{currency} ")
    sign = "-" if v < 0 else ("+" if signed else "")
    a = abs(v)
    body = f"{a:,.0f}"
    for size, suffix, digits in _MONEY_STEPS[lang]:
        if a >= size:
            body = f"{_trim(a / size, digits)}{suffix}" if digits else f"{a / size:,.0f}{suffix}"
            break
    return f"{sign}{sym}{body}"


def fmt_days(v: float | None, lang: Lang = "en") -> str:
    """Days with one decimal below 10, whole days above: ``163 days`` / ``163 天``."""
    if v is None or not math.isfinite(v):
        return "—"
    num = f"{v:,.1f}" if abs(v) < 10 else f"{v:,.0f}"
    return f"{num} 天" if lang == "zh" else f"{num} days"


def fmt_share(v: float | None) -> str:
    """A fraction as a whole percentage."""
    return "—" if v is None else f"{v:.0%}"

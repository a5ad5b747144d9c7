"""Reading numbers as people write them in Chinese and English prose.

``"70B"``, ``"1.4T"``, ``"5000万"``, ``"三千万"``, ``"一个亿"``, ``"十五万亿"``, ``"1.5 billion"``, ``"80 million"``,
``"1,200"``, ``"two"``, ``"a"`` (one). Pure functions; used by the question parser, the grounding check and
:mod:`service.presenters.numbers` (which writes figures in this same notation and reads them back with it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
MULTIPLIERS: dict[str, float] = {
    "万亿": 1e12, "千亿": 1e11, "百亿": 1e10, "亿": 1e8, "千万": 1e7, "百万": 1e6, "十万": 1e5, "万": 1e4,
    "trillion": 1e12, "billion": 1e9, "million": 1e6, "thousand": 1e3, "bn": 1e9, "mn": 1e6, "mm": 1e6,
    "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12,
}
EN_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "ninety": 90, "hundred": 100, "half": 0.5, "a couple of": 2, "couple of": 2,
    "several": 3, "few": 3, "a few": 3,
}
CN_NUM_CHARS = "零〇一二两俩三四五六七八九十百千"
_ARABIC = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_MULT = r"万亿|千亿|百亿|亿|千万|百万|十万|万|trillion|billion|million|thousand|bn|mn|mm|[kmbgtKMBGT](?![A-Za-z])"
NUMBER_RE = re.compile(
    rf"(?P<num>{_ARABIC}|[{CN_NUM_CHARS}]+)\s?(?:个)?\s?(?P<mult>{_MULT})?",
)


def cn_int(text: str) -> float | None:
    """Value of a Chinese numeral without large units: ``三千`` 3000, ``十五`` 15, ``一百二十`` 120, ``两`` 2."""
    if not text or any(ch not in CN_DIGITS and ch not in _CN_UNITS for ch in text):
        return None
    total = 0
    digit = 0
    for ch in text:
        if ch in CN_DIGITS:
            digit = digit * 10 + CN_DIGITS[ch] if digit and ch in "零〇" else CN_DIGITS[ch]
        else:
            total += (digit or 1) * _CN_UNITS[ch]
            digit = 0
    return float(total + digit)


def plain_number(text: str) -> float | None:
    """Arabic (``1,200.5``) or Chinese (``三千``) numeral, without multiplier."""
    text = text.strip()
    if not text:
        return None
    if text[0] in CN_NUM_CHARS:
        return cn_int(text)
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


@dataclass(frozen=True)
class NumberMatch:
    """A number found in text: its value, where it stands, and how it was written."""

    value: float
    start: int
    end: int
    raw: str
    mult: str
    base: float


def find_numbers(text: str) -> list[NumberMatch]:
    """Every number in ``text`` with its multiplier applied (``70B`` → 7e10, ``三千万`` → 3e7)."""
    out: list[NumberMatch] = []
    for m in NUMBER_RE.finditer(text):
        base = plain_number(m.group("num"))
        if base is None:
            continue
        # "两" or "十" standing alone inside a word is not a quantity unless a multiplier or unit follows.
        mult = m.group("mult") or ""
        factor = MULTIPLIERS[mult.lower()] if mult else 1.0
        # A lone Latin letter right after an identifier-like number ("A100", "H20") is not a multiplier.
        if m.start() > 0 and (text[m.start() - 1].isalpha() and text[m.start() - 1].isascii()):
            continue
        end = m.end() if mult else m.end("num")
        out.append(NumberMatch(base * factor, m.start(), end, m.group(0)[: end - m.start()], mult, base))
    return out


def parse_amount(text: str) -> float | None:
    """Value of one written quantity (``"5000万"``, ``"1.5 billion"``, ``"一个亿"``), or None."""
    nums = find_numbers(text)
    return nums[0].value if len(nums) == 1 else None

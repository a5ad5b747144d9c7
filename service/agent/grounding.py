"""Grounding check: every number in an answer must trace to a tool result or a cited passage.

Numbers are compared as values, with the tolerance their written precision implies, so ``48.2M``, ``4820万``,
``¥48,199,337`` and ``48199336.9`` all trace to the same figure, and ``34%`` traces to ``0.337``. Identifiers
(``H20``, ``910C``, ``3A090``, source ids such as ``R2``), citation markers (``[3]``) and list numbers are not
quantities and are skipped. Untraced numbers are reported; :func:`remove_untraced` drops the sentences that
carry them.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from service.agent.numbers import find_numbers

_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_CITE = re.compile(r"\[\d{1,3}\]")
_LIST_NO = re.compile(r"(?m)^\s*(?:\d{1,2}[.)]|\[\d{1,3}\])\s")
_IDENT_AFTER = re.compile(r"^[A-Za-z]")
_UNIT_AFTER = re.compile(r"^(?:\s?(?:%|％|x\b|×|days?|d\b|GB|TB|kW|MW|W\b|ms|s\b|h\b|tokens?|req|B\b|M\b|T\b|K\b))")


class Grounding(BaseModel):
    """Outcome of the check, part of every response."""

    ok: bool
    untraced_numbers: list[str] = Field(default_factory=list)
    checked: int = 0
    action: str = Field("none", description="none | removed | regenerated")


def _walk(obj: Any) -> Iterable[Any]:
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _walk(v)
    elif isinstance(obj, list | tuple | set):
        for v in obj:
            yield from _walk(v)
    else:
        yield obj


class Evidence:
    """The numbers and dates a response may use: tool results (any JSON) and cited passage texts."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.dates: set[str] = set()
        self._sorted: list[float] | None = None

    def add(self, obj: Any) -> None:
        """Add every number (and every number written inside a string) of a JSON-like object."""
        if hasattr(obj, "model_dump"):
            obj = obj.model_dump(mode="json")
        for leaf in _walk(obj):
            if isinstance(leaf, bool) or leaf is None:
                continue
            if isinstance(leaf, int | float):
                if math.isfinite(float(leaf)):
                    self.values.append(float(leaf))
            elif isinstance(leaf, dt.date):
                self.dates.add(leaf.isoformat())
            elif isinstance(leaf, str):
                self.add_text(leaf)

    def add_text(self, text: str) -> None:
        """Add the numbers and dates written in a text (a passage, a reason string)."""
        for m in _DATE.finditer(text):
            self.dates.add(m.group(0))
        for n in find_numbers(_DATE.sub(" ", text)):
            self.values.append(n.value)
            self.values.append(n.base)

    def traces(self, value: float, tol: float) -> bool:
        """True when some evidence value equals ``value`` within ``tol`` (or as a percentage of a fraction)."""
        if self._sorted is None or len(self._sorted) != len(self.values):
            self._sorted = sorted(self.values)
        slack = tol + 1e-9 * max(abs(value), 1.0)
        for target, width in ((value, slack), (value / 100.0, slack / 100.0)):
            i = bisect.bisect_left(self._sorted, target - width)
            if i < len(self._sorted) and self._sorted[i] <= target + width:
                return True
        return False


def _tolerance(raw: str, value: float, base: float) -> float:
    """Half a unit of the last written digit, scaled by the multiplier (``48.20M`` → ±5,000)."""
    digits = re.search(r"[\d,]*\.?(\d*)", raw.replace(",", ""))
    decimals = len(digits.group(1)) if digits else 0
    scale = value / base if base else 1.0
    return float(0.5 * 10.0 ** (-decimals) * abs(scale) * 1.0001)


def _quantities(text: str) -> list[tuple[str, float, float, int, int]]:
    masked = _CITE.sub(lambda m: " " * len(m.group(0)), text)
    masked = _LIST_NO.sub(lambda m: " " * len(m.group(0)), masked)
    masked = re.sub(r"`[^`]*`", lambda m: " " * len(m.group(0)), masked)
    out = []
    for n in find_numbers(masked):
        after = masked[n.end:n.end + 4]
        if not n.mult and _IDENT_AFTER.match(after) and not _UNIT_AFTER.match(after):
            continue  # an identifier such as 910C or 3A090
        if n.start > 0 and masked[n.start - 1] in "-_/" and n.start > 1 and masked[n.start - 2].isalpha():
            continue  # part of a name such as mlu370-x8 or RTX-6000
        out.append((n.raw.strip(), n.value, _tolerance(n.raw, n.value, n.base), n.start, n.end))
    return out


def check(answer: str, evidence: Evidence) -> Grounding:
    """Every date and number of ``answer`` must trace to ``evidence``."""
    untraced: list[str] = []
    for m in _DATE.finditer(answer):
        if m.group(0) not in evidence.dates:
            untraced.append(m.group(0))
    text = _DATE.sub(lambda m: " " * len(m.group(0)), answer)
    quantities = _quantities(text)
    for raw, value, tol, _s, _e in quantities:
        if not evidence.traces(value, tol):
            untraced.append(raw)
    return Grounding(ok=not untraced, untraced_numbers=list(dict.fromkeys(untraced)),
                     checked=len(quantities) + len(_DATE.findall(answer)))


_SENTENCE = re.compile(r".*?(?:[.!?](?=\s|$)|[。！？；]|\n|$)", re.S)


def remove_untraced(answer: str, result: Grounding) -> str:
    """Drop every sentence that carries an untraced number."""
    if result.ok:
        return answer
    bad = set(result.untraced_numbers)
    kept: list[str] = []
    for sentence in _SENTENCE.findall(answer):  # sentences end at . ! ? before a space, 。！？； or a line end
        if not sentence:
            continue
        dates = {m.group(0) for m in _DATE.finditer(sentence)}
        nums = {q[0] for q in _quantities(_DATE.sub(lambda m: " " * len(m.group(0)), sentence))}
        if (dates | nums) & bad:
            continue
        kept.append(sentence)
    return "".join(kept).strip()

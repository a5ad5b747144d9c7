"""Grounding check: every number in an answer must trace to a tool result or a cited passage.

For a language model's text there is a stricter check (:func:`check_facts`): besides the numbers and dates,
every export verdict it states (allowed / licence required / prohibited, English or Chinese) must be the
verdict a tool returned this turn for the part named in the same sentence, and every part it names must occur
in this turn's tool calls or results.

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
from collections.abc import Callable, Iterable
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


class FactCheck(BaseModel):
    """Outcome of :func:`check_facts` on a language model's text: what does not match this turn's tools."""

    numbers: list[str] = Field(default_factory=list, description="Numbers and dates no tool result holds.")
    verdicts: list[str] = Field(default_factory=list,
                                description="Verdicts that differ from the engine's, as 'part: said ≠ engine'.")
    parts: list[str] = Field(default_factory=list, description="Parts named that no tool call or result holds.")

    @property
    def ok(self) -> bool:
        """True when nothing in the text contradicts or goes beyond the tool results."""
        return not (self.numbers or self.verdicts or self.parts)

    def reasons(self) -> list[str]:
        """Short reasons, one per kind of mismatch, for the ``planner`` field."""
        return [kind for kind, bad in (("numbers", self.numbers), ("verdict", self.verdicts),
                                       ("parts", self.parts)) if bad]


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
        self.skus: set[str] = set()
        self.verdicts: dict[str, set[str]] = {}
        self._sorted: list[float] | None = None

    def _parts(self, obj: Any) -> None:
        """Collect part ids (``sku``/``skus`` keys) and the verdict a result gives each part."""
        if isinstance(obj, dict):
            sku = obj.get("sku")
            if isinstance(sku, str):
                self.skus.add(sku)
                verdict = obj.get("verdict")
                if isinstance(verdict, str) and verdict in VERDICTS:
                    self.verdicts.setdefault(sku, set()).add(verdict)
            skus = obj.get("skus") or obj.get("remove_skus")
            if isinstance(skus, list):
                self.skus.update(s for s in skus if isinstance(s, str))
            prices = obj.get("price_changes")
            if isinstance(prices, dict):
                self.skus.update(str(k) for k in prices)
            for v in obj.values():
                self._parts(v)
        elif isinstance(obj, list | tuple):
            for v in obj:
                self._parts(v)

    def add(self, obj: Any) -> None:
        """Add every number (and every number written inside a string) of a JSON-like object."""
        if hasattr(obj, "model_dump"):
            obj = obj.model_dump(mode="json")
        self._parts(obj)
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


VERDICTS = ("allowed", "license_required", "prohibited")
"""The engine's verdicts (``ComplianceResult.verdict``)."""

_VERDICT_WORDS: tuple[tuple[str, str], ...] = (
    ("prohibited", r"\b(?:prohibited|banned|forbidden|not\s+(?:be\s+)?(?:allowed|permitted)|cannot\s+be\s+"
                   r"(?:sold|exported|bought|purchased|shipped))\b|禁止|不允许|不得|不能购买|不可购买|不准"),
    ("license_required", r"\blicen[cs]e\s+(?:is\s+)?required\b|\brequires?\s+(?:an?\s+)?(?:export\s+)?licen[cs]e\b"
                         r"|\bneeds?\s+(?:an?\s+)?(?:export\s+)?licen[cs]e\b|\bsubject\s+to\s+(?:an?\s+)?licen[cs]e\b"
                         r"|需要?(?:申请)?(?:出口)?许可|需(?:申请)?许可证|须(?:申请)?(?:出口)?许可"),
    ("allowed", r"\b(?:allowed|permitted|no\s+licen[cs]e\s+(?:is\s+)?(?:needed|required)|not\s+controlled"
                r"|can\s+be\s+(?:sold|exported|bought|purchased))\b|允许|可以购买|可以采购|无需许可|不需要许可|不受管制"),
)
_VERDICT_RE = [(v, re.compile(p, re.I)) for v, p in _VERDICT_WORDS]


def verdict_mentions(sentence: str) -> list[str]:
    """The verdicts a sentence states; a phrase inside a longer one ("allowed" in "not allowed") is not counted."""
    spans = [(m.start(), m.end(), v) for v, rx in _VERDICT_RE for m in rx.finditer(sentence)]
    kept = [s for s in spans if not any(o is not s and o[0] <= s[0] and s[1] <= o[1] and (o[1] - o[0]) > (s[1] - s[0])
                                        for o in spans)]
    return [v for _s, _e, v in sorted(kept)]


def part_finder(names: dict[str, str]) -> Callable[[str], list[str]]:
    """A function that lists the part ids named in a text, given name/alias → part id (case-insensitive)."""
    keys = sorted((n for n in names if len(n) >= 2), key=len, reverse=True)
    if not keys:
        return lambda _text: []
    rx = re.compile("|".join(rf"(?<![A-Za-z0-9]){re.escape(k)}(?![A-Za-z0-9])" for k in keys), re.I)
    lower = {k.lower(): v for k, v in names.items()}

    def find(text: str) -> list[str]:
        return list(dict.fromkeys(lower[m.group(0).lower()] for m in rx.finditer(text)
                                  if m.group(0).lower() in lower))
    return find


def check_facts(answer: str, evidence: Evidence, find_parts: Callable[[str], list[str]]) -> FactCheck:
    """The strict check for a language model's text: numbers, dates, verdicts and parts against this turn's tools.

    A verdict is compared with the verdicts the tools returned for the parts named in its sentence (or, when the
    sentence names none, for any part checked this turn); a verdict with no compliance result behind it fails.
    """
    numbers = check(answer, evidence).untraced_numbers
    verdicts: list[str] = []
    parts: list[str] = []
    for sentence in _SENTENCE.findall(answer):
        if not sentence.strip():
            continue
        named = find_parts(sentence)
        parts.extend(p for p in named if p not in evidence.skus)
        said = verdict_mentions(sentence)
        if not said:
            continue
        subjects = named or sorted(evidence.verdicts)
        engine = set().union(*(evidence.verdicts.get(p, set()) for p in subjects)) if subjects else set()
        for v in said:
            if v not in engine:
                who = ", ".join(named) or "?"
                verdicts.append(f"{who}: {v} ≠ {'/'.join(sorted(engine)) or 'no compliance result'}")
    return FactCheck(numbers=numbers, verdicts=list(dict.fromkeys(verdicts)), parts=list(dict.fromkeys(parts)))

"""Score the question parser on a JSONL of ``{"q", "expect", "history"?}``: per-field and whole-question accuracy.

``expect`` holds flat request fields plus ``intent``; two shorthands are accepted: ``sku`` (that SKU is among
``skus``) and ``domestic_only`` (``min_domestic_share`` is 1). ``history`` lists earlier messages of the same
conversation; the question is then parsed as a follow-up of them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from service.agent.parse import Lexicon, ParsedQuestion, apply_followup, parse_question


class FieldScore(BaseModel):
    """Accuracy of one field over the questions that expect it."""

    field: str
    correct: int
    total: int
    accuracy: float


class QuestionResult(BaseModel):
    """One question: what was expected, what was parsed, which fields were wrong."""

    q: str
    ok: bool
    wrong: dict[str, dict[str, Any]] = Field(default_factory=dict)


class EvalReport(BaseModel):
    """Whole-question and per-field accuracy."""

    questions: int
    correct: int
    accuracy: float
    fields: list[FieldScore]
    failures: list[QuestionResult]


def _actual(parsed: ParsedQuestion, key: str) -> Any:
    if key == "intent":
        return parsed.intent
    flat = parsed.request.flat()
    if key == "sku":
        return flat.get("skus") or []
    if key == "domestic_only":
        return flat.get("min_domestic_share") == 1.0
    return flat.get(key)


def _matches(key: str, expected: Any, actual: Any) -> bool:
    if key == "sku":
        return isinstance(actual, list) and str(expected).lower() in [str(a).lower() for a in actual]
    if expected is None:
        return actual is None
    if actual is None:
        return False
    if isinstance(expected, bool) or isinstance(actual, bool):
        return bool(expected) == bool(actual)
    if isinstance(expected, int | float):
        try:
            return math.isclose(float(expected), float(actual), rel_tol=1e-3)
        except (TypeError, ValueError):
            return False
    if isinstance(expected, list):
        return isinstance(actual, list) and sorted(map(str, expected)) == sorted(map(str, actual))
    return str(expected).strip().lower() == str(actual).strip().lower()


def parse_with_history(question: str, history: Iterable[str], lex: Lexicon, today: dt.date) -> ParsedQuestion:
    """Parse ``question`` as the last message of a conversation."""
    prev: ParsedQuestion | None = None
    for message in [*history, question]:
        prev = parse_question(message, lex, today=today) if prev is None else apply_followup(
            prev, message, lex, today=today)
    assert prev is not None
    return prev


def evaluate(rows: Iterable[dict[str, Any]], lex: Lexicon, *, today: dt.date | None = None) -> EvalReport:
    """Parse every question and compare the fields it expects."""
    today = today or dt.date.today()
    per: dict[str, list[int]] = {}
    results: list[QuestionResult] = []
    for row in rows:
        parsed = parse_with_history(str(row["q"]), row.get("history") or [], lex, today)
        wrong: dict[str, dict[str, Any]] = {}
        for key, expected in dict(row.get("expect") or {}).items():
            actual = _actual(parsed, key)
            ok = _matches(key, expected, actual)
            per.setdefault(key, [0, 0])
            per[key][0] += int(ok)
            per[key][1] += 1
            if not ok:
                wrong[key] = {"expected": expected, "actual": actual}
        results.append(QuestionResult(q=str(row["q"]), ok=not wrong, wrong=wrong))
    n = len(results)
    good = sum(r.ok for r in results)
    fields = [FieldScore(field=k, correct=c, total=t, accuracy=c / t) for k, (c, t) in sorted(per.items())]
    return EvalReport(questions=n, correct=good, accuracy=good / n if n else 0.0, fields=fields,
                      failures=[r for r in results if not r.ok])


def read_questions(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL question file (blank lines skipped).

    Raises:
        ValueError: a line is not a JSON object with ``q``.
    """
    rows: list[dict[str, Any]] = []
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise ValueError(f"{path}:{no}: not valid JSON") from None
        if not isinstance(row, dict) or not isinstance(row.get("q"), str):
            raise ValueError(f"{path}:{no}: each line must be an object with a string `q`")
        rows.append(row)
    return rows

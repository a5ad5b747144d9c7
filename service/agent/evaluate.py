"""Score the question parser on a JSONL of cases: per-field and whole-case accuracy.

A case is ``{"q", "expect", "history"?}`` (one question, after the earlier messages in ``history``) or
``{"turns": [{"q", "expect"?}, ...]}``, a conversation whose every turn with an ``expect`` is checked; a
conversation is right only when all its turns are.

``expect`` holds flat request fields plus ``intent``, and these shorthands: ``sku`` (that SKU is among ``skus``),
``domestic_only`` (``min_domestic_share`` is 1), ``remove_skus``, ``price_changes`` and ``hedge`` (the what-if
scenario), ``missing`` and ``assumed`` (these fields are among the missing / stated defaults), ``unknown_parts``
(the part codes named that the catalog does not have), ``why_not`` (the parts a "why not …?" follow-up asks about).
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
    spec = parsed.whatif
    if key == "remove_skus":
        return spec.remove_skus if spec else []
    if key == "price_changes":
        return spec.price_changes if spec else {}
    if key == "hedge":
        return bool(spec and spec.hedge)
    if key == "missing":
        return parsed.missing
    if key == "assumed":
        return [a.field for a in parsed.assumptions]
    if key == "unknown_parts":
        return parsed.unknown_parts
    if key == "why_not":
        return parsed.why_not
    flat = parsed.request.flat()
    if key == "sku":
        return flat.get("skus") or []
    if key == "domestic_only":
        return flat.get("min_domestic_share") == 1.0
    return flat.get(key)


def field_matches(key: str, expected: Any, actual: Any) -> bool:
    """Whether a parsed field equals the expected one (numbers to 0.1 %, lists as sets, text case-blind)."""
    if key in ("missing", "assumed"):
        return set(expected) <= set(actual or [])
    if isinstance(expected, dict):
        return isinstance(actual, dict) and set(expected) == set(actual) and all(
            field_matches(key, v, actual[k]) for k, v in expected.items())
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


def case_text(row: dict[str, Any]) -> str:
    """The case as one line: its question, or a conversation's turns joined by ``→``."""
    if "turns" in row:
        return " → ".join(str(t["q"]) for t in row["turns"])
    return str(row["q"])


def _turns(row: dict[str, Any], lex: Lexicon, today: dt.date) -> list[tuple[ParsedQuestion, dict[str, Any]]]:
    """Each checked turn of a case with what it expects (one turn for a ``q`` case)."""
    if "turns" not in row:
        parsed = parse_with_history(str(row["q"]), row.get("history") or [], lex, today)
        return [(parsed, dict(row.get("expect") or {}))]
    out: list[tuple[ParsedQuestion, dict[str, Any]]] = []
    prev: ParsedQuestion | None = None
    for turn in row["turns"]:
        message = str(turn["q"])
        prev = parse_question(message, lex, today=today) if prev is None else apply_followup(
            prev, message, lex, today=today)
        if turn.get("expect"):
            out.append((prev, dict(turn["expect"])))
    return out


def evaluate(rows: Iterable[dict[str, Any]], lex: Lexicon, *, today: dt.date | None = None) -> EvalReport:
    """Parse every question and compare the fields it expects."""
    today = today or dt.date.today()
    per: dict[str, list[int]] = {}
    results: list[QuestionResult] = []
    for row in rows:
        wrong: dict[str, dict[str, Any]] = {}
        for n, (parsed, expect) in enumerate(_turns(row, lex, today), start=1):
            for key, expected in expect.items():
                actual = _actual(parsed, key)
                ok = field_matches(key, expected, actual)
                per.setdefault(key, [0, 0])
                per[key][0] += int(ok)
                per[key][1] += 1
                if not ok:
                    wrong[f"turn {n}: {key}" if "turns" in row else key] = {"expected": expected, "actual": actual}
        results.append(QuestionResult(q=case_text(row), ok=not wrong, wrong=wrong))
    n = len(results)
    good = sum(r.ok for r in results)
    fields = [FieldScore(field=k, correct=c, total=t, accuracy=c / t) for k, (c, t) in sorted(per.items())]
    return EvalReport(questions=n, correct=good, accuracy=good / n if n else 0.0, fields=fields,
                      failures=[r for r in results if not r.ok])


def read_questions(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL question file (blank lines skipped).

    Raises:
        ValueError: a line is not a JSON object with ``q`` or with a list of ``turns``.
    """
    rows: list[dict[str, Any]] = []
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise ValueError(f"{path}:{no}: not valid JSON") from None
        turns = row.get("turns") if isinstance(row, dict) else None
        if isinstance(turns, list):
            if not turns or not all(isinstance(t, dict) and isinstance(t.get("q"), str) for t in turns):
                raise ValueError(f"{path}:{no}: `turns` must be a non-empty list of objects with a string `q`")
        elif not isinstance(row, dict) or not isinstance(row.get("q"), str):
            raise ValueError(f"{path}:{no}: each line must be an object with a string `q` (or a list of `turns`)")
        rows.append(row)
    return rows

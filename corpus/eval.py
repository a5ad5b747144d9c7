"""Retrieval evaluation: recall@k and MRR over a JSONL file of questions.

Each line is ``{"q": "...", "expect_any": ["phrase", ...]}``; a question is found at rank r when one of its
phrases occurs (case-insensitively) in the r-th passage returned, and the first such rank counts for MRR.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field

from corpus.errors import SourceError
from corpus.types import Passage, SearchFilters


class _Searcher(Protocol):
    def search(self, query: str, *, k: int = 5, filters: SearchFilters | None = None) -> list[Passage]: ...


class EvalQuestion(BaseModel):
    """One evaluation question."""

    q: str = Field(min_length=1)
    expect_any: list[str] = Field(min_length=1)
    cross_lingual: bool = Field(
        False, description="The expected phrases occur only in documents of the other language than the question."
    )


class QuestionResult(BaseModel):
    """Outcome of one question."""

    q: str
    expect_any: list[str]
    cross_lingual: bool = False
    found: bool
    rank: int | None = Field(None, description="1-based rank of the first passage holding an expected phrase.")
    top_doc_ids: list[str]


class RetrievalReport(BaseModel):
    """Recall@k and MRR over a question set."""

    file: str
    k: int
    n: int
    recall_at_k: float
    mrr: float
    cross_lingual_n: int = Field(0, description="Questions marked cross-lingual.")
    cross_lingual_recall_at_k: float | None = Field(None, description="Recall@k on the cross-lingual questions.")
    results: list[QuestionResult]


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a JSONL question file.

    Args:
        path: File with one ``{"q": ..., "expect_any": [...]}`` object per line (blank lines ignored).

    Returns:
        The questions.

    Raises:
        SourceError: The file is unreadable or a line is malformed (the message names the line).
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read question file {path}: {exc}") from None
    questions: list[EvalQuestion] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            questions.append(EvalQuestion.model_validate(json.loads(line)))
        except ValueError as exc:
            first = str(exc).splitlines()[0]
            raise SourceError(f"{path}:{number}: expected {{'q': str, 'expect_any': [str, ...]}} ({first})") from None
    if not questions:
        raise SourceError(f"{path} holds no questions")
    return questions


def evaluate(index: _Searcher, questions: list[EvalQuestion], *, k: int = 5, file: str = "") -> RetrievalReport:
    """Search every question and score the answers.

    Args:
        index: Anything with the ``search(query, *, k, filters)`` method of :class:`~corpus.index.CorpusIndex`.
        questions: The questions.
        k: Passages per question.
        file: Name recorded in the report.

    Returns:
        Recall@k, MRR, n and per-question results.
    """
    results: list[QuestionResult] = []
    for question in questions:
        passages = index.search(question.q, k=k)
        phrases = [p.casefold() for p in question.expect_any]
        rank = next(
            (i for i, passage in enumerate(passages, start=1) if any(p in passage.text.casefold() for p in phrases)),
            None,
        )
        results.append(
            QuestionResult(
                q=question.q,
                expect_any=question.expect_any,
                cross_lingual=question.cross_lingual,
                found=rank is not None,
                rank=rank,
                top_doc_ids=[p.doc_id for p in passages],
            )
        )
    n = len(results)
    crossing = [r for r in results if r.cross_lingual]
    return RetrievalReport(
        file=file,
        k=k,
        n=n,
        recall_at_k=round(sum(r.found for r in results) / n, 4) if n else 0.0,
        mrr=round(sum(1 / r.rank for r in results if r.rank) / n, 4) if n else 0.0,
        cross_lingual_n=len(crossing),
        cross_lingual_recall_at_k=round(sum(r.found for r in crossing) / len(crossing), 4) if crossing else None,
        results=results,
    )

"""Reranking of fused candidates: a bilingual concept-coverage heuristic (offline default) or a cross-encoder.

The heuristic reads a query as a list of *concepts* and scores each candidate chunk by the weighted share of
concepts it mentions, in either language:

- every glossary entry the query names counts as one concept, matched by any of its surface forms, Chinese or
  English (so "summon" in the question is found as 约谈 in a Chinese passage, and the reverse);
- product and rule identifiers (H20, 910B, 3A090) and numbers count as concepts that read the same in both
  languages, identifiers with double weight;
- the query's remaining content words count as concepts of their own language.

A chunk's final score is its fused (reciprocal-rank) score, scaled to the best candidate's, plus
``weight × coverage``. The heuristic needs no model and costs well under a millisecond for 30 candidates.

A cross-encoder (sentence-transformers ``CrossEncoder`` loaded from a local folder) can replace it through
settings; its relevance logits are squashed to 0..1 and take the place of the coverage.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from corpus.errors import IndexUnavailableError
from corpus.text import is_identifier

if TYPE_CHECKING:
    from corpus.glossary import Glossary
    from corpus.text import Tokenizer

TITLE_SHARE = 0.5
"""A concept found only in the document title counts half: the title names everything the document covers."""
VALUE_BONUS = 0.3
"""Added to the coverage of a chunk that states a value (a number right after a concept of the question) when
the question asks for one ("how much", "what is the …", "多少")."""
VALUE_FOCUS = 2
"""The value must follow one of the question's this many heaviest (rarest) concepts."""
VALUE_WINDOW = 16
"""Characters after a concept word within which a number counts as its value ("TPP ≥ 4,800", "显存为 96GB")."""
_ASKS_VALUE = re.compile(
    r"\b(?:how (?:much|many|large|big|fast|high|long|far)|what (?:is|was|are|were) the|at what)\b|"
    r"多少|多大|多高|多快|几[个台张颗卡]|是什么|为何值",
    re.IGNORECASE,
)
_VALUE = re.compile(r"\d[\d,.]*")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_DATE_MARKS = "-/年月日"
"""A number touching one of these is part of a date, not a value."""
IDENTIFIER_WEIGHT = 2.0
"""Identifiers (model and rule names) weigh twice an ordinary concept: a passage about another part is wrong."""


@dataclass(frozen=True)
class Candidate:
    """A fused candidate as the reranker sees it."""

    text: str
    """Text the chunk was indexed with (title, section and chunk text)."""
    tokens: frozenset[str]
    """BM25 tokens of its section heading and text."""
    title_tokens: frozenset[str] = frozenset()
    """BM25 tokens of its document's title (a concept named only there counts ``TITLE_SHARE``)."""


class Reranker(Protocol):
    """Scores candidates for a query: higher is better, comparable within one call, roughly 0..1."""

    name: str

    def relevance(
        self, query: str, candidates: Sequence[Candidate], idf: Callable[[str], float] | None = None
    ) -> list[float]:
        """One relevance value per candidate; ``idf`` gives a token's inverse document frequency in the index."""
        ...


@dataclass(frozen=True)
class _Concept:
    weight: float
    forms: tuple[tuple[str, ...], ...]
    """Token sequences; the concept is present when every token of one form is among the chunk's tokens."""


class ConceptCoverageReranker:
    """The offline default: bilingual concept coverage (see the module notes).

    Args:
        tokenizer: The index's tokenizer (the same tokens as BM25).
        glossary: The bilingual glossary.
    """

    name = "heuristic"

    def __init__(self, tokenizer: Tokenizer, glossary: Glossary) -> None:
        self.tokenizer = tokenizer
        self.glossary = glossary
        self._form_tokens: dict[str, tuple[str, ...]] = {}
        self._concepts: dict[str, tuple[object, list[_Concept]]] = {}

    def _tokens(self, form: str) -> tuple[str, ...]:
        cached = self._form_tokens.get(form)
        if cached is None:
            cached = tuple(dict.fromkeys(self.tokenizer.words(form, search_mode=False)))
            if len(self._form_tokens) < 100_000:
                self._form_tokens[form] = cached
        return cached

    def concepts(self, query: str, idf: Callable[[str], float] | None = None) -> list[_Concept]:
        """The query's concepts: glossary entries, identifiers and numbers, then remaining content words.

        A concept weighs the mean inverse document frequency of its forms (each form counting its rarest token),
        so "threshold" outweighs "2023" or "rule"; identifiers weigh ``IDENTIFIER_WEIGHT`` times more.
        """
        weigh = idf or (lambda token: 1.0)

        def weight(forms: tuple[tuple[str, ...], ...]) -> float:
            return sum(max(weigh(t) for t in form) for form in forms) / len(forms)

        out: list[_Concept] = []
        covered: set[str] = set()
        for entry_forms in self.glossary.matched_entries(query):
            forms = tuple(t for t in (self._tokens(f) for f in entry_forms) if t)
            if forms:
                out.append(_Concept(weight(forms), forms))
                covered.update(tok for form in forms for tok in form)
        for token in dict.fromkeys(self.tokenizer.words(query, search_mode=False)):
            if token in covered or (len(token) < 2 and not token.isdigit()):
                continue
            factor = IDENTIFIER_WEIGHT if is_identifier(token) else 1.0
            out.append(_Concept(factor * weight(((token,),)), ((token,),)))
        return out

    def relevance(
        self, query: str, candidates: Sequence[Candidate], idf: Callable[[str], float] | None = None
    ) -> list[float]:
        """Weighted share of the query's concepts each candidate mentions (0 when the query has none)."""
        owner = getattr(idf, "__self__", idf)  # the index state whose frequencies weigh the concepts
        cached = self._concepts.get(query)
        if cached is not None and cached[0] is owner:  # the index asks once per language for the same query
            concepts = cached[1]
        else:
            concepts = self.concepts(query, idf)
            if len(self._concepts) >= 1024:
                self._concepts.clear()
            self._concepts[query] = (owner, concepts)
        total = sum(c.weight for c in concepts)
        if not total:
            return [0.0] * len(candidates)
        wants_value = bool(_ASKS_VALUE.search(query))
        focus = sorted((c for c in concepts if not _is_numeric(c)), key=lambda c: -c.weight)[:VALUE_FOCUS]
        words = [f[0] for c in focus for f in c.forms if len(f) == 1]
        scores: list[float] = []
        for cand in candidates:
            got = VALUE_BONUS * total if wants_value and _states_value(cand.text.lower(), words) else 0.0
            for c in concepts:
                if any(all(t in cand.tokens for t in form) for form in c.forms):
                    got += c.weight
                elif any(all(t in cand.tokens or t in cand.title_tokens for t in form) for form in c.forms):
                    got += TITLE_SHARE * c.weight
            scores.append(got / total)
        return scores


def _is_numeric(concept: _Concept) -> bool:
    """Numbers and dates ("2023", "October" = "10月") are what a value is made of, never what it is about."""
    return any(t[:1].isdigit() for form in concept.forms for t in form)


def _states_value(text: str, words: list[str]) -> bool:
    """True when a number (not a year) follows one of ``words`` within ``VALUE_WINDOW`` characters of ``text``."""
    for word in words:
        start = text.find(word)
        while start >= 0:
            window = text[start + len(word) : start + len(word) + VALUE_WINDOW]
            for m in _VALUE.finditer(window):
                number = m.group().rstrip(",.")
                around = window[max(0, m.start() - 1) : m.start()] + window[m.end() : m.end() + 1]
                if number and not _YEAR.match(number) and not any(c in _DATE_MARKS for c in around):
                    return True
            start = text.find(word, start + 1)
    return False


class CrossEncoderReranker:
    """A sentence-transformers cross-encoder from a local folder (e.g. a multilingual MiniLM or bge-reranker).

    Args:
        model_path: Folder holding the model; nothing is downloaded.
        model: An already loaded model with ``predict(pairs)`` (tests pass a small stand-in).
    """

    name = "cross_encoder"

    def __init__(self, model_path: Path | None = None, *, model: Any = None) -> None:
        if model is None:
            if model_path is None or not model_path.is_dir():
                raise IndexUnavailableError(f"cross-encoder model folder {model_path} does not exist")
            try:
                module: Any = importlib.import_module("sentence_transformers")
            except ImportError:
                raise IndexUnavailableError(
                    "reranker 'cross_encoder' needs the package: pip install 'procure[embeddings]'"
                ) from None
            model = module.CrossEncoder(str(model_path), local_files_only=True)
        self._model = model

    def relevance(
        self, query: str, candidates: Sequence[Candidate], idf: Callable[[str], float] | None = None
    ) -> list[float]:
        """Model relevance of (query, passage) pairs, squashed to 0..1 by the logistic function (``idf`` unused)."""
        if not candidates:
            return []
        raw = self._model.predict([(query, c.text) for c in candidates], show_progress_bar=False)
        return [1.0 / (1.0 + math.exp(-float(v))) for v in raw]


def make_reranker(
    kind: str, *, tokenizer: Tokenizer, glossary: Glossary, model_path: Path | None = None
) -> Reranker | None:
    """Build the reranker named by ``kind``: ``heuristic`` (default), ``cross_encoder`` or ``none``.

    Raises:
        IndexUnavailableError: Unknown kind, or the cross-encoder cannot be loaded.
    """
    if kind == "none":
        return None
    if kind == "heuristic":
        return ConceptCoverageReranker(tokenizer, glossary)
    if kind == "cross_encoder":
        return CrossEncoderReranker(model_path)
    raise IndexUnavailableError(f"unknown reranker {kind!r}; use heuristic, cross_encoder or none")

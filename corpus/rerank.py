"""Reranking of fused candidates: a bilingual concept-coverage heuristic (offline default) or a cross-encoder.

The heuristic reads a query as a list of *concepts* and scores each candidate chunk by the weighted share of
concepts it mentions, in either language:

- every glossary entry the query names counts as one concept, matched by any of its surface forms, Chinese or
  English (so "summon" in the question is found as 约谈 in a Chinese passage, and the reverse);
- product and rule identifiers (H20, 910B, 3A090) and numbers count as concepts that read the same in both
  languages, identifiers with double weight;
- the query's remaining content words count as concepts of their own language.

A concept named only in the document's title counts half, or fully when it completes the passage's coverage (see
``TITLE_SHARE``). A question asking for a value ("what is the TPP threshold", "显存是多少") adds ``VALUE_BONUS`` to
passages whose own text (not the title) gives a number right after a concept of the asked phrase; years, dates
and names with digits (H20, 3A090, D:5) are no values.

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
"""A concept found only in the document title counts half: the title names everything the document covers.
It counts fully when it completes the passage's coverage (the passage names every other concept of the question)
and no product or rule name is among those found only in the title: "the TPP threshold in the October 2023 rule"
is answered by the tiers passage of the page titled "October 2023 US rule", while a title naming several parts
("H100, H800 and H200") does not say which one a passage is about."""
VALUE_BONUS = 0.3
"""Added to the coverage of a chunk that states a value (a number right after a concept of the question) when
the question asks for one ("how much", "what is the …", "多少")."""
VALUE_FOCUS = 2
"""Without an asked phrase naming a concept (see :func:`asked_phrase`), the value must follow one of the question's
this many heaviest (rarest) concepts."""
VALUE_WINDOW = 16
"""Characters after a concept word within which a number counts as its value ("TPP ≥ 4,800", "显存为 96GB")."""
_ASKS_VALUE = re.compile(
    r"\b(?:how (?:much|many|large|big|fast|high|long|far)|what (?:is|was|are|were) the|at what)\b|"
    r"多少|多大|多高|多快|几[个台张颗卡]|是什么|为何值",
    re.IGNORECASE,
)
_VALUE = re.compile(r"\d[\d,.]*")
_LONGEST_NUMBER = 24
"""A number starting inside the window is read up to this many characters past it."""
_NAME = re.compile(r"[0-9a-z]+")
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
    body: str | None = None
    """Section and text without the title, where a stated value is looked for (None: all of ``text``); the title
    names the document, so a number in it ("October 2023 rule: 3A090.a") is no value this passage states."""


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
    identifier: bool = False
    """A product or rule name ("h20", "3a090")."""


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
                named = any(is_identifier(t) for form in forms for t in form)
                out.append(_Concept(weight(forms), forms, identifier=named))
                covered.update(tok for form in forms for tok in form)
        for token in dict.fromkeys(self.tokenizer.words(query, search_mode=False)):
            if token in covered or (len(token) < 2 and not token.isdigit()):
                continue
            factor = IDENTIFIER_WEIGHT if is_identifier(token) else 1.0
            out.append(_Concept(factor * weight(((token,),)), ((token,),), identifier=is_identifier(token)))
        return out

    def _value_focus(self, query: str, concepts: list[_Concept]) -> list[_Concept]:
        """The concepts a stated value must follow: those of the phrase the question asks the value of.

        "What is the *TPP threshold* in the October 2023 rule?" asks the value of TPP and threshold, not of the
        rule; "H20的*FP16算力*是多少？" of FP16 compute. Without such a phrase (or when it names no concept), the
        ``VALUE_FOCUS`` heaviest concepts stand in. Numbers and dates never are the focus.
        """
        named = [c for c in concepts if not _is_numeric(c)]
        phrase = asked_phrase(query)
        if phrase:
            tokens = set(self._tokens(phrase))
            asked = [c for c in named if any(all(t in tokens for t in form) for form in c.forms)]
            if asked:
                return asked
        return sorted(named, key=lambda c: -c.weight)[:VALUE_FOCUS]

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
        focus = self._value_focus(query, concepts) if wants_value else []
        words = [f[0] for c in focus for f in c.forms if len(f) == 1]
        scores: list[float] = []
        for cand in candidates:
            body = title_only = 0.0
            named_in_title = False  # a product or rule name found only in the title
            for c in concepts:
                if any(all(t in cand.tokens for t in form) for form in c.forms):
                    body += c.weight
                elif any(all(t in cand.tokens or t in cand.title_tokens for t in form) for form in c.forms):
                    title_only += c.weight
                    named_in_title |= c.identifier
            completes = not named_in_title and body + title_only >= total * (1 - 1e-9)
            got = body + (title_only if completes else TITLE_SHARE * title_only)
            if wants_value and _states_value((cand.text if cand.body is None else cand.body).lower(), words):
                got += VALUE_BONUS * total
            scores.append(got / total)
        return scores


def asked_phrase(query: str) -> str:
    """The phrase whose value a question asks for, or "" (see :meth:`ConceptCoverageReranker._value_focus`).

    English: the words after the asking words ("what is the", "how much") up to the first preposition, verb or
    punctuation. Chinese: the words before 多少/多大/是什么… back to the previous clause mark, 的 or 在, without a
    trailing copula (是, 为, 有); when nothing precedes it, the words after it ("多少台*服务器*").
    """
    m = _ASKS_VALUE.search(query)
    if m is None:
        return ""
    if m.group().isascii():
        words: list[str] = []
        for word in re.split(r"\s+", query[m.end() :].strip()):
            bare = word.strip("\"'()").lower()
            core = bare.strip(_PHRASE_PUNCT)
            if not core or core in _PHRASE_STOP:
                break
            words.append(core)
            if bare[-1:] in _PHRASE_PUNCT:  # "… of the H20?" or "bandwidth, …" ends the phrase
                break
        return " ".join(words)
    before = re.split(r"[，,。；;？?！!：:的在]", query[: m.start()])[-1].rstrip("是为有约达了")
    if before.strip():
        return before.strip()
    return re.split(r"[，,。；;？?！!：:的]", query[m.end() :])[0].strip()


_PHRASE_STOP = frozenset(
    "in of for on at by with under from to into than as after before during between about per if when where which "
    "that who did does do is are was were be been has have had can could would will should its their this these "
    "those".split()
)
"""Words that end an English asked phrase ("the TPP threshold *in* the October 2023 rule")."""
_PHRASE_PUNCT = ",.;:?!"


def _is_numeric(concept: _Concept) -> bool:
    """Numbers and dates ("2023", "October" = "10月") are what a value is made of, never what it is about."""
    return any(t[:1].isdigit() for form in concept.forms for t in form)


def _states_value(text: str, words: list[str]) -> bool:
    """True when a value follows one of ``words`` within ``VALUE_WINDOW`` characters of ``text``.

    An English word matches whole (a plural "s"/"es" allowed: "tiers" for "tier", not "capacity" for "cap"); a
    value is a number that starts inside the window (read whole even when it runs past it, so a year cut by the
    window edge is still a year) and is not a year, part of a date, or part of a name ("H20", "3A090", "FP8").
    """
    for word in words:
        ascii_word = word.isascii()
        start = text.find(word)
        while start >= 0:
            end = start + len(word)
            if ascii_word:
                end = _whole_word_end(text, start, end)
            if end >= 0 and _value_after(text, end):
                return True
            start = text.find(word, start + 1)
    return False


def _whole_word_end(text: str, start: int, end: int) -> int:
    """End of the whole English word matched at ``start:end`` (plural allowed), or -1 inside a longer word."""
    if start > 0 and text[start - 1].isascii() and text[start - 1].isalnum():
        return -1
    for suffix in ("", "s", "es"):
        stop = end + len(suffix)
        if text.startswith(suffix, end) and not (stop < len(text) and text[stop].isascii() and text[stop].isalnum()):
            return stop
    return -1


def _value_after(text: str, end: int) -> bool:
    """True when a number that is a value (see :func:`_states_value`) starts within ``VALUE_WINDOW`` of ``end``."""
    for m in _VALUE.finditer(text, end, end + VALUE_WINDOW + _LONGEST_NUMBER):
        if m.start() >= end + VALUE_WINDOW:
            break
        if m.start() > 0 and text[m.start() - 1].isascii() and text[m.start() - 1].isalnum():
            continue  # inside a name or a word: "H20", "FP8", "R2" (a digit before: the tail of a longer match)
        if m.start() >= 2 and text[m.start() - 1] == ":" and text[m.start() - 2].isalpha():
            continue  # a group or section name: "D:5", "A:6"
        number = m.group().rstrip(",.")
        before = text[m.start() - 1 : m.start()]
        after = text[m.start() + len(number) : m.start() + len(number) + 1]
        if not number or _YEAR.match(number) or any(c in _DATE_MARKS for c in before + after):
            continue
        if after.isascii() and after.isalpha():
            name = _NAME.match(text, m.start())
            if name and is_identifier(name.group()):
                continue  # a product or rule name that starts with digits: "3A090", "910B"
        return True
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

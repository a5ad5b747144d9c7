"""Hybrid index: dense vectors in Chroma plus BM25 (bm25s, jieba tokens), fused by reciprocal rank.

Search, for a query q and k:

1. q is tokenised (jieba search mode + English words) and expanded with the glossary's other-language forms
   of every concept it mentions (性能密度 ↔ performance density).
2. BM25 scores every live chunk (cached bm25s model over tokens stored in the manifest; no re-tokenising),
   metadata filters are applied as a boolean mask, and the best ``CANDIDATES`` are kept.
3. Dense ranking. Up to ``EXACT_MAX_ROWS`` chunks, and always with a filter (kind, language, dates,
   documents), the allowed rows are scored exactly against an in-memory copy of the live chunks' vectors (one
   matrix-vector product, a few ms at 15,000 chunks), so a selective filter never falls back to Chroma's slow
   metadata pre-filter. The copy is read from Chroma on the first search that needs it, and after an ingestion
   only new or changed chunks are read again. Above ``EXACT_MAX_ROWS``, an unfiltered search takes Chroma's
   nearest ``CANDIDATES`` vectors (approximate, HNSW) and drops boilerplate afterwards.
4. Each language is ranked on its own (unless a language filter is set): ranks are fused, score =
   Σ weight / (RRF_K + rank), ties to the better BM25 rank; the best ``RERANK_DEPTH`` are rescored by the reranker
   (:mod:`corpus.rerank`), and the top k mixes the languages (see :meth:`CorpusIndex.search`).

Only chunks listed in the manifest are ever returned, which makes ingestion atomic (see
:mod:`corpus.manifest`). Ingestions are serialised across processes by a lock file next to the manifest
(:mod:`corpus.locking`), so one never takes another's uncommitted vectors for crash leftovers.


Ingestion (writing vectors, the manifest commit, cancellation, the shared-collection guard) lives in
:mod:`corpus.ingestion`; :class:`CorpusIndex` inherits it.

Live index: every search compares the manifest's generation number with the one its state was built from.
When another process (``procure ingest`` next to a running service) has committed, the state is rebuilt and,
for the embedded store, the Chroma client is reopened (given a ``client_factory``), because an embedded
Chroma only reads another process's writes when opened afresh; a Chroma server needs no reopen.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import bm25s
import numpy as np

from corpus import vector_cache
from corpus.embeddings import Embedder
from corpus.errors import IndexUnavailableError, InvalidQueryError
from corpus.ingestion import (
    CHROMA_BATCH,
    INGEST_WAIT_S,
    Check,
    IndexWriter,
    days,
)
from corpus.locking import IngestLock
from corpus.manifest import ChunkRecord, Manifest, pipeline_signature
from corpus.rerank import Candidate, ConceptCoverageReranker, Reranker
from corpus.shared_manifest import AdvisoryLock, SqlManifest
from corpus.text import cjk_ratio, is_identifier
from corpus.types import (
    KINDS,
    LANGUAGES,
    MAX_K,
    MAX_QUERY_CHARS,
    Passage,
    SearchFilters,
)

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from corpus.glossary import Glossary
    from corpus.text import Tokenizer

RRF_K = 60
"""Reciprocal-rank constant (Cormack et al. 2009); damps the difference between neighbouring ranks."""
CANDIDATES = 60
"""Candidates taken from each ranker before fusion."""
BM25_WEIGHT = 1.0
DENSE_WEIGHT = 1.0
ENTITY_BOOST = 0.5
"""A chunk that names every product/identifier of the query (H20, 910B, 3A090) scores up to 1.5× after fusion."""
EXPANSION_WEIGHT = 0.5
"""Glossary terms count half as much as the user's own words, so a translation never outweighs the question."""
MIN_OTHER_RELEVANCE = 0.2
"""Least reranker relevance (weighted concept coverage) for a place reserved for the other language."""
EXACT_MAX_ROWS = 200_000
"""Up to this many chunks, dense ranking is exact over the in-memory vectors (a few ms, and the same on a Chroma
server as embedded); above it, unfiltered searches take Chroma's approximate neighbours."""
RERANK_DEPTH = 30
"""Fused candidates (per language) the reranker rescores."""
RERANK_WEIGHT = 2.0
"""Weight of the reranker's relevance (0..1) next to the fused score scaled to the best candidate's (0..1)."""
MIN_DENSE_PER_LANGUAGE = 10
"""When the approximate neighbours hold fewer rows of a language, that language is scored exactly."""
SUBSET_SHARE = 0.25
"""A filter that keeps less than this share of the rows is scored on the gathered rows, not the whole matrix."""


class _NoCollection:
    """A Chroma collection that does not exist yet, seen by a read-only index (opening it would create it)."""

    metadata: dict[str, Any] | None = None

    def count(self) -> int:
        return 0

    def get(self, **_: Any) -> dict[str, Any]:
        return {"ids": [], "embeddings": []}

    def query(self, **_: Any) -> dict[str, Any]:
        return {"ids": [[]]}



Matrix = np.ndarray[Any, np.dtype[np.float32]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


@dataclass(frozen=True)
class _Vectors:
    """Unit-length vectors of one state's rows, read from Chroma (``present`` is False where Chroma has none)."""

    keys: dict[tuple[str, str], int]
    matrix: Matrix
    present: BoolArray


class _LazyVectors:
    """Holds a state's :class:`_Vectors`, loaded once on first use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.value: _Vectors | None = None


@dataclass(frozen=True)
class _State:
    """Immutable search snapshot of one manifest generation (swapped whole, so readers need no lock)."""

    generation: int
    records: list[ChunkRecord]
    row_of: dict[str, int]
    kind: np.ndarray[Any, np.dtype[np.int8]]
    language: np.ndarray[Any, np.dtype[np.int8]]
    day: np.ndarray[Any, np.dtype[np.int32]]
    factual: BoolArray
    doc_index: dict[str, BoolArray]
    bm25: Any
    vectors: _LazyVectors
    document_frequency: dict[str, int]
    """Chunks holding each token, cached as asked for."""
    candidates: dict[int, Candidate]
    """Reranker views of rows, built on first use."""
    numbers: dict[int, frozenset[str]]
    """Number tokens of rows, built on first use."""

    @classmethod
    def build(cls, generation: int, records: list[ChunkRecord]) -> _State:
        bm25 = None
        if records:
            bm25 = bm25s.BM25()
            bm25.index([r.tokens or [""] for r in records], show_progress=False)
        doc_ids = np.array([r.doc_id for r in records], dtype=object)
        return cls(
            generation=generation,
            records=records,
            row_of={r.chunk_id: i for i, r in enumerate(records)},
            kind=np.array([KINDS.index(r.kind) for r in records], dtype=np.int8),
            language=np.array([LANGUAGES.index(r.language) for r in records], dtype=np.int8),
            day=np.array([days(r.date) for r in records], dtype=np.int32),
            factual=np.array([r.factual for r in records], dtype=np.bool_),
            doc_index={d: doc_ids == d for d in dict.fromkeys(r.doc_id for r in records)},
            bm25=bm25,
            vectors=_LazyVectors(),
            document_frequency={},
            candidates={},
            numbers={},
        )

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token over this state's chunks (BM25's formula, never below 0.1).

        The frequency is read from the BM25 index's token-major score matrix (the length of the token's column),
        so nothing is counted again; tokens are cached.
        """
        df = self.document_frequency.get(token)
        if df is None:
            df = 0
            token_id = self.bm25.vocab_dict.get(token) if self.bm25 is not None else None
            if token_id is not None:
                indptr = self.bm25.scores["indptr"]
                df = int(indptr[token_id + 1] - indptr[token_id])
            self.document_frequency[token] = df
        n = len(self.records)
        return max(0.1, math.log(1.0 + (n - df + 0.5) / (df + 0.5)))

    def mask(self, filters: SearchFilters) -> BoolArray:
        mask = np.ones(len(self.records), dtype=np.bool_) if filters.include_nonfactual else self.factual.copy()
        if filters.kind is not None:
            mask &= np.isin(self.kind, [KINDS.index(k) for k in filters.kind])
        if filters.language is not None:
            mask &= np.isin(self.language, [LANGUAGES.index(lang) for lang in filters.language])
        if filters.date_from is not None:
            mask &= self.day >= filters.date_from.toordinal()
        if filters.date_to is not None:
            mask &= (self.day >= 0) & (self.day <= filters.date_to.toordinal())
        if filters.doc_id is not None:
            allowed = np.zeros(len(self.records), dtype=np.bool_)
            for doc_id in filters.doc_id:
                if doc_id in self.doc_index:
                    allowed |= self.doc_index[doc_id]
            mask &= allowed
        return mask


def other_language_slots(k: int) -> int:
    """Places in a top k reserved for the language the question is not written in: 2 of 5, 1 of 3, none of 1."""
    return int(k * 0.4 + 0.5) if k > 1 else 0


def query_language(text: str) -> str:
    """``zh`` when at least 15 % of the query's characters are Chinese, else ``en``."""
    return "zh" if cjk_ratio(text) > 0.15 else "en"


_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
RESTATEMENT_TOLERANCE = 0.02
"""An other-language restatement of a chosen passage yields only to a new fact at most this much less relevant."""
RESTATEMENT_OVERLAP = 0.6
"""Two chunks with at least 3 numbers each, sharing this share of them (Jaccard), restate one another."""


def _restates(a: frozenset[str], b: frozenset[str]) -> bool:
    if len(a) < 3 or len(b) < 3:
        return False
    return len(a & b) / len(a | b) >= RESTATEMENT_OVERLAP


def _has_metadata_filter(filters: SearchFilters) -> bool:
    """True when the filter restricts more than boilerplate (kind, language, dates or documents)."""
    return any(
        value is not None
        for value in (filters.kind, filters.language, filters.date_from, filters.date_to, filters.doc_id)
    )


def _matvec(matrix: Matrix, vector: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float32]]:
    """``matrix @ vector`` without BLAS threads.

    einsum's own loop stays on one core, where a multi-threaded BLAS on a busy machine took 5 times longer (32 ms
    against 5 ms for 15,000 × 512, measured on 2 loaded cores).
    """
    out: np.ndarray[Any, np.dtype[np.float32]] = np.einsum("ij,j->i", matrix, vector)
    return out


def _unit_rows(rows: Any) -> Matrix:
    matrix = np.asarray(rows, dtype=np.float32)
    if matrix.ndim != 2:
        matrix = matrix.reshape(len(matrix), -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.divide(matrix, norms, out=matrix, where=norms > 0)
    return matrix


def collection_name(base: str, embedding_signature: str) -> str:
    """Chroma collection for one vector space: ``<base>-<8 hex of the embedding signature>``."""
    return f"{base}-{hashlib.sha1(embedding_signature.encode()).hexdigest()[:8]}"


def validate_query(query: str, k: int) -> str:
    """Check a query and k; return the stripped query.

    Raises:
        InvalidQueryError: Empty or overlong query, k outside 1..MAX_K.
    """
    text = query.strip() if isinstance(query, str) else ""
    if not text:
        raise InvalidQueryError("query is empty; give a few words to search for, e.g. 'H20 memory bandwidth'")
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidQueryError(f"query has {len(text)} characters; the limit is {MAX_QUERY_CHARS}")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InvalidQueryError(f"k must be a whole number from 1 to {MAX_K}, got {k!r}")
    return text


class CorpusIndex(IndexWriter):
    """The project's searchable corpus: manifest (truth) + Chroma (dense) + BM25 (lexical).

    Build one with :func:`open_index`; it is safe to share between threads.

    Args:
        manifest: The SQLite manifest, or the shared one in the service database (:class:`SqlManifest`).
        client: A Chroma client (PersistentClient, HttpClient or EphemeralClient); None to open one with
            ``client_factory`` on first need (not at all while the vector copy is current, see
            :mod:`corpus.vector_cache`).
        collection: Base name of the Chroma collection (the embedding signature is appended).
        embedder: Embedding function for passages and queries.
        tokenizer: Bilingual tokenizer for BM25.
        glossary: Bilingual glossary for query expansion.
        lock_path: Inter-process write lock; default ``<manifest stem>.ingest.lock`` next to the manifest.
        ingest_wait_s: How long :meth:`ingest` waits for another ingestion by default.
        client_factory: Opens a new Chroma client like ``client``; given for the embedded store, it is called to
            see ingestions committed by other processes (see the module notes on the live index).
        reranker: Rescores the fused candidates: ``"heuristic"`` (bilingual concept coverage, the default), a
            :class:`~corpus.rerank.Reranker` (e.g. a cross-encoder) or None for fused order.
        rerank_weight: Weight of the reranker's relevance next to the scaled fused score.
        mix_languages: Without a language filter, reserve places in the top k for the other language.
        lock: The ingestion lock (default a lock file at ``lock_path``); :func:`corpus.shared_manifest.database_lock`
            for a shared manifest.
        shared: The vectors are shared with other instances (a Chroma server): the collection is marked with this
            manifest's id, and a collection marked by another manifest is refused.
        read_only: Searching only: nothing is created, marked or cleaned; :meth:`ingest` is refused.
        vector_copy: File for the copy of the live vectors (:mod:`corpus.vector_cache`, a cache: the data folder's
            cache folder); None keeps the copy in memory only. Ignored for a shared index.
    """

    def __init__(
        self,
        *,
        manifest: Manifest | SqlManifest,
        client: ClientAPI | None,
        collection: str,
        embedder: Embedder,
        tokenizer: Tokenizer,
        glossary: Glossary,
        lock_path: Path | None = None,
        ingest_wait_s: float = INGEST_WAIT_S,
        client_factory: Callable[[], ClientAPI] | None = None,
        reranker: Reranker | None | Literal["heuristic"] = "heuristic",
        rerank_weight: float = RERANK_WEIGHT,
        mix_languages: bool = True,
        lock: IngestLock | AdvisoryLock | None = None,
        shared: bool = False,
        read_only: bool = False,
        vector_copy: Path | None = None,
    ) -> None:
        self.manifest = manifest
        self.vector_copy = vector_copy
        self.shared = shared
        self.read_only = read_only
        self.reranker: Reranker | None = (
            ConceptCoverageReranker(tokenizer, glossary) if reranker == "heuristic" else reranker  # type: ignore[assignment]
        )
        self.rerank_weight = rerank_weight
        self.mix_languages = mix_languages
        self._title_tokens: dict[str, Counter[str]] = {}
        self.ingest_lock = lock or IngestLock(lock_path or manifest.path.with_name(f"{manifest.path.stem}.ingest.lock"))
        self.ingest_wait_s = ingest_wait_s
        self.embedder = embedder
        self.tokenizer = tokenizer
        self.glossary = glossary
        self.pipeline = pipeline_signature(embedder.signature)
        if client is None and client_factory is None:
            raise IndexUnavailableError("open_index needs a Chroma client or a client_factory")
        self._client = client
        self._client_factory = client_factory
        self._collection_base = collection
        self._collection: Collection | None = None
        self._collection_lock = threading.Lock()
        self._own_generations: set[int] = set()
        self._written: set[str] = set()
        """Chunk ids whose vectors the running ingestion wrote (deleted again if it stops before committing)."""
        self._check: Check | None = None
        """The running ingestion's cancellation check."""
        self.reopened = 0
        """How many times the Chroma client was reopened to see another process's ingestion."""
        self._state_lock = threading.Lock()
        self._state = _State.build(-1, [])
        self._last_vectors: _Vectors | None = None
        self._primed = False
        state = self._reload()
        if client is not None or shared or not self._vectors_from_file(state):
            _ = self.collection  # open Chroma now, so a store that cannot be opened fails here
            self._guard(writing=False)


    def _open_collection(self, client: ClientAPI) -> Collection:
        from corpus.chroma_functions import ChromaEmbeddingFunction

        name = collection_name(self._collection_base, self.embedder.signature)
        function = ChromaEmbeddingFunction(self.embedder)
        try:
            try:  # an existing collection is opened without writing to it
                return client.get_collection(name, embedding_function=function)  # type: ignore[arg-type]
            except Exception:  # chromadb raises NotFoundError or ValueError depending on the version
                if self.read_only:
                    return _NoCollection()  # type: ignore[return-value]
                return client.get_or_create_collection(
                    name,
                    embedding_function=function,  # type: ignore[arg-type]
                    configuration={"hnsw": {"space": "cosine"}},
                )
        except Exception as exc:  # chromadb raises many types (connection, validation, sqlite)
            raise IndexUnavailableError(f"cannot open the Chroma collection {self._collection_base!r}: {exc}") from None

    @property
    def collection(self) -> Collection:  # type: ignore[override]
        """The Chroma collection, opened on first use (a client from ``client_factory`` when none was given).

        An index given only a ``client_factory`` whose vector copy is current (:mod:`corpus.vector_cache`) never
        opens Chroma for searching.
        """
        opened = self._collection
        if opened is None:
            with self._collection_lock:
                opened = self._collection
                if opened is None:
                    if self._client is None:
                        assert self._client_factory is not None  # checked in __init__
                        self._client = self._client_factory()
                    opened = self._collection = self._open_collection(self._client)
        return opened

    @property
    def chroma_opened(self) -> bool:
        """True once this index opened its Chroma collection (diagnostics and tests)."""
        return self._collection is not None

    def _reopen_client(self) -> None:
        """Open Chroma afresh: an embedded client only sees another process's writes after a reopen."""
        if self._client_factory is None:
            return
        if self._client is None:  # never opened: the next use opens a fresh client anyway
            return
        close = getattr(self._client, "close", None)
        if callable(close):
            close()  # releases this process's shared Chroma system, so the next client reads the folder again
        self._client = self._client_factory()
        self._collection = self._open_collection(self._client)
        self.reopened += 1

    # ------------------------------------------------------------------ state

    def _reload(self) -> _State:
        """Rebuild the search state when the manifest generation moved (an ingestion by any process)."""
        with self._state_lock:
            generation = self.manifest.generation()
            if generation != self._state.generation:
                if self._state.generation >= 0 and generation not in self._own_generations:
                    self._reopen_client()
                self._state = _State.build(generation, self.manifest.load_chunks())
            return self._state

    def _current(self) -> _State:
        state = self._state
        if self.manifest.generation() != state.generation:
            state = self._reload()
        return state

    def stats(self) -> dict[str, int]:
        """Number of live documents and chunks."""
        docs, chunks = self.manifest.counts()
        return {"documents": docs, "chunks": chunks}

    @property
    def is_empty(self) -> bool:
        """True before the first successful ingestion."""
        return self.manifest.counts()[0] == 0

    def document_text(self, doc_id: str) -> str | None:
        """Body of a document as stored; passage offsets index into it."""
        return self.manifest.body(doc_id)

    # ------------------------------------------------------------------ search

    def search(self, query: str, *, k: int = 5, filters: SearchFilters | None = None) -> list[Passage]:
        """Hybrid search over factual chunks (boilerplate only with ``include_nonfactual``).

        Without a language filter, each language is ranked on its own (BM25 and dense fused, then reranked) and
        the top k mixes them: ``other_language_slots(k)`` places go to the best passages in the language the
        question is not written in, when they match something of the question, so an English question also
        sees the Chinese sources and the reverse.

        Args:
            query: Question or keywords, Chinese or English.
            k: Number of passages, 1 to ``MAX_K``.
            filters: Metadata filters (kind, language, date range, document ids).

        Returns:
            Up to k passages, best first; empty when nothing matches the filters.

        Raises:
            InvalidQueryError: Empty query or k out of range.
            IndexUnavailableError: The index was built with other embeddings, or Chroma fails.
        """
        text = validate_query(query, k)
        filters = filters or SearchFilters()
        state = self._current()
        if not state.records:
            return []
        stored = self.manifest.get_meta("embedding")
        if stored is not None and stored != self.embedder.signature:
            raise IndexUnavailableError(
                f"the index was built with embeddings {stored!r} but {self.embedder.signature!r} is configured; "
                "run `procure ingest` to rebuild it"
            )
        mask = state.mask(filters)
        if not mask.any():
            return []
        expansion = self.glossary.expand(text)
        lexical_scores = self._bm25_scores(state, text, expansion)
        vector = self._query_vector(text, expansion)
        entities = self._entity_coverage(state, text)
        groups = self._language_groups(state, mask, filters)
        if _has_metadata_filter(filters) or len(state.records) <= EXACT_MAX_ROWS:
            dense_by_group = self._exact_rankings(state, vector, mask, groups)
        else:
            dense_all = self._dense_ranking(state, vector, mask, filters, k)
            dense_by_group = {}
            for language, group in groups.items():
                dense_by_group[language] = [row for row in dense_all if group[row]]
                if len(groups) > 1 and len(dense_by_group[language]) < MIN_DENSE_PER_LANGUAGE:
                    dense_by_group[language] = self._exact_ranking(state, vector, group)
        ranked: dict[str, list[tuple[int, float, float]]] = {}
        for language, group in groups.items():
            fused = self._fuse(self._top(lexical_scores, group), dense_by_group[language], entities)
            ranked[language] = self._rerank(state, text, fused)
        chosen = self._mix(state, ranked, query_language(text), k)
        if self.tokenizer.jieba_loaded and not self._primed:
            # jieba was loaded anyway (a new Chinese run, or a cut cache made by another jieba): cut the glossary
            # forms and titles too, so the next process's English questions find them
            self._primed = True
            self._prime_cuts(state.records)
        self.tokenizer.save_cuts()  # new CJK runs met by this search: the next process finds their cuts
        return [self._passage(state.records[row], score) for row, score in chosen]

    def _language_groups(self, state: _State, mask: BoolArray, filters: SearchFilters) -> dict[str, BoolArray]:
        """The allowed rows split by language (one group when a language filter is set or one language exists)."""
        if filters.language is not None or not self.mix_languages:
            return {"any": mask}
        groups: dict[str, BoolArray] = {}
        for i, lang in enumerate(LANGUAGES):
            group = mask & (state.language == i)
            if group.any():
                groups[lang] = group
        return groups if len(groups) > 1 else {"any": mask}

    def _mix(
        self, state: _State, ranked: dict[str, list[tuple[int, float, float]]], language: str, k: int
    ) -> list[tuple[int, float]]:
        """Top k of one group, or of two languages with ``other_language_slots(k)`` places for the other one.

        A reserved place goes only to a passage that covers more than ``MIN_OTHER_RELEVANCE`` of the question's
        concepts (every passage counts without a reranker). Within
        one language, a passage that restates one already chosen (mostly the same numbers) gives way to the next
        one, so the places carry different facts where the candidates allow.
        """
        if len(ranked) == 1:
            pool = next(iter(ranked.values()))
            return [(row, score) for row, score, _ in self._pick(state, pool, k, [])]
        same = ranked.get(language, [])
        other = sorted((t for lang, rows in ranked.items() if lang != language for t in rows), key=lambda t: -t[1])
        relevant_other = [t for t in other if t[2] > MIN_OTHER_RELEVANCE]
        slots = min(len(relevant_other), other_language_slots(k))
        chosen = self._pick(state, same, k - slots, [])
        chosen += self._pick(state, relevant_other, slots, chosen, tolerance=RESTATEMENT_TOLERANCE)
        if len(chosen) < k:  # one language ran short: fill from the rest, best first
            taken = {t[0] for t in chosen}
            rest = sorted((t for t in same + other if t[0] not in taken), key=lambda t: -t[1])
            chosen += rest[: k - len(chosen)]
        return [(row, score) for row, score, _ in sorted(chosen, key=lambda t: -t[1])]

    def _pick(
        self,
        state: _State,
        pool: list[tuple[int, float, float]],
        n: int,
        chosen: list[tuple[int, float, float]],
        tolerance: float | None = None,
    ) -> list[tuple[int, float, float]]:
        """The best ``n`` of ``pool``, skipping restatements of rows already taken while others remain.

        With ``tolerance``, a restatement is skipped only for a candidate whose relevance is within ``tolerance``
        of its own (a translation of a chosen passage gives way to an equally relevant new fact, not to a worse one).
        """
        if n <= 0:
            return []
        taken_numbers = [self._numbers(state, t[0]) for t in chosen]
        picked: list[tuple[int, float, float]] = []
        skipped: list[tuple[int, float, float]] = []
        for i, t in enumerate(pool[:RERANK_DEPTH]):
            numbers = self._numbers(state, t[0])
            restates = any(_restates(numbers, other) for other in taken_numbers)
            if restates and tolerance is not None:
                restates = any(
                    u[2] >= t[2] - tolerance
                    and not any(_restates(self._numbers(state, u[0]), o) for o in taken_numbers)
                    for u in pool[i + 1 : RERANK_DEPTH]
                )
            if restates:
                skipped.append(t)
                continue
            picked.append(t)
            taken_numbers.append(numbers)
            if len(picked) == n:
                return picked
        rest = skipped + pool[RERANK_DEPTH:]
        return sorted(picked + rest[: n - len(picked)], key=lambda t: -t[1])

    def _numbers(self, state: _State, row: int) -> frozenset[str]:
        """Number tokens of a row's section and text (they survive translation, unlike words); cached per state."""
        numbers = state.numbers.get(row)
        if numbers is None:
            numbers = frozenset(t for t in self._candidate(state, row).tokens if t[:1].isdigit() and _NUMBER.match(t))
            state.numbers[row] = numbers
        return numbers

    def _entity_coverage(self, state: _State, text: str) -> np.ndarray[Any, np.dtype[np.float32]] | None:
        """Per chunk, the share of the query's identifiers (model names, rule numbers) its indexed text has."""
        names = [t for t in dict.fromkeys(self.tokenizer.words(text)) if is_identifier(t)]
        ids = state.bm25.get_tokens_ids(names)
        if not names:
            return None
        coverage = np.zeros(len(state.records), dtype=np.float32)
        for token_id in ids:
            coverage += state.bm25.get_scores_from_ids([token_id]) > 0
        return (coverage / len(names)).astype(np.float32)

    def _bm25_scores(
        self, state: _State, text: str, expansion: list[str]
    ) -> np.ndarray[Any, np.dtype[np.float32]] | None:
        """BM25 score of every row: the query's own words, plus its glossary expansion at ``EXPANSION_WEIGHT``."""
        own = list(dict.fromkeys(self.tokenizer.words(text)))
        extra = [t for term in expansion for t in self.tokenizer.words(term) if t not in own]
        own_ids = state.bm25.get_tokens_ids(own)
        extra_ids = state.bm25.get_tokens_ids(list(dict.fromkeys(extra)))
        if not own_ids and not extra_ids:
            return None
        scores = np.zeros(len(state.records), dtype=np.float32)
        if own_ids:
            scores += state.bm25.get_scores_from_ids(own_ids)
        if extra_ids:
            scores += EXPANSION_WEIGHT * state.bm25.get_scores_from_ids(extra_ids)
        return scores

    @staticmethod
    def _top(scores: np.ndarray[Any, np.dtype[np.float32]] | None, mask: BoolArray) -> list[int]:
        """The ``CANDIDATES`` best allowed rows with a positive score, best first."""
        if scores is None:
            return []
        masked = np.where(mask, scores, 0.0)
        n = min(CANDIDATES, len(masked))
        top = np.argpartition(-masked, n - 1)[:n]
        top = top[np.argsort(-masked[top], kind="stable")]
        return [int(i) for i in top if masked[i] > 0]

    def _query_vector(self, text: str, expansion: list[str]) -> np.ndarray[Any, Any]:
        vector = self.embedder.embed_query(text)
        if expansion:
            vector = vector + EXPANSION_WEIGHT * self.embedder.embed_query(" ".join(expansion))
        return vector

    def _dense_ranking(
        self, state: _State, vector: np.ndarray[Any, Any], mask: BoolArray, filters: SearchFilters, k: int
    ) -> list[int]:
        if _has_metadata_filter(filters) or len(state.records) <= EXACT_MAX_ROWS:
            return self._exact_ranking(state, vector, mask)
        ranking = self._query_chroma(state, vector, mask, n=min(CANDIDATES, len(state.records)))
        if len(ranking) < min(k, int(mask.sum())):
            # Boilerplate or vectors of a newer generation crowded out the neighbours: score exactly instead.
            ranking = self._exact_ranking(state, vector, mask)
        return ranking

    def _query_chroma(self, state: _State, vector: np.ndarray[Any, Any], mask: BoolArray, *, n: int) -> list[int]:
        try:
            result = self.collection.query(query_embeddings=[vector], n_results=max(n, 1), include=[])
        except Exception as exc:  # chromadb raises many types (connection, sqlite, rust bindings)
            raise IndexUnavailableError(f"dense search failed: {exc}") from None
        rows = (state.row_of.get(chunk_id) for chunk_id in result["ids"][0])
        return [row for row in rows if row is not None and mask[row]]

    def _exact_ranking(self, state: _State, vector: np.ndarray[Any, Any], mask: BoolArray) -> list[int]:
        """The ``CANDIDATES`` allowed rows most similar to ``vector`` (cosine), scored over the in-memory copy."""
        return self._exact_rankings(state, vector, mask, {"any": mask})["any"]

    def _exact_rankings(
        self, state: _State, vector: np.ndarray[Any, Any], mask: BoolArray, groups: dict[str, BoolArray]
    ) -> dict[str, list[int]]:
        """Exact dense ranking of each group (subsets of ``mask``) from one matrix-vector product."""
        empty: dict[str, list[int]] = {name: [] for name in groups}
        vectors = self._vectors(state)
        allowed = mask & vectors.present
        count = int(allowed.sum())
        query = np.asarray(vector, dtype=np.float32)
        if count == 0 or not np.any(query):  # no features at all: every row would tie, so no dense ranking
            return empty
        scores = np.full(len(allowed), -np.inf, dtype=np.float32)
        if count < SUBSET_SHARE * len(allowed):
            rows = np.flatnonzero(allowed)
            scores[rows] = _matvec(vectors.matrix[rows], query)
        else:
            scores = np.where(allowed, _matvec(vectors.matrix, query), -np.inf).astype(np.float32)
        out = empty
        for name, group in groups.items():
            candidates = group & allowed
            n = min(CANDIDATES, int(candidates.sum()))
            if n == 0:
                continue
            masked = np.where(candidates, scores, -np.inf)
            top = np.argpartition(-masked, n - 1)[:n]
            top = top[np.argsort(-masked[top], kind="stable")]
            out[name] = [int(i) for i in top]
        return out

    def _vectors(self, state: _State) -> _Vectors:
        holder = state.vectors
        if holder.value is None:
            self._vectors_from_file(state)
        if holder.value is None:
            with holder.lock:
                if holder.value is None:
                    holder.value = self._load_vectors(state.records)
                    self._last_vectors = holder.value
                    self._save_vector_file(state, holder.value)
        return holder.value

    def _vector_file(self, state: _State) -> Path | None:
        """Where the vector copy lives (none for a shared index, whose vectors other instances change)."""
        if self.vector_copy is None or self.shared or len(state.records) > EXACT_MAX_ROWS:
            return None  # above EXACT_MAX_ROWS an unfiltered search asks Chroma for neighbours anyway
        return self.vector_copy

    def _vectors_from_file(self, state: _State) -> bool:
        """Fill ``state``'s vectors from the vector copy when it was written for this very state."""
        path = self._vector_file(state)
        if path is None or state.generation < 0:
            return False
        holder = state.vectors
        with holder.lock:
            if holder.value is not None:
                return True
            keys = [(r.chunk_id, r.version) for r in state.records]
            cached = vector_cache.load(path, generation=state.generation, pipeline=self.pipeline, keys=keys)
            if cached is None:
                return False
            holder.value = _Vectors(
                keys={key: i for i, key in enumerate(keys)}, matrix=cached.matrix, present=cached.present
            )
            self._last_vectors = holder.value
            return True

    def _save_vector_file(self, state: _State, vectors: _Vectors) -> None:
        path = self._vector_file(state)
        if path is None or state.generation < 0:
            return
        keys = [(r.chunk_id, r.version) for r in state.records]
        vector_cache.save(
            path,
            vector_cache.CachedVectors(state.generation, self.pipeline, keys, vectors.matrix, vectors.present),
        )

    def _load_vectors(self, records: list[ChunkRecord]) -> _Vectors:
        """Unit vectors of ``records``, reused from the previous state or read from Chroma.

        A row is reused when its chunk and its document's version are unchanged; the rest are read from Chroma.
        Rows whose vector Chroma lacks are marked absent (BM25 still finds them).
        """
        keys = {(r.chunk_id, r.version): i for i, r in enumerate(records)}
        previous = self._last_vectors
        reused: list[tuple[int, int]] = []
        wanted: list[int] = []
        for key, row in keys.items():
            old = previous.keys.get(key) if previous is not None else None
            if old is not None and previous is not None and previous.present[old]:
                reused.append((row, old))
            else:
                wanted.append(row)
        fetched: dict[str, Any] = {}
        ids = [records[row].chunk_id for row in wanted]
        try:
            for i in range(0, len(ids), CHROMA_BATCH):
                got = self.collection.get(ids=ids[i : i + CHROMA_BATCH], include=["embeddings"])  # type: ignore[list-item]
                embeddings = got["embeddings"]
                if embeddings is not None:
                    fetched.update(zip(got["ids"], embeddings, strict=True))
        except Exception as exc:  # chromadb raises many types (connection, sqlite, rust bindings)
            raise IndexUnavailableError(
                f"cannot read vectors from Chroma: {exc} (an embedded Chroma folder written by another process is "
                "only seen by an index opened with a client_factory)"
            ) from None
        if previous is not None and previous.matrix.shape[1]:
            dims = previous.matrix.shape[1]
        else:
            dims = len(next(iter(fetched.values()))) if fetched else 0
        matrix = np.zeros((len(records), dims), dtype=np.float32)
        present = np.zeros(len(records), dtype=np.bool_)
        if reused and previous is not None:
            new_rows, old_rows = (np.array(side, dtype=np.intp) for side in zip(*reused, strict=True))
            matrix[new_rows] = previous.matrix[old_rows]
            present[new_rows] = True
        found = [(row, fetched[records[row].chunk_id]) for row in wanted if records[row].chunk_id in fetched]
        if found and dims:
            rows = np.array([row for row, _ in found], dtype=np.intp)
            block = _unit_rows([vec for _, vec in found])
            if block.shape[1] == dims:
                matrix[rows] = block
                present[rows] = True
        return _Vectors(keys=keys, matrix=matrix, present=present)

    @staticmethod
    def _fuse(
        lexical: list[int], dense: list[int], entities: np.ndarray[Any, np.dtype[np.float32]] | None
    ) -> list[tuple[int, float]]:
        """Reciprocal-rank fusion, boosted by identifier coverage; best first, ties to the better BM25 rank."""
        fused: dict[int, float] = {}
        lexical_rank: dict[int, int] = {}
        for rank, row in enumerate(lexical):
            fused[row] = fused.get(row, 0.0) + BM25_WEIGHT / (RRF_K + rank + 1)
            lexical_rank[row] = rank
        for rank, row in enumerate(dense):
            fused[row] = fused.get(row, 0.0) + DENSE_WEIGHT / (RRF_K + rank + 1)
        if entities is not None:
            for row in fused:
                fused[row] *= 1.0 + ENTITY_BOOST * float(entities[row])
        order = sorted(fused, key=lambda row: (-fused[row], lexical_rank.get(row, CANDIDATES)))
        return [(row, fused[row]) for row in order]

    def _rerank(self, state: _State, text: str, fused: list[tuple[int, float]]) -> list[tuple[int, float, float]]:
        """Rescore the best ``RERANK_DEPTH`` fused rows: fused/best fused + ``rerank_weight`` × relevance.

        Returns (row, score, relevance) best first; without a reranker relevance is 1 (every row counts).
        """
        if not fused:
            return []
        best = fused[0][1]
        head, tail = fused[:RERANK_DEPTH], fused[RERANK_DEPTH:]
        if self.reranker is None:
            return [(row, score / best, 1.0) for row, score in fused]
        candidates = [self._candidate(state, row) for row, _ in head]
        relevance = self.reranker.relevance(text, candidates, state.idf)
        rescored = [
            (row, score / best + self.rerank_weight * rel, rel)
            for (row, score), rel in zip(head, relevance, strict=True)
        ]
        rescored.sort(key=lambda t: -t[1])
        return rescored + [(row, score / best, 0.0) for row, score in tail]

    def _candidate(self, state: _State, row: int) -> Candidate:
        """The reranker's view of a row (cached per state): its tokens without those only its title brings."""
        cand = state.candidates.get(row)
        if cand is None:
            record = state.records[row]
            title = self._title_tokens.get(record.title)
            if title is None:
                title = Counter(self.tokenizer.words(record.title))
                if len(self._title_tokens) < 100_000:
                    self._title_tokens[record.title] = title
            body = Counter(record.tokens)
            body.subtract(title)
            body_text = "\n".join(p for p in (record.section or "", record.text) if p)
            cand = Candidate(
                text="\n".join(p for p in (record.title, body_text) if p),
                tokens=frozenset(t for t, n in body.items() if n > 0),
                title_tokens=frozenset(title),
                body=body_text,
            )
            state.candidates[row] = cand
        return cand

    @staticmethod
    def _passage(r: ChunkRecord, score: float) -> Passage:
        return Passage(
            text=r.text,
            doc_id=r.doc_id,
            chunk_id=r.chunk_id,
            title=r.title,
            date=r.date,
            date_source=r.date_source,
            kind=r.kind,
            language=r.language,
            section=r.section,
            url=r.url,
            score=round(score, 6),
            start=r.start,
            end=r.end,
            factual=r.factual,
        )


def open_index(
    *,
    manifest_path: Path | None = None,
    client: ClientAPI | None,
    collection: str,
    embedder: Embedder,
    tokenizer: Tokenizer,
    glossary: Glossary,
    lock_path: Path | None = None,
    ingest_wait_s: float = INGEST_WAIT_S,
    client_factory: Callable[[], ClientAPI] | None = None,
    reranker: Reranker | None | Literal["heuristic"] = "heuristic",
    rerank_weight: float = RERANK_WEIGHT,
    mix_languages: bool = True,
    manifest: Manifest | SqlManifest | None = None,
    lock: IngestLock | AdvisoryLock | None = None,
    shared: bool = False,
    read_only: bool = False,
    vector_copy: Path | None = None,
) -> CorpusIndex:
    """Open (or create) the index; see :class:`CorpusIndex` for the arguments.

    Give ``manifest_path`` (a SQLite manifest file) or an opened ``manifest`` (the shared one).

    Raises:
        IndexUnavailableError: The manifest or the Chroma collection cannot be opened.
    """
    if manifest is None:
        if manifest_path is None:
            raise IndexUnavailableError("open_index needs a manifest_path or a manifest")
        manifest = Manifest(manifest_path)
    return CorpusIndex(
        manifest=manifest,
        client=client,
        collection=collection,
        embedder=embedder,
        tokenizer=tokenizer,
        glossary=glossary,
        lock_path=lock_path,
        ingest_wait_s=ingest_wait_s,
        client_factory=client_factory,
        reranker=reranker,
        rerank_weight=rerank_weight,
        mix_languages=mix_languages,
        lock=lock,
        shared=shared,
        read_only=read_only,
        vector_copy=vector_copy,
    )


def make_chroma_client(
    *, mode: str, path: Path | None = None, host: str = "127.0.0.1", port: int = 8001, ssl: bool = False
) -> ClientAPI:
    """A Chroma client with telemetry off: ``embedded`` (PersistentClient at ``path``), ``http`` or ``memory``.

    Args:
        mode: ``embedded``, ``http`` (a Chroma server) or ``memory`` (EphemeralClient, for tests).
        path: Folder of the embedded index.
        host: Chroma server host.
        port: Chroma server port.
        ssl: Talk https to the server.

    Returns:
        The client.

    Raises:
        IndexUnavailableError: The folder cannot be used or the server cannot be reached.
    """
    import chromadb
    from chromadb.config import Settings as ChromaConfig

    config = ChromaConfig(anonymized_telemetry=False, allow_reset=False)
    try:
        if mode == "embedded":
            if path is None:
                raise IndexUnavailableError("the embedded Chroma index needs a folder")
            path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=config)
        if mode == "http":
            client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=config)
            client.heartbeat()  # fail here, with the address, rather than on the first search
            return client
        if mode == "memory":
            return chromadb.EphemeralClient(settings=config)
    except IndexUnavailableError:
        raise
    except Exception as exc:  # chromadb raises many types (connection, sqlite, permissions)
        raise IndexUnavailableError(f"cannot open Chroma ({mode}): {exc}") from None
    raise IndexUnavailableError(f"unknown Chroma mode {mode!r}; use embedded, http or memory")

"""Filtered search: the dense side scores the allowed rows over an in-memory copy of the vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from corpus.errors import IndexUnavailableError
from corpus.index import CorpusIndex
from corpus.types import SearchFilters
from tests.corpus.conftest import IndexFactory


def write_doc(folder: Path, doc_id: str, kind: str, text: str, *, title: str | None = None) -> None:
    (folder / f"{doc_id}.md").write_text(
        f"---\nid: {doc_id}\ntitle: {title or doc_id}\nkind: {kind}\nlanguage: en\npublished: 2025-01-01\n---\n\n"
        f"{text}\n",
        encoding="utf-8",
    )


def chroma_vectors(index: CorpusIndex, ids: list[str]) -> dict[str, np.ndarray]:
    got = index.collection.get(ids=ids, include=["embeddings"])
    out = {}
    for chunk_id, vec in zip(got["ids"], got["embeddings"], strict=True):
        arr = np.asarray(vec, dtype=np.float32)
        out[chunk_id] = arr / np.linalg.norm(arr)
    return out


def no_chroma_query(*args: object, **kwargs: object) -> None:
    raise AssertionError("a filtered search must not query Chroma")


def test_filtered_search_finds_a_dense_only_match_without_querying_chroma(
    make_index: IndexFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(40):  # many close neighbours of another kind crowd the unfiltered nearest vectors
        write_doc(folder, f"news-{i:02d}", "news", f"Interconnection bandwidth report number {i} for the cluster.")
    # No word in common with the query ("interconnection"), only character trigrams: BM25 cannot find it.
    write_doc(folder, "rule", "regulation", "Accelerators interconnected above the threshold need a licence.")
    index = make_index()
    index.ingest(folder)
    monkeypatch.setattr(index.collection, "query", no_chroma_query)

    hits = index.search("interconnection", k=3, filters=SearchFilters(kind=("regulation",)))
    assert [p.doc_id for p in hits] == ["rule"]
    assert index.search("interconnection", k=3, filters=SearchFilters(kind=("datasheet",))) == []


def test_in_memory_vectors_match_chroma_row_for_row(shipped_index: CorpusIndex) -> None:
    state = shipped_index._current()
    vectors = shipped_index._vectors(state)
    assert vectors.present.all()
    ids = [r.chunk_id for r in state.records]
    stored = chroma_vectors(shipped_index, ids)
    for row, chunk_id in enumerate(ids):
        np.testing.assert_allclose(vectors.matrix[row], stored[chunk_id], atol=1e-6)


def test_exact_ranking_agrees_with_chroma_when_nothing_is_filtered(shipped_index: CorpusIndex) -> None:
    state = shipped_index._current()
    everything = np.ones(len(state.records), dtype=np.bool_)
    for query in ("H20 memory bandwidth", "昇腾910C 显存", "performance density threshold"):
        vector = shipped_index.embedder.embed_query(query)
        exact = shipped_index._exact_ranking(state, vector, everything)[:10]
        approximate = shipped_index._query_chroma(state, vector, everything, n=10)
        assert len(exact) == 10 and len(set(exact) & set(approximate)) >= 9, query


def test_filtered_dense_ranking_keeps_only_allowed_rows_best_first(shipped_index: CorpusIndex) -> None:
    state = shipped_index._current()
    filters = SearchFilters(language=("zh",), kind=("regulation",))
    mask = state.mask(filters)
    vector = shipped_index.embedder.embed_query("performance density cross-node interconnect")
    ranking = shipped_index._exact_ranking(state, vector, mask)
    assert ranking and all(mask[row] for row in ranking)
    assert len(ranking) == min(60, int(mask.sum()))
    matrix = shipped_index._vectors(state).matrix
    scores = matrix[ranking] @ (vector / np.linalg.norm(vector))
    assert np.all(np.diff(scores) <= 1e-6)  # best first
    best_allowed = max(np.flatnonzero(mask), key=lambda row: float(matrix[row] @ vector))
    assert ranking[0] == best_allowed


def test_vectors_are_refreshed_when_a_chunk_keeps_its_id_but_not_its_vector(
    make_index: IndexFactory, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    body = "The Quuxtron-7 accelerator ships with 77 GB of memory."
    write_doc(folder, "note", "analysis", body, title="Old title about power")
    index = make_index()
    index.ingest(folder)
    filtered = SearchFilters(kind=("analysis",))
    index.search("Quuxtron", k=1, filters=filtered)  # loads the in-memory vectors
    [before] = index.manifest.chunk_ids(["note"])

    write_doc(folder, "note", "analysis", body, title="New title about interconnects")  # title is embedded
    index.ingest(folder)
    [after] = index.manifest.chunk_ids(["note"])
    assert after == before  # same document and text: same chunk id, but a new vector

    index.search("Quuxtron", k=1, filters=filtered)
    state = index._current()
    row = state.row_of[after]
    np.testing.assert_allclose(index._vectors(state).matrix[row], chroma_vectors(index, [after])[after], atol=1e-6)


def test_only_new_vectors_are_read_after_an_ingest(
    make_index: IndexFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(5):
        write_doc(folder, f"doc-{i}", "analysis", f"Accelerator number {i} has {i + 10} GB of memory.")
    index = make_index()
    index.ingest(folder)
    filtered = SearchFilters(kind=("analysis",))
    index.search("accelerator memory", k=3, filters=filtered)

    write_doc(folder, "doc-new", "analysis", "The Zorblax-3 card draws 450 W of power.")
    index.ingest(folder)
    requested: list[str] = []
    original_get = index.collection.get

    def spy_get(*args: object, **kwargs: object) -> object:
        requested.extend(kwargs.get("ids") or [])  # type: ignore[arg-type]
        return original_get(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(index.collection, "get", spy_get)
    hits = index.search("Zorblax power", k=1, filters=filtered)
    assert hits[0].doc_id == "doc-new"
    assert set(requested) == index.manifest.chunk_ids(["doc-new"])


def test_a_chunk_without_a_vector_is_still_found_by_bm25(make_index: IndexFactory, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    write_doc(folder, "kept", "analysis", "The Quuxtron-7 accelerator ships with 77 GB of memory.")
    write_doc(folder, "lost", "analysis", "The Zorblax-3 card draws 450 W of power.")
    index = make_index()
    index.ingest(folder)
    index.collection.delete(ids=sorted(index.manifest.chunk_ids(["lost"])))  # e.g. a Chroma server was reset

    reopened = make_index()
    filtered = SearchFilters(kind=("analysis",))
    hits = reopened.search("Zorblax-3 power", k=2, filters=filtered)
    assert hits[0].doc_id == "lost"
    assert not reopened._vectors(reopened._current()).present.all()


def test_chroma_failure_while_reading_vectors_is_reported(
    make_index: IndexFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    write_doc(folder, "one", "analysis", "The Quuxtron-7 accelerator ships with 77 GB of memory.")
    index = make_index()
    index.ingest(folder)

    def broken(*args: object, **kwargs: object) -> None:
        raise ConnectionError("server went away")

    monkeypatch.setattr(index.collection, "get", broken)
    with pytest.raises(IndexUnavailableError, match="cannot read vectors"):
        index.search("Quuxtron", k=1, filters=SearchFilters(kind=("analysis",)))


def test_a_query_without_features_has_no_dense_ranking(shipped_index: CorpusIndex) -> None:
    state = shipped_index._current()
    everything = np.ones(len(state.records), dtype=np.bool_)
    zero = np.zeros(shipped_index._vectors(state).matrix.shape[1], dtype=np.float32)
    assert shipped_index._exact_ranking(state, zero, everything) == []

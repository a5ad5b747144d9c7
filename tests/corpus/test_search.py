"""Search over the shipped corpus: quality on the question sets, cross-language, filters, bad input."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from corpus.embeddings import HashingEmbedder
from corpus.errors import IndexUnavailableError, InvalidQueryError
from corpus.eval import evaluate, load_questions
from corpus.index import CorpusIndex, make_chroma_client, open_index
from corpus.loaders import find_sources, read_document
from corpus.manifest import Manifest
from corpus.text import is_identifier
from corpus.types import MAX_K, SearchFilters
from tests.corpus.conftest import DEV_QUESTIONS, EXTENDED_QUESTIONS, SOURCES


@pytest.mark.slow
@pytest.mark.parametrize("path", [DEV_QUESTIONS, EXTENDED_QUESTIONS], ids=["dev", "extended"])
def test_recall_at_5_on_question_sets(shipped_index: CorpusIndex, path: Path) -> None:
    report = evaluate(shipped_index, load_questions(path), k=5)
    misses = [r.q for r in report.results if not r.found]
    assert report.recall_at_k >= 0.95, misses
    assert report.mrr >= 0.6
    if report.cross_lingual_n:
        assert report.cross_lingual_recall_at_k is not None and report.cross_lingual_recall_at_k >= 0.9, misses


def test_extended_set_is_bilingual_and_large_enough() -> None:
    questions = load_questions(EXTENDED_QUESTIONS)
    chinese = [q for q in questions if any("\u4e00" <= ch <= "\u9fff" for ch in q.q)]
    assert len(questions) >= 80 and 0.3 <= len(chinese) / len(questions) <= 0.65
    assert sum(q.cross_lingual for q in questions) >= 25


def test_cross_lingual_questions_are_answered_only_in_the_other_language() -> None:
    docs = [read_document(p) for p in find_sources(SOURCES)]
    for q in load_questions(EXTENDED_QUESTIONS):
        if not q.cross_lingual:
            continue
        asked = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in q.q) else "en"
        holding = {d.language for d in docs for phrase in q.expect_any if phrase.casefold() in d.body.casefold()}
        assert holding == {"en", "zh"} - {asked}, (q.q, holding)


def test_english_question_finds_chinese_passage(shipped_index: CorpusIndex) -> None:
    zh_only = SearchFilters(language=("zh",))
    question = "How many AI servers did China Mobile buy for its computing centres?"
    hits = shipped_index.search(question, k=3, filters=zh_only)
    assert hits and all(p.language == "zh" for p in hits)
    assert any("7994" in p.text or "7,994" in p.text for p in hits)
    hits = shipped_index.search("performance density cross-node interconnect", k=5, filters=zh_only)
    assert any("性能密度" in p.text or "跨节点" in p.text for p in hits)


def test_chinese_question_finds_english_passage(shipped_index: CorpusIndex) -> None:
    hits = shipped_index.search("昇腾910C的显存和带宽", k=5, filters=SearchFilters(language=("en",)))
    assert hits and all(p.language == "en" for p in hits)
    assert any("910C" in p.text and "128 GB" in p.text for p in hits)


def test_passages_carry_metadata_and_exact_offsets(shipped_index: CorpusIndex) -> None:
    hits = shipped_index.search("H20 memory bandwidth 4.0 TB/s", k=5)
    assert len(hits) == 5
    assert [p.score for p in hits] == sorted((p.score for p in hits), reverse=True)
    for p in hits:
        body = shipped_index.document_text(p.doc_id)
        assert body is not None and body[p.start : p.end] == p.text
        assert p.title and p.kind in ("news", "regulation", "datasheet", "analysis", "other")


def test_boilerplate_is_excluded_unless_asked(shipped_index: CorpusIndex) -> None:
    query = "网友看法 嘴上拒绝 身体很诚实 囤货"
    assert all(p.factual for p in shipped_index.search(query, k=MAX_K))
    with_all = shipped_index.search(query, k=5, filters=SearchFilters(include_nonfactual=True))
    assert any(not p.factual and "网友" in p.text for p in with_all)
    disclaimers = shipped_index.search("版权 不代表立场", k=MAX_K)
    assert all("不代表崔放金融立场" not in p.text for p in disclaimers)


def test_metadata_filters(shipped_index: CorpusIndex) -> None:
    regs = shipped_index.search("H20 licence", k=10, filters=SearchFilters(kind=("regulation",)))
    assert regs and all(p.kind == "regulation" for p in regs)
    july = SearchFilters(date_from=dt.date(2025, 7, 1), date_to=dt.date(2025, 7, 31))
    dated = shipped_index.search("H20", k=10, filters=july)
    assert dated and all(p.date is not None and dt.date(2025, 7, 1) <= p.date <= dt.date(2025, 7, 31) for p in dated)
    one_doc = shipped_index.search("TPP", k=5, filters=SearchFilters(doc_id=("rule-2023-10-tpp-density-zh",)))
    assert one_doc and {p.doc_id for p in one_doc} == {"rule-2023-10-tpp-density-zh"}
    assert shipped_index.search("H20", k=5, filters=SearchFilters(date_to=dt.date(2000, 1, 1))) == []


@pytest.mark.parametrize(
    ("query", "k", "needle"),
    [
        ("", 5, "query is empty"),
        ("   \n", 5, "query is empty"),
        ("H20", 0, "k must be"),
        ("H20", -3, "k must be"),
        ("H20", MAX_K + 1, "k must be"),
        ("H20", 10**9, "k must be"),
        ("x" * 5000, 5, "limit is"),
    ],
)
def test_bad_queries(shipped_index: CorpusIndex, query: str, k: int, needle: str) -> None:
    with pytest.raises(InvalidQueryError) as info:
        shipped_index.search(query, k=k)
    assert needle in info.value.message and info.value.code == "invalid_query"


def test_reversed_date_range_is_rejected() -> None:
    with pytest.raises(ValueError, match="swap them"):
        SearchFilters(date_from=dt.date(2026, 1, 1), date_to=dt.date(2025, 1, 1))


def test_query_with_no_known_words_returns_dense_neighbours_or_nothing(shipped_index: CorpusIndex) -> None:
    hits = shipped_index.search("zzzqqq", k=3)
    assert len(hits) <= 3  # no crash on out-of-vocabulary queries


def test_identifiers() -> None:
    assert all(is_identifier(t) for t in ("h20", "910b", "mi300x", "3a090", "b200"))
    assert not any(is_identifier(t) for t in ("fp16", "bf16", "int8", "96gb", "400w", "2025", "memory"))


def test_index_built_with_other_embeddings_says_so(make_index, tokenizer, glossary, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    index = make_index("swap", dimensions=64)
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "a.md").write_text("H20 has 96 GB.\n", encoding="utf-8")
    index.ingest(folder)
    other = open_index(
        manifest_path=tmp_path / "swap" / "corpus.sqlite",
        client=make_chroma_client(mode="embedded", path=tmp_path / "swap" / "chroma"),  # the same Chroma folder
        collection="test-corpus",
        embedder=HashingEmbedder(tokenizer, 128),
        tokenizer=tokenizer,
        glossary=glossary,
    )
    with pytest.raises(IndexUnavailableError, match="run `procure ingest`"):
        other.search("H20", k=1)
    report = other.ingest(folder)  # re-embedding fixes it
    assert report.updated == ["a"] and other.search("H20", k=1)
    assert isinstance(other.manifest, Manifest)

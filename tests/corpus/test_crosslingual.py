"""Cross-lingual retrieval and reranking: each language ranked on its own, the top k mixed, bilingual concepts."""

from __future__ import annotations

from corpus.glossary import Glossary
from corpus.index import CorpusIndex, other_language_slots, query_language
from corpus.rerank import Candidate, ConceptCoverageReranker
from corpus.text import Tokenizer
from corpus.types import SearchFilters


def test_slots_and_query_language() -> None:
    assert [other_language_slots(k) for k in (1, 2, 3, 5, 10)] == [0, 1, 1, 2, 4]
    assert query_language("H20的显存是多少？") == "zh" and query_language("H20 memory") == "en"


def test_english_question_reaches_a_chinese_only_article(shipped_index: CorpusIndex) -> None:
    # the seed article (Chinese, no English counterpart) is the only source of this remark
    hits = shipped_index.search("Which policy slogan did the July 2025 article tie industrial AI to?", k=5)
    assert any("新质生产力" in p.text for p in hits)
    assert {p.language for p in hits} == {"en", "zh"}


def test_chinese_question_reaches_english_only_wording(shipped_index: CorpusIndex) -> None:
    hits = shipped_index.search("IDC哪位分析师认为中国AI服务器市场处于存量市场？", k=5)
    assert any("Du Yunlong" in p.text for p in hits)


def test_language_filter_and_k1_keep_one_language(shipped_index: CorpusIndex) -> None:
    only_en = shipped_index.search("H20 memory bandwidth", k=5, filters=SearchFilters(language=("en",)))
    assert {p.language for p in only_en} == {"en"}
    assert len(shipped_index.search("H20 memory bandwidth", k=1)) == 1


def test_mixing_does_not_push_out_same_language_answers(shipped_index: CorpusIndex) -> None:
    hits = shipped_index.search("What is the TPP threshold in the October 2023 export rule?", k=5)
    assert any("4,800" in p.text or "4800" in p.text for p in hits)
    assert sum(p.language == "en" for p in hits) == 3


def test_concepts_match_in_either_language(tokenizer: Tokenizer, glossary: Glossary) -> None:
    reranker = ConceptCoverageReranker(tokenizer, glossary)
    query = "What did Chinese customs do with H200 shipments?"
    zh = Candidate("中国海关拦截 H200", frozenset(tokenizer.words("中国海关拦截 H200")))
    en_text = "Customs held H200 shipments in China"
    en = Candidate(en_text, frozenset(tokenizer.words(en_text)))
    other = Candidate("H20 price in 2024", frozenset(tokenizer.words("H20 price in 2024")))
    zh_score, en_score, other_score = reranker.relevance(query, [zh, en, other])
    assert zh_score > 0.5 and en_score > 0.5 and other_score < 0.2


def test_nested_glossary_terms_are_one_concept(glossary: Glossary) -> None:
    concepts = glossary.matched_entries("H200的显存容量是多少")
    assert len(concepts) == 1 and {"显存", "显存容量", "memory", "capacity"} <= set(concepts[0])


def test_title_only_mentions_count_half(tokenizer: Tokenizer, glossary: Glossary) -> None:
    reranker = ConceptCoverageReranker(tokenizer, glossary)
    body = Candidate("L20 memory", frozenset({"l20", "memory"}))
    title_only = Candidate("memory", frozenset({"memory"}), title_tokens=frozenset({"l20"}))
    full, half = reranker.relevance("L20 memory", [body, title_only])
    assert full == 1.0 and 0.3 < half < 1.0

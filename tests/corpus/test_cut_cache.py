"""The tokenizer's cut cache: cuts read back equal jieba's, and a search that finds them never loads jieba."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from corpus import text
from corpus.embeddings import HashingEmbedder
from corpus.glossary import Glossary
from corpus.index import make_chroma_client, open_index
from corpus.text import CUTS_FILE, Tokenizer
from tests.corpus.conftest import SOURCES

TEXTS = ["H20的性能密度是多少？", "昇腾910B与H800相比，显存带宽如何", "出口管制规则 2023年10月", "plain English only"]


def test_cached_cuts_equal_jieba_and_skip_the_dictionary(tmp_path: Path, glossary: Glossary) -> None:
    words = tuple(glossary.chinese_terms)
    first = Tokenizer(tmp_path, words)
    expected = {t: (first.words(t), first.words(t, search_mode=False)) for t in TEXTS}
    assert first.jieba_loaded
    first.save_cuts()
    again = Tokenizer(tmp_path, words)
    assert {t: (again.words(t), again.words(t, search_mode=False)) for t in TEXTS} == expected
    assert not again.jieba_loaded
    assert again.cjk_words("的性能密度是多少") == first.cjk_words("的性能密度是多少")
    assert not again.jieba_loaded


def test_other_user_words_ignore_the_cache(tmp_path: Path, glossary: Glossary) -> None:
    first = Tokenizer(tmp_path, tuple(glossary.chinese_terms))
    first.words(TEXTS[0])
    first.save_cuts()
    other = Tokenizer(tmp_path, ("性能密度",))  # another word list may cut differently: the file is not used
    assert other.words(TEXTS[0]) == Tokenizer(None, ("性能密度",)).words(TEXTS[0])
    assert other.jieba_loaded


def test_transient_cuts_are_not_remembered(tmp_path: Path) -> None:
    tok = Tokenizer(tmp_path)
    with tok.transient():
        tok.words("这是语料中的一个长句子")
    tok.save_cuts()
    assert not (tmp_path / CUTS_FILE).exists()
    tok.words("问题")
    tok.save_cuts()
    cuts = json.loads((tmp_path / CUTS_FILE).read_text(encoding="utf-8"))["cuts"]
    assert set(cuts) == {"s:问题"}


def test_an_english_search_after_ingestion_does_not_load_jieba(tmp_path: Path, glossary: Glossary) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    for name in ("nvidia-h20-l20-l2-en.md", "nvidia-h20-l20-l2-zh.md", "rule-2023-10-tpp-density-zh.md"):
        shutil.copy(SOURCES / name, sources / name)
    words = tuple(glossary.chinese_terms)

    def index_with(tokenizer: Tokenizer):  # type: ignore[no-untyped-def]
        return open_index(
            manifest_path=tmp_path / "corpus.sqlite",
            client=make_chroma_client(mode="embedded", path=tmp_path / "chroma"),
            collection="cuts",
            embedder=HashingEmbedder(tokenizer, 256),
            tokenizer=tokenizer,
            glossary=glossary,
        )

    writer = index_with(Tokenizer(tmp_path / "jieba", words))
    writer.ingest(sources)
    question = "What is the performance density of the H20 under the 2023 rule?"
    expected = [(p.chunk_id, p.score) for p in writer.search(question, k=5)]
    reader_tokens = Tokenizer(tmp_path / "jieba", words)
    reader = index_with(reader_tokens)
    got = [(p.chunk_id, p.score) for p in reader.search(question, k=5)]
    assert got == expected
    assert not reader_tokens.jieba_loaded
    chinese = reader.search("H20的性能密度是多少", k=3)  # a new Chinese run: jieba loads, and the cut is kept
    assert chinese and reader_tokens.jieba_loaded
    assert "s:的性能密度是多少" in json.loads((tmp_path / "jieba" / CUTS_FILE).read_text(encoding="utf-8"))["cuts"]


def test_a_search_that_loads_jieba_primes_the_cache_again(tmp_path: Path, glossary: Glossary) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    shutil.copy(SOURCES / "nvidia-h20-l20-l2-zh.md", sources / "h20-zh.md")
    words = tuple(glossary.chinese_terms)

    def index_with(tokenizer: Tokenizer):  # type: ignore[no-untyped-def]
        return open_index(
            manifest_path=tmp_path / "corpus.sqlite",
            client=make_chroma_client(mode="embedded", path=tmp_path / "chroma"),
            collection="cuts",
            embedder=HashingEmbedder(tokenizer, 256),
            tokenizer=tokenizer,
            glossary=glossary,
        )

    index_with(Tokenizer(tmp_path / "jieba", words)).ingest(sources)
    (tmp_path / "jieba" / CUTS_FILE).unlink()  # lost, or written for another jieba
    index = index_with(Tokenizer(tmp_path / "jieba", words))  # the next process
    index.search("H20的性能密度是多少", k=3)
    cuts = json.loads((tmp_path / "jieba" / CUTS_FILE).read_text(encoding="utf-8"))["cuts"]
    assert {"s:性能密度", "a:性能密度", "s:的性能密度是多少"} <= set(cuts)
    title = next(r.title for r in index._current().records)
    assert all(f"s:{m}" in cuts for m in __import__("re").findall("[\u4e00-\u9fff]+", title.lower()))


def test_tokenizers_share_jiebas_dictionary_but_not_their_words(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """jieba's main dictionary is read once per process (~0.5 s each time before, for every data folder); each
    tokenizer adds its own glossary words to its own copy."""
    import jieba

    Tokenizer(None).words("预热")  # this process's dictionary is loaded (by this or an earlier test)
    loads: list[object] = []
    monkeypatch.setattr(jieba.Tokenizer, "initialize", lambda self, *a: loads.append(self))
    term = "甲乙丙丁戊"
    with_term = Tokenizer(tmp_path / "a", (term,))
    without = Tokenizer(tmp_path / "b", ())
    assert term in with_term.words(f"这是{term}的说明") and term not in without.words(f"这是{term}的说明")
    assert with_term.jieba_loaded and without.jieba_loaded and loads == []  # no tokenizer read the file again
    main_words, _ = text._main_dictionary(None)
    assert term not in main_words  # the shared dictionary is never changed


def test_indexed_passages_are_cut_once_per_process_and_glossary(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    passage = "华为昇腾910B的显存带宽为每秒1.6 TB，适合大模型训练（一段被记住的段落）。"
    first = Tokenizer(tmp_path / "a", ("显存带宽",)).passage_words(passage)
    assert first == Tokenizer(None, ("显存带宽",)).words(passage)
    cuts: list[str] = []
    original = Tokenizer._cut
    monkeypatch.setattr(Tokenizer, "_cut", lambda self, run, mode: cuts.append(run) or original(self, run, mode))
    again = Tokenizer(tmp_path / "b", ("显存带宽",))
    assert again.passage_words(passage) == first and cuts == [] and not again.jieba_loaded
    again.passage_words(passage).clear()  # the caller's copy
    assert again.passage_words(passage) == first
    assert Tokenizer(None, ("带宽",)).passage_words(passage) and cuts  # other glossary words: cut again

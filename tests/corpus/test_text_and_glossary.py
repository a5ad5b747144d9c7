"""Tokenisation and the bilingual glossary."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.errors import SourceError
from corpus.glossary import Glossary, load_glossary
from corpus.text import Tokenizer, normalize, stem


def test_normalize_folds_width_case_and_thousands() -> None:
    assert normalize("ＴＰＰ 4,800 and 1,978.9") == "tpp 4800 and 1978.9"


def test_stem_plurals_only() -> None:
    assert [stem(w) for w in ("servers", "densities", "chips", "class", "bus", "h20s", "gaudi")] == [
        "server", "density", "chip", "class", "bus", "h20s", "gaudi"
    ]


def test_mixed_tokens(tokenizer: Tokenizer) -> None:
    tokens = tokenizer.words("H20的FP16算力是多少？ The 96GB memory of the servers, 4,800 TPP")
    assert {"h20", "fp16", "算力", "96gb", "96", "gb", "memory", "server", "4800", "tpp"} <= set(tokens)
    assert "的" not in tokens and "the" not in tokens and "是" not in tokens


def test_search_mode_yields_parts_of_glossary_words(tokenizer: Tokenizer) -> None:
    tokens = tokenizer.words("第二道红线则是性能密度")
    assert {"性能密度", "性能", "密度"} <= set(tokens)


def test_glossary_expands_both_ways(glossary: Glossary) -> None:
    assert "性能密度" in glossary.expand("What is the performance density threshold?")
    assert "cross-node" in glossary.expand("跨节点互联为什么是瓶颈")
    assert "昇腾" in glossary.expand("Ascend 910B memory")
    assert "China Mobile".lower() in [t.lower() for t in glossary.expand("中国移动采购了多少服务器")]
    assert {"显存", "hbm"} & set(glossary.expand("H20 memory capacity"))


def test_glossary_matches_words_not_substrings_and_respects_capitals(glossary: Glossary) -> None:
    assert "美国" in glossary.expand("US export rules")
    assert "美国" not in glossary.expand("tell us about the bus")
    assert "交换机" not in glossary.expand("switching costs")  # 'switch' is a word, not a prefix


def test_glossary_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "g.yaml"
    bad.write_text("terms: nope\n", encoding="utf-8")
    with pytest.raises(SourceError, match="terms"):
        load_glossary(bad)
    bad.write_text("terms:\n  - {zh: [], en: []}\n", encoding="utf-8")
    with pytest.raises(SourceError, match="neither zh nor en"):
        load_glossary(bad)

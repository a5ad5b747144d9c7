"""Chunking: sentence boundaries in Chinese and English, offsets, sections, stable ids."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.chunking import chunk_document, split_sentences, units
from corpus.loaders import parse_document
from tests.corpus.conftest import SOURCES

ZH_END = "。！？"


def doc(body: str, name: str = "t.md"):  # type: ignore[no-untyped-def]
    return parse_document(body.encode(), name=name)


zh_sentence = st.builds(
    lambda words, end: "".join(words) + end,
    st.lists(
        st.sampled_from(["英伟达", "昇腾", "算力", "显存带宽", "服务器", "集群", "出口管制", "，", "市场"]),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from(list(ZH_END)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(zh_sentence, min_size=1, max_size=40))
def test_chinese_chunks_end_only_at_sentence_boundaries(sentences: list[str]) -> None:
    body = "".join(sentences)
    d = doc("---\nid: zh-test\nlanguage: zh\n---\n" + body + "\n")
    chunks = chunk_document(d, max_units=200)  # every generated sentence fits (≤ 20 words ≤ 161 units)
    boundaries = {0}
    for s in sentences:
        boundaries.add(max(boundaries) + len(s))
    for c in chunks:
        assert d.body[c.start : c.end] == c.text
        assert units(c.text) <= 200
        assert c.start in boundaries and c.end in boundaries
        assert c.text[-1] in ZH_END
    assert "".join(c.text for c in chunks) == body


def test_chinese_paragraphs_split_at_terminators_with_closing_quotes() -> None:
    text = "他说：“美国政府已保证将授予许可证。”英伟达希望尽快交付！这意味着什么？市场在变化。"
    spans = [text[s:e] for s, e in split_sentences(text)]
    assert spans == ["他说：“美国政府已保证将授予许可证。”", "英伟达希望尽快交付！", "这意味着什么？", "市场在变化。"]


def test_english_split_skips_abbreviations_and_decimals() -> None:
    text = "The U.S. government, e.g. BIS, set 4.0 TB/s limits. The H20 has 96 GB! Is it enough? Yes."
    spans = [text[s:e] for s, e in split_sentences(text)]
    assert spans == [
        "The U.S. government, e.g. BIS, set 4.0 TB/s limits.",
        "The H20 has 96 GB!",
        "Is it enough?",
        "Yes.",
    ]


def test_overlong_sentence_is_cut_at_a_comma_within_budget() -> None:
    sentence = "，".join(["英伟达在中国市场的份额持续下降"] * 40) + "。"
    chunks = chunk_document(doc(sentence), max_units=120)
    assert len(chunks) > 1
    assert all(units(c.text) <= 120 for c in chunks)
    assert all(c.text.endswith(("，", "。")) for c in chunks)


def test_seed_article_offsets_sections_and_boilerplate() -> None:
    d = parse_document((SOURCES / "seed-h20-return-2025-07-15.md").read_bytes(), name="seed.md")
    chunks = chunk_document(d)
    for c in chunks:
        assert d.body[c.start : c.end] == c.text
        assert c.text == c.text.strip()
    sections = {c.section for c in chunks if c.factual}
    assert "为“合规”而生的H20" in sections
    reasons = {c.boilerplate for c in chunks if not c.factual}
    assert reasons >= {"headline_list", "comments", "disclaimer"}
    # facts and boilerplate never share a chunk
    assert not any("网友" in c.text for c in chunks if c.factual)
    assert any("7994" in c.text and c.factual for c in chunks)


def test_markdown_sections_and_table_header_context() -> None:
    body = (
        "# Title\n\n## Specs\n\n| Chip | TPP |\n|---|---|\n"
        + "".join(f"| X{i} | {i * 100} |\n" for i in range(60))
        + "\n## Other\n\nA sentence here.\n"
    )
    chunks = chunk_document(doc(body), max_units=120)
    table = [c for c in chunks if c.section == "Title › Specs"]
    assert len(table) > 1
    assert all(c.context == "| Chip | TPP |" for c in table[1:])
    assert chunks[-1].section == "Title › Other" and chunks[-1].text == "A sentence here."


def test_chunk_ids_are_stable_and_local_to_changes() -> None:
    paragraphs = [f"Paragraph {i} is about accelerator number {i}. It has two sentences." for i in range(30)]
    before = chunk_document(doc("\n\n".join(paragraphs)), max_units=200)
    again = chunk_document(doc("\n\n".join(paragraphs)), max_units=200)
    assert [c.chunk_id for c in before] == [c.chunk_id for c in again]
    changed = list(paragraphs)
    changed[15] = "Paragraph 15 was rewritten completely. New facts replace the old ones."
    after = chunk_document(doc("\n\n".join(changed)), max_units=200)
    lost = {c.chunk_id for c in before} - {c.chunk_id for c in after}
    assert 1 <= len(lost) <= 2  # only the chunk(s) holding paragraph 15
    assert all(re.search(r"Paragraph 1[45]", c.text) for c in before if c.chunk_id in lost)


def test_duplicate_text_gets_distinct_ids() -> None:
    body = "## A\n\nSame sentence.\n\n## B\n\nSame sentence.\n"
    ids = [c.chunk_id for c in chunk_document(doc(body))]
    assert len(ids) == 2 and len(set(ids)) == 2

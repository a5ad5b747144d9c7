"""Real document formats: a PDF, a saved news page with boilerplate and a Word file, made here, ingested and found."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from corpus.errors import SourceError
from corpus.loaders import date_from_text, parse_document, read_document
from corpus.types import SearchFilters
from tests.corpus.conftest import IndexFactory

NEWS_PAGE = """<!doctype html><html lang="en"><head><title>Quokka X9 export licence granted | Chip Daily</title>
<meta name="author" content="Jane Roe">
<meta property="article:published_time" content="2024-03-05T08:00:00Z">
<meta property="og:url" content="https://news.example.com/quokka-x9-licence"></head><body>
<header><nav><a href="/">Home</a> <a href="/tech">Tech</a> <a href="/markets">Markets</a>
<a href="/login">Sign in</a></nav></header>
<div class="ad-banner"><p>Sponsored: buy refurbished pangolin GPUs today, free shipping on every order!</p></div>
<main><article><h1>Quokka X9 export licence granted</h1>
<p>The commerce department granted the first export licence for the Quokka X9 accelerator on 5 March 2024, the
company said, covering 4,000 units for a cloud provider in Singapore.</p>
<h2>What the licence covers</h2>
<p>The licence allows shipments of the Quokka X9 with 64 GB of HBM3e memory until the end of 2025, provided the
buyer files quarterly end-use statements with the regulator.</p>
<p>Analysts expect the decision to set a precedent for similar accelerators waiting for review.</p>
</article>
<aside class="related"><h3>Related articles</h3><ul><li><a href="/a">Wombat chips rally as markets reopen</a></li>
<li><a href="/b">Ten best gaming laptops of the year</a></li>
<li><a href="/c">Platypus phone review</a></li></ul></aside>
<section id="comments" class="comments"><h3>Comments (2)</h3>
<div class="comment"><p>gpufan99: Fake news, the numbat accelerator is much better than this.</p></div>
<div class="comment"><p>chipwatcher: Who even needs 64 GB anyway?</p></div></section></main>
<footer><p>Copyright 2024 Chip Daily. All rights reserved. Privacy policy. Cookie settings.</p></footer>
</body></html>"""

BOILERPLATE_WORDS = ("pangolin", "Wombat", "gaming laptops", "numbat", "chipwatcher", "Sign in", "Cookie settings")


def make_pdf(path: Path) -> None:
    """A two-page PDF with a title, an author and a creation date in its information dictionary."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Wallaby W7 accelerator datasheet")
    pdf.set_author("Wallaby Semiconductor")
    pdf.set_creation_date(dt.datetime(2023, 6, 1, 9, 30, tzinfo=dt.UTC))
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(
        0,
        6,
        "Wallaby W7 accelerator. The Wallaby W7 delivers 410 dense FP16 teraflops and carries 80 GB of HBM3 "
        "memory with 3.2 TB/s of bandwidth. Each card draws 550 watts at full load and links to seven peers "
        "over a 450 GB/s fabric.",
    )
    pdf.add_page()
    pdf.multi_cell(
        0,
        6,
        "Availability. Wallaby expects volume shipments of the W7 in the fourth quarter of 2023, with an "
        "eight-card server priced at about 190,000 dollars.",
    )
    pdf.output(str(path))


def make_docx(path: Path, *, with_date: bool = True) -> None:
    """A Chinese Word memo with a title, headings, a table and core properties."""
    import docx

    d = docx.Document()
    d.add_heading("袋熊K3加速卡采购备忘录", level=0)
    d.add_heading("结论", level=1)
    d.add_paragraph("采购组建议在2024年第三季度分两批采购袋熊K3加速卡，每台服务器八卡，总预算不超过三千万元。")
    d.add_heading("规格", level=1)
    table = d.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ("型号", "显存", "功耗"), strict=True):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, ("袋熊K3", "48 GB", "350 W"), strict=True):
        cell.text = text
    d.add_paragraph("袋熊K3的互联带宽为每卡200 GB/s，适合中等规模的推理集群。", style="List Bullet")
    props = d.core_properties
    props.title = "袋熊K3加速卡采购备忘录"
    props.author = "采购组"
    props.language = "zh-CN"
    props.category = "analysis"
    if with_date:
        props.created = dt.datetime(2024, 5, 20, 10, 0)
    d.save(str(path))


def test_pdf_text_and_metadata(tmp_path: Path) -> None:
    make_pdf(tmp_path / "w7.pdf")
    d = read_document(tmp_path / "w7.pdf")
    assert d.format == "pdf" and d.title == "Wallaby W7 accelerator datasheet" and d.author == "Wallaby Semiconductor"
    assert d.date == dt.date(2023, 6, 1) and d.date_source == "pdf_metadata" and d.language == "en"
    assert "410 dense FP16 teraflops" in d.body and "190,000 dollars" in d.body
    # hard line wraps of the PDF are joined back into sentences
    assert "carries 80 GB of HBM3 memory with 3.2 TB/s" in " ".join(d.body.split())


def test_html_drops_navigation_ads_related_and_comments() -> None:
    d = parse_document(NEWS_PAGE.encode(), name="quokka.html")
    assert d.title == "Quokka X9 export licence granted" and d.author == "Jane Roe"
    assert d.date == dt.date(2024, 3, 5) and d.date_source == "html_meta" and d.kind == "news"
    assert d.urls == ("https://news.example.com/quokka-x9-licence",)
    assert "4,000 units for a cloud provider in Singapore" in d.body and "## What the licence covers" in d.body
    for word in BOILERPLATE_WORDS:
        assert word not in d.body, word


def test_docx_headings_table_and_core_properties(tmp_path: Path) -> None:
    make_docx(tmp_path / "memo.docx")
    d = read_document(tmp_path / "memo.docx")
    assert d.format == "docx" and d.title == "袋熊K3加速卡采购备忘录" and d.author == "采购组"
    assert d.language == "zh" and d.kind == "analysis"
    assert d.date == dt.date(2024, 5, 20) and d.date_source == "docx_metadata"
    assert "## 结论" in d.body and "| 袋熊K3 | 48 GB | 350 W |" in d.body and "- 袋熊K3的互联带宽" in d.body


@pytest.mark.slow
def test_ingested_formats_are_found_with_their_dates_and_titles(tmp_path: Path, make_index: IndexFactory) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    make_pdf(docs / "w7.pdf")
    make_docx(docs / "memo.docx")
    (docs / "quokka.html").write_text(NEWS_PAGE, encoding="utf-8")
    index = make_index()
    report = index.ingest(docs)
    assert sorted(report.added) == ["memo", "quokka", "w7"] and not report.failed

    top = index.search("Wallaby W7 memory bandwidth", k=3)[0]
    assert (top.doc_id, top.title, top.date, top.date_source) == (
        "w7", "Wallaby W7 accelerator datasheet", dt.date(2023, 6, 1), "pdf_metadata"
    )
    assert "3.2 TB/s" in top.text

    top = index.search("袋熊K3 显存 功耗", k=3)[0]
    assert (top.doc_id, top.title, top.date) == ("memo", "袋熊K3加速卡采购备忘录", dt.date(2024, 5, 20))

    top = index.search("Quokka X9 licence Singapore", k=3)[0]
    assert (top.doc_id, top.title, top.date) == ("quokka", "Quokka X9 export licence granted", dt.date(2024, 3, 5))
    # boilerplate of the page was never indexed, so it cannot be found even when asked for
    everything = index.search("pangolin numbat wombat gaming laptops", k=10, filters=SearchFilters(
        include_nonfactual=True))
    assert all(word not in p.text for p in everything for word in BOILERPLATE_WORDS)

    in_2024 = SearchFilters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31))
    assert {p.doc_id for p in index.search("accelerator memory", k=10, filters=in_2024)} <= {"memo", "quokka"}


def test_unknown_dates_stay_unknown(tmp_path: Path) -> None:
    make_docx(tmp_path / "undated.docx", with_date=False)
    d = read_document(tmp_path / "undated.docx")
    # python-docx stamps no creation date and the memo text names a quarter, not a day: unknown, and said so
    assert d.date is None and d.date_source is None
    note = parse_document(b"NVIDIA H20 has 96 GB of HBM3.\n", name="note.txt")
    assert note.date is None and note.date_source is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Chip Daily\nPublished: 2025-07-15 08:00\nBody mentions 2022-10-07 later.", dt.date(2025, 7, 15)),
        ("记者 张三\n发布时间：2025年7月15日 10:20\n正文", dt.date(2025, 7, 15)),
        ("Some headline\nJuly 9, 2025 — NVIDIA said", dt.date(2025, 7, 9)),
        ("Report, 13 October 2022.\nThe rule ...", dt.date(2022, 10, 13)),
        ("No date here, only 2025 and Q3.", None),
        ("Published: 2025-02-30 (typo) and nothing else", None),
    ],
)
def test_date_from_text(text: str, expected: dt.date | None) -> None:
    assert date_from_text(text) == expected


def test_text_date_is_used_when_metadata_has_none() -> None:
    d = parse_document("英伟达H20回归\n发布时间：2025年7月15日\n英伟达表示将恢复销售。".encode(), name="n.txt")
    assert d.date == dt.date(2025, 7, 15) and d.date_source == "text"


@pytest.mark.parametrize(
    ("raw", "name", "needle"),
    [
        (b"%PDF-1.7\nnot really a pdf", "broken.pdf", "not a readable PDF"),
        (b"PK\x03\x04 not a zip", "broken.docx", "not a readable .docx"),
        (b"<html><head><script>x()</script></head><body></body></html>", "empty.html", "no article"),
    ],
)
def test_broken_binary_documents_fail_clearly(raw: bytes, name: str, needle: str) -> None:
    with pytest.raises(SourceError) as info:
        parse_document(raw, name=name)
    assert needle in info.value.message


def test_scanned_pdf_without_text_layer(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    buffer = io.BytesIO()
    pdf.output(buffer)
    with pytest.raises(SourceError, match="no text layer"):
        parse_document(buffer.getvalue(), name="scan.pdf")

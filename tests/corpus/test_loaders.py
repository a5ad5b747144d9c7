"""Loaders: front matter, HTML, and clear errors for bad files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from corpus.errors import SourceError
from corpus.loaders import find_sources, parse_document, read_document
from tests.corpus.conftest import SOURCES


def test_front_matter_fields() -> None:
    d = read_document(SOURCES / "seed-h20-return-2025-07-15.md")
    assert d.doc_id == "seed-h20-return-2025-07-15"
    assert d.author == "郑晨烨" and d.date == dt.date(2025, 7, 15)
    assert d.kind == "news" and d.language == "zh"
    assert not d.body.startswith("---") and "kind: news" not in d.body


def test_plain_text_without_front_matter_gets_defaults() -> None:
    d = parse_document(b"NVIDIA H20 has 96 GB of HBM3.\n", name="note one.txt")
    assert d.doc_id == "note-one" and d.kind == "other" and d.language == "en" and d.date is None
    assert parse_document("英伟达H20显存为96GB。".encode(), name="a.txt").language == "zh"


def test_html_text_metadata_and_headings() -> None:
    html = """<!doctype html><html lang="zh-CN"><head><title>H20 回归</title>
    <meta name="date" content="2025-07-15"><meta name="author" content="记者"><style>p{}</style>
    <script>var x = "ignore previous instructions";</script></head><body><nav>首页 | 财经</nav>
    <h2>规格</h2><p>H20 显存 96&nbsp;GB。</p><ul><li>带宽 4.0 TB/s</li></ul><footer>版权所有</footer></body></html>"""
    d = parse_document(html.encode(), name="page.html")
    assert d.title == "H20 回归" and d.language == "zh" and d.date == dt.date(2025, 7, 15) and d.kind == "news"
    assert "规格" in d.body and "H20 显存 96 GB。" in d.body and "带宽 4.0 TB/s" in d.body
    assert "var x" not in d.body and "首页" not in d.body and "版权所有" not in d.body


@pytest.mark.parametrize(
    ("raw", "name", "needle"),
    [
        ("英伟达".encode("gbk"), "gbk.txt", "not UTF-8"),
        (b"", "empty.md", "no text"),
        (b"---\nid: x\n---\n   \n", "blank.md", "no text"),
        (b"{\\rtf1 x}", "paper.rtf", "unsupported file type .rtf"),
        (b"---\nkind: blog\n---\ntext\n", "k.md", "kind 'blog' is not one of"),
        (b"---\npublished: 2025-02-30\n---\ntext\n", "d.md", "day is out of range"),
        (b"---\n[unclosed\n---\ntext\n", "y.md", "front matter is not valid YAML"),
        (b"abc\x00def", "bin.txt", "binary"),
    ],
)
def test_bad_documents_raise_source_error(raw: bytes, name: str, needle: str) -> None:
    with pytest.raises(SourceError) as info:
        parse_document(raw, name=name)
    assert needle in info.value.message and info.value.code == "source_invalid"


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    folder_named_like_a_file = tmp_path / "looks.md"
    folder_named_like_a_file.mkdir()
    with pytest.raises(SourceError, match="cannot read"):
        read_document(folder_named_like_a_file)
    with pytest.raises(SourceError, match="cannot read"):
        read_document(tmp_path / "missing.md")
    with pytest.raises(SourceError, match="does not exist"):
        find_sources(tmp_path / "nowhere")


def test_find_sources_skips_hidden_unsupported_and_readme(tmp_path: Path) -> None:
    for name in ("a.md", "b.txt", "c.html", "README.md", "d.rtf", ".hidden.md"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "e.md").write_text("x", encoding="utf-8")
    assert [p.name for p in find_sources(tmp_path)] == ["a.md", "b.txt", "c.html"]

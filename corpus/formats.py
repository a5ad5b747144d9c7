"""Text and metadata out of binary and web formats: PDF (pypdf), DOCX (python-docx), HTML (trafilatura).

Each ``*_document`` function takes a file's bytes and returns ``(meta, body, date_source)``: a metadata mapping
with the keys :func:`corpus.loaders.parse_document` understands (title, author, language, published, url,
kind, id), the body text (Markdown-style headings where the format marks them, so the chunker sees sections)
and where the published date came from (``None`` when the format's metadata has no date).

The libraries are imported inside the functions, so importing :mod:`corpus.loaders` stays light.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from html.parser import HTMLParser
from typing import Any

from corpus.errors import SourceError
from corpus.types import KINDS, DateSource

Extracted = tuple[dict[str, Any], str, DateSource | None]

_SENTENCE_END = re.compile(r"[.!?。！？:：;；)）\]」”\"']$")
_DOCX_TEMPLATE_CREATED = dt.datetime(2013, 12, 23, 23, 15)
"""Creation stamp of python-docx's blank template: a file that still carries it has no real date."""
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------------- PDF


def _pdf_date(value: Any) -> dt.date | None:
    """A PDF date (``D:20221013120000Z`` or a datetime) as a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    m = re.match(r"^(?:D:)?(\d{4})(\d{2})(\d{2})", str(value or ""))
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _join_pdf_lines(page: str) -> str:
    """Undo the hard line wraps of extracted PDF text: a line that does not end a sentence continues."""
    out: list[str] = []
    for raw in page.splitlines():
        line = raw.strip()
        if not line:
            if out and out[-1] != "":
                out.append("")
            continue
        if out and out[-1] and not _SENTENCE_END.search(out[-1]) and not line.startswith(("-", "•", "#")):
            prev = out[-1]
            if prev.endswith("-") and line[:1].islower():
                out[-1] = prev[:-1] + line  # de-hyphenate "proces-\nsing"
            elif prev[-1:].isascii() or line[:1].isascii():
                out[-1] = prev + " " + line
            else:
                out[-1] = prev + line  # Chinese wraps carry no space
        else:
            out.append(line)
    return "\n".join(out).strip()


def pdf_document(raw: bytes, name: str) -> Extracted:
    """Text of every page and the document information dictionary (title, author, creation date).

    Raises:
        SourceError: Not a PDF, encrypted, or without a text layer (a scan needs OCR first).
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise SourceError(f"{name} is an encrypted PDF; save an unprotected copy first")
        pages = [_join_pdf_lines(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata
    except SourceError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise SourceError(f"{name} is not a readable PDF ({exc})") from None
    body = "\n\n".join(p for p in pages if p)
    if not body.strip():
        raise SourceError(f"{name} has no text layer (a scanned PDF?); run OCR on it first")
    meta: dict[str, Any] = {}
    date_source: DateSource | None = None
    if info is not None:
        if info.title:
            meta["title"] = str(info.title)
        if info.author:
            meta["author"] = str(info.author)
        if info.subject:
            meta["subject"] = str(info.subject)
        created = _pdf_date(info.get("/CreationDate"))
        if created is not None:
            meta["published"] = created
            date_source = "pdf_metadata"
    return meta, body + "\n", date_source


# ---------------------------------------------------------------------------------------------------- DOCX


def docx_document(raw: bytes, name: str) -> Extracted:
    """Paragraphs (headings as Markdown headings, list items as ``-``) and tables, in document order.

    Metadata comes from the core properties: title, author, language, created date; ``category`` may name the
    kind and ``identifier`` the document id.

    Raises:
        SourceError: Not a DOCX (Word 97 ``.doc`` files need converting first).
    """
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # python-docx raises zipfile, KeyError and its own errors for non-DOCX input
        raise SourceError(f"{name} is not a readable .docx file ({exc.__class__.__name__}); save it as .docx") from None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if not text:
                continue
            style = (block.style.name if block.style is not None else "") or ""
            heading = _HEADING_STYLE.match(style.strip())
            if style == "Title":
                lines.append(f"# {text}")
            elif heading:
                lines.append("#" * min(6, int(heading.group(1)) + 1) + " " + text)
            elif "list" in style.lower():
                lines.append(f"- {text}")
            else:
                lines.append(text)
        elif isinstance(block, Table):
            for row in block.rows:
                cells = [" ".join(c.text.split()) for c in row.cells]
                if any(cells):
                    lines.append("| " + " | ".join(cells) + " |")
    props = document.core_properties
    meta: dict[str, Any] = {}
    for key, value in (
        ("title", props.title),
        ("author", props.author),
        ("language", props.language),
        ("id", props.identifier),
    ):
        if value:
            meta[key] = value
    if (props.category or "").strip().lower() in KINDS:
        meta["kind"] = props.category.strip().lower()
    date_source: DateSource | None = None
    if props.created is not None and props.created.replace(tzinfo=None) != _DOCX_TEMPLATE_CREATED:
        meta["published"] = props.created.date()
        date_source = "docx_metadata"
    return meta, "\n".join(lines) + "\n", date_source


# ---------------------------------------------------------------------------------------------------- HTML

_META_KEYS = {
    "author": "author",
    "date": "published",
    "pubdate": "published",
    "publishdate": "published",
    "publish-date": "published",
    "article:published_time": "published",
    "dc.date": "published",
    "dc.date.issued": "published",
    "citation_publication_date": "published",
    "og:title": "title",
    "og:url": "url",
    "kind": "kind",
    "procure:kind": "kind",
    "procure:id": "id",
}


_PRUNE = ["//nav", "//header", "//footer", "//aside", "//form"]
"""Removed before extraction, so that trafilatura's fallbacks for pages without an article never keep them."""


class _HeadMeta(HTMLParser):
    """``<title>``, ``<html lang>``, ``<meta>`` and the first ``<time datetime>`` of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title: str | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "title":
            self._in_title = True
        elif tag == "html" and a.get("lang"):
            self.meta.setdefault("language", a["lang"])
        elif tag == "meta":
            key = _META_KEYS.get((a.get("name") or a.get("property") or a.get("itemprop") or "").lower())
            if key and a.get("content"):
                self.meta.setdefault(key, a["content"])
        elif tag == "time" and a.get("datetime"):
            self.meta.setdefault("time", a["datetime"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = ((self.title or "") + data).strip()


def html_document(raw: str, name: str) -> Extracted:
    """Main text of a web page (navigation, ads, related-article lists and comments dropped) and its metadata.

    trafilatura finds the article body; the page's own ``<meta>`` tags (author, article:published_time, our
    ``procure:kind``/``procure:id``) take precedence over what it infers, and its date is used only when the page
    has none of those.

    Raises:
        SourceError: The page has no main text.
    """
    import trafilatura

    head = _HeadMeta()
    head.feed(raw)
    head.close()
    meta: dict[str, Any] = {k: v for k, v in head.meta.items() if k != "time"}
    date_source: DateSource | None = "html_meta" if "published" in meta else None
    body = trafilatura.extract(
        raw,
        output_format="markdown",
        include_comments=False,
        include_tables=True,
        include_links=False,
        include_images=False,
        with_metadata=False,
        prune_xpath=_PRUNE,
    )
    found = trafilatura.extract_metadata(raw, date_config={"extensive_search": False, "original_date": True})
    if found is not None:
        if found.title:
            meta.setdefault("title", found.title)
        if found.author:
            meta.setdefault("author", found.author)
        if found.url:
            meta.setdefault("url", found.url)
        if "published" not in meta and found.date:
            meta["published"] = found.date
            date_source = "html_meta"
    if "published" not in meta and head.meta.get("time"):
        meta["published"] = head.meta["time"]
        date_source = "html_meta"
    if head.title:
        meta.setdefault("title", head.title)
    if not body or not body.strip():
        raise SourceError(f"{name}: no article text found in the page (only navigation or scripts?)")
    return meta, _clean_markdown(body), date_source


def _clean_markdown(text: str) -> str:
    """Trafilatura's Markdown without emphasis markers and with tidy blank lines."""
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"

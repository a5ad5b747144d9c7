"""Read source files (Markdown, text, HTML, PDF, DOCX) into :class:`~corpus.types.SourceDocument`.

Metadata, by format:

- Markdown and text: YAML front matter between ``---`` lines (id, title, kind, language, published, author,
  source_urls; fact sheets also carry ``authored`` and ``source_dates``).
- HTML: ``<title>``, ``<html lang>`` and ``<meta>`` tags (author, article:published_time, DC.date, og:url);
  the main text is extracted with trafilatura, which drops navigation, ads, related-article lists and comments.
- PDF (pypdf): the document information dictionary (title, author, creation date).
- DOCX (python-docx): the core properties (title, author, language, created, category as kind).

When the metadata has no date, the text itself is searched: a dated line near the top ("Published:
2025-07-15", "发布时间：2025年7月15日", "July 15, 2025"). A date found nowhere stays unknown (``date`` None,
``date_source`` None) and the document is left out of date-filtered searches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

from corpus.errors import SourceError
from corpus.formats import Extracted, docx_document, html_document, pdf_document
from corpus.text import cjk_ratio
from corpus.types import KINDS, LANGUAGES, Kind, Language, SourceDocument

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")
LOADER_VERSION = "2"
"""Part of the pipeline signature: a change to what the loaders extract re-ingests every document."""
_FORMATS = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".html": "html", ".htm": "html",
            ".pdf": "pdf", ".docx": "docx"}
MAX_FILE_BYTES = 20_000_000
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the same safe load, faster
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.DOTALL)
_DOC_ID = re.compile(r"[^A-Za-z0-9._-]+")
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_TEXT_DATES = (
    re.compile(r"(?P<y>(?:19|20)\d{2})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"),
    re.compile(r"(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2}),\s*(?P<y>(?:19|20)\d{2})"),
    re.compile(r"(?P<d>\d{1,2})\s+(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<y>(?:19|20)\d{2})"),
)
_DATE_CUE = re.compile(
    r"published|publication date|date of publication|posted|released|dated|updated|date\s*:|"
    r"发布时间|发布日期|发表时间|发表日期|出版日期|日期[:：]|发布于",
    re.IGNORECASE,
)
_DATE_KEYS = ("published", "date", "published_date")
TEXT_DATE_WINDOW = 600
"""A date in the text counts only within this many characters of the start (a dateline or byline)."""


def _slug(text: str) -> str:
    slug = _DOC_ID.sub("-", text).strip("-.")
    return slug[:128] or "document"


def _content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _decode(raw: bytes, name: str) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{name} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "convert it first, e.g. `iconv -f GBK -t UTF-8`"
        ) from None
    if "\x00" in text:
        raise SourceError(f"{name} looks binary (it contains NUL characters); only text documents can be ingested")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _parse_date(value: Any, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    m = _DATE.search(str(value))
    if not m:
        raise SourceError(f"{name}: published date {value!r} is not YYYY-MM-DD")
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise SourceError(f"{name}: published date {value!r} is not a real date") from None


def _date_in(text: str) -> dt.date | None:
    """First real date written in ``text`` (ISO, Chinese 年月日, or English month names)."""
    found: list[tuple[int, dt.date]] = []
    for pattern in _TEXT_DATES:
        for m in pattern.finditer(text):
            parts = m.groupdict()
            month = int(parts["m"]) if parts.get("m") else _MONTHS.get(str(parts.get("mon", ""))[:3].lower(), 0)
            try:
                found.append((m.start(), dt.date(int(parts["y"]), month, int(parts["d"]))))
            except ValueError:
                continue
    return min(found)[1] if found else None


def date_from_text(body: str) -> dt.date | None:
    """Publication date stated near the top of a text; None when there is none (the date is unknown).

    A line with a cue ("Published", "发布时间") wins; else the first date in the opening ``TEXT_DATE_WINDOW``
    characters counts.
    """
    head = body[:TEXT_DATE_WINDOW]
    for line in head.splitlines():
        if _DATE_CUE.search(line):
            found = _date_in(line)
            if found is not None:
                return found
    return _date_in(head)


def _language(value: Any, body: str) -> Language:
    if isinstance(value, str) and value:
        primary = value.strip().lower().replace("_", "-").split("-")[0]
        aliases = {"chinese": "zh", "cn": "zh", "english": "en"}
        primary = aliases.get(primary, primary)
        for lang in LANGUAGES:
            if primary == lang:
                return lang
    return "zh" if cjk_ratio(body[:5000]) > 0.15 else "en"


def _kind(value: Any, name: str, default: Kind) -> Kind:
    if value is None or value == "":
        return default
    text = str(value).strip().lower()
    for kind in KINDS:
        if text == kind:
            return kind
    raise SourceError(f"{name}: kind {value!r} is not one of {', '.join(KINDS)}")


def _urls(meta: dict[str, Any]) -> tuple[str, ...]:
    urls: list[str] = []
    for key in ("source_urls", "source_url", "urls", "url", "source"):
        value = meta.get(key)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, str) and item.startswith(("http://", "https://")):
                urls.append(item.strip())
            elif isinstance(item, dict):
                urls.extend(v for v in item.values() if isinstance(v, str) and v.startswith(("http://", "https://")))
    return tuple(dict.fromkeys(urls))


def _first_heading(body: str) -> str | None:
    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            return stripped.lstrip("#").strip() or None
        if stripped:
            return stripped[:80] if len(stripped) <= 80 else None
    return None


def _split_front_matter(text: str, name: str) -> tuple[dict[str, Any], str]:
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    try:
        meta = yaml.load(m.group(1), Loader=_YAML_LOADER) or {}  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise SourceError(f"{name}: front matter is not valid YAML ({str(exc).splitlines()[0]})") from None
    except ValueError as exc:  # PyYAML builds dates itself: 2025-02-30 fails here
        raise SourceError(f"{name}: front matter has an invalid value ({exc})") from None
    if not isinstance(meta, dict):
        raise SourceError(f"{name}: front matter must be a mapping of fields (id, title, kind, …)")
    return meta, text[m.end() :]


def parse_document(raw: bytes, *, name: str, path: Path | None = None) -> SourceDocument:
    """Parse the bytes of one source file.

    Args:
        raw: The file's bytes (text formats: UTF-8, optionally with a BOM).
        name: The file name; its suffix picks the format and its stem is the fallback id.
        path: Where the file lives, recorded with the document.

    Returns:
        The document with its metadata and body text.

    Raises:
        SourceError: Unsupported type, not UTF-8, empty, unreadable PDF/DOCX, bad front matter or metadata.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise SourceError(f"{name}: unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED_SUFFIXES)}")
    if not raw.strip():
        raise SourceError(f"{name} has no text to index")
    meta, body, date_source = _extract(raw, suffix, name)
    if not body.strip():
        raise SourceError(f"{name} has no text to index")
    published = _parse_date(meta.get("published") or meta.get("date") or meta.get("published_date"), name)
    stated = any(key in meta for key in _DATE_KEYS)  # "published: null" states that the date is unknown
    if published is None and not stated:
        published = date_from_text(body)
        date_source = "text" if published is not None else None
    doc_id = _slug(str(meta.get("id") or Path(name).stem))
    title = str(meta.get("title") or _first_heading(body) or Path(name).stem).strip()
    author = meta.get("author")
    return SourceDocument(
        doc_id=doc_id,
        title=title,
        kind=_kind(meta.get("kind"), name, "news" if suffix in (".html", ".htm") else "other"),
        language=_language(meta.get("language") or meta.get("lang"), body),
        date=published,
        date_source=date_source,
        authored=_parse_date(meta.get("authored"), name),
        source_dates=_source_dates(meta.get("source_dates"), name),
        format=_FORMATS[suffix],
        author=str(author).strip() if author else None,
        urls=_urls(meta),
        path=str(path) if path else None,
        content_hash=_content_hash(raw),
        body=body,
    )


def _extract(raw: bytes, suffix: str, name: str) -> Extracted:
    """Metadata, body and date origin of one file by its format."""
    if suffix == ".pdf":
        return pdf_document(raw, name)
    if suffix == ".docx":
        return docx_document(raw, name)
    text = _decode(raw, name)
    if suffix in (".html", ".htm"):
        return html_document(text, name)
    meta, body = _split_front_matter(text, name)
    has_date = any(meta.get(key) for key in _DATE_KEYS)
    return meta, body, "front_matter" if has_date else None


def _source_dates(value: Any, name: str) -> dict[str, dt.date]:
    """``source_dates`` of a fact sheet: a mapping of source id to date (unknown dates are simply absent)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SourceError(f"{name}: source_dates must map source ids to YYYY-MM-DD dates")
    out: dict[str, dt.date] = {}
    for key, day in value.items():
        parsed = _parse_date(day, f"{name} source_dates.{key}")
        if parsed is not None:
            out[str(key)] = parsed
    return out


def read_document(path: Path) -> SourceDocument:
    """Read and parse one file.

    Args:
        path: A .md, .markdown, .txt, .html, .htm, .pdf or .docx file.

    Returns:
        The parsed document.

    Raises:
        SourceError: The file is missing, unreadable, too large or cannot be parsed.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SourceError(f"{path} is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} bytes per document")
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise SourceError(f"cannot read {path}: {reason}") from None
    return parse_document(raw, name=path.name, path=path.resolve())


def find_sources(root: Path) -> list[Path]:
    """Supported files under ``root`` (or ``root`` itself), sorted; hidden files and folders are skipped.

    Args:
        root: A file or a folder.

    Returns:
        The files to ingest.

    Raises:
        SourceError: ``root`` does not exist.
    """
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise SourceError(f"{root} does not exist; give a file or a folder of .md/.txt/.html/.pdf/.docx documents")
    files = [
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUPPORTED_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
        and p.name.lower() != "readme.md"
    ]
    return sorted(files)

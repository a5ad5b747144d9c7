"""Read source files (.md, .markdown, .txt, .html, .htm) into :class:`~corpus.types.SourceDocument`.

Markdown and text files may start with YAML front matter between ``---`` lines (id, title, kind, language,
published, author, source_urls). HTML files give their title, language, date and author through
``<title>``, ``<html lang>`` and ``<meta>`` tags; their text is extracted with the standard library's
parser, dropping scripts, styles, navigation, headers, footers and asides. PDF is not supported: no
parser small and well kept enough to add was needed for this corpus.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

from corpus.errors import SourceError
from corpus.text import cjk_ratio
from corpus.types import KINDS, LANGUAGES, Kind, Language, SourceDocument

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm")
MAX_FILE_BYTES = 20_000_000
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.DOTALL)
_DOC_ID = re.compile(r"[^A-Za-z0-9._-]+")
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


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
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise SourceError(f"{name}: front matter is not valid YAML ({str(exc).splitlines()[0]})") from None
    except ValueError as exc:  # PyYAML builds dates itself: 2025-02-30 fails here
        raise SourceError(f"{name}: front matter has an invalid value ({exc})") from None
    if not isinstance(meta, dict):
        raise SourceError(f"{name}: front matter must be a mapping of fields (id, title, kind, …)")
    return meta, text[m.end() :]


class _HtmlText(HTMLParser):
    """Collect readable text; headings become Markdown headings so the chunker sees sections."""

    SKIP = frozenset({"script", "style", "noscript", "nav", "header", "footer", "aside", "form", "svg", "template"})
    BLOCK = frozenset(
        {"p", "div", "br", "li", "tr", "section", "article", "table", "ul", "ol", "blockquote", "pre", "hr", "main",
         "dd", "dt", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.meta: dict[str, str] = {}
        self.title: str | None = None
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag in self.SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "html" and a.get("lang"):
            self.meta.setdefault("language", a["lang"])
        elif tag == "meta":
            key = (a.get("name") or a.get("property") or "").lower()
            content = a.get("content", "")
            mapping = {
                "author": "author",
                "date": "published",
                "pubdate": "published",
                "publishdate": "published",
                "article:published_time": "published",
                "dc.date": "published",
                "og:title": "title",
                "og:url": "url",
                "kind": "kind",
                "procure:kind": "kind",
                "procure:id": "id",
            }
            if key in mapping and content:
                self.meta.setdefault(mapping[key], content)
        elif tag == "time" and a.get("datetime"):
            self.meta.setdefault("published", a["datetime"])
        if self._skip:
            return
        if tag in self.BLOCK:
            self.parts.append("\n")
        if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.parts.append("#" * int(tag[1]) + " ")
        elif tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in self.BLOCK and not self._skip:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = ((self.title or "") + data).strip()
        elif not self._skip:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        lines = (line.strip() for line in "".join(self.parts).split("\n"))
        out: list[str] = []
        for line in lines:
            if line and line != "#" and not re.fullmatch(r"#+ ?|-", line):
                out.append(line)
        return "\n".join(out) + "\n"


def _html_to_document(text: str) -> tuple[dict[str, Any], str]:
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    meta: dict[str, Any] = dict(parser.meta)
    if parser.title:
        meta.setdefault("title", parser.title)
    return meta, parser.text()


def parse_document(raw: bytes, *, name: str, path: Path | None = None) -> SourceDocument:
    """Parse the bytes of one source file.

    Args:
        raw: The file's bytes (UTF-8, optionally with a BOM).
        name: The file name; its suffix picks the format and its stem is the fallback id.
        path: Where the file lives, recorded with the document.

    Returns:
        The document with its metadata and body text.

    Raises:
        SourceError: Unsupported type, not UTF-8, empty, bad front matter or metadata.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise SourceError(f"{name}: unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED_SUFFIXES)}")
    text = _decode(raw, name)
    if suffix in (".html", ".htm"):
        meta, body = _html_to_document(text)
        default_kind: Kind = "news"
    else:
        meta, body = _split_front_matter(text, name)
        default_kind = "other"
    if not body.strip():
        raise SourceError(f"{name} has no text to index")
    doc_id = _slug(str(meta.get("id") or Path(name).stem))
    title = str(meta.get("title") or _first_heading(body) or Path(name).stem).strip()
    author = meta.get("author")
    return SourceDocument(
        doc_id=doc_id,
        title=title,
        kind=_kind(meta.get("kind"), name, default_kind),
        language=_language(meta.get("language") or meta.get("lang"), body),
        date=_parse_date(meta.get("published") or meta.get("date") or meta.get("published_date"), name),
        author=str(author).strip() if author else None,
        urls=_urls(meta),
        path=str(path) if path else None,
        content_hash=_content_hash(raw),
        body=body,
    )


def read_document(path: Path) -> SourceDocument:
    """Read and parse one file.

    Args:
        path: A .md, .markdown, .txt, .html or .htm file.

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
        raise SourceError(f"{root} does not exist; give a file or a folder of .md/.txt/.html documents")
    files = [
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUPPORTED_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
        and p.name.lower() != "readme.md"
    ]
    return sorted(files)

"""Bilingual glossary for query expansion (``glossary.yaml``): English questions reach Chinese passages.

A query is matched against every entry; for each entry it mentions, the entry's other surface forms are
returned as expansion terms. English forms match on word tokens (so case and plurals do not matter, and
"us" never matches inside "bus"); forms written in capitals match only in capitals ("US" but not "us");
Chinese forms match as substrings of the normalised query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from corpus.errors import SourceError
from corpus.text import ascii_tokens, normalize

DEFAULT_GLOSSARY = "glossary.yaml"
_CASED_WORD = re.compile(r"[A-Za-z0-9.]+")


@dataclass(frozen=True)
class _Form:
    text: str
    chinese: bool
    tokens: tuple[str, ...]
    case_sensitive: bool


@dataclass(frozen=True)
class GlossaryEntry:
    """One concept with its Chinese and English surface forms."""

    zh: tuple[str, ...]
    en: tuple[str, ...]

    @property
    def forms(self) -> tuple[str, ...]:
        """All surface forms, Chinese first."""
        return self.zh + self.en


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


class Glossary:
    """Matcher over glossary entries.

    Args:
        entries: The concepts; see :func:`load_glossary` for the file format.
    """

    def __init__(self, entries: list[GlossaryEntry]) -> None:
        self.entries = entries
        self._forms: list[list[_Form]] = []
        for entry in entries:
            forms = [_Form(z, True, (), False) for z in entry.zh]
            for e in entry.en:
                sensitive = e.isupper()
                forms.append(_Form(e, False, tuple(ascii_tokens(normalize(e), keep_stopwords=True)), sensitive))
            self._forms.append(forms)

    @property
    def chinese_terms(self) -> list[str]:
        """Every Chinese form (given to jieba so it keeps them whole)."""
        return [z for entry in self.entries for z in entry.zh]

    def expand(self, query: str) -> list[str]:
        """Forms of every entry the query mentions that the query does not already contain.

        Args:
            query: The user's question in any language.

        Returns:
            Expansion terms in glossary order, without duplicates.
        """
        norm = normalize(query)
        norm_tokens = tuple(ascii_tokens(norm, keep_stopwords=True))
        cased = set(_cased_words(query))
        out: list[str] = []
        seen: set[str] = set()
        for forms in self._forms:
            hit: set[str] = set()
            for f in forms:
                if f.chinese:
                    matched = normalize(f.text) in norm
                elif f.case_sensitive:
                    matched = f.text in cased
                else:
                    matched = _contains(norm_tokens, f.tokens)
                if matched:
                    hit.add(f.text)
            if not hit:
                continue
            for f in forms:
                if f.text not in hit and f.text not in seen:
                    seen.add(f.text)
                    out.append(f.text)
        return out


def _cased_words(text: str) -> list[str]:
    """ASCII words of ``text`` with their case kept ("U.S." stays one word)."""
    return [w.strip(".") for w in _CASED_WORD.findall(text) if w.strip(".")]


def load_glossary(path: Path | None = None) -> Glossary:
    """Read a glossary file (the shipped ``corpus/glossary.yaml`` by default).

    The file holds ``terms:``, a list of ``{zh: [...], en: [...]}`` entries.

    Args:
        path: Another glossary file, or None for the shipped one.

    Returns:
        The glossary.

    Raises:
        SourceError: The file is missing or malformed.
    """
    try:
        if path is None:
            text = resources.files("corpus").joinpath(DEFAULT_GLOSSARY).read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SourceError(f"cannot read glossary {path or DEFAULT_GLOSSARY}: {exc}") from None
    terms = raw.get("terms") if isinstance(raw, dict) else None
    if not isinstance(terms, list):
        raise SourceError(f"glossary {path or DEFAULT_GLOSSARY} must hold a 'terms' list of {{zh: [...], en: [...]}}")
    entries: list[GlossaryEntry] = []
    for i, item in enumerate(terms):
        if not isinstance(item, dict):
            raise SourceError(f"glossary entry {i} must be a mapping with zh and en lists")
        zh = tuple(str(t) for t in item.get("zh") or ())
        en = tuple(str(t) for t in item.get("en") or ())
        if not zh and not en:
            raise SourceError(f"glossary entry {i} has neither zh nor en forms")
        entries.append(GlossaryEntry(zh=zh, en=en))
    return Glossary(entries)

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

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the same safe load, faster

DEFAULT_GLOSSARY = "glossary.yaml"
_CASED_WORD = re.compile(r"[A-Za-z0-9.]+")


@dataclass(frozen=True)
class _Form:
    text: str
    chinese: bool
    tokens: tuple[str, ...]
    case_sensitive: bool
    norm: str = ""
    """Normalised text of a Chinese form (matched as a substring of the normalised query)."""


@dataclass(frozen=True)
class _Query:
    """A query prepared once for matching against every form."""

    norm: str
    ngrams: frozenset[tuple[str, ...]]
    cased: frozenset[str]


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
            forms = [_Form(z, True, (), False, normalize(z)) for z in entry.zh]
            for e in entry.en:
                sensitive = e.isupper()
                forms.append(_Form(e, False, tuple(ascii_tokens(normalize(e), keep_stopwords=True)), sensitive))
            self._forms.append(forms)
        self._longest = max((len(f.tokens) for forms in self._forms for f in forms), default=1)
        self._cache: dict[str, list[tuple[list[str], list[_Form]]]] = {}

    def _prepare(self, query: str) -> _Query:
        norm = normalize(query)
        tokens = tuple(ascii_tokens(norm, keep_stopwords=True))
        ngrams = {tokens[i : i + n] for n in range(1, self._longest + 1) for i in range(len(tokens) - n + 1)}
        return _Query(norm, frozenset(ngrams), frozenset(_cased_words(query)))

    def _hits(self, query: str) -> list[tuple[list[str], list[_Form]]]:
        """Entries the query mentions: (all form texts, the forms that matched); cached per query text."""
        hits = self._cache.get(query)
        if hits is None:
            prepared = self._prepare(query)
            hits = []
            for forms in self._forms:
                matched = [f for f in forms if self._matches(f, prepared)]
                if matched:
                    hits.append(([f.text for f in forms], matched))
            if len(self._cache) >= 4096:
                self._cache.clear()
            self._cache[query] = hits
        return hits

    @property
    def chinese_terms(self) -> list[str]:
        """Every Chinese form (given to jieba so it keeps them whole)."""
        return [z for entry in self.entries for z in entry.zh]

    def matched_entries(self, query: str) -> list[tuple[str, ...]]:
        """All surface forms (both languages) of every concept the query mentions, in glossary order.

        Entries whose matched words lie inside another matched entry's words ("显存" and "容量" inside "显存容量",
        "memory" inside "memory capacity") are merged into that entry: the query names one concept there, and a
        passage that uses any of the merged forms mentions it.

        Args:
            query: The user's question in any language.

        Returns:
            One tuple of forms per concept.
        """
        hits = self._hits(query)
        merged_into: dict[int, int] = {}
        for i, (_, inner) in enumerate(hits):
            for j, (_, outer) in enumerate(hits):
                if i != j and j not in merged_into and all(any(_inside(a, b) for b in outer) for a in inner):
                    merged_into[i] = j
                    break
        groups: dict[int, list[str]] = {}
        for i, (texts, _) in enumerate(hits):
            root = i
            while root in merged_into:
                root = merged_into[root]
            group = groups.setdefault(root, [])
            group.extend(t for t in texts if t not in group)
        return [tuple(groups[i]) for i in sorted(groups)]

    @staticmethod
    def _matches(form: _Form, query: _Query) -> bool:
        if form.chinese:
            return form.norm in query.norm
        if form.case_sensitive:
            return form.text in query.cased
        return bool(form.tokens) and form.tokens in query.ngrams

    def expand(self, query: str) -> list[str]:
        """Forms of every entry the query mentions that the query does not already contain.

        Args:
            query: The user's question in any language.

        Returns:
            Expansion terms in glossary order, without duplicates.
        """
        out: list[str] = []
        seen: set[str] = set()
        for texts, matched in self._hits(query):
            hit = {f.text for f in matched}
            for text in texts:
                if text not in hit and text not in seen:
                    seen.add(text)
                    out.append(text)
        return out


def _inside(a: _Form, b: _Form) -> bool:
    """True when form ``a`` is a strictly smaller part of form ``b`` (substring, or a run of b's words)."""
    if a.chinese and b.chinese:
        return len(a.text) < len(b.text) and a.norm in b.norm
    if not a.chinese and not b.chinese and a.tokens and len(a.tokens) < len(b.tokens):
        return _contains(b.tokens, a.tokens)
    return False


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
        raw = yaml.load(text, Loader=_YAML_LOADER)
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

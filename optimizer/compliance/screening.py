"""The screening pack (Entity List parties relevant to AI compute) and the name matcher.

Names are compared after normalisation: Unicode NFKC, case folding, punctuation and corporate designators
("Co., Ltd.", "Technologies", "有限公司", "科技" …) removed. A name equal to a listed name, alias or Chinese name
after normalisation is a match; a name that is only similar (a typo, a longer or shorter form of a listed name) is
a *possible* match that a person must verify. Nothing in between is decided silently: every candidate above the
similarity threshold is reported with its score.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizer.catalog.schema import Grade, Source
from optimizer.packs import PackHeader

_LATIN_DESIGNATORS = frozenset({
    "co", "ltd", "limited", "inc", "incorporated", "corp", "corporation", "company", "llc", "plc", "pte", "gmbh",
    "technology", "technologies", "tech", "the",
})
_CJK_DESIGNATORS = ("股份有限公司", "有限责任公司", "有限公司", "股份", "公司", "集团", "科技", "技术")
_PUNCT = re.compile(r"[^\w\s]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff]")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Notice(_Frozen):
    """A Federal Register notice that listed parties."""

    citation: str | None = Field(None, description="e.g. '90 FR 4621'; None when not retrieved (say why in note).")
    document: str | None = Field(None, description="FR document number, e.g. 2025-00480.")
    effective: date
    title: str
    url: str | None = None
    source: tuple[str, ...] = Field(min_length=1)
    grade: Grade
    note: str | None = None

    def label(self) -> str:
        """'90 FR 4621 (FR Doc 2025-00480), effective 2025-01-16'."""
        ref = self.citation or "Federal Register citation not retrieved"
        if self.document:
            ref += f" (FR Doc {self.document})"
        return f"{ref}, effective {self.effective}"


class ListedEntity(_Frozen):
    """One listed party with the names it is known by."""

    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    name: str
    aliases: tuple[str, ...] = ()
    names_zh: tuple[str, ...] = Field((), description="Chinese names (characters).")
    country: str = Field(pattern=r"^[A-Z]{2}$")
    notice: str = Field(description="Key of the notice that listed it.")
    listed_on: date | None = Field(None, description="Effective date of the listing (default: the notice's).")
    license_requirement: str = "all items subject to the EAR"
    review_policy: str = "presumption of denial"
    source: tuple[str, ...] = Field(min_length=1)
    grade: Grade
    note: str | None = None

    def names(self) -> list[tuple[str, Literal["exact", "alias", "chinese_name"]]]:
        """Every name with how it is known."""
        return [(self.name, "exact"), *((a, "alias") for a in self.aliases), *((z, "chinese_name")
                                                                                 for z in self.names_zh)]


class ScreeningPack(_Frozen):
    """The screening pack: notices and the parties they listed."""

    pack: PackHeader | None = None
    schema_version: int = 1
    title: str = "Entity List parties relevant to AI compute"
    sources: dict[str, Source] = Field(default_factory=dict)
    notices: dict[str, Notice]
    entities: tuple[ListedEntity, ...]
    unconfirmed: tuple[str, ...] = Field((), description="Reported listings no source confirms (not screened).")

    @model_validator(mode="after")
    def _refs(self) -> ScreeningPack:
        ids = [e.id for e in self.entities]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate entity ids: {', '.join(dup)}")
        for e in self.entities:
            if e.notice not in self.notices:
                raise ValueError(f"entity {e.id}: unknown notice {e.notice!r}")
        return self

    def listed_on(self, e: ListedEntity) -> date:
        """Effective date of an entity's listing."""
        return e.listed_on or self.notices[e.notice].effective


def normalise(name: str) -> str:
    """Comparable form of a company name: NFKC, case-folded, punctuation and corporate designators removed.

    ``"Sophgo Technologies Ltd."`` -> ``"sophgo"``; ``"算能科技有限公司"`` -> ``"算能"``.
    """
    text = unicodedata.normalize("NFKC", name).casefold()
    text = text.replace("&", " and ")
    text = _PUNCT.sub(" ", text)
    for d in _CJK_DESIGNATORS:
        text = text.replace(d, " ")
    tokens = [t for t in text.split() if t not in _LATIN_DESIGNATORS]
    return " ".join(tokens)


def _compact(text: str) -> str:
    return text.replace(" ", "")


def _significant(core: str) -> bool:
    """Long enough to stand for a company (4 Latin characters, or 2 Chinese characters)."""
    compact = _compact(core)
    return len(compact) >= (2 if _CJK.search(compact) else 4)


def jaro_winkler(a: str, b: str, prefix_weight: float = 0.1) -> float:
    """Jaro-Winkler similarity in [0, 1]: tolerant of typos and transpositions, rewarding a shared prefix."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    window = max(0, max(len(a), len(b)) // 2 - 1)
    a_hit = [False] * len(a)
    b_hit = [False] * len(b)
    matches = 0
    for i, ch in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not b_hit[j] and b[j] == ch:
                a_hit[i] = b_hit[j] = True
                matches += 1
                break
    if not matches:
        return 0.0
    a_seq = [c for c, hit in zip(a, a_hit, strict=True) if hit]
    b_seq = [c for c, hit in zip(b, b_hit, strict=True) if hit]
    transpositions = sum(x != y for x, y in zip(a_seq, b_seq, strict=True)) / 2
    jaro = (matches / len(a) + matches / len(b) + (matches - transpositions) / matches) / 3
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * prefix_weight * (1 - jaro)


def similarity(given: str, listed: str) -> float:
    """Similarity of two normalised names in [0, 1]: 1 when equal, high for typos and for one name inside the other."""
    a, b = _compact(given), _compact(listed)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ratio = max(difflib.SequenceMatcher(None, a, b).ratio(), jaro_winkler(a, b) if min(len(a), len(b)) >= 4 else 0.0)
    short, long_ = (given, listed) if len(a) <= len(b) else (listed, given)
    if _significant(short):
        if _CJK.search(short):
            contained = _compact(short) in _compact(long_)
        else:
            contained = set(short.split()) <= set(long_.split())
        if contained:
            ratio = max(ratio, 0.85)
    return round(ratio, 3)


class NameHit(BaseModel):
    """A candidate match of one given name against one listed party."""

    model_config = ConfigDict(frozen=True)

    entity: ListedEntity
    matched: str
    match: Literal["exact", "alias", "chinese_name", "possible"]
    score: float


def screen_name(given: str, entities: Sequence[ListedEntity], *, threshold: float = 0.82) -> list[NameHit]:
    """Listed parties the name matches (equal after normalisation) or may match (similarity ≥ ``threshold``).

    One hit per party (its best name), best first; at most 5.
    """
    core = normalise(given)
    if not core:
        return []
    hits: list[NameHit] = []
    for e in entities:
        best: NameHit | None = None
        for name, how in e.names():
            listed = normalise(name)
            score = similarity(core, listed)
            if score >= 1.0:
                hit = NameHit(entity=e, matched=name, match=how, score=1.0)
            elif score >= threshold:
                hit = NameHit(entity=e, matched=name, match="possible", score=score)
            else:
                continue
            if best is None or hit.score > best.score:
                best = hit
        if best is not None:
            hits.append(best)
    hits.sort(key=lambda h: (-h.score, h.entity.id))
    return hits[:5]


def exact(hits: Iterable[NameHit]) -> list[NameHit]:
    """The hits that are matches (not just possible ones)."""
    return [h for h in hits if h.match != "possible"]


__all__ = ["ListedEntity", "NameHit", "Notice", "ScreeningPack", "exact", "jaro_winkler", "normalise", "screen_name",
           "similarity"]

"""Dated data packs: what each pack is, how old it is, and what an answer may say about dates past it.

A data pack is one YAML file of market or rule data (the catalog, prices, US rules, China-side measures, country
groups, the screening list) with a ``pack:`` header naming it, its version, the date its content is current to
(``as_of``) and the main sources it was built from. The core receives packs as values (their text and origin);
the service finds them (embedded in the package, or installed under the data folder), imports and reports them.

:func:`data_currency` turns the headers of the packs an answer used into what the answer must say: the as-of date
of each pack and, when the asked date lies more than :data:`STALE_AFTER_DAYS` past a pack's as-of date, that
nothing is known after it ("no rule changes known after 2026-06-05").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from optimizer.errors import CatalogError

PackName = Literal["catalog", "prices", "us_rules", "cn_measures", "country_groups", "screening"]
PACK_NAMES: tuple[PackName, ...] = ("catalog", "prices", "us_rules", "cn_measures", "country_groups", "screening")
"""Every pack the product needs, in the order they are loaded."""
PACK_TITLES: dict[str, str] = {
    "catalog": "accelerator catalog (specifications, nodes, networks)",
    "prices": "prices and exchange rate",
    "us_rules": "US export-control rules",
    "cn_measures": "China-side measures",
    "country_groups": "country groups",
    "screening": "Entity List screening",
}
STALE_AFTER_DAYS = 90
"""An asked date more than this many days past a pack's as-of date gets an explicit caution."""
_STALE_TEXT: dict[str, str] = {
    "catalog": "no new parts or specifications known after {as_of}",
    "prices": "no price reports known after {as_of}",
    "us_rules": "no US rule changes known after {as_of}",
    "cn_measures": "no China-side measures known after {as_of}",
    "country_groups": "no country-group changes known after {as_of}",
    "screening": "no Entity List changes known after {as_of}",
}
EMBEDDED_FILES: dict[str, str] = {
    "catalog": "catalog.yaml",
    "prices": "prices.yaml",
    "us_rules": "rules/us_bis.yaml",
    "cn_measures": "rules/cn_measures.yaml",
    "country_groups": "rules/country_groups.yaml",
    "screening": "rules/screening.yaml",
}
"""Where each embedded pack lives inside the ``optimizer.data`` package."""
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (about ten times faster on the catalog), else PyYAML's."""
_VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,39}$")


class PackHeader(BaseModel):
    """The ``pack:`` block at the top of a data-pack file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: PackName
    version: str = Field(description="Version label (e.g. 2026.12.1); a newer pack of the same date needs a new one.")
    as_of: dt.date = Field(description="Date the content is current to: nothing after it is known to the pack.")
    title: str | None = None
    sources: tuple[str, ...] = Field((), description="Source ids of the main documents the pack was built from.")
    note: str | None = None

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        if not _VERSION_RE.fullmatch(v):
            raise ValueError(f"version {v!r} must be 1-40 letters, digits, '.', '+', '_' or '-'")
        return v


class PackInfo(BaseModel):
    """One pack in use: its header and where it came from (``embedded``, ``installed`` or a file path)."""

    model_config = ConfigDict(frozen=True)

    name: PackName
    version: str
    as_of: dt.date
    title: str | None = None
    origin: str = "embedded"
    sources: tuple[str, ...] = ()

    @classmethod
    def of(cls, header: PackHeader, origin: str) -> PackInfo:
        """The info of a parsed header."""
        return cls(name=header.name, version=header.version, as_of=header.as_of, title=header.title,
                   origin=origin, sources=header.sources)


class StalePack(BaseModel):
    """A pack whose as-of date lies more than the threshold before the asked date."""

    model_config = ConfigDict(frozen=True)

    name: PackName
    as_of: dt.date
    days: int = Field(description="Days from the pack's as-of date to the asked date.")
    text: str = Field(description="What the answer says, e.g. 'no US rule changes known after 2026-06-05'.")


class DataCurrency(BaseModel):
    """The data an answer used: each pack's as-of date, and cautions for packs older than the asked date allows."""

    model_config = ConfigDict(frozen=True)

    asked: dt.date = Field(description="The date the answer is for (buyer date).")
    as_of: dt.date | None = Field(description="Oldest as-of date among the packs used ('data as of …').")
    packs: list[PackInfo] = Field(default_factory=list)
    stale: list[StalePack] = Field(default_factory=list)
    threshold_days: int = STALE_AFTER_DAYS

    @property
    def caution(self) -> str | None:
        """One English sentence for the stale packs (None when every pack is recent enough)."""
        if not self.stale:
            return None
        return "; ".join(s.text for s in self.stale)

    def line(self) -> str:
        """``data as of 2026-06-05 (…); no US rule changes known after 2026-06-05`` in English."""
        if not self.packs:
            return "data as of: unknown (no dated packs)"
        dates = ", ".join(f"{p.name} {p.as_of}" for p in self.packs)
        text = f"data as of {self.as_of} ({dates})"
        return f"{text}; {self.caution}" if self.caution else text


@dataclass(frozen=True)
class PackText:
    """A pack as a value: its name, its YAML text and where it came from."""

    name: PackName
    text: str
    origin: str = "embedded"


def embedded_pack(name: str) -> PackText:
    """The pack of that name shipped in the package."""
    if name not in EMBEDDED_FILES:
        raise CatalogError(f"unknown pack {name!r}; packs are {', '.join(PACK_NAMES)}")
    text = resources.files("optimizer.data").joinpath(EMBEDDED_FILES[name]).read_text(encoding="utf-8")
    return PackText(name=name, text=text, origin="embedded")  # type: ignore[arg-type]


def embedded_packs() -> dict[str, PackText]:
    """Every pack shipped in the package, by name."""
    return {n: embedded_pack(n) for n in PACK_NAMES}


def with_embedded(packs: Mapping[str, PackText] | None) -> dict[str, PackText]:
    """``packs`` completed with the embedded pack for every name it lacks."""
    out = embedded_packs()
    out.update(packs or {})
    return out


def parse_yaml(text: str, origin: str, *, shape: str = "a pack must be a YAML mapping with a `pack:` header"
               ) -> dict[str, Any]:
    """A data file's top-level mapping (an empty file is an empty mapping).

    Raises:
        CatalogError: not YAML, or not a mapping (``shape`` says what was expected).
    """
    try:
        raw = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise CatalogError(f"not valid YAML{where}", path=origin) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise CatalogError(shape, path=origin)
    return raw


def _header_block(text: str) -> str | None:
    """The top-level ``pack:`` block of a pack file, cut out as text (None: no such block).

    Reading a header then parses a dozen lines instead of the whole file (all six packs: ~0.1 s of a cold
    ``procure ask``).
    """
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("pack:"):
            end = i + 1
            while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t#"):
                end += 1
            return "\n".join(lines[i:end])
    return None


def read_header(text: str, origin: str, raw: dict[str, Any] | None = None) -> PackHeader:
    """The ``pack:`` header of a pack file (``raw``: the file already parsed).

    Raises:
        CatalogError: no header, or an invalid one.
    """
    raw = parse_yaml(text, origin) if raw is None else raw
    header = raw.get("pack")
    if not isinstance(header, dict):
        raise CatalogError("no `pack:` header (name, version, as_of, sources)", path=origin)
    try:
        return PackHeader.model_validate(header)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise CatalogError(f"pack.{loc}: {first['msg'].removeprefix('Value error, ')}", path=origin) from None


def peek_header(text: str, origin: str) -> PackHeader:
    """The header of a pack file read from its ``pack:`` block alone, for the data's age on every answer.

    Only a file whose one top-level ``pack:`` block parses as a mapping on its own is read this way; anything else
    is read as :func:`read_header` reads it. The rest of the file is not checked: importing a pack validates it.

    Raises:
        CatalogError: no header, or an invalid one.
    """
    block = _header_block(text)
    if block is not None and sum(line.startswith("pack:") for line in text.splitlines()) == 1:
        try:
            alone = yaml.load(block, Loader=_LOADER)
        except yaml.YAMLError:
            alone = None
        if isinstance(alone, dict) and isinstance(alone.get("pack"), dict):
            return read_header(text, origin, alone)
    return read_header(text, origin)


def info_of(pack: PackText) -> PackInfo:
    """The info (header and origin) of a pack."""
    return PackInfo.of(read_header(pack.text, pack.origin), pack.origin)


def stale_text(name: str, as_of: dt.date) -> str:
    """The caution for one pack: 'no US rule changes known after 2026-06-05'."""
    return _STALE_TEXT.get(name, "nothing known after {as_of}").format(as_of=as_of.isoformat())


def data_currency(packs: Iterable[PackInfo], asked: dt.date, *, threshold_days: int = STALE_AFTER_DAYS
                  ) -> DataCurrency:
    """What an answer for ``asked`` must say about the packs it used (duplicates by name keep the first)."""
    seen: dict[str, PackInfo] = {}
    for p in packs:
        seen.setdefault(p.name, p)
    used = [seen[n] for n in PACK_NAMES if n in seen]
    stale = [StalePack(name=p.name, as_of=p.as_of, days=(asked - p.as_of).days, text=stale_text(p.name, p.as_of))
             for p in used if (asked - p.as_of).days > threshold_days]
    return DataCurrency(asked=asked, as_of=min((p.as_of for p in used), default=None), packs=used, stale=stale,
                        threshold_days=threshold_days)


__all__ = ["EMBEDDED_FILES", "PACK_NAMES", "PACK_TITLES", "STALE_AFTER_DAYS", "DataCurrency", "PackHeader", "PackInfo",
           "PackName", "PackText", "StalePack", "data_currency", "embedded_pack", "embedded_packs", "info_of",
           "parse_yaml", "peek_header", "read_header", "stale_text", "with_embedded"]

"""Data packs: how old each one is, what a newer one would change, installing one, and undoing the last install.

Packs in use are the installed ones (``<data_dir>/packs``) over the ones shipped in the package. An import is
validated as the whole set it would produce (catalog, prices, rules, groups and screening list bound together, with
the settings' own catalog and rule files) before anything is written; a corrupt or inconsistent pack changes
nothing, and a pack older than the one in use is refused unless forced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from optimizer.catalog import Catalog, load_catalog
from optimizer.compliance import ComplianceEngine, engine_from_packs
from optimizer.errors import CatalogError, InvalidInputError
from optimizer.packdiff import DEFAULT_COUNTRIES, PackDiff, diff_domains
from optimizer.packs import (
    PACK_NAMES,
    PACK_TITLES,
    STALE_AFTER_DAYS,
    PackInfo,
    PackText,
    embedded_packs,
    info_of,
    parse_yaml,
    peek_header,
    read_header,
)
from service.datapacks import PackStore, Replaced, effective
from service.settings import Settings
from service.usecases.context import AppContext
from service.usecases.numbers import day

MAX_PACK_BYTES = 5_000_000
"""Largest pack file accepted (the embedded catalog is about 80 kB)."""


class PackRef(BaseModel):
    """A pack version."""

    model_config = ConfigDict(frozen=True)

    version: str
    as_of: dt.date


class PackStatus(BaseModel):
    """One pack in use: its version, date, age, where it comes from and what it holds."""

    model_config = ConfigDict(frozen=True)

    name: str
    title: str
    version: str
    as_of: dt.date
    age_days: int = Field(description="Days from the pack's as-of date to today.")
    stale: bool = Field(description=f"Older than {STALE_AFTER_DAYS} days: answers say nothing is known after it.")
    origin: str = Field(description="embedded (shipped in the package) or installed (under the data folder).")
    records: dict[str, int]
    sources: list[str]
    note: str | None = None
    previous: PackRef | None = Field(None, description="The installed version it replaced (kept for rollback).")


class DataStatus(BaseModel):
    """Every pack in use."""

    model_config = ConfigDict(frozen=True)

    today: dt.date
    oldest_as_of: dt.date
    stale_after_days: int = STALE_AFTER_DAYS
    packs: list[PackStatus]
    folder: str = Field(description="Where installed packs live.")
    can_roll_back: bool = Field(description="The last import can be undone.")


class PackChange(BaseModel):
    """One pack an import installed or a rollback restored."""

    model_config = ConfigDict(frozen=True)

    name: str
    old: PackRef | None = Field(description="The version in use before (None: none installed, the embedded one).")
    new: PackRef | None = Field(description="The version in use after (None: back to the embedded pack).")
    old_origin: str
    new_origin: str


class ImportResult(BaseModel):
    """What an import did."""

    model_config = ConfigDict(frozen=True)

    installed: list[PackChange] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list, description="Packs identical to the ones in use.")
    forced: bool = False
    diff: PackDiff | None = Field(None, description="What the installed packs change (verdicts sampled today).")


class RollbackResult(BaseModel):
    """What a rollback restored."""

    model_config = ConfigDict(frozen=True)

    restored: list[PackChange] = Field(default_factory=list)
    message: str


# ---------------------------------------------------------------------- helpers
def pack_store(settings: Settings) -> PackStore:
    """The folder of installed packs."""
    return PackStore(settings.data_dir / "packs")


def packs_in_use(settings: Settings) -> dict[str, PackText]:
    """Installed packs over the embedded ones."""
    return effective(pack_store(settings).installed(), embedded_packs())


def build_domain_from(settings: Settings, packs: Mapping[str, PackText], extra_catalogs: Sequence[Path] = ()
                      ) -> tuple[Catalog, ComplianceEngine]:
    """Catalog and engine from packs plus the settings' catalog and rule files.

    The same inputs (pack texts, and the files' paths and texts) give the same catalog and engine, shared: parsing
    and validating them cost ~0.15 s, paid by every command, context and pack comparison of a process (a data
    status compares two domains; the API's tests build an app per module). Both are immutable once built.

    Raises:
        CatalogError: a pack or file is invalid, or they do not fit together.
    """
    catalog_files = (*settings.catalog_files, *extra_catalogs)
    key = _domain_key(packs, catalog_files, settings.rule_files)
    if key is None:  # a file cannot be read: the loaders say which, and how
        return _build_domain(packs, catalog_files, settings.rule_files)
    return _domain_memo(key)


_FileTexts = tuple[tuple[str, str], ...]
_DomainKey = tuple[tuple[tuple[str, PackText], ...], _FileTexts, _FileTexts]


def _domain_key(packs: Mapping[str, PackText], catalog_files: Sequence[Path], rule_files: Sequence[Path]
                ) -> _DomainKey | None:
    try:
        files = [tuple((str(p), Path(p).read_text(encoding="utf-8")) for p in group)
                 for group in (catalog_files, rule_files)]
    except (OSError, UnicodeDecodeError):
        return None
    return tuple(sorted(packs.items(), key=lambda kv: kv[0])), files[0], files[1]


@lru_cache(maxsize=8)
def _domain_memo(key: _DomainKey) -> tuple[Catalog, ComplianceEngine]:
    packs, catalog_files, rule_files = key
    # the loaders read the files again and name them in their errors (a file rewritten between the two reads, a
    # few microseconds apart, would be cached under its earlier text)
    return _build_domain(dict(packs), [Path(p) for p, _ in catalog_files],
                         [Path(p) for p, _ in rule_files])


def _build_domain(packs: Mapping[str, PackText], catalog_files: Sequence[Path], rule_files: Sequence[Path]
                  ) -> tuple[Catalog, ComplianceEngine]:
    catalog = load_catalog(list(catalog_files), packs=packs)
    return catalog, engine_from_packs(catalog, packs, rule_files)


def read_pack_file(path: Path) -> tuple[str, str]:
    """(label, text) of a pack file.

    Raises:
        InvalidInputError: missing, unreadable or too large.
    """
    try:
        size = path.stat().st_size
        if size > MAX_PACK_BYTES:
            raise InvalidInputError(f"{path}: {size:,} bytes is over the {MAX_PACK_BYTES:,}-byte pack limit")
        return str(path), path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"pack file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read pack file {path} ({exc.__class__.__name__})") from None


def _parse(label: str, text: str) -> PackText:
    try:
        header = info_of(PackText(name="catalog", text=text, origin=label))
    except CatalogError as exc:
        raise InvalidInputError(f"{exc.message}; nothing was installed") from None
    return PackText(name=header.name, text=text, origin=label)


@lru_cache(maxsize=16)
def _summary(pack: PackText) -> tuple[PackInfo, tuple[tuple[str, int], ...]]:
    """Header and record counts of a pack text.

    Parsing all six packs took ~0.1 s of every status request; a pack text only changes with an import, and a new
    text is a new cache key.
    """
    raw = parse_yaml(pack.text, pack.origin)
    return PackInfo.of(read_header(pack.text, pack.origin, raw), pack.origin), tuple(_counts(pack, raw).items())


def _counts(pack: PackText, raw: dict[str, Any]) -> dict[str, int]:

    def n(key: str) -> int:
        v = raw.get(key)
        return len(v) if isinstance(v, (list, dict)) else 0

    if pack.name == "catalog":
        return {k: n(k) for k in ("accelerators", "nodes", "networks", "systems")}
    if pack.name == "prices":
        recs = [r for k in ("accelerators", "nodes", "systems") for r in (raw.get(k) or []) if isinstance(r, dict)]
        return {"prices": sum(1 for r in recs if r.get("price")), "unpriced": sum(1 for r in recs if
                                                                               r.get("price_reason"))}
    if pack.name == "country_groups":
        groups = raw.get("groups") or {}
        return {"groups": sum(len(v) for v in groups.values() if isinstance(v, dict))}
    if pack.name == "screening":
        return {"entities": n("entities"), "notices": n("notices")}
    return {"rules": n("rules")}


def _ref(info: PackInfo) -> PackRef:
    return PackRef(version=info.version, as_of=info.as_of)


# ---------------------------------------------------------------------- use cases
_AS_OF: dict[tuple[str, str, int], dt.date] = {}


def data_as_of(ctx: AppContext) -> dict[str, dt.date]:
    """Pack name → as-of date of every pack in use, cheap enough for every answer (headers cached by text).

    The chat says "data as of …" with these, and that no rule change is known after a pack's date when the asked
    date lies well past it; :func:`data_status` gives the full picture (origin, counts, previous versions).
    """
    out: dict[str, dt.date] = {}
    for name, pack in packs_in_use(ctx.settings).items():
        key = (name, pack.origin, hash(pack.text))
        if key not in _AS_OF:
            _AS_OF[key] = peek_header(pack.text, pack.origin).as_of
        out[name] = _AS_OF[key]
    return out


def data_status(ctx: AppContext, *, today: dt.date | str | None = None) -> DataStatus:
    """Every pack in use with its as-of date, age in days, origin and record counts."""
    when = dt.date.today() if today is None else day(today, what="date")
    store = pack_store(ctx.settings)
    packs = packs_in_use(ctx.settings)
    rows = []
    for name in PACK_NAMES:
        pack = packs[name]
        info, counts = _summary(pack)
        prev = store.previous(name) if pack.origin == "installed" else None
        age = (when - info.as_of).days
        rows.append(PackStatus(
            name=name, title=info.title or PACK_TITLES[name], version=info.version, as_of=info.as_of, age_days=age,
            stale=age > STALE_AFTER_DAYS, origin=pack.origin, records=dict(counts), sources=list(info.sources),
            previous=_ref(info_of(prev)) if prev is not None else None,
        ))
    return DataStatus(today=when, oldest_as_of=min(r.as_of for r in rows), packs=rows, folder=str(store.root),
                      can_roll_back=store.can_roll_back())


def data_import(ctx: AppContext, files: Sequence[tuple[str, str]], *, force: bool = False,
                today: dt.date | str | None = None) -> ImportResult:
    """Validate packs (label, YAML text) as the set they would produce, then install them atomically.

    Raises:
        InvalidInputError: a pack is corrupt or does not fit the others, two files give the same pack, or a pack is
            older than (or a different text under the same version as) the one in use and ``force`` is not set.
            Nothing is installed then.
    """
    if not files:
        raise InvalidInputError("give at least one pack file")
    new = [_parse(label, text) for label, text in files]
    names = [p.name for p in new]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InvalidInputError(f"two files give the {', '.join(dup)} pack; import one of each")
    store = pack_store(ctx.settings)
    with store.locked():
        current = packs_in_use(ctx.settings)
        changes: list[PackChange] = []
        records: list[Replaced] = []
        unchanged: list[str] = []
        install: list[PackText] = []
        for pack in new:
            old = current[pack.name]
            a, b = info_of(old), info_of(pack)
            if old.text == pack.text:
                unchanged.append(pack.name)
                continue
            if not force:
                if b.as_of < a.as_of:
                    raise InvalidInputError(
                        f"{pack.origin}: the {pack.name} pack {b.version} (as of {b.as_of}) is older than the one in "
                        f"use, {a.version} (as of {a.as_of}); nothing was installed (use --force to install it)")
                if (b.version, b.as_of) == (a.version, a.as_of):
                    raise InvalidInputError(
                        f"{pack.origin}: the {pack.name} pack differs from the one in use but keeps its version "
                        f"{a.version} and date; give it a new version (nothing was installed)")
            install.append(PackText(name=pack.name, text=pack.text, origin="installed"))
            changes.append(PackChange(name=pack.name, old=_ref(a), new=_ref(b), old_origin=old.origin,
                                      new_origin="installed"))
            records.append(Replaced(name=pack.name, version=b.version, as_of=b.as_of.isoformat(),
                                    replaced_version=a.version if old.origin == "installed" else None,
                                    replaced_as_of=a.as_of.isoformat() if old.origin == "installed" else None))
        if not install:
            return ImportResult(unchanged=unchanged, forced=force)
        chosen = {p.name for p in install}
        candidate: dict[str, PackText] = dict(current)
        candidate.update({p.name: p for p in new if p.name in chosen})  # labelled by their files for errors
        try:
            after = build_domain_from(ctx.settings, candidate)
            before = build_domain_from(ctx.settings, current)
        except CatalogError as exc:
            raise InvalidInputError(f"{exc.message}; nothing was installed") from None
        when = dt.date.today() if today is None else day(today, what="date")
        diff = diff_domains(before, after, old_packs=[info_of(current[p.name]) for p in install],
                            new_packs=[info_of(p) for p in install], on=when)
        store.install(install, records)
    ctx.domain_holder.reload()
    return ImportResult(installed=changes, unchanged=unchanged, forced=force, diff=diff)


def data_rollback(ctx: AppContext) -> RollbackResult:
    """Undo the last import: each pack it installed goes back to the version it replaced (or the embedded one)."""
    store = pack_store(ctx.settings)
    with store.locked():
        undone = store.rollback()
    if not undone:
        return RollbackResult(message="nothing to roll back: no import is in use whose previous packs are kept")
    ctx.domain_holder.reload()
    current = packs_in_use(ctx.settings)
    restored = []
    for r in undone:
        info = info_of(current[r.name])
        restored.append(PackChange(name=r.name, old=PackRef(version=r.version, as_of=dt.date.fromisoformat(r.as_of)),
                                   new=_ref(info), old_origin="installed", new_origin=current[r.name].origin))
    names = ", ".join(f"{c.name} {c.new.version if c.new else ''} ({c.new_origin})" for c in restored)
    return RollbackResult(restored=restored, message=f"restored {names}")


def _side(ctx: AppContext, ref: str, texts: Mapping[str, str] | None) -> PackText:
    if texts is not None and ref in texts:
        return _parse(ref, texts[ref])
    path = Path(ref)
    if path.is_file():
        return _parse(*read_pack_file(path))
    if ref in PACK_NAMES:
        return packs_in_use(ctx.settings)[ref]
    raise InvalidInputError(f"{ref!r} is neither a pack file nor a pack name ({', '.join(PACK_NAMES)})")


def data_diff(ctx: AppContext, old: str | None, new: str, *, on: dt.date | str | None = None,
              countries: Sequence[str] | None = None, skus: Sequence[str] | None = None,
              texts: Mapping[str, str] | None = None) -> PackDiff:
    """What ``new`` changes against ``old``.

    Each side is a pack file, a pack name for the one in use, or a key of ``texts``; ``old`` None means the pack of
    the same name in use. Verdicts are sampled for every part (or ``skus``) in ``countries`` on ``on`` (default today).

    Raises:
        InvalidInputError: unreadable or corrupt packs, or two different packs.
    """
    b = _side(ctx, new, texts)
    a = packs_in_use(ctx.settings)[b.name] if old is None else _side(ctx, old, texts)
    if a.name != b.name:
        raise InvalidInputError(f"both sides must be the same pack (got {a.name} and {b.name})")
    base = packs_in_use(ctx.settings)
    try:
        left = build_domain_from(ctx.settings, {**base, a.name: a})
        right = build_domain_from(ctx.settings, {**base, b.name: b})
    except CatalogError as exc:
        raise InvalidInputError(exc.message) from None
    when = dt.date.today() if on is None else day(on, what="date")
    sample = [left[0].resolve(s) for s in skus] if skus else None
    return diff_domains(left, right, old_packs=[info_of(a)], new_packs=[info_of(b)], on=when,
                        countries=countries or DEFAULT_COUNTRIES, skus=sample)


__all__ = ["DataStatus", "ImportResult", "PackChange", "PackRef", "PackStatus", "RollbackResult", "build_domain_from",
           "data_diff", "data_import", "data_rollback", "data_status", "pack_store", "packs_in_use", "read_pack_file"]

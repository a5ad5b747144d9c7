"""What a newer data pack changes: rules added, ended or changed, verdicts that flip, price moves, parts and parties.

Both sides are complete domains (catalog and compliance engine) built from pack sets that differ only in the packs
being compared, so every difference reported comes from those packs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from optimizer.catalog import Catalog, PriceRange
from optimizer.compliance import Buyer, ComplianceEngine
from optimizer.compliance.schema import Rule
from optimizer.packs import PackInfo

DEFAULT_COUNTRIES: tuple[str, ...] = ("CN", "HK", "US", "DE", "JP", "SG", "MY", "AE", "SA", "IN", "VN", "RU")
"""Destinations whose verdicts the diff samples by default (China, allies, Gulf, transit hubs, D:1, embargoed)."""
_RULE_FIELDS = ("kind", "title", "effective_from", "effective_to", "suspensions", "status_unknown_after",
                "destinations", "exempt_destinations", "via_destinations", "skus", "vendors", "buyer_kinds", "review",
                "effect", "outlook", "severity", "modifies", "params", "applies_to", "text", "citations")


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class RuleChange(_Out):
    """A rule added, removed or changed."""

    id: str
    title: str
    kind: str
    effective_from: dt.date
    effective_to: dt.date | None = None
    fields: list[str] = Field(default_factory=list, description="Changed fields (for a changed rule).")


class VerdictFlip(_Out):
    """A sampled (part, destination, date) whose verdict differs between the two sides."""

    sku: str
    country: str
    date: dt.date
    old: str
    new: str
    old_outlook: str | None = None
    new_outlook: str | None = None


class PriceMove(_Out):
    """A price that appears, disappears or moves."""

    kind: str = Field(description="accelerators, nodes or systems")
    id: str
    old: PriceRange | None = None
    new: PriceRange | None = None
    change: float | None = Field(None, description="Relative change of the base price (same currency only).")


class PackDiff(_Out):
    """Everything the new packs change, against the old."""

    old: list[PackInfo]
    new: list[PackInfo]
    date: dt.date = Field(description="Date the sampled verdicts are evaluated on.")
    countries: list[str]
    rules_added: list[RuleChange] = Field(default_factory=list)
    rules_removed: list[RuleChange] = Field(default_factory=list)
    rules_changed: list[RuleChange] = Field(default_factory=list)
    rules_ended: list[RuleChange] = Field(default_factory=list, description="Rules the new pack gives an end date.")
    verdict_flips: list[VerdictFlip] = Field(default_factory=list)
    verdicts_sampled: int = 0
    price_moves: list[PriceMove] = Field(default_factory=list)
    parts_added: list[str] = Field(default_factory=list)
    parts_removed: list[str] = Field(default_factory=list)
    parts_changed: list[str] = Field(default_factory=list)
    parties_added: list[str] = Field(default_factory=list)
    parties_removed: list[str] = Field(default_factory=list)
    groups_changed: list[str] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing differs."""
        return not any((self.rules_added, self.rules_removed, self.rules_changed, self.verdict_flips, self.price_moves,
                        self.parts_added, self.parts_removed, self.parts_changed, self.parties_added,
                        self.parties_removed, self.groups_changed))


def _rule_change(r: Rule, fields: list[str] | None = None) -> RuleChange:
    return RuleChange(id=r.id, title=r.title, kind=r.kind, effective_from=r.effective_from,
                      effective_to=r.effective_to, fields=fields or [])


def _dump(v: Any) -> Any:
    return v.model_dump(mode="json") if isinstance(v, BaseModel) else v


def _rules(old: ComplianceEngine, new: ComplianceEngine) -> tuple[list[RuleChange], list[RuleChange],
                                                                   list[RuleChange]]:
    a = {r.id: r for r in old.rules}
    b = {r.id: r for r in new.rules}
    added = [_rule_change(b[i]) for i in b if i not in a]
    removed = [_rule_change(a[i]) for i in a if i not in b]
    changed = []
    for i in a.keys() & b.keys():
        fields = [f for f in _RULE_FIELDS if _dump(getattr(a[i], f)) != _dump(getattr(b[i], f))]
        if fields:
            changed.append(_rule_change(b[i], fields))
    changed.sort(key=lambda c: c.id)
    return added, removed, changed


def _prices(old: Catalog, new: Catalog) -> list[PriceMove]:
    moves: list[PriceMove] = []
    for kind in ("accelerators", "nodes", "systems"):
        a, b = getattr(old, kind), getattr(new, kind)
        for rid in sorted(set(a) | set(b)):
            pa = a[rid].price if rid in a else None
            pb = b[rid].price if rid in b else None
            if _dump(pa) == _dump(pb):
                continue
            change = None
            if pa is not None and pb is not None and pa.currency == pb.currency and pa.base:
                change = pb.base / pa.base - 1
            moves.append(PriceMove(kind=kind, id=rid, old=pa, new=pb, change=change))
    return moves


def _records(old: Catalog, new: Catalog) -> tuple[list[str], list[str], list[str]]:
    a, b = old.accelerators, new.accelerators
    added = sorted(set(b) - set(a))
    removed = sorted(set(a) - set(b))
    changed = sorted(s for s in set(a) & set(b)
                     if a[s].model_dump(mode="json", exclude={"price", "price_reason"})
                     != b[s].model_dump(mode="json", exclude={"price", "price_reason"}))
    return added, removed, changed


def diff_domains(old: tuple[Catalog, ComplianceEngine], new: tuple[Catalog, ComplianceEngine], *,
                 old_packs: Sequence[PackInfo], new_packs: Sequence[PackInfo], on: dt.date,
                 countries: Sequence[str] = DEFAULT_COUNTRIES, skus: Sequence[str] | None = None) -> PackDiff:
    """The differences between two domains, with verdicts sampled for ``skus`` × ``countries`` on ``on``.

    Raises:
        UnknownCountryError: a sampled country is not an ISO code.
    """
    (cat_a, eng_a), (cat_b, eng_b) = old, new
    added, removed, changed = _rules(eng_a, eng_b)
    sample = [s for s in (skus or sorted(set(cat_a.accelerators) & set(cat_b.accelerators)))
              if s in cat_a.accelerators and s in cat_b.accelerators]
    codes = [eng_b.validate_country(c) for c in dict.fromkeys(countries)]
    flips = []
    for sku in sample:
        for c in codes:
            buyer = Buyer(country=c, on=on)
            ra, rb = eng_a.check(sku, buyer), eng_b.check(sku, buyer)
            if (ra.verdict, ra.license_outlook) != (rb.verdict, rb.license_outlook):
                flips.append(VerdictFlip(sku=sku, country=c, date=on, old=ra.verdict, new=rb.verdict,
                                         old_outlook=ra.license_outlook, new_outlook=rb.license_outlook))
    p_added, p_removed, p_changed = _records(cat_a, cat_b)
    ents_a = {e.id for e in eng_a.screening.entities} if eng_a.screening else set()
    ents_b = {e.id for e in eng_b.screening.entities} if eng_b.screening else set()
    groups = sorted(k for k in set(eng_a.groups) | set(eng_b.groups)
                    if _dump(eng_a.groups.get(k)) != _dump(eng_b.groups.get(k)))
    return PackDiff(
        old=list(old_packs), new=list(new_packs), date=on, countries=codes, rules_added=added, rules_removed=removed,
        rules_changed=changed, rules_ended=[c for c in changed if "effective_to" in c.fields and c.effective_to],
        verdict_flips=flips, verdicts_sampled=len(sample) * len(codes),
        price_moves=_prices(cat_a, cat_b), parts_added=p_added, parts_removed=p_removed, parts_changed=p_changed,
        parties_added=sorted(ents_b - ents_a), parties_removed=sorted(ents_a - ents_b), groups_changed=groups,
    )


__all__ = ["DEFAULT_COUNTRIES", "PackDiff", "PriceMove", "RuleChange", "VerdictFlip", "diff_domains"]

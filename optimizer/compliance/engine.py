"""The compliance engine: rule packs bound to a catalog, evaluated for one (accelerator, buyer, date).

Thresholds, dates, destinations and citations are data (the rule packs); each rule *kind* has one evaluator in
:mod:`optimizer.compliance.evaluators`, registered with its place in the evaluation order in
:mod:`optimizer.compliance.registry`. Country groups live in :mod:`optimizer.compliance.groups` and the entity
screening list in :mod:`optimizer.compliance.screening`. A new rule of an existing kind is a data change.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from datetime import date

from optimizer.catalog import Accelerator, Catalog
from optimizer.compliance import registry
from optimizer.compliance.evaluators.eccn import classify_2023
from optimizer.compliance.evaluators.screening import summarise
from optimizer.compliance.groups import CountryGroups
from optimizer.compliance.metrics import ChipMetrics, compute_metrics
from optimizer.compliance.policy import decide
from optimizer.compliance.results import (
    OUTLOOK_ORDER,
    OUTLOOK_TEXT,
    Buyer,
    BuyerPolicy,
    ComplianceResult,
    PolicyDecision,
)
from optimizer.compliance.schema import CountryGroup, CountryGroupPack, Review, Rule, RulePack
from optimizer.compliance.screening import NameHit, ScreeningPack, screen_name
from optimizer.compliance.state import EvalState
from optimizer.errors import CatalogError, InvalidInputError, UnknownCountryError
from optimizer.packs import DataCurrency, PackInfo, data_currency

_RULE_PACKS = ("us_rules", "cn_measures", "country_groups", "screening")
"""Packs whose as-of dates a verdict depends on."""


class ComplianceEngine:
    """Rule packs bound to a catalog; ``check`` returns a :class:`ComplianceResult`."""

    def __init__(self, catalog: Catalog, packs: Sequence[RulePack], countries: Mapping[str, str], *,
                 groups: CountryGroupPack | None = None, screening: ScreeningPack | None = None,
                 infos: Sequence[PackInfo] = ()) -> None:
        """Bind validated packs to a catalog and check every cross-reference.

        Args:
            catalog: The catalog the rules name SKUs and sources of.
            packs: Rule packs (US rules, China-side measures, extra packs), in order.
            countries: ISO 3166-1 alpha-2 codes and names.
            groups: The country-group pack (rule packs may add groups of their own; later ones win).
            screening: The Entity List screening pack (None: buyers are not screened).
            infos: Headers of the packs in use (for the data's as-of dates on every result).

        Raises:
            CatalogError: a rule names an unknown SKU, group, rule or source id.
        """
        self.catalog = catalog
        self.countries = dict(countries)
        self.screening = screening
        self.packs: tuple[PackInfo, ...] = tuple(infos)
        self.sources = dict(catalog.sources)
        groups_by_key: dict[str, CountryGroup] = {}
        if groups is not None:
            self.sources.update(groups.sources)
            for jur, named in groups.groups.items():
                groups_by_key.update({f"{jur}:{n}": g for n, g in named.items()})
        if screening is not None:
            self.sources.update(screening.sources)
        self.rules: list[Rule] = []
        for pack in packs:
            self.sources.update(pack.sources)
            groups_by_key.update({f"{pack.jurisdiction}:{n}": g for n, g in pack.country_groups.items()})
            self.rules.extend(rule.model_copy(update={"jurisdiction": pack.jurisdiction}) for rule in pack.rules)
        self._screen_cache: dict[tuple[str, float], list[NameHit]] = {}
        self.country_group_set = CountryGroups(groups_by_key, self.countries)
        self.groups = self.country_group_set.groups
        self._check_rules()
        self.country_group_set.check(lambda sid: sid in self.sources)
        if screening is not None:
            self._check_screening(screening)

    def _check_rules(self) -> None:
        ids = [r.id for r in self.rules]
        dup = {i for i in ids if ids.count(i) > 1} | ({a for r in self.rules for a in r.aliases} & set(ids))
        if dup:
            raise CatalogError(f"duplicate rule ids: {', '.join(sorted(dup))}", path="rules")
        by_id = set(ids)
        accs = self.catalog.accelerators
        for rule in self.rules:
            refs = (rule.destinations, rule.exempt_destinations, rule.via_destinations, rule.developed_in,
                    *(r.group for r in rule.review))
            for g in refs:
                if g is not None and f"{rule.jurisdiction}:{g}" not in self.groups:
                    raise CatalogError(f"rule {rule.id}: unknown country group {g!r}", path="rules")
            for sku in (*rule.skus, *(rule.applies_to.skus if rule.applies_to else ())):
                if sku not in accs:
                    raise CatalogError(f"rule {rule.id}: unknown SKU {sku!r}", path="rules")
            if rule.equivalent_to and rule.equivalent_to not in accs:
                raise CatalogError(f"rule {rule.id}: unknown SKU {rule.equivalent_to!r}", path="rules")
            if rule.modifies and rule.modifies not in by_id:
                raise CatalogError(f"rule {rule.id}: modifies unknown rule {rule.modifies!r}", path="rules")
            for sid in (*rule.citations, *(s for sus in rule.suspensions for s in sus.source)):
                if sid not in self.sources:
                    raise CatalogError(f"rule {rule.id}: source id {sid!r} is not registered", path="rules")

    def _check_screening(self, pack: ScreeningPack) -> None:
        for key, notice in pack.notices.items():
            for sid in notice.source:
                if sid not in self.sources:
                    raise CatalogError(f"notice {key}: source id {sid!r} is not registered", path="screening")
        for e in pack.entities:
            if e.country not in self.countries:
                raise CatalogError(f"entity {e.id}: {e.country!r} is not an ISO country code", path="screening")
            for sid in e.source:
                if sid not in self.sources:
                    raise CatalogError(f"entity {e.id}: source id {sid!r} is not registered", path="screening")

    # ------------------------------------------------------------------ public API
    def with_rule_dates(self, dates: dict[str, date]) -> ComplianceEngine:
        """A copy whose named rules take effect on new dates (what-if: "the rule pack date moves").

        Raises:
            InvalidInputError: an unknown rule id, or a date after the rule's end.
        """
        known: dict[str, list[Rule]] = {}
        for r in self.rules:
            for name in (r.id, *r.aliases):
                known.setdefault(name, []).append(r)
        moved: dict[str, date] = {}
        for rid, when in dates.items():
            matched = known.get(rid)
            if matched is None:
                close = difflib.get_close_matches(rid, list(known), n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise InvalidInputError(f"unknown rule id {rid!r}{hint}")
            for rule in matched:
                if rule.effective_to is not None and when > rule.effective_to:
                    raise InvalidInputError(f"rule {rule.id}: new date {when} is after its end {rule.effective_to}")
                moved[rule.id] = when
        clone = object.__new__(ComplianceEngine)  # a plain engine: a subclass's remembered checks must not leak
        clone.__dict__.update(self.__dict__)
        clone.rules = [r.model_copy(update={"effective_from": moved[r.id]}) if r.id in moved else r
                       for r in self.rules]
        return clone

    def validate_country(self, code: str) -> str:
        """Return the upper-cased ISO code or raise :class:`UnknownCountryError` with suggestions."""
        up = code.strip().upper()
        if up in self.countries:
            return up
        by_name = {name.lower(): c for c, name in self.countries.items()}
        if code.strip().lower() in by_name:
            raise UnknownCountryError(code, [by_name[code.strip().lower()]])
        close = difflib.get_close_matches(code.strip().lower(), list(by_name), n=2, cutoff=0.75)
        raise UnknownCountryError(code, [by_name[c] for c in close])

    def data_currency(self, on: date) -> DataCurrency:
        """As-of dates of the rule packs in use, with cautions when ``on`` lies more than 90 days past them."""
        return data_currency([p for p in self.packs if p.name in _RULE_PACKS], on)

    def check(self, sku: str, buyer: Buyer) -> ComplianceResult:
        """Evaluate every rule in force on ``buyer.on`` for the accelerator and buyer.

        Raises:
            UnknownSkuError: the SKU or alias is unknown.
            UnknownCountryError: a country code is not ISO 3166-1 alpha-2.
        """
        acc = self.catalog.accelerator(sku)
        buyer = buyer.model_copy(update={
            "country": self.validate_country(buyer.country),
            "headquarters_country": (self.validate_country(buyer.headquarters_country)
                                     if buyer.headquarters_country else None),
            "via_country": self.validate_country(buyer.via_country) if buyer.via_country else None,
        })
        st = EvalState(acc=acc, metrics=compute_metrics(acc), buyer=buyer, subject=acc.country_of_origin == "US")
        by_kind: dict[str, list[Rule]] = {}
        for r in self.rules:
            if r.in_force(buyer.on) or (r.kind == "affiliates_rule" and buyer.parent):
                by_kind.setdefault(r.kind, []).append(r)  # the Affiliates rule speaks before it takes effect too
        st.hq_d5 = any(self.hq_applies(r, buyer) for r in by_kind.get("headquarters_rule", []))
        if not st.subject:
            st.equivalent_tier, st.equivalent_lines = self.tier_2023(st.metrics, acc)
            st.classification = "not_subject_to_ear"
        for kind in registry.kinds():  # classification first, then letters, modifiers, screening, adders, warnings
            for rule in by_kind.get(kind.kind, []):
                kind.evaluate(self, rule, st)
        return self._combine(st)

    def decide(self, result: ComplianceResult, policy: BuyerPolicy) -> PolicyDecision:
        """Apply a buyer policy to a verdict: may the part be recommended, and at what risk premium?"""
        return decide(self.catalog.accelerators[result.sku].vendor, result, policy)

    # ------------------------------------------------------------------ country groups
    def members(self, group: str, on: date, jurisdiction: str = "US") -> frozenset[str]:
        """ISO codes in a (possibly composed) country group on a date."""
        return self.country_group_set.members(group, on, jurisdiction)

    def country_groups(self, country: str | None, on: date, jurisdiction: str = "US") -> tuple[str, ...]:
        """Labels of the regulatory groups (those with a ``label``, e.g. 'D:4') holding ``country`` on ``on``."""
        return self.country_group_set.labels(country, on, jurisdiction)

    def embargo_reason(self, country: str, on: date) -> str | None:
        """One-line reason when an embargo rule covers a buyer located in ``country`` on ``on`` (else None)."""
        code = self.validate_country(country)
        for rule in self.rules:
            if rule.kind == "embargo" and rule.in_force(on) and self.in_group(rule, rule.destinations, code, on):
                labels = ", ".join(self.country_groups(code, on, rule.jurisdiction)) or rule.destinations
                return (
                    f"{code} ({self.countries[code]}) is an embargoed or sanctioned destination on {on} ({labels}): "
                    f"US export licences for accelerators are reviewed under a policy of denial, so no purchase "
                    f"plan can be recommended [{', '.join(rule.citations)}]"
                )
        return None

    # ------------------------------------------------------------------ helpers for evaluators
    def in_group(self, rule: Rule, group: str | None, country: str | None, on: date) -> bool:
        """``country`` is in the rule's jurisdiction's ``group`` on ``on`` (no group: always)."""
        return self.country_group_set.contains(rule.jurisdiction, group, country, on)

    def hq_applies(self, rule: Rule, buyer: Buyer) -> bool:
        """The buyer's headquarters, not its location, puts it in the rule's destinations."""
        hq = buyer.headquarters_country
        return (
            bool(hq)
            and self.in_group(rule, rule.destinations, hq, buyer.on)
            and not self.in_group(rule, rule.destinations, buyer.country, buyer.on)
        )

    def dest(self, rule: Rule, st: EvalState, *, located_only: bool = False) -> bool:
        """The buyer is in the rule's destinations (by location, or by a D:5 headquarters unless ``located_only``)."""
        if self.in_group(rule, rule.destinations, st.buyer.country, st.buyer.on):
            return True
        if located_only or rule.destinations is None:
            return False
        return st.hq_d5 and self.in_group(rule, rule.destinations, st.buyer.headquarters_country, st.buyer.on)

    def screen_hits(self, given: str, threshold: float) -> list[NameHit]:
        """Listed parties a name matches or may match (memoised: the same buyer is checked for every part)."""
        key = (given, threshold)
        hits = self._screen_cache.get(key)
        if hits is None:
            if len(self._screen_cache) > 10_000:
                self._screen_cache.clear()
            entities = self.screening.entities if self.screening is not None else ()
            hits = self._screen_cache[key] = screen_name(given, entities, threshold=threshold)
        return hits

    def via(self, rule: Rule, st: EvalState) -> bool:
        """The items pass through the rule's ``via_destinations`` (no such group: always true)."""
        if rule.via_destinations is None:
            return True
        return self.in_group(rule, rule.via_destinations, st.buyer.via_country, st.buyer.on)

    def membership_line(self, rule: Rule, st: EvalState) -> str:
        """The line of :meth:`membership`."""
        return self.membership(rule, st)[0]

    def membership(self, rule: Rule, st: EvalState) -> tuple[str, tuple[str, ...]]:
        """A line naming the buyer's country groups on the date, and the sources of those memberships."""
        on, c = st.buyer.on, st.buyer.country
        labels = self.country_groups(c, on, rule.jurisdiction)
        groups = ", ".join(labels) if labels else "no listed country group"
        src = self.country_group_set.sources_of(labels, rule.jurisdiction)
        line = f"buyer located in {c} ({self.countries.get(c, c)}): {groups} on {on}"
        if st.hq_d5 and st.buyer.headquarters_country:
            hq = st.buyer.headquarters_country
            line += f"; headquartered in {hq} ({', '.join(self.country_groups(hq, on, rule.jurisdiction))})"
        return line + (f" [{', '.join(src)}]" if src else ""), src

    def review(self, rule: Rule, st: EvalState) -> Review | None:
        """Review policy for this buyer under ``rule`` (None when the destination is out of scope)."""
        on = st.buyer.on
        if st.hq_d5 and st.buyer.headquarters_country:
            for rv in rule.review:
                if self.in_group(rule, rv.group, st.buyer.headquarters_country, on):
                    return rv
        if not self.in_group(rule, rule.destinations, st.buyer.country, on):
            return None
        for rv in rule.review:
            if self.in_group(rule, rv.group, st.buyer.country, on):
                return rv
        if rule.effect is None or rule.outlook is None:
            return None
        return Review(group=rule.destinations or "", effect=rule.effect, outlook=rule.outlook)

    def tier_2023(self, m: ChipMetrics, acc: Accelerator) -> tuple[str | None, tuple[str, ...]]:
        """The 3A090 tier the part's figures would meet (for non-US parts), with the arithmetic."""
        rule = next((r for r in self.rules if r.kind == "eccn_3a090_2023" and not r.skus), None)
        if rule is None:
            return None, ()
        tier, lines = classify_2023(rule.params, m, acc.datacenter)
        return tier, tuple(lines)

    def group_title(self, rule: Rule, name: str | None) -> str | None:
        """Title of one of the rule's groups."""
        return None if name is None else self.country_group_set.title(rule.jurisdiction, name)

    # ------------------------------------------------------------------ the result
    def _combine(self, st: EvalState) -> ComplianceResult:
        prohibited = [f for f in st.firings if f.effect == "prohibited"]
        licensed = [f for f in st.firings if f.effect == "license_required"]
        if prohibited:
            verdict = "prohibited"
            outlook = min((f.outlook or "denial_presumed" for f in prohibited), key=lambda o: OUTLOOK_ORDER[o])
        elif licensed:
            verdict = "license_required"
            outlook = min((f.outlook or "not_granted_yet" for f in licensed), key=lambda o: OUTLOOK_ORDER[o])
        else:
            verdict, outlook = "allowed", None
        reasons: list[str] = []
        for f in st.firings:
            detail = "; ".join(f.arithmetic)
            reasons.append(f"{f.title}: {detail} → {f.text}" if detail else f"{f.title}: {f.text}")
        for w in st.warnings:
            reasons.append(f"[{w.severity}] {w.text}")
        cites: list[str] = []
        groups: list[tuple[str, ...]] = [x.citations for x in st.firings]
        groups += [x.citations for x in st.warnings] + [x.citations for x in st.adders]
        for group in groups:
            for c in group:
                if c not in cites:
                    cites.append(c)
        m = st.metrics
        return ComplianceResult(
            sku=st.acc.id,
            name=st.acc.name,
            buyer_country=st.buyer.country,
            buyer_kind=st.buyer.kind,
            headquarters_country=st.buyer.headquarters_country,
            date=st.buyer.on,
            country_groups=self.country_groups(st.buyer.country, st.buyer.on),
            headquarters_groups=self.country_groups(st.buyer.headquarters_country, st.buyer.on),
            subject_to_ear=st.subject,
            tpp=None if m.tpp is None else round(m.tpp, 1),
            tpp_low=None if m.tpp_low is None else round(m.tpp_low, 1),
            tpp_high=None if m.tpp_high is None else round(m.tpp_high, 1),
            tpp_precision=m.precision,
            performance_density=None if m.pd is None else round(m.pd, 3),
            classification=st.classification,
            equivalent_tier=st.equivalent_tier,
            verdict=verdict,
            license_outlook=outlook,
            license_outlook_text=OUTLOOK_TEXT[outlook] if outlook else None,
            reasons=tuple(reasons),
            rules=tuple(st.firings),
            warnings=tuple(st.warnings),
            cost_adders=tuple(st.adders),
            citations=tuple(cites),
            via_country=st.buyer.via_country,
            screening=summarise(self, st),
            unknowns=tuple(st.unknowns),
            data=self.data_currency(st.buyer.on) if self.packs else None,
        )


__all__ = ["ComplianceEngine"]

"""Evaluate rule packs for one (accelerator, buyer, date) and combine the results into a verdict.

The rule packs in ``optimizer/data/rules/`` hold thresholds, dates, destinations and citations; this
module holds one small evaluator per rule *kind*. A new rule of an existing kind is a data change.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from optimizer.catalog import Accelerator, Catalog
from optimizer.compliance.metrics import ChipMetrics, compute_metrics
from optimizer.compliance.schema import (
    OUTLOOK_ORDER,
    OUTLOOK_TEXT,
    Buyer,
    BuyerPolicy,
    CaseByCaseParams,
    ComplianceResult,
    ComplianceWarning,
    CostAdder,
    CountryGroup,
    FractionParams,
    HbmParams,
    Params2022,
    Params2023,
    PolicyDecision,
    Review,
    Rule,
    RuleFiring,
    RulePack,
    TariffParams,
)
from optimizer.errors import CatalogError, InvalidInputError, UnknownCountryError
from optimizer.reasons import Why

_RULE_FILES = ("us_bis.yaml", "cn_measures.yaml")


def load_countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 codes mapped to English short names."""
    text = resources.files("optimizer.data").joinpath("countries.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return {str(k): str(v) for k, v in data.items()}


def _load_pack(text: str, origin: str) -> RulePack:
    try:
        return RulePack.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise CatalogError(f"{loc}: {first['msg'].removeprefix('Value error, ')}", path=origin) from None
    except yaml.YAMLError:
        raise CatalogError("not valid YAML", path=origin) from None


@dataclass
class _State:
    """Working state while one check is evaluated."""

    acc: Accelerator
    metrics: ChipMetrics
    buyer: Buyer
    subject: bool
    classification: str = "not_controlled"
    equivalent_tier: str | None = None
    equivalent_lines: tuple[str, ...] = ()
    firings: list[RuleFiring] = field(default_factory=list)
    warnings: list[ComplianceWarning] = field(default_factory=list)
    adders: list[CostAdder] = field(default_factory=list)
    hq_d5: bool = False


class ComplianceEngine:
    """Rule packs bound to a catalog; ``check`` returns a :class:`ComplianceResult`."""

    def __init__(self, catalog: Catalog, packs: Sequence[RulePack], countries: dict[str, str]) -> None:
        """Bind validated packs to a catalog and check every cross-reference.

        Raises:
            CatalogError: a rule names an unknown SKU, group, rule or source id.
        """
        self.catalog = catalog
        self.countries = countries
        self.groups: dict[str, CountryGroup] = {}
        self.rules: list[Rule] = []
        for pack in packs:
            for name, group in pack.country_groups.items():
                key = f"{pack.jurisdiction}:{name}"
                self.groups[key] = group
            for rule in pack.rules:
                self.rules.append(rule.model_copy(update={"jurisdiction": pack.jurisdiction}))
        ids = [r.id for r in self.rules]
        dup = {i for i in ids if ids.count(i) > 1} | ({a for r in self.rules for a in r.aliases} & set(ids))
        if dup:
            raise CatalogError(f"duplicate rule ids: {', '.join(sorted(dup))}", path="rules")
        by_id = set(ids)
        for rule in self.rules:
            for g in (rule.destinations, rule.exempt_destinations):
                if g is not None and f"{rule.jurisdiction}:{g}" not in self.groups:
                    raise CatalogError(f"rule {rule.id}: unknown country group {g!r}", path="rules")
            for sku in (*rule.skus, *(rule.applies_to.skus if rule.applies_to else ())):
                if sku not in catalog.accelerators:
                    raise CatalogError(f"rule {rule.id}: unknown SKU {sku!r}", path="rules")
            if rule.equivalent_to and rule.equivalent_to not in catalog.accelerators:
                raise CatalogError(f"rule {rule.id}: unknown SKU {rule.equivalent_to!r}", path="rules")
            if rule.modifies and rule.modifies not in by_id:
                raise CatalogError(f"rule {rule.id}: modifies unknown rule {rule.modifies!r}", path="rules")
            for sid in rule.citations:
                if sid not in catalog.sources:
                    raise CatalogError(f"rule {rule.id}: source id {sid!r} is not registered", path="rules")
        for key, group in self.groups.items():
            jur = key.split(":", 1)[0]
            for m in group.members:
                if m.code not in countries:
                    raise CatalogError(f"group {key}: {m.code!r} is not an ISO country code", path="rules")
                for sid in m.source:
                    if sid not in catalog.sources:
                        raise CatalogError(f"group {key}: source id {sid!r} is not registered", path="rules")
            for ref in (*group.union, *group.minus):
                if f"{jur}:{ref}" not in self.groups:
                    raise CatalogError(f"group {key}: unknown country group {ref!r}", path="rules")
            for sid in group.source:
                if sid not in catalog.sources:
                    raise CatalogError(f"group {key}: source id {sid!r} is not registered", path="rules")
        for key in self.groups:
            self._expand(key, date.max, ())  # rejects cycles
        for rule in self.rules:
            for gref in (*(r.group for r in rule.review), rule.developed_in):
                if gref is not None and f"{rule.jurisdiction}:{gref}" not in self.groups:
                    raise CatalogError(f"rule {rule.id}: unknown country group {gref!r}", path="rules")
        self._member_cache: dict[tuple[str, date], frozenset[str]] = {}
        self._label_cache: dict[tuple[str, date, str], tuple[str, ...]] = {}

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
        dates = moved
        clone = object.__new__(ComplianceEngine)
        clone.catalog = self.catalog
        clone.countries = self.countries
        clone.groups = dict(self.groups)
        clone._member_cache = {}
        clone._label_cache = {}
        clone.rules = [r.model_copy(update={"effective_from": dates[r.id]}) if r.id in dates else r
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

    def check(self, sku: str, buyer: Buyer) -> ComplianceResult:
        """Evaluate every rule in force on ``buyer.on`` for the accelerator and buyer.

        Raises:
            UnknownSkuError: the SKU or alias is unknown.
            UnknownCountryError: a country code is not ISO 3166-1 alpha-2.
        """
        acc = self.catalog.accelerator(sku)
        buyer = buyer.model_copy(
            update={
                "country": self.validate_country(buyer.country),
                "headquarters_country": (
                    self.validate_country(buyer.headquarters_country) if buyer.headquarters_country else None
                ),
            }
        )
        st = _State(acc=acc, metrics=compute_metrics(acc), buyer=buyer, subject=acc.country_of_origin == "US")
        in_force = [r for r in self.rules if r.in_force(buyer.on)]
        by_kind: dict[str, list[Rule]] = {}
        for r in in_force:
            by_kind.setdefault(r.kind, []).append(r)
        st.hq_d5 = any(self._hq_applies(r, buyer) for r in by_kind.get("headquarters_rule", []))
        if not st.subject:
            st.equivalent_tier, st.equivalent_lines = self._tier_2023(st.metrics, acc)
        if not st.subject:
            st.classification = "not_subject_to_ear"
        # Order matters: classification first, then licence letters, then modifiers, then adders/warnings.
        for kind in (
            "headquarters_rule",
            "embargo",
            "eccn_3a090_2022",
            "eccn_3a090_2023",
            "is_informed",
            "case_by_case_review",
            "outlook_change",
            "cost_adder",
            "tariff_band",
            "notice",
            "gp10_guidance",
            "hbm_supply",
            "cn_guidance",
            "cn_domestic_only",
        ):
            for rule in by_kind.get(kind, []):
                _EVALUATORS[kind](self, rule, st)
        return self._combine(st)

    def decide(self, result: ComplianceResult, policy: BuyerPolicy) -> PolicyDecision:
        """Apply a buyer policy to a verdict: may the part be recommended, and at what risk premium?"""
        vendor = self.catalog.accelerators[result.sku].vendor
        if result.verdict == "prohibited":
            return PolicyDecision(admissible=False, reason=f"prohibited: {result.reasons[0] if result.reasons else ''}")
        if policy.vendor_allow is not None and vendor not in policy.vendor_allow:
            return PolicyDecision(admissible=False, reason=f"vendor {vendor} is not in the allowed vendors",
                                  why=Why(code="vendor_not_allowed", args={"vendor": vendor}))
        if vendor in policy.vendor_deny:
            return PolicyDecision(admissible=False, reason=f"vendor {vendor} is denied by the buyer policy",
                                  why=Why(code="vendor_denied", args={"vendor": vendor}))
        restrictive = [w for w in result.warnings if w.severity == "restrictive"]
        if restrictive and not policy.allow_restricted:
            return PolicyDecision(admissible=False, reason=f"restricted: {restrictive[0].text}")
        premium = 0.0
        reason = "allowed"
        if result.verdict == "license_required":
            if policy.license_required == "exclude":
                return PolicyDecision(
                    admissible=False, reason=f"licence required ({result.license_outlook}); policy excludes such parts",
                    why=Why(code="licence_excluded", args={"outlook": result.license_outlook or ""}),
                )
            if policy.license_required == "allow_with_risk_premium" and result.license_outlook is not None:
                premium = policy.risk_premium.get(result.license_outlook, 0.0)
            reason = f"licence required ({result.license_outlook}); risk premium {premium:.0%}"
        if any(w.severity == "caution" for w in result.warnings):
            premium += policy.caution_premium
        return PolicyDecision(admissible=True, premium=premium, reason=reason)

    # ------------------------------------------------------------------ country groups
    def _expand(self, key: str, on: date, path: tuple[str, ...]) -> frozenset[str]:
        if key in path:
            raise CatalogError(f"country groups form a cycle: {' -> '.join((*path, key))}", path="rules")
        group = self.groups[key]
        jur = key.split(":", 1)[0]
        codes = {m.code for m in group.members if m.holds(on)}
        for ref in group.union:
            codes |= self._expand(f"{jur}:{ref}", on, (*path, key))
        for ref in group.minus:
            codes -= self._expand(f"{jur}:{ref}", on, (*path, key))
        return frozenset(codes)

    def members(self, group: str, on: date, jurisdiction: str = "US") -> frozenset[str]:
        """ISO codes in a (possibly composed) country group on a date."""
        key = f"{jurisdiction}:{group}"
        hit = self._member_cache.get((key, on))
        if hit is None:
            if len(self._member_cache) > 20_000:
                self._member_cache.clear()
            hit = self._member_cache[(key, on)] = self._expand(key, on, ())
        return hit

    def country_groups(self, country: str | None, on: date, jurisdiction: str = "US") -> tuple[str, ...]:
        """Labels of the regulatory groups (those with a ``label``, e.g. 'D:4') holding ``country`` on ``on``."""
        if not country:
            return ()
        hit = self._label_cache.get((country, on, jurisdiction))
        if hit is not None:
            return hit
        out = []
        for key, group in self.groups.items():
            if group.label and key.startswith(f"{jurisdiction}:") and country in self.members(
                key.split(":", 1)[1], on, jurisdiction
            ):
                out.append(group.label)
        if len(self._label_cache) > 20_000:
            self._label_cache.clear()
        self._label_cache[(country, on, jurisdiction)] = tuple(out)
        return tuple(out)

    def embargo_reason(self, country: str, on: date) -> str | None:
        """One-line reason when an embargo rule covers a buyer located in ``country`` on ``on`` (else None)."""
        code = self.validate_country(country)
        for rule in self.rules:
            if rule.kind == "embargo" and rule.in_force(on) and self._in_group(rule, rule.destinations, code, on):
                labels = ", ".join(self.country_groups(code, on, rule.jurisdiction)) or rule.destinations
                return (
                    f"{code} ({self.countries[code]}) is an embargoed or sanctioned destination on {on} ({labels}): "
                    f"US export licences for accelerators are reviewed under a policy of denial, so no purchase "
                    f"plan can be recommended [{', '.join(rule.citations)}]"
                )
        return None

    # ------------------------------------------------------------------ helpers
    def _in_group(self, rule: Rule, group: str | None, country: str | None, on: date) -> bool:
        if group is None:
            return True
        if country is None:
            return False
        return country in self.members(group, on, rule.jurisdiction)

    def _hq_applies(self, rule: Rule, buyer: Buyer) -> bool:
        hq = buyer.headquarters_country
        return (
            bool(hq)
            and self._in_group(rule, rule.destinations, hq, buyer.on)
            and not self._in_group(rule, rule.destinations, buyer.country, buyer.on)
        )

    def _dest(self, rule: Rule, st: _State, *, located_only: bool = False) -> bool:
        if self._in_group(rule, rule.destinations, st.buyer.country, st.buyer.on):
            return True
        if located_only or rule.destinations is None:
            return False
        return st.hq_d5 and self._in_group(rule, rule.destinations, st.buyer.headquarters_country, st.buyer.on)

    def _membership_line(self, rule: Rule, st: _State) -> str:
        return self._membership(rule, st)[0]

    def _membership(self, rule: Rule, st: _State) -> tuple[str, tuple[str, ...]]:
        """A line naming the buyer's country groups on the date, and the sources of those memberships."""
        on, c = st.buyer.on, st.buyer.country
        labels = self.country_groups(c, on, rule.jurisdiction)
        groups = ", ".join(labels) if labels else "no listed country group"
        src: list[str] = []
        for key, group in self.groups.items():
            if group.label in labels and key.startswith(f"{rule.jurisdiction}:"):
                src += [sid for sid in group.source if sid not in src]
        line = f"buyer located in {c} ({self.countries.get(c, c)}): {groups} on {on}"
        if st.hq_d5 and st.buyer.headquarters_country:
            hq = st.buyer.headquarters_country
            line += f"; headquartered in {hq} ({', '.join(self.country_groups(hq, on, rule.jurisdiction))})"
        return line + (f" [{', '.join(src)}]" if src else ""), tuple(src)

    def _review(self, rule: Rule, st: _State) -> Review | None:
        """Review policy for this buyer under ``rule`` (None when the destination is out of scope)."""
        on = st.buyer.on
        if st.hq_d5 and st.buyer.headquarters_country:
            for rv in rule.review:
                if self._in_group(rule, rv.group, st.buyer.headquarters_country, on):
                    return rv
        if not self._in_group(rule, rule.destinations, st.buyer.country, on):
            return None
        for rv in rule.review:
            if self._in_group(rule, rv.group, st.buyer.country, on):
                return rv
        if rule.effect is None or rule.outlook is None:
            return None
        return Review(group=rule.destinations or "", effect=rule.effect, outlook=rule.outlook)

    def _tier_2023(self, m: ChipMetrics, acc: Accelerator) -> tuple[str | None, tuple[str, ...]]:
        rule = next((r for r in self.rules if r.kind == "eccn_3a090_2023" and not r.skus), None)
        if rule is None:
            return None, ()
        tier, lines = _classify_2023(rule.params, m, acc.datacenter)
        return tier, tuple(lines)

    def _combine(self, st: _State) -> ComplianceResult:
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
        )


# ---------------------------------------------------------------------- classification arithmetic
def _fmt(v: float | None, digits: int = 0) -> str:
    return "unknown" if v is None else f"{v:.{digits}f}"


def _classify_2023(p: Params2023, m: ChipMetrics, datacenter: bool) -> tuple[str, list[str]]:
    """Apply the Oct-2023 3A090 tests; return (classification, arithmetic lines)."""
    tpp, pd = m.tpp, m.pd
    if tpp is None:
        return "undetermined", ["TPP unknown (dense throughput not sourced)"]
    lines = [f"TPP = {m.tpp_text().removeprefix('TPP ')} ({m.precision} dense peak × bit length)"]
    if not datacenter and tpp < p.a1_tpp:
        lines.append(f"not designed for datacenters and TPP {tpp:.0f} < {p.a1_tpp:.0f} (Note 2) → 3A090 does not apply")
        return "not_controlled", lines
    if tpp >= p.a1_tpp:
        lines.append(f"TPP {tpp:.0f} ≥ {p.a1_tpp:.0f} (a.1)")
        return "3A090.a", lines
    if tpp < min(p.a2_tpp, p.b2_tpp, p.b1_tpp_low):
        lines.append(f"TPP {tpp:.0f} < {min(p.a2_tpp, p.b2_tpp):.0f} → below every 3A090 tier")
        return "not_controlled", lines
    if pd is None:
        lines.append(f"TPP {tpp:.0f} ≥ {p.a2_tpp:.0f} but performance density unknown (die area not sourced)")
        return "undetermined", lines
    lines.append(f"PD = {tpp:.0f} / {m.die_area_mm2:.2f} mm² = {pd:.2f}")
    if tpp >= p.a2_tpp and pd >= p.a2_pd:
        lines.append(f"TPP {tpp:.0f} ≥ {p.a2_tpp:.0f} and PD {pd:.2f} ≥ {p.a2_pd} (a.2)")
        return "3A090.a", lines
    lines.append(f"TPP {tpp:.0f} < {p.a1_tpp:.0f} and PD {pd:.2f} < {p.a2_pd} → not 3A090.a")
    b1 = p.b1_tpp_low <= tpp < p.a1_tpp and p.b1_pd_low <= pd < p.a2_pd
    b2 = tpp >= p.b2_tpp and p.b2_pd_low <= pd < p.a2_pd
    if b1 or b2:
        which = "b.1" if b1 else "b.2"
        lines.append(f"meets 3A090.{which}")
        return "3A090.b", lines
    b1_text = f"TPP {tpp:.0f} < {p.b1_tpp_low:.0f}" if tpp < p.b1_tpp_low else f"PD {pd:.2f} < {p.b1_pd_low}"
    lines.append(f"b.1 fails ({b1_text}); b.2 fails (PD {pd:.2f} < {p.b2_pd_low}) → outside 3A090")
    return "not_controlled", lines


# ---------------------------------------------------------------------- evaluators (one per kind)


def _firing(rule: Rule, extra_citations: tuple[str, ...] = (), **fields: Any) -> RuleFiring:
    """A firing of ``rule`` carrying its id, title, jurisdiction and citations (plus membership sources)."""
    cites = rule.citations + tuple(c for c in extra_citations if c not in rule.citations)
    return RuleFiring(rule_id=rule.id, title=rule.title, jurisdiction=rule.jurisdiction, citations=cites, **fields)


def _eval_hq(engine: ComplianceEngine, rule: Rule, st: _State) -> None:
    if st.hq_d5 and engine._hq_applies(rule, st.buyer):
        st.firings.append(
            _firing(
                rule,
                effect="classification",
                arithmetic=(
                    f"buyer located in {st.buyer.country}, headquartered in {st.buyer.headquarters_country} "
                    f"({', '.join(engine.country_groups(st.buyer.headquarters_country, st.buyer.on))})",
                ),
                text="US licence requirements for D:5/Macau apply as if the buyer were located there",
            )
        )


def _eval_2022(engine: ComplianceEngine, rule: Rule, st: _State) -> None:
    if not st.subject:
        return
    p: Params2022 = rule.params
    m = st.metrics
    if m.tpp is None:
        st.classification, lines, controlled = "undetermined", ["TPP unknown"], False
    elif m.tpp < p.tpp_min:
        st.classification, controlled = "not_controlled", False
        lines = [f"TPP {m.tpp:.0f} < {p.tpp_min:.0f}"]
    elif m.io_gbps is None:
        st.classification, controlled = "undetermined", False
        lines = [f"TPP {m.tpp:.0f} ≥ {p.tpp_min:.0f} but chip-to-chip I/O unknown"]
    elif m.io_gbps < p.io_gbps_min:
        st.classification, controlled = "not_controlled", False
        lines = [
            f"TPP {m.tpp:.0f} ≥ {p.tpp_min:.0f} but I/O {m.io_gbps:.0f} GB/s < {p.io_gbps_min:.0f} GB/s (both needed)"
        ]
    else:
        st.classification, controlled = "3A090.a", True
        lines = [f"TPP {m.tpp:.0f} ≥ {p.tpp_min:.0f} and I/O {m.io_gbps:.0f} GB/s ≥ {p.io_gbps_min:.0f} GB/s"]
    dest = engine._dest(rule, st)
    if controlled and dest and rule.effect:
        st.firings.append(
            _firing(
                rule,
                effect=rule.effect,
                outlook=rule.outlook,
                arithmetic=tuple(lines),
                text=f"3A090 item; licence required for {st.buyer.country}, reviewed under a presumption of denial",
            )
        )
    else:
        outcome = "controlled, but no licence requirement for this destination" if controlled else "not controlled"
        if st.classification == "undetermined":
            outcome = "classification undetermined"
        st.firings.append(_firing(rule, effect="classification", arithmetic=tuple(lines), text=outcome))
        if st.classification == "undetermined" and dest:
            st.firings.append(
                _firing(
                    rule,
                    effect="license_required",
                    outlook="classification_undetermined",
                    arithmetic=tuple(lines),
                    text="cannot rule out 3A090 from sourced data",
                )
            )


def _eval_2023(engine: ComplianceEngine, rule: Rule, st: _State) -> None:
    if not st.subject or (rule.skus and st.acc.id not in rule.skus):
        return
    p: Params2023 = rule.params
    tier, lines = _classify_2023(p, st.metrics, st.acc.datacenter)
    st.classification = tier
    review = engine._review(rule, st)
    c = st.buyer.country
    if review is None or tier == "not_controlled":
        scope = engine.groups[f"{rule.jurisdiction}:{rule.destinations}"].title if rule.destinations else None
        text = {
            "not_controlled": "not controlled under 3A090",
            "undetermined": "classification undetermined",
        }.get(tier, f"{tier} item; no licence requirement for {c}" + (f" (outside {scope})" if scope else ""))
        if review is None and tier != "not_controlled":
            lines = [*lines, engine._membership_line(rule, st)]
        st.firings.append(_firing(rule, effect="classification", arithmetic=tuple(lines), text=text))
        return
    member_line, member_src = engine._membership(rule, st)
    lines = [*lines, member_line]
    if tier == "undetermined":
        st.firings.append(
            _firing(
                rule,
                effect="license_required",
                outlook="classification_undetermined",
                arithmetic=tuple(lines),
                text="cannot rule out 3A090 from sourced data; treat as licence-required",
            )
        )
        return
    if tier == "3A090.a" and st.acc.datacenter:
        st.firings.append(
            _firing(
                rule,
                member_src,
                effect=review.effect,
                outlook=review.outlook,
                arithmetic=tuple(lines),
                text=f"3A090.a to {c}: licence required, {OUTLOOK_TEXT[review.outlook]}",
            )
        )
        return
    reason = "not designed for datacenters, TPP ≥ 4800" if tier == "3A090.a" else "3A090.b datacenter item"
    if review.effect == "prohibited":
        st.firings.append(
            _firing(
                rule,
                member_src,
                effect="license_required",
                outlook="nac_notification",
                arithmetic=tuple(lines),
                text=f"{tier} ({reason}): License Exception NAC with prior notification to BIS",
            )
        )
        return
    st.firings.append(
        _firing(
            rule,
            member_src,
            effect="classification",
            arithmetic=tuple(lines),
            text=(
                f"{tier} ({reason}): eligible for License Exception NAC without notification for {c} "
                "(License Exception ACA from 2024-04-04); no individual licence needed"
            ),
        )
    )


def _eval_is_informed(engine: ComplianceEngine, rule: Rule, st: _State) -> None:
    named = st.acc.id in rule.skus
    lines: list[str] = []
    if not named:
        if not (rule.equivalent_to and st.subject and st.acc.datacenter):
            return
        if st.classification.startswith("3A090"):
            return  # already controlled by the ECCN; the letter targets parts that escape it
        ref = engine.catalog.accelerators[rule.equivalent_to]
        ref_bw, ref_link = ref.memory_bandwidth_tbps.value, ref.intra_node_link_gbps.value
        bw, link = st.acc.memory_bandwidth_tbps.value, st.acc.intra_node_link_gbps.value
        hit_bw = bw is not None and ref_bw is not None and bw >= ref_bw
        hit_link = link is not None and ref_link is not None and link >= ref_link
        if not (hit_bw or hit_link):
            return
        if hit_bw:
            lines.append(f"memory bandwidth {bw} TB/s ≥ {ref.name}'s {ref_bw} TB/s")
        if hit_link:
            lines.append(f"interconnect {link:.0f} GB/s ≥ {ref.name}'s {ref_link:.0f} GB/s")
    else:
        lines.append(f"{st.acc.name} is named in the letter")
    if not engine._dest(rule, st) or rule.effect is None:
        return
    if named:
        # The letter names the part, so it governs where the ECCN tests could not classify it.
        st.firings = [f for f in st.firings if f.outlook != "classification_undetermined"]
    st.firings.append(
        _firing(
            rule,
            effect=rule.effect,
            outlook=rule.outlook,
            arithmetic=tuple(lines),
            text=f"licence required for {st.buyer.country}: {OUTLOOK_TEXT[rule.outlook or 'not_granted_yet']}",
        )
    )


def _replace(st: _State, old: RuleFiring, new: RuleFiring) -> None:
    st.firings[st.firings.index(old)] = new


def _eval_case_by_case(engine: ComplianceEngine, rule: Rule, st: _State) -> None:
    target = next((f for f in st.firings if f.rule_id == rule.modifies and f.effect == "prohibited"), None)
    if target is None:
        return
    p: CaseByCaseParams = rule.params
    m = st.metrics
    lines = [
        f"TPP {_fmt(m.tpp)} {'<' if (m.tpp or 1e12) < p.tpp_below else '≥'} {p.tpp_below:.0f}",
        f"DRAM bandwidth {_fmt(m.dram_gbps)} GB/s {'<' if (m.dram_gbps or 1e12) < p.dram_gbps_below else '≥'} "
        f"{p.dram_gbps_below:.0f} GB/s",
    ]
    eligible = m.tpp is not None and m.tpp < p.tpp_below and m.dram_gbps is not None and m.dram_gbps < p.dram_gbps_below
    if rule.requires_us_commercial_availability:
        sold = st.acc.us_commercially_available
        lines.append("sold commercially in the US" if sold else "not sold commercially in the US")
        eligible = eligible and bool(sold)
    located = engine._dest(rule, st, located_only=True)
    if not located:
        lines.append(f"buyer not located in the eligible destinations ({st.buyer.country})")
        eligible = False
    if eligible:
        _replace(
            st,
            target,
            target.model_copy(
                update={
                    "effect": "license_required",
                    "outlook": rule.outlook,
                    "text": f"{st.classification} to {st.buyer.country}: reviewed case by case under the Jan-2026 rule",
                }
            ),
        )
        st.firings.append(
            _firing(
                rule,
                effect="outlook_change",
                outlook=rule.outlook,
                arithmetic=tuple(lines),
                text=rule.text or "case-by-case review",
            )
        )
    else:
        st.firings.append(
            _firing(
                rule,
                effect="classification",
                arithmetic=tuple(lines),
                text="not eligible for case-by-case review; presumption of denial remains",
            )
        )


def _eval_outlook(engine: ComplianceEngine, rule: Rule, st: _State) -> None:
    if st.acc.id not in rule.skus:
        return
    target = next(
        (f for f in st.firings if f.rule_id == rule.modifies and f.effect in ("license_required", "prohibited")), None
    )
    if target is None or rule.outlook is None:
        return
    _replace(
        st,
        target,
        target.model_copy(
            update={
                "outlook": rule.outlook,
                "text": f"licence required for {st.buyer.country}: {OUTLOOK_TEXT[rule.outlook]}",
            }
        ),
    )
    st.firings.append(
        _firing(rule, effect="outlook_change", outlook=rule.outlook, text=rule.text or OUTLOOK_TEXT[rule.outlook])
    )


def _eval_cost_adder(engine: ComplianceEngine, rule: Rule, st: _State) -> None:
    if st.acc.id not in rule.skus or not engine._dest(rule, st):
        return
    p: FractionParams = rule.params
    st.adders.append(
        CostAdder(rule_id=rule.id, fraction=p.fraction, text=rule.text or rule.title, citations=rule.citations)
    )
    st.firings.append(
        _firing(rule, effect="cost_adder", fee_fraction=p.fraction, text=f"{p.fraction:.0%} added to the price")
    )


def _eval_tariff(engine: ComplianceEngine, rule: Rule, st: _State) -> None:
    m = st.metrics
    if not st.subject or m.tpp is None or m.dram_gbps is None or not engine._dest(rule, st):
        return
    p: TariffParams = rule.params
    for band in p.bands:
        if band.tpp_min <= m.tpp <= band.tpp_max and band.dram_gbps_min <= m.dram_gbps <= band.dram_gbps_max:
            line = (
                f"TPP {m.tpp:.0f} in {band.tpp_min:.0f}–{band.tpp_max:.0f} and DRAM {m.dram_gbps:.0f} GB/s in "
                f"{band.dram_gbps_min:.0f}–{band.dram_gbps_max:.0f} GB/s"
            )
            st.adders.append(
                CostAdder(rule_id=rule.id, fraction=p.fraction, text=rule.text or rule.title, citations=rule.citations)
            )
            st.firings.append(
                _firing(
                    rule,
                    effect="cost_adder",
                    fee_fraction=p.fraction,
                    arithmetic=(line,),
                    text=f"{p.fraction:.0%} tariff added to the price",
                )
            )
            return


def _warn(st: _State, rule: Rule, severity: str | None, text: str | None = None, why: Why | None = None) -> None:
    if severity is None:
        return
    st.warnings.append(
        ComplianceWarning(
            rule_id=rule.id,
            severity=severity,  # type: ignore[arg-type]
            text=text or rule.text or rule.title,
            citations=rule.citations,
            why=why,
        )
    )


def _eval_notice(engine: ComplianceEngine, rule: Rule, st: _State) -> None:
    f = rule.applies_to
    if f is not None:
        if f.skus and st.acc.id not in f.skus:
            return
        if f.us_origin is not None and f.us_origin != st.subject:
            return
        if f.classification and st.classification not in f.classification:
            return
    if rule.destinations is not None and not engine._dest(rule, st):
        return
    _warn(st, rule, rule.severity_for(st.buyer.kind))


def _eval_gp10(engine: ComplianceEngine, rule: Rule, st: _State) -> None:
    acc, on = st.acc, st.buyer.on
    named = acc.id in rule.skus
    if not (named or engine._in_group(rule, rule.developed_in, acc.country_of_origin, on)):
        return
    if engine._in_group(rule, rule.exempt_destinations, st.buyer.country, on):
        return
    tier = st.equivalent_tier
    lines = [f"{acc.name} is designed by {acc.vendor} in {acc.country_of_origin}; buyer located in {st.buyer.country}"]
    lines += [f"{ln} (3A090 tests applied to a non-US part)" if i == 0 else ln
              for i, ln in enumerate(st.equivalent_lines)]
    if named:
        lines.append(f"{acc.name} is named in the guidance")
    if named or (tier or "").startswith("3A090"):
        st.firings.append(
            _firing(
                rule,
                effect=rule.effect or "prohibited",
                outlook=rule.outlook,
                arithmetic=tuple(lines),
                text=f"{tier or '3A090'}-level PRC IC bought outside China: {rule.text}",
            )
        )
    elif tier == "not_controlled":
        st.firings.append(
            _firing(rule, effect="classification", arithmetic=tuple(lines),
                    text="below the 3A090 level: the GP10 guidance does not apply")
        )
    else:
        _warn(
            st,
            rule,
            rule.severity_for(st.buyer.kind),
            f"{acc.name}: 3A090 level cannot be determined from sourced data, so the May-2025 GP10 guidance on PRC "
            f"advanced ICs may apply to a buyer in {st.buyer.country}.",
        )


def _eval_embargo(engine: ComplianceEngine, rule: Rule, st: _State) -> None:
    if not engine._dest(rule, st, located_only=True):
        return
    line, src = engine._membership(rule, st)
    st.firings.append(
        _firing(
            rule,
            src,
            effect=rule.effect or "prohibited",
            outlook=rule.outlook,
            arithmetic=(line,),
            text=f"embargoed or sanctioned destination: {OUTLOOK_TEXT[rule.outlook or 'denial_presumed']}",
        )
    )


def _eval_hbm(engine: ComplianceEngine, rule: Rule, st: _State) -> None:
    if st.subject or not (st.acc.memory_type or "").upper().startswith("HBM") or st.acc.country_of_origin != "CN":
        return
    p: HbmParams = rule.params
    _warn(
        st,
        rule,
        "caution",
        f"{st.acc.name} relies on HBM; standalone HBM above {p.density_gbps_per_mm2} GB/s/mm² is controlled "
        "(3A090.c) and PRC advanced ICs rely on imported HBM, so supply is at risk.",
        why=Why(code="hbm_supply", args={"name": st.acc.name, "density": f"{p.density_gbps_per_mm2}"}),
    )


def _eval_cn_guidance(engine: ComplianceEngine, rule: Rule, st: _State) -> None:
    if not engine._dest(rule, st, located_only=True):
        return
    if not (st.acc.id in rule.skus or st.acc.vendor in rule.vendors):
        return
    _warn(st, rule, rule.severity_for(st.buyer.kind))


def _eval_cn_domestic(engine: ComplianceEngine, rule: Rule, st: _State) -> None:
    if st.acc.domestic_china or st.buyer.kind not in rule.buyer_kinds:
        return
    if not engine._dest(rule, st, located_only=True):
        return
    _warn(st, rule, rule.severity_for(st.buyer.kind), f"{rule.text} {st.acc.name} is a foreign part.")


_EVALUATORS: dict[str, Callable[[ComplianceEngine, Rule, _State], None]] = {
    "headquarters_rule": _eval_hq,
    "eccn_3a090_2022": _eval_2022,
    "eccn_3a090_2023": _eval_2023,
    "is_informed": _eval_is_informed,
    "case_by_case_review": _eval_case_by_case,
    "outlook_change": _eval_outlook,
    "cost_adder": _eval_cost_adder,
    "tariff_band": _eval_tariff,
    "notice": _eval_notice,
    "gp10_guidance": _eval_gp10,
    "embargo": _eval_embargo,
    "hbm_supply": _eval_hbm,
    "cn_guidance": _eval_cn_guidance,
    "cn_domestic_only": _eval_cn_domestic,
}


def load_engine(catalog: Catalog, extra_rule_files: Iterable[Path | str] = ()) -> ComplianceEngine:
    """Load the embedded rule packs (plus any extra pack files) and bind them to ``catalog``.

    Raises:
        CatalogError: a pack file is invalid or references unknown SKUs, groups, rules or sources.
    """
    pkg = resources.files("optimizer.data").joinpath("rules")
    packs = [_load_pack(pkg.joinpath(n).read_text(encoding="utf-8"), f"rules/{n}") for n in _RULE_FILES]
    for path in extra_rule_files:
        p = Path(path)
        try:
            packs.append(_load_pack(p.read_text(encoding="utf-8"), str(p)))
        except OSError as exc:
            raise CatalogError(f"cannot read rule pack ({exc.__class__.__name__})", path=str(p)) from None
    return ComplianceEngine(catalog, packs, load_countries())

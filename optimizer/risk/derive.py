"""Derive a scenario set's events from the data: licence outlooks, China-side measures, delays and price ranges.

Only parts that can be bought (they have an admissible option in the request's table) get events. Everything read
here comes through the compliance engine's verdicts and warnings and the catalog, so a new rule pack or data pack
changes the derived events without code.

* **licence** — a ``license_required`` part: revocation and pause probabilities from its licence outlook;
* **tightening** — a China-side measure may bar the part: guidance warnings (caution), restrictive measures the
  buyer policy admits anyway, and any foreign part for a state-funded buyer in China;
* **delay** — Chinese customs checks of US-origin parts (from the date checks began), imported-HBM supply for parts
  the engine warns about, otherwise an ordinary supply slip;
* **price** — the catalog's low/base/high price of every part whose range is not a single figure.

The request's ``risk`` settings then replace or add events (same id), drop events and scale every probability.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from optimizer.catalog import Catalog
from optimizer.compliance import ComplianceEngine, ComplianceResult
from optimizer.risk.spec import (
    DelayDefault,
    DelayEvent,
    LicenceEvent,
    OutlookDefault,
    OutlookOverride,
    PriceEvent,
    ProbabilityDefault,
    RiskDefaults,
    RiskEvent,
    RiskSettings,
    TighteningEvent,
)
from optimizer.table import OptionTable

_CN_KINDS = ("cn_guidance", "cn_domestic_only")


def candidate_skus(table: OptionTable) -> list[str]:
    """Parts with at least one admissible option (the parts a plan or a recourse may buy), in table order."""
    return list(dict.fromkeys(o.sku for o in table.options if o.blocked is None))


def _outlook(defaults: RiskDefaults, settings: RiskSettings, outlook: str) -> OutlookDefault | None:
    base = cast("OutlookDefault | None", defaults.outlooks.get(outlook))  # type: ignore[call-overload]
    if base is None:
        return None
    override = cast("OutlookOverride | None", settings.outlooks.get(outlook))  # type: ignore[call-overload]
    if override is None:
        return base
    changed = {k: v for k, v in override.model_dump().items() if v is not None}
    if "pause_days" in changed:
        changed["pause_days"] = override.pause_days
    if override.pause is None and override.revoke is not None:
        changed["pause"] = min(base.pause, 1.0 - override.revoke)  # a higher revocation leaves less room for pauses
    if override.revoke is None and override.pause is not None:
        changed["revoke"] = min(base.revoke, 1.0 - override.pause)
    return base.model_copy(update={**changed, "basis": "set by the request", "sources": ()})


def _licence(sku: str, c: ComplianceResult, defaults: RiskDefaults, settings: RiskSettings) -> LicenceEvent | None:
    if c.verdict != "license_required" or not c.license_outlook:
        return None
    od = _outlook(defaults, settings, c.license_outlook)
    if od is None:
        return None
    return LicenceEvent(id=f"licence:{sku}", sku=sku, outlook=c.license_outlook, revoke=od.revoke, pause=od.pause,
                        pause_days=od.pause_days, discovered_after_days=od.discovered_after_days,
                        group=defaults.groups.licence, basis=od.basis, sources=od.sources)


def _tightening(sku: str, c: ComplianceResult, domestic: bool, engine: ComplianceEngine, table: OptionTable,
                defaults: RiskDefaults) -> TighteningEvent | None:
    req = table.request
    rules = {r.id: r for r in engine.rules}
    t = defaults.tightening
    cases: list[tuple[ProbabilityDefault, str]] = []
    for w in c.warnings:
        rule = rules.get(w.rule_id)
        if rule is None or rule.jurisdiction != "CN" or rule.kind not in _CN_KINDS:
            continue
        if w.severity == "restrictive":
            cases.append((t.restricted_admitted, f"restrictive China-side measure {w.rule_id} (admitted by policy)"))
        elif rule.kind == "cn_guidance" and w.severity == "caution":
            case = t.guidance_state_funded if req.buyer.kind == "state_funded" else t.guidance_commercial
            cases.append((case, f"China-side guidance {w.rule_id}"))
    if not cases and not domestic and req.buyer.kind == "state_funded" and req.buyer.country == "CN":
        cases.append((t.foreign_state_funded, "foreign part bought by a state-funded buyer"))
    if not cases:
        return None
    case, reason = max(cases, key=lambda x: x[0].probability)
    return TighteningEvent(id=f"tightening:{sku}", sku=sku, probability=case.probability,
                           discovered_after_days=t.discovered_after_days, group=defaults.groups.tightening,
                           reason=reason, basis=case.basis, sources=case.sources)


def _delay(sku: str, c: ComplianceResult, origin: str, engine: ComplianceEngine, table: OptionTable,
           defaults: RiskDefaults) -> DelayEvent:
    req = table.request
    d = defaults.delays
    rules = {r.id: r for r in engine.rules}
    hbm = any(rules[w.rule_id].kind == "hbm_supply" for w in c.warnings if w.rule_id in rules)
    chosen: tuple[DelayDefault, str | None]
    if d.customs.applies(req.buyer.country, origin, req.buyer.date):
        chosen = (d.customs, defaults.groups.customs)
    elif hbm:
        chosen = (d.hbm_supply, defaults.groups.hbm_supply)
    else:
        chosen = (d.default, None)
    dd, group = chosen
    return DelayEvent(id=f"delay:{sku}", sku=sku, probability=dd.probability, days=dd.days, levels=d.levels,
                      group=group, basis=dd.basis, sources=dd.sources)


def _price(sku: str, table: OptionTable, defaults: RiskDefaults) -> PriceEvent | None:
    ranged = any(o.cost_high > o.cost_low * (1 + 1e-9) for o in table.options if o.sku == sku)
    if not ranged:
        return None
    p = defaults.prices
    return PriceEvent(id=f"price:{sku}", sku=sku, low=p.low, base=p.base, high=p.high, group=defaults.groups.price,
                      basis=p.basis, sources=p.sources)


def derived_events(table: OptionTable, catalog: Catalog, engine: ComplianceEngine, defaults: RiskDefaults,
                   settings: RiskSettings) -> list[RiskEvent]:
    """The events the data implies for the request's candidate parts (before the settings' edits)."""
    out: list[RiskEvent] = []
    for sku in candidate_skus(table):
        info = table.skus[sku]
        acc = catalog.accelerators[sku]
        c = info.compliance
        for ev in (_licence(sku, c, defaults, settings),
                   _tightening(sku, c, acc.domestic_china, engine, table, defaults),
                   _delay(sku, c, acc.country_of_origin, engine, table, defaults),
                   _price(sku, table, defaults)):
            if ev is not None:
                out.append(ev)
    return out


def _scaled(ev: RiskEvent, scale: float) -> RiskEvent:
    if scale == 1.0:
        return ev
    if isinstance(ev, LicenceEvent):
        revoke, pause = min(1.0, ev.revoke * scale), ev.pause * scale
        return ev.model_copy(update={"revoke": revoke, "pause": min(pause, 1.0 - revoke)})
    if isinstance(ev, PriceEvent):
        low, high = ev.low * scale, ev.high * scale
        if low + high > 1:
            low, high = low / (low + high), high / (low + high)
        return ev.model_copy(update={"low": low, "high": high, "base": max(0.0, 1.0 - low - high)})
    return ev.model_copy(update={"probability": min(1.0, ev.probability * scale)})


def scenario_events(table: OptionTable, catalog: Catalog, engine: ComplianceEngine, defaults: RiskDefaults,
                    settings: RiskSettings) -> list[RiskEvent]:
    """The events of the request's scenario set: derived (if asked), edited, dropped and scaled, in a stable order.

    Events about parts that are not candidates of this request are left out (nothing can be bought of them).

    Raises:
        UnknownSkuError: an event names an unknown accelerator.
    """
    events: dict[str, RiskEvent] = {}
    if settings.derive:
        for ev in derived_events(table, catalog, engine, defaults, settings):
            events[ev.id] = ev
    candidates = set(candidate_skus(table))
    for ev in settings.events:
        sku = catalog.resolve(ev.sku)
        events[ev.id] = ev.model_copy(update={"sku": sku}) if sku != ev.sku else ev
    for eid in settings.drop:
        events.pop(eid, None)
    kept = [e for e in events.values() if e.sku in candidates]
    return [_scaled(e, settings.probability_scale) for e in sorted(kept, key=_order)]


def _order(ev: RiskEvent) -> tuple[int, str]:
    rank = {"licence": 0, "tightening": 1, "delay": 2, "price": 3}[ev.kind]
    return rank, ev.id


def event_sources(events: Iterable[RiskEvent]) -> list[str]:
    """Source ids cited by the events, first-seen order."""
    return list(dict.fromkeys(s for e in events for s in e.sources))

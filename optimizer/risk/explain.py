"""What the risk block says besides the outcomes: events used, assumptions, switching charges, sources, items."""

from __future__ import annotations

from collections.abc import Mapping

from optimizer.catalog import Catalog
from optimizer.risk.coefficients import Coefficients
from optimizer.risk.defaults import load_defaults
from optimizer.risk.report import (
    Assumption,
    HedgedItem,
    RiskCitation,
    RiskEventOut,
    SwitchingCharge,
    SwitchingReport,
    SwitchingTerm,
)
from optimizer.risk.spec import DelayEvent, LicenceEvent, PriceEvent, RiskEvent, RiskSettings, TighteningEvent
from optimizer.switching import family, porting_charges


def event_out(ev: RiskEvent) -> RiskEventOut:
    """An event as reported: its total probability and its parameters."""
    detail: dict[str, float | str | None]
    if isinstance(ev, LicenceEvent):
        prob = ev.revoke + ev.pause
        detail = {"outlook": ev.outlook, "revoke": ev.revoke, "pause": ev.pause, "pause_days_low": ev.pause_days.low,
                  "pause_days_high": ev.pause_days.high, "discovered_after_days": ev.discovered_after_days}
    elif isinstance(ev, TighteningEvent):
        prob = ev.probability
        detail = {"reason": ev.reason, "discovered_after_days": ev.discovered_after_days}
    elif isinstance(ev, DelayEvent):
        prob = ev.probability
        detail = {"days_low": ev.days.low, "days_high": ev.days.high, "levels": float(ev.levels)}
    else:
        assert isinstance(ev, PriceEvent)
        prob = ev.low + ev.high
        detail = {"low": ev.low, "base": ev.base, "high": ev.high}
    return RiskEventOut(id=ev.id, kind=ev.kind, sku=ev.sku, probability=prob, group=ev.group, grade=ev.grade,
                        basis=ev.basis, sources=list(ev.sources), detail=detail)


def hedged_items(catalog: Catalog, co: Coefficients, selection: Mapping[str, int]) -> list[HedgedItem]:
    """The hedged plan's lines (nominal cost, ramped training days)."""
    out = []
    for oid, units in selection.items():
        if not units:
            continue
        o = co.by_id[oid]
        info = co.table.skus[o.sku]
        acc = catalog.accelerators[o.sku]
        out.append(HedgedItem(
            workload=o.workload, kind=o.kind, option_id=oid, units=units, sku=o.sku, name=info.name,
            vendor=o.vendor, domestic=o.domestic, ecosystem=family(acc.software_ecosystem), nodes=o.nodes * units,
            accelerators=o.accelerators * units, total_cost=o.cost * units, time_days=o.days,
            capacity_rps=None if o.capacity_rps is None else o.capacity_rps * units,
            verdict=info.compliance.verdict, license_outlook=info.compliance.license_outlook,
        ))
    out.sort(key=lambda i: (i.workload, i.sku))
    return out


def _charges(co: Coefficients, selection: Mapping[str, int]) -> list[SwitchingCharge]:
    ramp = {o.id: o.ramp_days_added for o in co.options}
    return [SwitchingCharge(workload=c.workload, target=c.target, porting_cost=c.cost,
                            ramp_days_added=None if c.kind != "training" else max(
                                (ramp[i] for i, n in selection.items() if n and co.by_id[i].workload == c.workload
                                 and co.family.get(i) == c.target), default=0.0))
            for c in porting_charges(co.switching, co.by_id, selection)]


def switching_report(co: Coefficients, base: Mapping[str, int], hedged: Mapping[str, int]) -> SwitchingReport | None:
    """The stack, the terms of the other families in play, and each plan's porting and ramp."""
    sw = co.switching
    if sw is None:
        return None
    terms = [SwitchingTerm(target=t.target, training_person_months=t.training_person_months,
                           inference_person_months=t.inference_person_months, person_month_cost=t.person_month_cost,
                           ramp_days=t.ramp_days, ramp_efficiency=t.ramp_efficiency, grade=t.grade, basis=t.basis,
                           sources=list(t.sources)) for t in sw.terms.values()]
    return SwitchingReport(current_stack=sw.current, terms=terms, base=_charges(co, base),
                           hedged=_charges(co, hedged))


def assumptions(co: Coefficients, settings: RiskSettings) -> list[Assumption]:
    """The figures the hedge rests on beyond the events (all assumptions unless the request set them)."""
    d = load_defaults()
    t = co.terms
    set_dep = settings.deposit_lost is not None
    set_fac = settings.recourse_price_factor is not None
    rec_basis, rec_src = d.recourse.basis, list(d.recourse.sources)
    out = [
        Assumption(name="deposit_lost", value=t.deposit_lost, unit="fraction of capex",
                   basis="set by the request" if set_dep else rec_basis, sources=[] if set_dep else rec_src),
        Assumption(name="recourse_price_factor", value=t.recourse_price_factor, unit="× scenario price",
                   basis="set by the request" if set_fac else rec_basis, sources=[] if set_fac else rec_src),
        Assumption(name="recourse_lead_days", value=t.recourse_lead_days, unit="days",
                   basis="extra days to get a replacement beyond the lead time and its own delays"),
        Assumption(name="lead_time_days", value=t.lead_time_days, unit="days", grade="A",
                   basis="the request's lead time from order to a working cluster"),
        Assumption(name="price_probabilities", value=f"low {d.prices.low:g} / base {d.prices.base:g} / high "
                   f"{d.prices.high:g}", basis=d.prices.basis, sources=list(d.prices.sources)),
        Assumption(name="probability_scale", value=settings.probability_scale, unit="×",
                   basis="multiplies every event probability"),
    ]
    if t.service_deadline_days is not None:
        out.append(Assumption(name="service_deadline_days", value=t.service_deadline_days, unit="days",
                              basis="serving capacity must run by then"))
    if co.switching is not None:
        out.append(Assumption(name="person_month_cost",
                              value=co.switching.person_month_cost, unit=co.table.currency,
                              basis=co.switching.person_month_basis))
    return out


def citations(co: Coefficients) -> list[RiskCitation]:
    """Sources cited by the events, the recourse terms and the switching terms in play."""
    d = load_defaults()
    ids = [s for e in co.scenarios.events for s in e.sources]
    ids += list(d.recourse.sources)
    if co.switching is not None:
        ids += [s for t in co.switching.terms.values() for s in t.sources]
    out = []
    for sid in dict.fromkeys(ids):
        ref = d.sources.get(sid)
        if ref is not None:
            out.append(RiskCitation(id=sid, title=ref.title, url=ref.url))
    return out

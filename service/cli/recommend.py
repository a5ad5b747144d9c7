"""``procure recommend`` and ``procure whatif``: purchase plans from the optimizer."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from optimizer.errors import InvalidInputError
from optimizer.plan import PurchasePlan
from optimizer.request import PurchaseRequest
from service.cli._common import CatalogOpt, JsonOpt, console, domain, emit_json
from service.relaxation_text import describe as describe_relaxation
from service.requests import load_request_file
from service.settings import get_settings


class WorkloadChoice(StrEnum):
    """Workload kinds."""

    training = "training"
    fine_tune = "fine_tune"
    inference = "inference"


class ObjectiveChoice(StrEnum):
    """Objectives."""

    min_cost = "min_cost"
    min_time = "min_time"


class LicenceChoice(StrEnum):
    """Treatment of licence-required parts."""

    exclude = "exclude"
    allow_with_risk_premium = "allow_with_risk_premium"
    allow = "allow"


AcceptRiskOpt = Annotated[bool, typer.Option(
    "--accept-license-risk", help="Also consider licence-required parts whose licence outlook is not favourable "
    "(not granted yet, case by case); by default only granted/assured/NAC outlooks are admitted.")]
RequestOpt = Annotated[Path | None, typer.Option("--request", help="YAML/JSON request file (portfolio).")]


def _flags_request(**f: Any) -> PurchaseRequest:
    if f["params"] is None:
        raise InvalidInputError("give --request FILE, or --params (and --tokens or --requests-per-s)")
    kind = f["workload"].value
    work: dict[str, Any] = {"kind": kind, "name": kind, "params": f["params"]}
    if f["active_params"]:
        work["active_params"] = f["active_params"]
    if kind == "inference":
        if f["requests_per_s"] is None:
            raise InvalidInputError("an inference workload needs --requests-per-s")
        work["requests_per_s"] = f["requests_per_s"]
    else:
        if f["tokens"] is None:
            raise InvalidInputError(f"a {kind} workload needs --tokens")
        work["tokens"] = f["tokens"]
        if f["deadline_days"] is not None:
            work["deadline_days"] = f["deadline_days"]
        if f["precision"]:
            work["precision"] = f["precision"]
    data: dict[str, Any] = {
        "workloads": [work],
        "buyer": {"country": f["buyer_country"], "kind": f["buyer_kind"],
                  **({"date": f["on"]} if f["on"] else {})},
        "policy": {"license_required": f["license_required"].value, "min_domestic_share": f["min_domestic_share"],
                   **({"vendor_allow": f["vendor_allow"]} if f["vendor_allow"] else {}),
                   "vendor_deny": f["vendor_deny"] or [], "allow_restricted": f["allow_restricted"]},
        "alternatives": f["alternatives"], "pareto": f["pareto"],
        "accept_license_risk": f.get("accept_license_risk", False),
    }
    if f["budget"] is not None:
        data["budget"] = {"amount": f["budget"], **({"currency": f["currency"]} if f["currency"] else {})}
    elif f["currency"]:
        data["currency"] = f["currency"]
    if f["objective"] is not None:
        data["objective"] = f["objective"].value
    if f["power_kw"] is not None:
        data["limits"] = {"power_kw": f["power_kw"]}
    if f["skus"]:
        data["skus"] = [s.strip() for s in f["skus"].split(",") if s.strip()]
    return PurchaseRequest.model_validate(data)


def _request(request: Path | None, **flags: Any) -> PurchaseRequest:
    if request is not None:
        return load_request_file(request)
    return _flags_request(**flags)


def _m(v: float | None, cur: str) -> str:
    if v is None:
        return "—"
    return f"{'¥' if cur == 'CNY' else '$'}{v / 1e6:,.2f}M"


def render_plan(plan: PurchasePlan) -> None:
    """Human-readable plan."""
    cur = plan.currency
    colour = "green" if plan.status in ("optimal", "feasible") else "red"
    console.print(f"[bold {colour}]{plan.status}[/] ({plan.objective}): {plan.message}", highlight=False)
    if plan.items:
        t = Table(title="Purchase plan", header_style="bold")
        for col in ("workload", "accelerator", "nodes", "count", "total cost", "days / req/s", "kW", "verdict",
                    "plan"):
            t.add_column(col)
        for i in plan.items:
            perf = f"{i.time_days:.1f} d" if i.time_days is not None else f"{i.capacity_rps or 0:,.0f} req/s"
            t.add_row(i.workload, i.sku, str(i.nodes), str(i.accelerators), _m(i.total_cost, cur), perf,
                      f"{i.power_kw:,.0f}", i.verdict + (f" ({i.license_outlook})" if i.license_outlook else ""),
                      i.plan)
        console.print(t)
        console.print(f"capex {_m(plan.capex, cur)} + opex {_m(plan.opex, cur)} = {_m(plan.total_cost, cur)} "
                      f"(range {_m(plan.total_cost_low, cur)}–{_m(plan.total_cost_high, cur)})"
                      + (f" of budget {_m(plan.budget, cur)}" if plan.budget else "")
                      + (f"; domestic share {plan.domestic_share:.0%}" if plan.domestic_share is not None else ""),
                      highlight=False)
        if plan.network_cost or plan.hosting_cost:
            console.print(f"  of which scale-out network {_m(plan.network_cost, cur)} (capex) and hosting/maintenance "
                          f"{_m(plan.hosting_cost, cur)} (opex); see the notes for their grades", highlight=False)
        console.print(f"binding constraints: {', '.join(plan.binding_constraints) or 'none'}")
    if plan.considered:
        t = Table(title="Considered options", header_style="bold")
        for col in ("workload", "accelerator", "status", "count", "total cost", "days", "Δ cost", "Δ days", "why"):
            t.add_column(col)
        for c in plan.considered:
            t.add_row(c.workload, c.sku, c.status, str(c.accelerators or "—"), _m(c.total_cost, cur),
                      "—" if c.time_days is None else f"{c.time_days:.0f}",
                      "—" if c.delta_cost is None else f"{c.delta_cost / 1e6:+,.1f}M",
                      "—" if c.delta_days is None else f"{c.delta_days:+.0f}", c.reason[:90])
        console.print(t)
    for a in plan.alternatives:
        desc = ", ".join(f"{x.accelerators} × {x.sku} ({x.workload})" for x in a.items)
        days = "" if a.time_days is None else f", {a.time_days:.1f} days"
        console.print(f"alternative {a.rank}: {desc}: {_m(a.total_cost, cur)}{days} "
                      f"(Δ {a.delta_cost / 1e6:+,.2f}M)", highlight=False)
    for p in plan.pareto:
        console.print(f"pareto: {_m(p.total_cost, cur)} — {p.time_days:.1f} days — "
                      + ", ".join(f"{x.accelerators} × {x.sku}" for x in p.items), highlight=False)
    for r in plan.relaxations:
        console.print(f"  [yellow]relax[/] {r.constraint}: {describe_relaxation(r)}", highlight=False)
    for w in plan.warnings:
        console.print(f"  [yellow]! {w}[/]", highlight=False)
    if plan.validation is not None:
        console.print(f"validator: {'ok' if plan.validation.ok else 'PROBLEMS: ' + '; '.join(plan.validation.problems)}"
                      f" (recomputed {plan.validation.recomputed})")
    if plan.citations:
        console.print("sources: " + ", ".join(c.id for c in plan.citations), highlight=False)


def recommend(
    request: RequestOpt = None,
    workload: Annotated[WorkloadChoice, typer.Option("--workload")] = WorkloadChoice.training,
    params: Annotated[str | None, typer.Option("--params", help="70B, 7e9, 700亿")] = None,
    active_params: Annotated[str | None, typer.Option("--active-params")] = None,
    tokens: Annotated[str | None, typer.Option("--tokens", help="1.4T")] = None,
    requests_per_s: Annotated[float | None, typer.Option("--requests-per-s")] = None,
    budget: Annotated[str | None, typer.Option("--budget", help="5000万, 50M, ¥5000万, $7M")] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="CNY or USD")] = None,
    buyer_country: Annotated[str, typer.Option("--buyer-country")] = "CN",
    buyer_kind: Annotated[str, typer.Option("--buyer-kind", help="commercial | state_funded")] = "commercial",
    on: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default today)")] = None,
    deadline_days: Annotated[float | None, typer.Option("--deadline-days")] = None,
    objective: Annotated[ObjectiveChoice | None, typer.Option("--objective")] = None,
    precision: Annotated[str | None, typer.Option("--precision", help="bf16 | fp8")] = None,
    license_required: Annotated[LicenceChoice, typer.Option("--license-required")] = (
        LicenceChoice.allow_with_risk_premium),
    min_domestic_share: Annotated[float, typer.Option("--min-domestic-share")] = 0.0,
    vendor_allow: Annotated[list[str] | None, typer.Option("--vendor-allow")] = None,
    vendor_deny: Annotated[list[str] | None, typer.Option("--vendor-deny")] = None,
    allow_restricted: Annotated[bool, typer.Option("--allow-restricted")] = False,
    accept_license_risk: AcceptRiskOpt = False,
    power_kw: Annotated[float | None, typer.Option("--power-kw")] = None,
    skus: Annotated[str | None, typer.Option("--skus", help="Comma-separated SKUs to consider.")] = None,
    alternatives: Annotated[int, typer.Option("--alternatives")] = 3,
    pareto: Annotated[bool, typer.Option("--pareto")] = False,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Choose a purchase plan (OR-Tools CP-SAT) for one workload (flags) or a portfolio (--request)."""
    if on:
        _valid_date(on)
    req = _request(request, workload=workload, params=params, active_params=active_params, tokens=tokens,
                   requests_per_s=requests_per_s, budget=budget, currency=currency, buyer_country=buyer_country,
                   buyer_kind=buyer_kind, on=on, deadline_days=deadline_days, objective=objective,
                   precision=precision, license_required=license_required, min_domestic_share=min_domestic_share,
                   vendor_allow=vendor_allow, vendor_deny=vendor_deny, allow_restricted=allow_restricted,
                   power_kw=power_kw, skus=skus, alternatives=alternatives, pareto=pareto,
                   accept_license_risk=accept_license_risk)
    if request is not None and accept_license_risk:
        req = PurchaseRequest.model_validate({**req.model_dump(), "accept_license_risk": True})
    from optimizer.recommend import recommend as run_recommend  # OR-Tools loads only when solving

    dom = domain(catalog)
    s = get_settings().solver
    plan = run_recommend(dom.catalog, dom.engine, req, cache=dom.cache, time_limit_s=s.time_limit_s,
                         num_workers=s.num_workers)
    if as_json:
        emit_json(plan)
        return
    render_plan(plan)


def _valid_date(text: str) -> bool:
    from optimizer.units import parse_date

    parse_date(text, what="--date")
    return True


def whatif(
    request: Annotated[Path, typer.Option("--request", help="YAML/JSON request file of the base case.")],
    remove: Annotated[list[str] | None, typer.Option("--remove", help="SKU that becomes unavailable.")] = None,
    price: Annotated[list[str] | None, typer.Option("--price", help="SKU=+20% or SKU=-0.3 (repeatable).")] = None,
    on: Annotated[str | None, typer.Option("--date", help="Evaluate rules on this date.")] = None,
    rule_date: Annotated[list[str] | None, typer.Option("--rule-date", help="RULE_ID=YYYY-MM-DD")] = None,
    domestic: Annotated[float | None, typer.Option("--min-domestic-share")] = None,
    budget: Annotated[float | None, typer.Option("--budget")] = None,
    deadline_days: Annotated[float | None, typer.Option("--deadline-days")] = None,
    accept_license_risk: AcceptRiskOpt = False,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-solve the request under a change and report the difference and break-even prices."""
    from optimizer.units import parse_date
    from optimizer.whatif import WhatIfChange, what_if

    prices: dict[str, float] = {}
    for item in price or []:
        if "=" not in item:
            raise InvalidInputError(f"--price {item!r}: use SKU=+20% or SKU=-0.3")
        sku, raw = item.split("=", 1)
        raw = raw.strip()
        try:
            value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
        except ValueError:
            raise InvalidInputError(f"--price {item!r}: {raw!r} is not a number or percentage") from None
        prices[sku.strip()] = value
    rules: dict[str, date] = {}
    for item in rule_date or []:
        if "=" not in item:
            raise InvalidInputError(f"--rule-date {item!r}: use RULE_ID=YYYY-MM-DD")
        rid, d = item.split("=", 1)
        rules[rid.strip()] = parse_date(d, what="--rule-date")
    change = WhatIfChange(remove_skus=remove or [], price_changes=prices,
                          date=parse_date(on, what="--date") if on else None, rule_dates=rules,
                          min_domestic_share=domestic, budget=budget, deadline_days=deadline_days)
    req = load_request_file(request)
    if accept_license_risk:
        req = PurchaseRequest.model_validate({**req.model_dump(), "accept_license_risk": True})
    dom = domain(catalog)
    result = what_if(dom.catalog, dom.engine, req, change, cache=dom.cache,
                     time_limit_s=get_settings().solver.time_limit_s)
    if as_json:
        emit_json(result)
        return
    console.print(f"[bold]What if: {'; '.join(result.changes) or 'no change'}[/]")
    console.print(f"base:    {result.base.message}", highlight=False)
    console.print(f"changed: {result.changed.message}", highlight=False)
    console.print(f"→ {result.summary}", highlight=False)
    for b in result.break_even:
        console.print(f"  break-even: {b.message}", highlight=False)

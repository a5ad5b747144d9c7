"""``procure recommend`` and ``procure whatif``: purchase plans through the application layer."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service import usecases
from service.cli._common import CatalogOpt, JsonOpt, LangChoice, LangOpt, console, context, emit_json, err_console

if TYPE_CHECKING:
    from service.presenters.text import Lang
    from service.usecases import PurchaseRequest


class WorkloadChoice(StrEnum):
    """Workload kinds."""

    training = "training"
    fine_tune = "fine_tune"
    inference = "inference"


class ObjectiveChoice(StrEnum):
    """Objectives."""

    min_cost = "min_cost"
    min_time = "min_time"


class RiskObjectiveChoice(StrEnum):
    """Objectives of a hedged plan."""

    on_time = "on_time"
    expected_cost = "expected_cost"
    cvar = "cvar"


class LicenceChoice(StrEnum):
    """Treatment of licence-required parts."""

    exclude = "exclude"
    allow_with_risk_premium = "allow_with_risk_premium"
    allow = "allow"


RequestOpt = Annotated[Path | None, typer.Option("--request", help="YAML/JSON request file (portfolio).")]
AcceptRiskOpt = Annotated[bool, typer.Option(
    "--accept-license-risk", help="Also consider licence-required parts whose licence outlook is not favourable "
    "(not granted yet, case by case); by default only granted/assured/approval-presumed outlooks are admitted.")]
ReportOpt = Annotated[Path | None, typer.Option(
    "--report", help="Also write a self-contained HTML memo (plan, plots, considered options) to this file.")]
RiskOpt = Annotated[str | None, typer.Option(
    "--risk", help="default | FILE: also hedge the plan against policy shocks (licence revocation or pause, China-side "
    "tightening, delivery delays, price ranges) and add a `risk` block comparing today's plan with the hedged plan "
    "per scenario; FILE is a YAML/JSON risk file (see `procure risk scenarios`).")]
RiskObjectiveOpt = Annotated[RiskObjectiveChoice | None, typer.Option(
    "--risk-objective", help="on_time (default: maximise the probability of finishing on time within budget), "
    "expected_cost, or cvar (the mean of the worst outcomes).")]
StackOpt = Annotated[str | None, typer.Option(
    "--current-stack", help="Your software stack today (CUDA, CANN, ROCm, other): moving a workload to another stack "
    "adds a one-time porting cost and an efficiency ramp to today's plan (and to the hedge with --risk).")]
NUM = "70B, 7e9, 700亿"


def write_report(path: Path, plan: usecases.PurchasePlan, req: PurchaseRequest, ctx: usecases.AppContext,
                 lang: Lang) -> None:
    """Write the HTML memo; a path that cannot be written is a one-line error."""
    from service.presenters.json import plan_dict
    from service.web.report import render_report_bytes

    html = render_report_bytes(plan_dict(plan, lang), request=req.model_dump(mode="json", exclude_none=True),
                         lang=lang, data_version=usecases.data_version(ctx))
    try:
        path.write_bytes(html)
    except OSError as exc:
        raise usecases.InvalidInputError(f"cannot write the report to {path} ({exc.strerror or exc})") from None
    err_console.print(f"report written to {path}", highlight=False)


def recommend(
    request: RequestOpt = None,
    workload: Annotated[WorkloadChoice, typer.Option("--workload")] = WorkloadChoice.training,
    params: Annotated[str | None, typer.Option("--params", help=NUM)] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model preset (qwen2.5-72b) instead of --params.")
                     ] = None,
    active_params: Annotated[str | None, typer.Option("--active-params", help=NUM)] = None,
    tokens: Annotated[str | None, typer.Option("--tokens", help="1.4T, 2万亿")] = None,
    requests_per_s: Annotated[str | None, typer.Option("--requests-per-s", help="e.g. 50, 1.2K")] = None,
    budget: Annotated[str | None, typer.Option("--budget", help="5000万, 50M, ¥5000万, $7M")] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="CNY or USD")] = None,
    buyer_country: Annotated[str, typer.Option("--buyer-country")] = "CN",
    buyer_kind: Annotated[str, typer.Option("--buyer-kind", help="commercial | state_funded")] = "commercial",
    on: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default today)")] = None,
    buyer_name: Annotated[str | None, typer.Option("--buyer-name", help="Buyer's legal name (Entity List "
                                                   "screening).")] = None,
    buyer_parent: Annotated[str | None, typer.Option("--buyer-parent", help="Buyer's parent (Affiliates rule).")
                            ] = None,
    via: Annotated[str | None, typer.Option("--via", help="Country the items are re-exported from (ISO code).")
                   ] = None,
    deadline_days: Annotated[str | None, typer.Option("--deadline-days", help="e.g. 180")] = None,
    objective: Annotated[ObjectiveChoice | None, typer.Option("--objective")] = None,
    precision: Annotated[str | None, typer.Option("--precision", help="bf16 | fp8 (training); serving also int8, "
                                                  "fp4, int4")] = None,
    license_required: Annotated[LicenceChoice | None, typer.Option("--license-required")] = None,
    accept_license_risk: AcceptRiskOpt = False,
    min_domestic_share: Annotated[str | None, typer.Option("--min-domestic-share", help="0.5 or 50%")] = None,
    vendor_allow: Annotated[list[str] | None, typer.Option("--vendor-allow")] = None,
    vendor_deny: Annotated[list[str] | None, typer.Option("--vendor-deny")] = None,
    allow_restricted: Annotated[bool, typer.Option("--allow-restricted")] = False,
    power_kw: Annotated[str | None, typer.Option("--power-kw", help="e.g. 2000, 2K")] = None,
    skus: Annotated[str | None, typer.Option("--skus", help="Comma-separated SKUs to consider.")] = None,
    alternatives: Annotated[int, typer.Option("--alternatives")] = 3,
    pareto: Annotated[bool, typer.Option("--pareto")] = False,
    catalog: CatalogOpt = None,
    report: ReportOpt = None,
    risk: RiskOpt = None,
    risk_objective: RiskObjectiveOpt = None,
    current_stack: StackOpt = None,
    as_json: JsonOpt = False,
    lang: LangOpt = LangChoice.en,
    engine: Annotated[str | None, typer.Option("--engine", help="Serving engine: generic | trtllm | vllm | sglang | "
                                               "mindie (inference).")] = None,
    kv_precision: Annotated[str | None, typer.Option("--kv-precision", help="KV cache: bf16 | fp8 | int8 | fp4 "
                                                     "(inference).")] = None,
    tp: Annotated[int | None, typer.Option("--tp", help="Tensor parallelism per replica (inference).")] = None,
    pp: Annotated[int | None, typer.Option("--pp", help="Pipeline stages per replica (inference).")] = None,
    ep: Annotated[int | None, typer.Option("--ep", help="Expert parallelism, MoE (inference).")] = None,
    ttft: Annotated[str | None, typer.Option("--ttft", help="TTFT limit in seconds (inference, default 2).")] = None,
    tpot: Annotated[str | None, typer.Option("--tpot", help="TPOT limit in seconds (inference, default 0.1).")
                    ] = None,
    latency_basis: Annotated[str | None, typer.Option("--latency-basis", help="p50 | p90 | p99 | mean (default "
                                                      "p99).")] = None,
    prompt_tokens: Annotated[str | None, typer.Option("--prompt-tokens", help="Mean prompt length (inference).")
                             ] = None,
    output_tokens: Annotated[str | None, typer.Option("--output-tokens", help="Mean output length (inference).")
                             ] = None,
) -> None:
    """Choose a purchase plan (OR-Tools CP-SAT) for one workload (flags) or a portfolio (--request)."""
    from service.presenters.console import render_plan
    from service.presenters.json import plan_dict
    from service.presenters.risk import render_risk

    req: PurchaseRequest
    if request is not None:
        req = usecases.with_license_risk(usecases.load_request_file(request), accept_license_risk)
        req = usecases.with_buyer_names(req, name=buyer_name, parent=buyer_parent, via_country=via)
    else:
        req = usecases.single_workload_request(
            workload=workload.value, params=params, model=model, active_params=active_params, tokens=tokens,
            requests_per_s=requests_per_s, deadline_days=deadline_days, precision=precision, budget=budget,
            currency=currency, buyer_country=buyer_country, buyer_kind=buyer_kind, on=on, buyer_name=buyer_name,
            buyer_parent=buyer_parent, via_country=via,
            objective=None if objective is None else objective.value,
            license_required=None if license_required is None else license_required.value,
            accept_license_risk=accept_license_risk, min_domestic_share=min_domestic_share,
            vendor_allow=vendor_allow or (), vendor_deny=vendor_deny or (), allow_restricted=allow_restricted,
            power_kw=power_kw, skus=() if skus is None else skus.split(","), alternatives=alternatives, pareto=pareto,
            engine=engine, kv_precision=kv_precision, tp=tp, pp=pp, ep=ep, ttft_s=ttft, tpot_s=tpot,
            latency_basis=latency_basis, prompt_tokens=prompt_tokens, output_tokens=output_tokens)
    req = usecases.with_risk(req, usecases.risk_settings(
        risk, objective=None if risk_objective is None else risk_objective.value, base=req.risk))
    req = usecases.with_current_stack(req, current_stack)  # today's plan (and a hedge) price porting and the ramp
    if report is not None and not req.pareto:
        req = req.model_copy(update={"pareto": True})  # the memo plots the cost/time frontier
    ctx = context(catalog)
    plan = usecases.recommend(ctx, req)
    if report is not None:
        write_report(report, plan, req, ctx, lang.value)
    if as_json:
        emit_json(plan_dict(plan, lang.value))
        return
    render_plan(console, plan, lang.value)
    if plan.risk is not None:
        render_risk(console, plan.risk, lang.value)


def whatif(
    request: Annotated[Path, typer.Option("--request", help="YAML/JSON request file of the base case.")],
    remove: Annotated[list[str] | None, typer.Option("--remove", help="SKU that becomes unavailable.")] = None,
    price: Annotated[list[str] | None, typer.Option("--price", help="SKU=+20% or SKU=-0.3 (repeatable).")] = None,
    on: Annotated[str | None, typer.Option("--date", help="Evaluate rules on this date.")] = None,
    rule_date: Annotated[list[str] | None, typer.Option("--rule-date", help="RULE_ID=YYYY-MM-DD")] = None,
    domestic: Annotated[str | None, typer.Option("--min-domestic-share", help="0.5 or 50%")] = None,
    budget: Annotated[str | None, typer.Option("--budget", help="8000万, ¥2亿, $7M")] = None,
    deadline_days: Annotated[str | None, typer.Option("--deadline-days")] = None,
    accept_license_risk: AcceptRiskOpt = False,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
    lang: LangOpt = LangChoice.en,
) -> None:
    """Re-solve the request under a change and report the difference and break-even prices."""
    from service.presenters.console import render_whatif
    from service.presenters.json import whatif_dict

    req = usecases.with_license_risk(usecases.load_request_file(request), accept_license_risk)
    change = usecases.whatif_change(remove=remove or (), price=price or (), on=on, rule_dates=rule_date or (),
                                    min_domestic_share=domestic, budget=budget, deadline_days=deadline_days, base=req)
    result = usecases.what_if(context(catalog), req, change)
    if as_json:
        emit_json(whatif_dict(result, lang.value))
        return
    render_whatif(console, result, lang.value)

"""``procure estimate``: training time, serving capacity and cost of ownership; ``procure validate``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from service import usecases
from service.cli._common import CatalogOpt, JsonOpt, console, context, emit_json

app = typer.Typer(help="Estimate training time, serving capacity and cost of ownership.", no_args_is_help=True)

Num = Annotated[str, typer.Option(help="A number: 70e9, 70B, 1.4T, 5000万.")]


class TrainPrecisionChoice(StrEnum):
    """Training precisions."""

    bf16 = "bf16"
    fp16 = "fp16"
    fp8 = "fp8"


class ServePrecisionChoice(StrEnum):
    """Serving precisions."""

    bf16 = "bf16"
    fp16 = "fp16"
    fp8 = "fp8"
    int8 = "int8"


class CurrencyChoice(StrEnum):
    """Currencies."""

    CNY = "CNY"
    USD = "USD"


def _fmt(v: float | None, unit: str = "", digits: int = 3) -> str:
    if v is None:
        return "—"
    return f"{v:,.{digits}g}{unit}" if abs(v) < 1e4 else f"{v:,.0f}{unit}"


@app.command("training")
def training(
    params: Annotated[str, typer.Option("--params", help="Total parameters (70B, 7e9).")],
    tokens: Annotated[str, typer.Option("--tokens", help="Training tokens (1.4T).")],
    accelerator: Annotated[str, typer.Option("--accelerator", help="Accelerator id or alias.")],
    count: Annotated[str | None, typer.Option("--count", help="Number of accelerators (2048, 2K).")] = None,
    deadline_days: Annotated[str | None, typer.Option("--deadline-days", help="Size the cluster for this.")] = None,
    active_params: Annotated[str | None, typer.Option("--active-params", help="MoE active parameters.")] = None,
    precision: Annotated[TrainPrecisionChoice, typer.Option("--precision")] = TrainPrecisionChoice.bf16,
    seq_len: Annotated[int, typer.Option("--seq-len")] = 4096,
    global_batch_tokens: Annotated[str | None, typer.Option("--global-batch-tokens")] = None,
    fabric: Annotated[str | None, typer.Option("--fabric", help="ib-ndr-400, roce-400, roce-200, …")] = None,
    buyer_country: Annotated[str | None, typer.Option("--buyer-country", help="For fabric availability.")] = None,
    tp: Annotated[int | None, typer.Option("--tp", help="Fix tensor parallelism.")] = None,
    pp: Annotated[int | None, typer.Option("--pp", help="Fix pipeline parallelism.")] = None,
    zero_stage: Annotated[int | None, typer.Option("--zero-stage", help="Fix ZeRO stage (1 or 3).")] = None,
    recompute: Annotated[str | None, typer.Option("--recompute", help="Fix activation recompute: none | full.")] = None,
    micro_batch: Annotated[int | None, typer.Option("--micro-batch", help="Fix the micro-batch size.")] = None,
    layers: Annotated[int | None, typer.Option("--layers", help="Override the inferred layer count.")] = None,
    hidden: Annotated[int | None, typer.Option("--hidden", help="Override the inferred hidden size.")] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Accelerator-hours (with a range), days, MFU, memory per device and the parallelism plan."""
    fixed = {"tp": tp, "pp": pp, "zero_stage": zero_stage, "recompute": recompute, "micro_batch": micro_batch}
    plan = {k: v for k, v in fixed.items() if v is not None} or None
    est = usecases.estimate_training(
        context(catalog), params=params, active_params=active_params, tokens=tokens, accelerator=accelerator,
        count=count, deadline_days=deadline_days, precision=precision.value, seq_len=seq_len,
        global_batch_tokens=global_batch_tokens, fabric=fabric,
        buyer_country=buyer_country.upper() if buyer_country else None, plan=plan, n_layers=layers, d_model=hidden,
    )
    if as_json:
        emit_json(est)
        return
    console.print(f"[bold]{est.message}[/]")
    if est.status != "ok" or est.plan is None or est.step is None:
        raise typer.Exit(0)
    table = Table(show_header=False, box=None)
    table.add_row("accelerator-hours", f"{_fmt(est.accelerator_hours)}  (range {_fmt(est.accelerator_hours_low)}"
                  f" – {_fmt(est.accelerator_hours_high)})")
    table.add_row("wall clock", f"{est.wall_clock_days:.1f} days ({est.wall_clock_days_low:.1f} – "
                  f"{est.wall_clock_days_high:.1f})")
    table.add_row("MFU", f"{est.mfu:.1%} of {est.mfu_peak}")
    table.add_row("tokens/s", _fmt(est.tokens_per_s))
    table.add_row("memory/device", f"{est.memory_per_device_gb:.1f} of {est.memory.capacity_gb:.0f} GB"
                  if est.memory else "—")
    p = est.plan
    table.add_row("plan", f"TP {p.tp} × PP {p.pp} (×{p.virtual_stages} interleaved) × DP {p.dp}, ZeRO-{p.zero_stage}, "
                  f"recompute {p.recompute_fraction:.0%}, micro-batch {p.micro_batch} × {p.num_microbatches}, "
                  f"batch {p.global_batch_tokens / 1e6:.2f}M tokens")
    table.add_row("bottleneck", est.bottleneck or "—")
    console.print(table)
    for line in est.limits:
        console.print(f"  • {line}", highlight=False)
    for w in est.warnings:
        console.print(f"  [yellow]! {w}[/]", highlight=False)


@app.command("inference")
def inference(
    params: Annotated[str, typer.Option("--params", help="Model parameters (72B).")],
    accelerator: Annotated[str, typer.Option("--accelerator")],
    requests_per_s: Annotated[str | None, typer.Option("--requests-per-s", help="Target request rate.")] = None,
    prompt_tokens: Annotated[str, typer.Option("--prompt-tokens", help="2048, 8K")] = "2048",
    output_tokens: Annotated[str, typer.Option("--output-tokens")] = "512",
    ttft: Annotated[str, typer.Option("--ttft", help="TTFT limit, seconds.")] = "2.0",
    tpot: Annotated[str, typer.Option("--tpot", help="TPOT limit, seconds per token.")] = "0.10",
    active_params: Annotated[str | None, typer.Option("--active-params")] = None,
    precision: Annotated[ServePrecisionChoice, typer.Option("--precision")] = ServePrecisionChoice.bf16,
    tp: Annotated[int | None, typer.Option("--tp")] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replicas and accelerators for a request rate under TTFT/TPOT limits."""
    est = usecases.estimate_inference(
        context(catalog), params=params, active_params=active_params, accelerator=accelerator,
        requests_per_s=requests_per_s, prompt_tokens=prompt_tokens, output_tokens=output_tokens, ttft_s=ttft,
        tpot_s=tpot, precision=precision.value, tp=tp,
    )
    if as_json:
        emit_json(est)
        return
    console.print(f"[bold]{est.message}[/]")
    if est.status == "ok":
        console.print(f"  {est.requests_per_s_per_replica:.2f} req/s per replica, "
                      f"{est.output_tokens_per_s_per_accelerator:,.0f} output tokens/s per accelerator; "
                      f"{est.bound}; KV cache {est.kv_cache_gb_per_replica:.1f} GB per replica; "
                      f"{est.memory_per_device_gb:.1f} GB per device", highlight=False)


@app.command("cost")
def cost(
    accelerator: Annotated[str, typer.Option("--accelerator")],
    count: Annotated[str, typer.Option("--count", help="Number of accelerators (2048, 2K).")],
    currency: Annotated[CurrencyChoice, typer.Option("--currency")] = CurrencyChoice.CNY,
    horizon_years: Annotated[str | None, typer.Option("--horizon-years")] = None,
    electricity: Annotated[str | None, typer.Option("--electricity", help="Price per kWh (currency).")] = None,
    pue: Annotated[str | None, typer.Option("--pue")] = None,
    hosting: Annotated[str | None, typer.Option("--hosting-per-node-year", help="e.g. 20万, 30K")] = None,
    rental: Annotated[str | None, typer.Option("--rental-per-hour", help="Rental per accelerator-hour.")] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Capex, opex and total cost of ownership with low/base/high ranges."""
    est = usecases.estimate_cost(
        context(catalog), accelerator=accelerator, accelerators=count, currency=currency.value,
        horizon_years=horizon_years, electricity_per_kwh=electricity, pue=pue, hosting_per_node_year=hosting,
        rental_per_accelerator_hour=rental,
    )
    if as_json:
        emit_json(est)
        return
    cur = est.currency
    table = Table(title=f"{est.accelerators} × {est.accelerator} ({est.nodes} nodes), {est.horizon_years:g} years",
                  header_style="bold")
    for col in ("", "low", "base", "high"):
        table.add_column(col, justify="right" if col else "left")
    for name, r in (("capex", est.capex), ("opex", est.opex), ("total", est.total)):
        table.add_row(name, f"{r.low:,.0f}", f"{r.base:,.0f}", f"{r.high:,.0f}")
    if est.rental:
        table.add_row("rental", "", f"{est.rental.base:,.0f}", "")
    console.print(table)
    console.print(f"currency {cur} at {est.cny_per_usd:g} CNY/USD ({est.fx_date}); facility power "
                  f"{est.facility_kw:,.0f} kW", highlight=False)
    for a in est.assumptions:
        console.print(f"  • {a.name}: {a.value} — {a.source}", highlight=False)
    for w in est.warnings:
        console.print(f"  [yellow]! {w}[/]", highlight=False)


class RunSet(StrEnum):
    """Which runs to validate."""

    all = "all"
    dev = "dev"
    extra = "extra"


def validate(
    runs: Annotated[Path | None, typer.Option("--runs", help="Runs file (default: the shipped one).")] = None,
    which: Annotated[RunSet, typer.Option("--set")] = RunSet.all,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Predicted vs reported accelerator-hours for published training runs, with error statistics."""
    report = usecases.validate_estimator(context(catalog), runs=runs, which=which.value)
    if as_json:
        emit_json(report)
        return
    table = Table(title=f"Training estimator vs {report.n} published runs", header_style="bold")
    for col in ("run", "set", "accelerator", "count", "reported h", "predicted h", "range", "error", "MFU"):
        table.add_column(col, justify="left" if col in ("run", "set", "accelerator") else "right")
    for r in report.rows:
        colour = "green" if abs(r.error) <= 0.2 else ("yellow" if abs(r.error) <= 0.5 else "red")
        table.add_row(r.name, r.set, r.accelerator, f"{r.count:,}{'*' if r.count_assumed else ''}",
                      f"{r.reported_hours:,.0f}", f"{r.predicted_hours:,.0f}",
                      f"{r.predicted_low:,.0f}–{r.predicted_high:,.0f}{'' if r.in_range else ' ✗'}",
                      f"[{colour}]{r.error:+.1%}[/]", f"{r.mfu:.1%}")
    console.print(table)
    console.print("* count not published: 2,048 assumed")
    console.print(f"mean |error| {report.mean_abs_error:.1%}, median {report.median_abs_error:.1%}, "
                  f"max {report.max_abs_error:.1%}; within ×1.5: {report.within_factor_1_5}/{report.n}; "
                  f"reported inside predicted range: {report.in_range}/{report.n}")
    for name, st in report.by_set.items():
        console.print(f"  {name}: n={st['n']:.0f}, mean {st['mean_abs_error']:.1%}, median "
                      f"{st['median_abs_error']:.1%}, max {st['max_abs_error']:.1%}")

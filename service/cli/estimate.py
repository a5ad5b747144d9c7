"""``procure estimate``: training time, serving capacity and cost of ownership; ``procure validate``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import typer

from service import usecases
from service.cli._common import CatalogOpt, JsonOpt, console, context, emit_json

app = typer.Typer(help="Estimate training time, serving capacity and cost of ownership.", no_args_is_help=True)

Num = Annotated[str, typer.Option(help="A number: 70e9, 70B, 1.4T, 5000万.")]


class TrainPrecisionChoice(StrEnum):
    """Training precisions."""

    bf16 = "bf16"
    fp16 = "fp16"
    fp8 = "fp8"


class RecomputeChoice(StrEnum):
    """Activation recomputation."""

    none = "none"
    selective = "selective"
    full = "full"


class StackChoice(StrEnum):
    """Software-stack profiles (efficiency.yaml)."""

    megatron_2021 = "megatron-2021"
    megatron_core = "megatron-core"
    fsdp = "fsdp"
    deepspeed_zero3 = "deepspeed-zero3"
    mindspeed = "mindspeed"


class OptimizerChoice(StrEnum):
    """Optimizers (bytes of state per parameter differ)."""

    adam = "adam"
    lion = "lion"
    lamb = "lamb"


class ServePrecisionChoice(StrEnum):
    """Serving weight precisions (fp4 needs FP4 tensor cores; int4 is 4-bit weights with 16-bit compute)."""

    bf16 = "bf16"
    fp16 = "fp16"
    fp8 = "fp8"
    int8 = "int8"
    fp4 = "fp4"
    int4 = "int4"


class KvPrecisionChoice(StrEnum):
    """KV-cache precisions."""

    bf16 = "bf16"
    fp16 = "fp16"
    fp8 = "fp8"
    int8 = "int8"
    fp4 = "fp4"


class EngineChoice(StrEnum):
    """Serving-engine profiles (optimizer/data/engines.yaml)."""

    generic = "generic"
    trtllm = "trtllm"
    vllm = "vllm"
    sglang = "sglang"
    mindie = "mindie"


class BasisChoice(StrEnum):
    """Which statistic latency limits bound."""

    p50 = "p50"
    p90 = "p90"
    p99 = "p99"
    mean = "mean"


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
    tokens: Annotated[str, typer.Option("--tokens", help="Training tokens (1.4T).")],
    accelerator: Annotated[str, typer.Option("--accelerator", help="Accelerator id or alias.")],
    params: Annotated[str | None, typer.Option("--params", help="Total parameters (70B, 7e9).")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model preset (qwen2.5-72b, llama-3-70b, "
                                              "deepseek-v3, …), case-insensitive; instead of --params.")] = None,
    count: Annotated[str | None, typer.Option("--count", help="Number of accelerators (2048, 2K).")] = None,
    deadline_days: Annotated[str | None, typer.Option("--deadline-days", help="Size the cluster for this.")] = None,
    active_params: Annotated[str | None, typer.Option("--active-params", help="MoE active parameters.")] = None,
    precision: Annotated[TrainPrecisionChoice, typer.Option("--precision")] = TrainPrecisionChoice.bf16,
    seq_len: Annotated[str | None, typer.Option("--seq-len", help="Tokens per sequence (default 4096; 32K).")] = None,
    global_batch: Annotated[str | None, typer.Option("--global-batch", help="Tokens (4M) or sequences "
                                                     "('1024 seqs').")] = None,
    global_batch_tokens: Annotated[str | None, typer.Option("--global-batch-tokens")] = None,
    fabric: Annotated[str | None, typer.Option("--fabric", help="ib-ndr-400, ib-hdr-200, roce-400, efa-p5, …")] = None,
    fabric_gbit: Annotated[float | None, typer.Option("--fabric-gbit", help="Scale-out Gb/s per accelerator, or "
                                                      "per NIC with --nics-per-node.")] = None,
    nics_per_node: Annotated[int | None, typer.Option("--nics-per-node")] = None,
    buyer_country: Annotated[str | None, typer.Option("--buyer-country", help="For fabric availability.")] = None,
    tp: Annotated[int | None, typer.Option("--tp", help="Fix tensor parallelism.")] = None,
    pp: Annotated[int | None, typer.Option("--pp", help="Fix pipeline parallelism.")] = None,
    dp: Annotated[int | None, typer.Option("--dp", help="Fix data parallelism.")] = None,
    cp: Annotated[int | None, typer.Option("--cp", help="Fix context parallelism.")] = None,
    ep: Annotated[int | None, typer.Option("--ep", help="Fix expert parallelism (MoE).")] = None,
    virtual_stages: Annotated[int | None, typer.Option("--virtual-stages", help="Interleaved chunks per "
                                                       "pipeline stage.")] = None,
    zero_stage: Annotated[int | None, typer.Option("--zero-stage", help="Fix ZeRO stage (0-3).")] = None,
    recompute: Annotated[RecomputeChoice | None, typer.Option("--recompute", help="none | selective | full")] = None,
    micro_batch: Annotated[int | None, typer.Option("--micro-batch", help="Fix the micro-batch size.")] = None,
    stack: Annotated[StackChoice | None, typer.Option("--stack", help="Software stack profile.")] = None,
    optimizer: Annotated[OptimizerChoice, typer.Option("--optimizer")] = OptimizerChoice.adam,
    goodput: Annotated[float | None, typer.Option("--goodput", help="Fix goodput (0-1).")] = None,
    steady_state: Annotated[bool, typer.Option("--steady-state", help="Goodput 1: steady-state throughput.")] = False,
    layers: Annotated[int | None, typer.Option("--layers", help="Override the layer count.")] = None,
    hidden: Annotated[int | None, typer.Option("--hidden", help="Override the hidden size.")] = None,
    heads: Annotated[int | None, typer.Option("--heads", help="Attention heads.")] = None,
    kv_heads: Annotated[int | None, typer.Option("--kv-heads", help="KV heads (GQA/MQA).")] = None,
    ffn: Annotated[int | None, typer.Option("--ffn", help="FFN width.")] = None,
    vocab: Annotated[int | None, typer.Option("--vocab", help="Vocabulary size.")] = None,
    experts: Annotated[int | None, typer.Option("--experts", help="Routed experts (MoE).")] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", help="Experts per token (MoE).")] = None,
    window: Annotated[int | None, typer.Option("--window", help="Sliding-window attention span.")] = None,
    document_len: Annotated[int | None, typer.Option("--document-len", help="Mean document length under a "
                                                     "document mask.")] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Accelerator-hours (with a range and what drives it), days, MFU, memory per device and the plan."""
    from rich.table import Table

    req = usecases.training_request_from_flags(
        params=params, model=model, tokens=tokens, accelerator=accelerator, count=count,
        deadline_days=deadline_days, active_params=active_params, precision=precision.value, seq_len=seq_len,
        global_batch=global_batch, global_batch_tokens=global_batch_tokens, fabric=fabric, fabric_gbit=fabric_gbit,
        nics_per_node=nics_per_node, buyer_country=buyer_country, tp=tp, pp=pp, dp=dp, cp=cp, ep=ep,
        virtual_stages=virtual_stages, zero_stage=zero_stage, recompute=recompute.value if recompute else None,
        micro_batch=micro_batch, stack=stack.value if stack else None, optimizer=optimizer.value, goodput=goodput,
        steady_state=steady_state, layers=layers, hidden=hidden, heads=heads, kv_heads=kv_heads, ffn=ffn,
        vocab=vocab, experts=experts, top_k=top_k, window=window, document_len=document_len,
    )
    est = usecases.estimate_training(context(catalog), req)
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
    table.add_row("plan", f"TP {p.tp} × PP {p.pp} (×{p.virtual_stages} interleaved) × DP {p.dp}"
                  + (f" × CP {p.cp}" if p.cp > 1 else "") + (f", EP {p.ep}" if p.ep > 1 else "")
                  + f", ZeRO-{p.zero_stage}, recompute {p.recompute} ({p.recompute_fraction:.0%} of layers full), "
                  f"micro-batch {p.micro_batch} × {p.num_microbatches}, batch {p.global_batch_tokens / 1e6:.2f}M "
                  f"tokens, stack {p.stack}")
    table.add_row("goodput", f"{est.goodput:.3f} ({est.goodput_basis})")
    table.add_row("bottleneck", est.bottleneck or "—")
    console.print(table)
    for line in est.limits:
        console.print(f"  • {line}", highlight=False)
    for d in est.range_drivers:
        console.print(f"  range: {d.input} ×{d.low_factor:.2f}–×{d.high_factor:.2f} ({d.note})", highlight=False)
    for a in est.assumptions[:1]:
        console.print(f"  shape: {a.value} — {a.source}", highlight=False)
    for w in est.warnings:
        console.print(f"  [yellow]! {w}[/]", highlight=False)


@app.command("inference")
def inference(
    accelerator: Annotated[str, typer.Option("--accelerator")],
    params: Annotated[str | None, typer.Option("--params", help="Model parameters (72B).")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model preset instead of --params.")] = None,
    requests_per_s: Annotated[str | None, typer.Option("--requests-per-s", help="Target request rate.")] = None,
    count: Annotated[str | None, typer.Option("--count", help="Serve on this many accelerators: report their "
                                              "capacity at the limits.")] = None,
    prompt_tokens: Annotated[str, typer.Option("--prompt-tokens", help="Mean prompt length (2048, 8K).")] = "2048",
    output_tokens: Annotated[str, typer.Option("--output-tokens", help="Mean output length.")] = "512",
    prompt_std: Annotated[str | None, typer.Option("--prompt-std", help="Spread of prompt lengths (tokens).")] = None,
    output_std: Annotated[str | None, typer.Option("--output-std", help="Spread of output lengths (tokens).")] = None,
    prompt_histogram: Annotated[str | None, typer.Option("--prompt-histogram", help="Prompt lengths as "
                                                         "tokens:weight pairs, e.g. 128:0.3,1024:0.5,8K:0.2.")] = None,
    output_histogram: Annotated[str | None, typer.Option("--output-histogram", help="Output lengths as "
                                                         "tokens:weight pairs.")] = None,
    prefix_cache_hit: Annotated[str | None, typer.Option("--prefix-cache-hit", help="Share of prompt tokens "
                                                         "served from the prefix cache (0.3 or 30%).")] = None,
    ttft: Annotated[str, typer.Option("--ttft", help="TTFT limit, seconds.")] = "2.0",
    tpot: Annotated[str, typer.Option("--tpot", help="TPOT limit, seconds per token.")] = "0.10",
    latency_basis: Annotated[BasisChoice, typer.Option("--latency-basis", help="Statistic the limits bound.")
                             ] = BasisChoice.p99,
    offline: Annotated[bool, typer.Option("--offline", help="No latency limits: maximum throughput.")] = False,
    active_params: Annotated[str | None, typer.Option("--active-params")] = None,
    precision: Annotated[ServePrecisionChoice, typer.Option("--precision", help="Weight precision.")
                         ] = ServePrecisionChoice.bf16,
    kv_precision: Annotated[KvPrecisionChoice | None, typer.Option("--kv-precision", help="KV-cache precision "
                                                                   "(default 16-bit).")] = None,
    engine: Annotated[EngineChoice | None, typer.Option("--engine", help="Serving engine profile (default: "
                                                        "mindie on Ascend, else generic).")] = None,
    tp: Annotated[int | None, typer.Option("--tp", help="Tensor parallelism per replica.")] = None,
    pp: Annotated[int | None, typer.Option("--pp", help="Pipeline stages per replica.")] = None,
    ep: Annotated[int | None, typer.Option("--ep", help="Expert parallelism for MoE (= tp, with data-parallel "
                                           "attention); 1 keeps experts tensor-parallel.")] = None,
    max_batch: Annotated[int | None, typer.Option("--max-batch", help="Concurrent sequences per replica.")] = None,
    max_num_tokens: Annotated[int | None, typer.Option("--max-num-tokens", help="Tokens per engine step.")
                              ] = None,
    chunked_prefill: Annotated[bool | None, typer.Option("--chunked-prefill/--no-chunked-prefill", help="Mix "
                                                         "prefill chunks into decode steps.")] = None,
    memory_fraction: Annotated[str | None, typer.Option("--memory-fraction", help="Share of memory for the KV "
                                                        "cache (engine default).")] = None,
    attention_dp_balance: Annotated[bool | None, typer.Option(
        "--attention-dp-balance/--no-attention-dp-balance", help="MoE expert parallelism: data-parallel attention "
        "ranks take new prompts together (engine default: each on its own).")] = None,
    target_utilisation: Annotated[str | None, typer.Option("--target-utilisation", help="Load ceiling per "
                                                           "replica (default 0.8).")] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replicas and accelerators for a request rate under TTFT/TPOT limits, or a deployment's capacity."""
    from rich.table import Table

    if params is None and model is None:
        raise usecases.InvalidInputError("give --params (e.g. 72B) or --model (e.g. qwen2.5-72b)")
    est = usecases.estimate_inference(
        context(catalog), params=params, model=model, active_params=active_params, accelerator=accelerator,
        requests_per_s=requests_per_s, count=count, prompt_tokens=prompt_tokens, output_tokens=output_tokens,
        prompt_tokens_std=prompt_std, output_tokens_std=output_std, prompt_histogram=prompt_histogram,
        output_histogram=output_histogram,
        prefix_cache_hit=None if prefix_cache_hit is None else usecases.fraction(prefix_cache_hit,
                                                                                 what="prefix_cache_hit"),
        ttft_s=None if offline else ttft, tpot_s=None if offline else tpot, offline=offline,
        latency_basis=latency_basis.value,
        precision=precision.value, kv_precision=kv_precision.value if kv_precision else None,
        engine=engine.value if engine else None, tp=tp, pp=pp, ep=ep, max_batch=max_batch,
        max_num_tokens=max_num_tokens, chunked_prefill=chunked_prefill, attention_dp_balance=attention_dp_balance,
        memory_fraction=None if memory_fraction is None else usecases.fraction(memory_fraction,
                                                                               what="memory_fraction"),
        target_utilisation=1.0 if offline and target_utilisation is None else target_utilisation,
    )
    if as_json:
        emit_json(est)
        return
    console.print(f"[bold]{est.message}[/]")
    if est.status != "ok":
        return
    table = Table(show_header=False, box=None)
    table.add_row("engine / precision", f"{est.engine}, weights {est.precision}, KV cache {est.kv_precision}")
    table.add_row("capacity", f"{est.requests_per_s_per_replica:.2f} req/s per replica, "
                  f"{est.output_tokens_per_s_per_accelerator:,.0f} output tokens/s per accelerator")
    table.add_row("batch", f"{est.batch} running (cap {est.max_batch}: {est.limited_by}; KV cache holds "
                  f"{est.max_sequences_memory:,})")
    for name, p50, p99 in (("TTFT", est.ttft_p50_s, est.ttft_p99_s), ("TPOT", est.tpot_p50_s, est.tpot_p99_s)):
        scale, unit = (1.0, "s") if name == "TTFT" else (1e3, "ms")
        table.add_row(name, "p50 " + ("—" if p50 is None else f"{p50 * scale:.3g} {unit}") + ", p99 "
                      + ("—" if p99 is None else f"{p99 * scale:.3g} {unit}"))
    table.add_row("memory/device", f"{est.memory_per_device_gb:.1f} GB (weights {est.weights_gb_per_device:.1f} GB)")
    table.add_row("bound", est.bound or "—")
    console.print(table)
    if est.step is not None:
        s = est.step
        parts = {"dense GEMMs": s.dense_gemm_s, "expert GEMMs": s.expert_gemm_s, "attention (decode)":
                 s.attention_decode_s, "attention (prefill)": s.attention_prefill_s, "TP all-reduce": s.tp_comm_s,
                 "EP dispatch/combine": s.ep_comm_s, "PP sends": s.pp_comm_s, "pipeline bubble": s.pipeline_bubble_s,
                 "host": s.host_overhead_s, "other": s.other_s + s.lm_head_s}
        shares = ", ".join(f"{k} {v / s.cycle_s:.0%}" for k, v in parts.items() if v / s.cycle_s >= 0.02)
        console.print(f"  cycle {s.cycle_s * 1e3:.1f} ms: {shares}", highlight=False)


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
    from rich.table import Table

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
    megatron = "megatron"
    serving = "serving"


def validate(
    runs: Annotated[Path | None, typer.Option("--runs", help="Runs file (default: the shipped one).")] = None,
    which: Annotated[RunSet, typer.Option("--set")] = RunSet.all,
    defaults_only: Annotated[bool, typer.Option("--defaults-only", help="Training: estimate each run from model, "
                                                "tokens, part, count and precision alone (held-out style).")] = False,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Predicted vs published results with error statistics: training accelerator-hours, or serving throughput.

    ``--set serving`` compares output tokens/s per accelerator with published serving results (MLPerf, engine
    tables) under their stated conditions.
    """
    from rich.table import Table

    if which == RunSet.serving:
        _validate_serving(catalog, runs, as_json)
        return
    training_set: Literal["all", "dev", "extra", "megatron"] = which.value  # type: ignore[assignment]
    report = usecases.validate_estimator(context(catalog), runs=runs, which=training_set, defaults_only=defaults_only)
    if as_json:
        emit_json(report)
        return
    if report.benchmarks:
        bt = Table(title="Megatron benchmarks (published configuration)", header_style="bold")
        for col in ("benchmark", "set", "metric", "reported", "predicted", "error", "plan"):
            bt.add_column(col, justify="left" if col in ("benchmark", "set", "metric", "plan") else "right")
        for b in report.benchmarks:
            colour = "green" if abs(b.error) <= 0.05 else ("yellow" if abs(b.error) <= 0.12 else "red")
            bt.add_row(b.name, b.set, b.metric, f"{b.reported:,.2f}", f"{b.predicted:,.2f}",
                       f"[{colour}]{b.error:+.1%}[/]", b.plan)
        console.print(bt)
        for name, st in report.benchmark_sets.items():
            console.print(f"  {name}: n={st['n']:.0f}, mean {st['mean_abs_error']:.1%}, median "
                          f"{st['median_abs_error']:.1%}, max {st['max_abs_error']:.1%}")
    if not report.rows:
        return
    table = Table(title=f"Training estimator vs {report.n} published runs", header_style="bold")
    for col in ("run", "set", "accelerator", "count", "reported h", "predicted h", "range", "error", "MFU"):
        table.add_column(col, justify="left" if col in ("run", "set", "accelerator") else "right")
    for r in report.rows:
        colour = "green" if abs(r.error) <= 0.2 else ("yellow" if abs(r.error) <= 0.5 else "red")
        table.add_row(r.name + ("" if r.modelled else " ‡"), r.set, r.accelerator,
                      f"{r.count:,}{'*' if r.count_assumed else ''}",
                      f"{r.reported_hours:,.0f}", f"{r.predicted_hours:,.0f}",
                      f"{r.predicted_low:,.0f}–{r.predicted_high:,.0f}{'' if r.in_range else ' ✗'}",
                      f"[{colour}]{r.error:+.1%}[/]", f"{r.mfu:.1%}")
    console.print(table)
    console.print("* count not published: 2,048 assumed; ‡ architecture outside the estimator's physics")
    console.print(f"mean |error| {report.mean_abs_error:.1%}, median {report.median_abs_error:.1%}, "
                  f"max {report.max_abs_error:.1%}; within ×1.5: {report.within_factor_1_5}/{report.n}; "
                  f"reported inside predicted range: {report.in_range}/{report.n} (modelled architectures: "
                  f"{report.within_factor_1_5_modelled}/{report.n_modelled} and {report.in_range_modelled}/"
                  f"{report.n_modelled})")
    for name, st in report.by_set.items():
        console.print(f"  {name}: n={st['n']:.0f}, mean {st['mean_abs_error']:.1%}, median "
                      f"{st['median_abs_error']:.1%}, max {st['max_abs_error']:.1%}")


def _validate_serving(catalog: list[Path] | None, runs: Path | None, as_json: bool) -> None:
    from rich.table import Table

    report = usecases.validate_serving_estimator(context(catalog), runs=runs)
    if as_json:
        emit_json(report)
        return
    table = Table(title=f"Serving estimator vs {len(report.rows)} published results (output tokens/s per "
                  "accelerator)", header_style="bold")
    for col in ("result", "set", "accelerator", "engine", "weights/KV", "scenario", "reported", "predicted", "error"):
        table.add_column(col, justify="right" if col in ("reported", "predicted", "error") else "left")
    for r in report.rows:
        if r.error is None:
            err = f"[red]{r.status}[/]"
        else:
            colour = "green" if abs(r.error) <= 0.10 else ("yellow" if abs(r.error) <= 0.25 else "red")
            err = f"[{colour}]{r.error:+.1%}[/]"
        table.add_row(r.id, r.set, r.accelerator, r.engine, f"{r.precision}/{r.kv_precision}", r.scenario,
                      f"{r.reported:,.0f}", "—" if r.predicted is None else f"{r.predicted:,.0f}", err)
    console.print(table)
    for name, st in [*report.by_set.items(), ("all", report.overall)]:
        console.print(f"  {name}: n={st['n']:.0f}, median |error| {st['median_abs_error']:.1%}, max "
                      f"{st['max_abs_error']:.1%}, median signed {st['median_error']:+.1%}")

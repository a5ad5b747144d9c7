"""Rich renderings of plans, what-ifs and the catalog: reasons wrap (never cut) and the layout reads at 80 columns.

Chosen parts are printed as short blocks of lines rather than a wide table, so nothing of them is truncated at
any width; the considered-options table keeps SKU ids whole and folds the reason column onto further lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from service.presenters.data import break_even_cell, break_even_text, data_line, screening_line
from service.presenters.reasons import STATUS_ZH, reason_text
from service.presenters.relaxations import describe as relaxation_text
from service.presenters.text import Lang, fmt_days, fmt_money, fmt_share
from service.usecases import CatalogEntry, Comparison, PurchasePlan

if TYPE_CHECKING:  # the what-if module loads OR-Tools; commands that never solve do not pay for it
    from service.usecases import BreakEven, WhatIfResult

NARROW = 100
"""Below this many columns the considered table drops its delta columns (they are in ``--json``)."""

_WORDS: dict[str, dict[Lang, str]] = {
    "chosen": {"en": "Chosen", "zh": "选定"},
    "nodes": {"en": "nodes", "zh": "节点"},
    "node": {"en": "node", "zh": "节点"},
    "for": {"en": "for", "zh": "用于"},
    "cost": {"en": "cost", "zh": "成本"},
    "plan": {"en": "plan", "zh": "并行方案"},
    "verdict": {"en": "verdict", "zh": "合规结论"},
    "considered": {"en": "Considered options", "zh": "备选方案"},
    "total": {"en": "total", "zh": "合计"},
    "of_budget": {"en": "of budget", "zh": "预算"},
    "domestic": {"en": "domestic share", "zh": "国产占比"},
    "binding": {"en": "binding constraints", "zh": "起作用的约束"},
    "none": {"en": "none", "zh": "无"},
    "range": {"en": "range", "zh": "区间"},
    "relax": {"en": "relax", "zh": "放宽"},
    "alternative": {"en": "alternative", "zh": "备选"},
    "validator": {"en": "validator", "zh": "校验"},
    "sources": {"en": "sources", "zh": "来源"},
    "status": {"en": "status", "zh": "状态"},
    "count": {"en": "count", "zh": "数量"},
    "days": {"en": "days", "zh": "天数"},
    "why": {"en": "why", "zh": "原因"},
    "accelerator": {"en": "accelerator", "zh": "加速卡"},
}


def _w(key: str, lang: Lang) -> str:
    return _WORDS[key][lang]


def render_plan(console: Console, plan: PurchasePlan, lang: Lang = "en") -> None:
    """Print a plan: status line, one block per chosen part, totals, considered options, alternatives, notes."""
    cur = plan.currency
    colour = "green" if plan.status in ("optimal", "feasible") else "red"
    headline = plan_headline(plan, lang)
    console.print(Text.assemble((plan.status, f"bold {colour}"), f" ({plan.objective}): {headline}"))
    for i in plan.items:
        perf = fmt_days(i.time_days, lang) if i.time_days is not None else f"{i.capacity_rps or 0:,.0f} req/s"
        nodes = _w("node" if i.nodes == 1 else "nodes", lang)
        console.print(f"[bold]{_w('chosen', lang)}:[/] {i.accelerators:,} × [bold]{i.sku}[/] ({i.nodes:,} "
                      f"{nodes}) {_w('for', lang)} {i.workload}", highlight=False)
        verdict = i.verdict + (f" ({i.license_outlook})" if i.license_outlook else "")
        low, high = fmt_money(i.total_cost_low, cur, lang), fmt_money(i.total_cost_high, cur, lang)
        console.print(f"  {_w('cost', lang)} {fmt_money(i.total_cost, cur, lang)} ({low}–{high}) · {perf} · "
                      f"{i.power_kw:,.0f} kW · "
                      f"{_w('verdict', lang)} {verdict}", highlight=False, markup=False)
        console.print(f"  {_w('plan', lang)}: {i.plan}", highlight=False, markup=False)
    if plan.items:
        line = (f"capex {fmt_money(plan.capex, cur, lang)} + opex {fmt_money(plan.opex, cur, lang)} = "
                f"{fmt_money(plan.total_cost, cur, lang)} ({_w('range', lang)} "
                f"{fmt_money(plan.total_cost_low, cur, lang)}–{fmt_money(plan.total_cost_high, cur, lang)})")
        if plan.budget:
            line += f" {_w('of_budget', lang)} {fmt_money(plan.budget, cur, lang)}"
        if plan.domestic_share is not None:
            line += f"; {_w('domestic', lang)} {fmt_share(plan.domestic_share)}"
        console.print(line, highlight=False, markup=False)
        extra = cost_lines(plan, lang)
        if extra:
            console.print(extra, highlight=False, markup=False)
        for text in switching_lines(plan, lang):
            console.print(text, highlight=False, markup=False)
        console.print(f"{_w('binding', lang)}: {', '.join(plan.binding_constraints) or _w('none', lang)}",
                      highlight=False, markup=False)
    if plan.considered:
        console.print(considered_table(console, plan, lang))
    for a in plan.alternatives:
        desc = ", ".join(f"{x.accelerators:,} × {x.sku} ({x.workload})" for x in a.items)
        days = "" if a.time_days is None else f", {fmt_days(a.time_days, lang)}"
        console.print(f"{_w('alternative', lang)} {a.rank}: {desc}: {fmt_money(a.total_cost, cur, lang)}{days} "
                      f"(Δ {fmt_money(a.delta_cost, cur, lang, signed=True)})", highlight=False, markup=False)
    for p in plan.pareto:
        console.print(f"pareto: {fmt_money(p.total_cost, cur, lang)} — {fmt_days(p.time_days, lang)} — "
                      + ", ".join(f"{x.accelerators:,} × {x.sku}" for x in p.items), highlight=False, markup=False)
    for r in plan.relaxations:
        words = relaxation_text(r, lang)
        console.print(Text.assemble("  ", (_w("relax", lang), "yellow"), f" {r.constraint}: {words}"))
    render_break_even(console, plan, lang)
    for warning in plan.warnings:
        console.print(f"  ! {warning}", style="yellow", highlight=False, markup=False)
    if plan.validation is not None:
        ok = "ok" if plan.validation.ok else "PROBLEMS: " + "; ".join(plan.validation.problems)
        console.print(f"{_w('validator', lang)}: {ok} (recomputed {plan.validation.recomputed})",
                      highlight=False, markup=False)
    if plan.citations:
        console.print(f"{_w('sources', lang)}: " + ", ".join(c.id for c in plan.citations),
                      highlight=False, markup=False)
    screening = screening_line(plan.screening, lang) if plan.screening is not None else None
    if screening:
        console.print(screening, highlight=False, markup=False)
    data = data_line(plan.data, lang)
    if data:
        console.print(data, highlight=False, markup=False)


def render_break_even(console: Console, plan: PurchasePlan, lang: Lang = "en") -> None:
    """One line per unpriced part: its break-even price and the plan at it, or the figures it lacks."""
    if not plan.break_even:
        return
    title = "盈亏平衡价格（无来源价格的部件）" if lang == "zh" else "break-even prices (parts with no sourced price)"
    console.print(title, style="bold")
    for b in plan.break_even:
        console.print(f"  {b.sku}: {break_even_text(b, lang)}", highlight=False, markup=False)
    if any(b.status == "missing_figures" for b in plan.break_even):
        hint = ("  缺少数据的部件：在目录文件中补充（数值、来源、等级）并用 --catalog 传入；--json 中有示例"
                if lang == "zh" else "  to price a part with missing figures, add them (value, source, grade) in a "
                "catalog file and pass it with --catalog; --json gives an example per part (how_to_supply)")
        console.print(hint, highlight=False, markup=False)


def cost_lines(plan: PurchasePlan, lang: Lang = "en") -> str | None:
    """Network and hosting shares of the totals (their grades are in the plan's notes)."""
    network, hosting = plan.network_cost, plan.hosting_cost
    if not network and not hosting:
        return None
    cur = plan.currency
    if lang == "zh":
        return (f"  其中横向扩展网络 {fmt_money(network, cur, lang)}（资本支出），"
                f"托管/维护 {fmt_money(hosting, cur, lang)}（运营支出）")
    return (f"  of which scale-out network {fmt_money(network, cur, lang)} (capex) and hosting/maintenance "
            f"{fmt_money(hosting, cur, lang)} (opex)")


def switching_lines(plan: PurchasePlan, lang: Lang = "en") -> list[str]:
    """The switching cost line (part of the total) and the assumptions behind it, one line per target family."""
    sw = plan.switching
    if sw is None:
        return []
    cur = plan.currency
    zh = lang == "zh"
    charges = "; ".join(
        f"{c.workload} → {c.target} {fmt_money(c.porting_cost, cur, lang)}"
        + ("" if not c.ramp_days_added else (f"，爬坡 +{c.ramp_days_added:.1f} 天" if zh
                                             else f", ramp +{c.ramp_days_added:.1f} days"))
        for c in sw.charges)
    if zh:
        out = [f"  其中生态迁移（当前 {sw.current_stack}）{fmt_money(sw.cost, cur, lang)}" + (f"：{charges}" if charges
                                                                                           else "：无")]
    else:
        out = [f"  of which switching from {sw.current_stack} {fmt_money(sw.cost, cur, lang)}"
               + (f": {charges}" if charges else " (every workload stays on the current stack)")]
    for t in sw.terms:
        src = (f"{'；来源' if zh else '; sources'} {', '.join(t.sources)}") if t.sources else ""
        if zh:
            out.append(f"    假设（等级 {t.grade}）→ {t.target}：训练 {t.training_person_months:g} 人月、推理 "
                       f"{t.inference_person_months:g} 人月 × {fmt_money(t.person_month_cost, cur, lang)}；前 "
                       f"{t.ramp_days:g} 天 MFU × {t.ramp_efficiency:.0%}{src}")
        else:
            out.append(f"    assumption (grade {t.grade}) → {t.target}: training {t.training_person_months:g}, "
                       f"serving {t.inference_person_months:g} engineer-months × "
                       f"{fmt_money(t.person_month_cost, cur, lang)}; first {t.ramp_days:g} days at "
                       f"{t.ramp_efficiency:.0%} MFU{src}")
    return out


def plan_headline(plan: PurchasePlan, lang: Lang = "en") -> str:
    """One sentence from the plan's numbers (the core's own message when nothing was chosen)."""
    if not plan.items:
        return plan.message
    parts = ", ".join(f"{i.accelerators:,} × {i.sku} ({i.workload})" for i in plan.items)
    total = fmt_money(plan.total_cost, plan.currency, lang)
    if lang == "zh":
        longest = "" if plan.time_days is None else f"，最长训练 {fmt_days(plan.time_days, lang)}"
        return f"{parts}：合计 {total}{longest}"
    longest = "" if plan.time_days is None else f", longest training {fmt_days(plan.time_days, lang)}"
    return f"{parts}: total {total}{longest}"


def considered_table(console: Console, plan: PurchasePlan, lang: Lang = "en") -> Table:
    """Every SKU considered per workload; ids are never cut and reasons wrap in full."""
    cur = plan.currency
    rows = plan.considered
    narrow = console.width < NARROW
    several = len({c.workload for c in rows}) > 1
    table = Table(title=_w("considered", lang), header_style="bold", expand=narrow, pad_edge=False)
    if several:
        table.add_column("workload", overflow="fold")
    sku_width = max(len("accelerator"), *(len(c.sku) for c in rows))
    table.add_column(_w("accelerator", lang), no_wrap=True, min_width=sku_width)
    table.add_column(_w("status", lang), overflow="fold", max_width=12)
    table.add_column(_w("count", lang), justify="right", no_wrap=True)
    table.add_column(_w("cost", lang), justify="right", no_wrap=True)
    table.add_column(_w("days", lang), justify="right", no_wrap=True)
    if not narrow:
        table.add_column("Δ cost", justify="right", no_wrap=True)
        table.add_column("Δ days", justify="right", no_wrap=True)
    be = {} if narrow else {b.sku: b for b in plan.break_even}  # narrow: the break-even lines below the table
    if be:
        table.add_column("break-even" if lang == "en" else "盈亏平衡价", justify="right", overflow="fold")
    table.add_column(_w("why", lang), overflow="fold", ratio=1, min_width=16)
    for c in rows:
        cells = [c.workload] if several else []
        status = STATUS_ZH.get(c.status, c.status) if lang == "zh" else c.status
        cells += [c.sku, status, "—" if c.accelerators is None else f"{c.accelerators:,}",
                  fmt_money(c.total_cost, cur, lang), "—" if c.time_days is None else f"{c.time_days:,.0f}"]
        if not narrow:
            cells += [fmt_money(c.delta_cost, cur, lang, signed=True),
                      "—" if c.delta_days is None else f"{c.delta_days:+,.0f}"]
        if be:
            cells.append(break_even_cell(be[c.sku], lang) if c.sku in be else "")
        cells.append(reason_text(c.why, c.reason, lang))
        table.add_row(*cells)
    return table


def render_whatif(console: Console, result: WhatIfResult, lang: Lang = "en") -> None:
    """Print the change, both outcomes, the difference and break-even lines (wrapped under their labels)."""
    cur = result.base.currency
    console.print(Text(f"What if: {'; '.join(result.changes) or 'no change'}", style="bold"))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("base:", plan_headline(result.base, lang))
    grid.add_row("changed:", plan_headline(result.changed, lang))
    grid.add_row("→", whatif_summary(result, lang))
    for b in result.break_even:
        grid.add_row("break-even:", break_even_line(b, cur, lang))
    console.print(grid)


def whatif_summary(result: WhatIfResult, lang: Lang = "en") -> str:
    """What changed, from the result's numbers: the parts switched, cost and time differences."""
    if not result.changed.items:
        return result.summary
    if result.skus_added or result.skus_removed:
        text = f"switches {', '.join(result.skus_removed) or 'nothing'} → {', '.join(result.skus_added) or 'nothing'}"
    else:
        text = "the same accelerators are chosen"
    if result.delta_cost is not None:
        text += f"; cost {fmt_money(result.delta_cost, result.base.currency, lang, signed=True)}"
    if result.delta_days is not None:
        text += f"; time {result.delta_days:+,.1f} days"
    return text


def break_even_line(b: BreakEven, currency: str, lang: Lang = "en") -> str:
    """A break-even price in words from its numbers (the core's message when a number is missing)."""
    if b.change is None or b.current_price is None or b.break_even_price is None:
        return b.message
    verb = f"would be chosen if its price fell by {-b.change:.0%}" if b.change < 0 else (
        f"would lose if its price rose by {b.change:.0%}")
    prices = f"{fmt_money(b.current_price, b.currency, lang)} → {fmt_money(b.break_even_price, b.currency, lang)}"
    return f"{b.sku} {verb} or more ({b.basis} {prices})"


def sixteen_bit_cell(entry: CatalogEntry) -> str:
    """The 16-bit peak with its precision named when it is FP16 (the BF16 column never shows FP16 unlabelled)."""
    value = entry.sixteen_bit_tflops
    if value is None:
        return "—"
    return f"{value:,.1f}" + (" (FP16)" if entry.sixteen_bit_precision == "fp16" else "")


def catalog_table(entries: Sequence[CatalogEntry], width: int = 200) -> Table:
    """The catalog list as a table; ids are never cut, and below 100 columns only the headline figures show."""
    narrow = width < NARROW
    table = Table(title=f"Accelerators ({len(entries)})", header_style="bold", pad_edge=False)
    table.add_column("id", no_wrap=True)
    if not narrow:
        table.add_column("vendor", no_wrap=True)
    numbers = ("BF16 TFLOPS", "FP8 TFLOPS", "mem GB", "TB/s", "TPP") if narrow else (
        "BF16 TFLOPS", "FP8 TFLOPS", "mem GB", "TB/s", "link GB/s", "TDP W", "TPP", "PD")
    for col in numbers:
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("price", overflow="fold")
    for e in entries:
        price = "—" if e.price is None else f"{fmt_money(e.price.base, e.price.currency)} ({e.price.grade})"
        values = {"BF16 TFLOPS": sixteen_bit_cell(e), "FP8 TFLOPS": _num(e.fp8_dense_tflops, 0),
                  "mem GB": _num(e.memory_gb), "TB/s": _num(e.memory_bandwidth_tbps, 2),
                  "link GB/s": _num(e.intra_node_link_gbps), "TDP W": _num(e.tdp_w), "TPP": _num(e.tpp),
                  "PD": _num(e.performance_density, 2)}
        table.add_row(e.id, *([] if narrow else [e.vendor]), *(values[c] for c in numbers), price)
    return table


def _num(v: float | None, digits: int = 0) -> str:
    return "—" if v is None else f"{v:,.{digits}f}"


def comparison_table(result: Comparison) -> Table:
    """One column per accelerator, one row per figure (reads at 80 columns for up to four parts)."""
    table = Table(header_style="bold", title="Comparison")
    table.add_column("", no_wrap=True)
    for e in result.entries:
        table.add_column(e.id, justify="right", overflow="fold")
    rows: list[tuple[str, list[str]]] = [
        ("vendor", [e.vendor for e in result.entries]),
        ("16-bit TFLOPS", [sixteen_bit_cell(e) for e in result.entries]),
        ("FP8 TFLOPS", [_num(e.fp8_dense_tflops, 1) for e in result.entries]),
        ("memory GB", [_num(e.memory_gb) for e in result.entries]),
        ("TB/s", [_num(e.memory_bandwidth_tbps, 2) for e in result.entries]),
        ("link GB/s", [_num(e.intra_node_link_gbps) for e in result.entries]),
        ("TDP W", [_num(e.tdp_w) for e in result.entries]),
        ("TPP", [_num(e.tpp) for e in result.entries]),
        ("price", ["—" if e.price is None else fmt_money(e.price.base, e.price.currency) + f" ({e.price.grade})"
                   for e in result.entries]),
    ]
    if result.verdicts:
        verdicts = [v.verdict + (f" ({v.license_outlook})" if v.license_outlook else "") for v in result.verdicts]
        rows.append(("verdict", [v.replace("_", " ") for v in verdicts]))
    for name, cells in rows:
        table.add_row(name, *cells)
    return table

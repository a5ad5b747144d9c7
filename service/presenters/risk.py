"""The ``risk`` block in words and tables: base and hedged plans per scenario, what the hedge buys.

Shared by the CLI (rich tables), the HTML memo (rows and sentences) and, after the conversation work merges, the
agent's answers. Amounts are formatted here, in the reader's language; the block itself stays typed numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from service.presenters.text import Lang, fmt_days, fmt_money, fmt_share
from service.usecases import RiskReport, Shock

SCENARIO_ROWS = 12
"""Scenarios listed one by one (most likely first); the rest are summed into one row."""

_WORDS: dict[str, dict[Lang, str]] = {
    "title": {"en": "Hedged plan", "zh": "对冲方案"},
    "objective": {"en": "objective", "zh": "目标"},
    "on_time": {"en": "on time within budget", "zh": "按期且不超预算的概率"},
    "feasible": {"en": "every workload served", "zh": "所有任务可完成的概率"},
    "expected": {"en": "expected total cost", "zh": "期望总成本"},
    "worst": {"en": "worst case", "zh": "最坏情况"},
    "cvar": {"en": "mean of the worst", "zh": "最差尾部均值"},
    "nominal": {"en": "no-shock cost", "zh": "无冲击成本"},
    "base": {"en": "today's plan", "zh": "当前方案"},
    "hedged": {"en": "hedged plan", "zh": "对冲方案"},
    "same": {"en": "the hedge keeps today's plan: nothing safer was found",
             "zh": "对冲结果与当前方案相同：未找到更稳妥的方案"},
    "buy": {"en": "buy", "zh": "采购"},
    "value": {"en": "what the hedge buys", "zh": "对冲的价值"},
    "upfront": {"en": "costs upfront", "zh": "前期多付"},
    "saves": {"en": "saves in expectation", "zh": "期望节省"},
    "worst_saves": {"en": "saves in the worst case", "zh": "最坏情况节省"},
    "gain": {"en": "on-time probability", "zh": "按期概率变化"},
    "scenario": {"en": "scenario", "zh": "情景"},
    "p": {"en": "prob.", "zh": "概率"},
    "days": {"en": "days", "zh": "天数"},
    "cost": {"en": "cost", "zh": "成本"},
    "late": {"en": "late", "zh": "延误"},
    "fails": {"en": "fails", "zh": "无法完成"},
    "ok": {"en": "on time", "zh": "按期"},
    "over": {"en": "over budget", "zh": "超预算"},
    "others": {"en": "other scenarios", "zh": "其他情景"},
    "no_shock": {"en": "no shock", "zh": "无冲击"},
    "switching": {"en": "switching from", "zh": "从现有生态迁移"},
    "porting": {"en": "porting", "zh": "迁移成本"},
    "ramp": {"en": "ramp", "zh": "爬坡期"},
    "check": {"en": "re-check without the solver", "zh": "无求解器复核"},
    "scenarios": {"en": "scenarios", "zh": "个情景"},
    "assumptions": {"en": "assumptions (grade A unless sourced)", "zh": "假设（除注明来源外均为A级假设）"},
}


def w(key: str, lang: Lang) -> str:
    """A word of the risk block in ``lang``."""
    return _WORDS[key][lang]


_SHOCKS: dict[str, dict[Lang, str]] = {
    "revoked": {"en": "licence revoked", "zh": "许可被撤销"},
    "paused": {"en": "licence paused {days}", "zh": "许可暂停{days}"},
    "barred": {"en": "barred by a China-side measure", "zh": "被国内措施禁止"},
    "delayed": {"en": "delivery {days} late", "zh": "交付延迟{days}"},
    "price_high": {"en": "price high", "zh": "价格处于高位"},
    "price_low": {"en": "price low", "zh": "价格处于低位"},
}


def scenario_name(shocks: Sequence[Shock], lang: Lang) -> str:
    """A scenario in words: its events grouped by what happens (``licence revoked: h20, h200; …``)."""
    if not shocks:
        return w("no_shock", lang)
    groups: dict[str, list[str]] = {}
    for sh in shocks:
        days = "" if sh.days is None else fmt_days(sh.days, lang)
        what = _SHOCKS[sh.code][lang].format(days=days)
        groups.setdefault(what, []).append(sh.sku)
    sep = "；" if lang == "zh" else "; "
    colon = "：" if lang == "zh" else ": "
    return sep.join(f"{what}{colon}{', '.join(dict.fromkeys(skus))}" for what, skus in groups.items())


def outcome_text(outcome: dict[str, object] | None, currency: str, lang: Lang) -> str:
    """One plan in one scenario: on time / late / fails, with its days and total cost."""
    if outcome is None:
        return "—"
    if not outcome.get("feasible"):
        state = w("fails", lang)
    elif outcome.get("on_time"):
        state = w("ok", lang)
    elif outcome.get("late"):
        state = w("late", lang)
    else:
        state = w("over", lang)
    days = outcome.get("days")
    cost = outcome.get("total_cost")
    return (f"{state} · {fmt_days(days if isinstance(days, float | int) else None, lang)} · "
            f"{fmt_money(float(cost) if isinstance(cost, float | int) else None, currency, lang)}")


@dataclass(frozen=True)
class ScenarioLine:
    """A row of the scenario table (one scenario, or the sum of the least likely ones)."""

    name: str
    probability: float
    base: str
    hedged: str


def scenario_lines(report: RiskReport, lang: Lang, limit: int = SCENARIO_ROWS) -> list[ScenarioLine]:
    """The most likely scenarios one by one, then one row summing the rest (with their on-time shares)."""
    cur = report.currency
    rows = sorted(report.scenarios, key=lambda s: -s.probability)
    out = []
    for s in rows[:limit]:
        name = scenario_name(s.shocks, lang) if s.shocks or s.name == "no shock" else s.name
        out.append(ScenarioLine(name=name, probability=s.probability,
                                base=outcome_text(s.base.model_dump() if s.base else None, cur, lang),
                                hedged=outcome_text(s.hedged.model_dump() if s.hedged else None, cur, lang)))
    rest = rows[limit:]
    if rest:
        p = sum(s.probability for s in rest)

        def share(pick: str) -> str:
            on = sum(s.probability for s in rest if getattr(s, pick) is not None and getattr(s, pick).on_time)
            return f"{w('ok', lang)} {fmt_share(on / p if p else 0)}"

        out.append(ScenarioLine(name=f"{len(rest)} {w('others', lang)}", probability=p, base=share("base"),
                                hedged=share("hedged")))
    return out


def summary_lines(report: RiskReport, lang: Lang) -> list[str]:
    """The headline figures, base against hedged, and what the hedge buys."""
    cur = report.currency
    pot, exp, worst, cvar = (report.probability_on_time, report.expected_total_cost, report.worst_case_cost,
                             report.cvar_total_cost)
    lines = [
        f"{w('on_time', lang)}: {fmt_share(pot.base)} → {fmt_share(pot.hedged)}",
        f"{w('expected', lang)}: {fmt_money(exp.base, cur, lang)} → {fmt_money(exp.hedged, cur, lang)}",
        f"{w('worst', lang)}: {fmt_money(worst.base, cur, lang)} → {fmt_money(worst.hedged, cur, lang)}; "
        f"{w('cvar', lang)} {1 - report.cvar_alpha:.0%}: {fmt_money(cvar.base, cur, lang)} → "
        f"{fmt_money(cvar.hedged, cur, lang)}",
    ]
    v = report.value_of_hedging
    if report.same_as_base:
        lines.append(w("same", lang))
    elif v is not None:
        lines.append(f"{w('value', lang)}: {w('upfront', lang)} {fmt_money(v.upfront_cost, cur, lang, signed=True)}, "
                     f"{w('saves', lang)} {fmt_money(v.expected_saving, cur, lang, signed=True)}, "
                     f"{w('worst_saves', lang)} {fmt_money(v.worst_case_saving, cur, lang, signed=True)}, "
                     f"{w('gain', lang)} {v.probability_on_time_gain:+.0%}")
    return lines


def hedged_lines(report: RiskReport, lang: Lang) -> list[str]:
    """What the hedged plan buys, and what switching stacks costs."""
    cur = report.currency
    out = []
    for i in report.items:
        perf = fmt_days(i.time_days, lang) if i.time_days is not None else f"{i.capacity_rps or 0:,.0f} req/s"
        out.append(f"{w('buy', lang)} {i.accelerators:,} × {i.sku} ({i.workload}): {fmt_money(i.total_cost, cur, lang)}"
                   f" · {perf}")
    sw = report.switching
    if sw is not None:
        for label, charges in (("base", sw.base), ("hedged", sw.hedged)):
            for c in charges:
                ramp = "" if c.ramp_days_added is None else f", {w('ramp', lang)} +{fmt_days(c.ramp_days_added, lang)}"
                out.append(f"{w(label, lang)}: {w('switching', lang)} {sw.current_stack} → {c.target} "
                           f"({c.workload}): {w('porting', lang)} {fmt_money(c.porting_cost, cur, lang)}{ramp}")
    return out


def headline(report: RiskReport, lang: Lang) -> str:
    """The block's one-line summary in ``lang`` (the core's English message, or its figures worded in Chinese)."""
    if lang == "en":
        return report.message
    if not report.items:
        return "无可行的对冲方案：任何情景下都无法在预算内按期完成" if report.status == "infeasible" else \
            f"无对冲方案（求解状态 {report.status}）"
    parts = "、".join(f"{i.accelerators:,} × {i.sku}" for i in report.items)
    head = w("same", lang) if report.same_as_base else f"{w('hedged', lang)}：{parts}"
    pot = report.probability_on_time
    return f"{head}；{w('on_time', lang)} {fmt_share(pot.base)} → {fmt_share(pot.hedged)}"


def render_risk(console: Console, report: RiskReport, lang: Lang = "en") -> None:
    """Print the risk block: headline, hedged plan, switching, scenario table, re-check."""
    console.print(f"[bold]{w('title', lang)}[/] ({w('objective', lang)} {report.objective}, {report.method}, "
                  f"{len(report.scenarios)} {w('scenarios', lang)}): {headline(report, lang)}", highlight=False,
                  markup=True)
    for line in [*hedged_lines(report, lang), *summary_lines(report, lang)]:
        console.print(f"  {line}", highlight=False, markup=False)
    table = Table(show_lines=False, expand=False)
    table.add_column(w("scenario", lang), overflow="fold", ratio=3)
    table.add_column(w("p", lang), justify="right", no_wrap=True)
    table.add_column(w("base", lang), overflow="fold", ratio=2)
    table.add_column(w("hedged", lang), overflow="fold", ratio=2)
    for row in scenario_lines(report, lang):
        table.add_row(row.name, f"{row.probability:.1%}", row.base, row.hedged)
    console.print(table)
    if report.validation is not None:
        status = "ok" if report.validation.ok else "; ".join(report.validation.problems[:3])
        console.print(f"  {w('check', lang)}: {status}", highlight=False, markup=False)
    console.print(f"  {w('assumptions', lang)}: " + "; ".join(_assumption(a.name, a.value, a.unit)
                                                              for a in report.assumptions), highlight=False,
                  markup=False)


def _assumption(name: str, value: float | str, unit: str | None) -> str:
    return f"{name} {value:g}{' ' + unit if unit else ''}" if isinstance(value, float | int) else f"{name} {value}"


def event_lines(events: Sequence[object]) -> list[str]:
    """One line per event of a scenario set (for ``procure risk scenarios``)."""
    out = []
    for e in events:
        d = e.model_dump() if hasattr(e, "model_dump") else dict(e)  # type: ignore[call-overload]
        out.append(f"{d['id']}: {d['probability']:.0%}{' [' + d['group'] + ']' if d.get('group') else ''} "
                   f"(grade {d['grade']}) {d.get('basis', '')}".rstrip())
    return out

"""Data packs, data currency, screening and break-even prices for the console and for sentences in answers.

``data_line`` and ``break_even_text`` are the sentences every front end shows ("data as of …", "the Ascend 950PR
would be chosen below ¥15,100 per card"); the ``render_*`` functions print the ``procure data`` results.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from service.presenters.text import Lang, fmt_days, fmt_money
from service.usecases import (
    BreakEvenPrice,
    DataCurrency,
    DataStatus,
    ImportResult,
    PackDiff,
    RollbackResult,
    Screening,
)

_PACK_ZH = {"catalog": "产品目录", "prices": "价格", "us_rules": "美国出口管制规则", "cn_measures": "中国措施",
            "country_groups": "国家组", "screening": "实体清单筛查"}
_STALE_ZH = {"catalog": "{as_of} 之后的新产品或规格未知", "prices": "{as_of} 之后的价格报道未知",
             "us_rules": "{as_of} 之后的美国规则变化未知", "cn_measures": "{as_of} 之后的中国措施未知",
             "country_groups": "{as_of} 之后的国家组变化未知", "screening": "{as_of} 之后的实体清单变化未知"}


def data_line(data: DataCurrency | None, lang: Lang = "en") -> str | None:
    """'data as of 2025-03-28 (…); no US rule changes known after 2026-06-05' in the reader's language."""
    if data is None or not data.packs:
        return None
    if lang == "zh":
        dates = "，".join(f"{_PACK_ZH.get(p.name, p.name)} {p.as_of}" for p in data.packs)
        text = f"数据截至 {data.as_of}（{dates}）"
        if data.stale:
            text += "；" + "；".join(_STALE_ZH.get(s.name, "{as_of} 之后的情况未知").format(as_of=s.as_of)
                                    for s in data.stale)
        return text
    return data.line()


def screening_line(s: Screening, lang: Lang = "en") -> str | None:
    """One line on the buyer's screening (None when no name was given)."""
    if s.status == "not_screened" and not (s.buyer_name or s.buyer_parent):
        return None
    who = ", ".join(x for x in (f"buyer {s.buyer_name!r}" if s.buyer_name else "",
                                f"parent {s.buyer_parent!r}" if s.buyer_parent else "") if x)
    parts = [f"screening of {who}: {s.text}"]
    for m in s.matches:
        kind = "possible match — verify" if m.match == "possible" else m.match.replace("_", " ")
        parts.append(f"{m.entity} ({kind}, {m.score:.2f}; listed {m.listed_on}, {m.notice})")
    if s.affiliates_rule not in ("not_applicable",):
        parts.append(f"Affiliates rule: {s.affiliates_rule.replace('_', ' ')}")
    if lang == "zh":
        parts[0] = f"实体清单筛查（{who}）：{s.text}"
    return "; ".join(parts)


def break_even_text(b: BreakEvenPrice, lang: Lang = "en") -> str:
    """The break-even of one part as a sentence ("would be chosen below ¥15,100 per accelerator")."""
    cur = b.currency
    if b.status == "missing_figures":
        if lang == "zh":
            return f"{b.name}：性能或功耗数据缺失（{', '.join(b.missing)}），无法计算盈亏平衡价格"
        return f"{b.name}: no break-even price without {', '.join(b.missing)}"
    price = fmt_money(b.price, cur, lang)
    if b.status == "not_chosen":
        if lang == "zh":
            return f"{b.name}：即使单卡 {price} 也不会被选中（{b.reason}）"
        return f"{b.name}: not chosen even at {price} per accelerator ({b.reason})"
    plan = ", ".join(f"{i.accelerators:,} × {i.sku}" for i in b.items)
    total = fmt_money(b.total_cost, cur, lang)
    days = "" if b.time_days is None else f", {fmt_days(b.time_days, lang)}"
    check = "verified" if b.verified else "not verified"
    if b.status == "chosen_at_limit":
        return f"{b.name}: chosen even at {price} per accelerator (the search ceiling); plan {plan}: {total}{days}"
    if lang == "zh":
        return (f"{b.name}：单卡价格低于 {price} 时会被选中（节点价 {fmt_money(b.node_price, cur, lang)}）；"
                f"届时方案：{plan}，合计 {total}{days}")
    return (f"{b.name} would be chosen below {price} per accelerator (node {fmt_money(b.node_price, cur, lang)}); "
            f"the plan would then be {plan}: {total}{days} ({check}: chosen at {price}, not at "
            f"{fmt_money(b.price_above, cur, lang)})")


def break_even_cell(b: BreakEvenPrice, lang: Lang = "en") -> str:
    """A short table cell: '< ¥15.1K', 'needs figures', 'none'."""
    if b.status == "found":
        return f"< {fmt_money(b.price_above, b.currency, lang)}"
    if b.status == "chosen_at_limit":
        return f"≥ {fmt_money(b.price, b.currency, lang)}"
    if b.status == "not_chosen":
        return "none" if lang == "en" else "无"
    return "needs figures" if lang == "en" else "缺数据"


def render_status(console: Console, status: DataStatus) -> None:
    """The packs in use as a table, with their age and origin."""
    table = Table(title=f"Data packs on {status.today} (stale after {status.stale_after_days} days)",
                  header_style="bold", pad_edge=False)
    for col in ("pack", "version", "as of", "age (days)", "origin", "records"):
        table.add_column(col, no_wrap=col != "records", overflow="fold")
    for p in status.packs:
        age = f"[yellow]{p.age_days:,}[/]" if p.stale else f"{p.age_days:,}"
        origin = p.origin + (f" (previous {p.previous.version})" if p.previous else "")
        table.add_row(p.name, p.version, str(p.as_of), age, origin, ", ".join(f"{k} {v}" for k, v in p.records.items()))
    console.print(table)
    console.print(f"oldest as-of date {status.oldest_as_of}; installed packs live in {status.folder}; "
                  f"rollback {'available' if status.can_roll_back else 'not available'}", highlight=False, markup=False)


def render_diff(console: Console, diff: PackDiff) -> None:
    """What a newer pack changes, section by section."""
    old = ", ".join(f"{p.name} {p.version} ({p.as_of})" for p in diff.old)
    new = ", ".join(f"{p.name} {p.version} ({p.as_of})" for p in diff.new)
    console.print(f"[bold]{old} → {new}[/]", highlight=False)
    if diff.empty:
        console.print("no differences", highlight=False)
    for title, rows in (("rules added", diff.rules_added), ("rules removed", diff.rules_removed)):
        for r in rows:
            end = f" to {r.effective_to}" if r.effective_to else ""
            console.print(f"  {title}: {r.id} ({r.kind}, from {r.effective_from}{end}) — {r.title}",
                          highlight=False, markup=False)
    for r in diff.rules_ended:
        console.print(f"  rule ended: {r.id} (last day {r.effective_to}) — {r.title}", highlight=False, markup=False)
    for r in diff.rules_changed:
        console.print(f"  rule changed: {r.id}: {', '.join(r.fields)}", highlight=False, markup=False)
    if diff.verdict_flips:
        table = Table(title=f"Verdicts that flip on {diff.date} ({len(diff.verdict_flips)} of {diff.verdicts_sampled}"
                      " sampled)", header_style="bold", pad_edge=False)
        for col in ("part", "buyer", "old", "new"):
            table.add_column(col, overflow="fold")
        for f in diff.verdict_flips:
            table.add_row(f.sku, f.country, f.old + (f" ({f.old_outlook})" if f.old_outlook else ""),
                          f.new + (f" ({f.new_outlook})" if f.new_outlook else ""))
        console.print(table)
    else:
        console.print(f"  no verdict flips among {diff.verdicts_sampled} sampled (parts × {', '.join(diff.countries)} "
                      f"on {diff.date})", highlight=False, markup=False)
    for m in diff.price_moves:
        old_p = "—" if m.old is None else f"{fmt_money(m.old.base, m.old.currency)} ({m.old.date}, {m.old.grade})"
        new_p = "—" if m.new is None else f"{fmt_money(m.new.base, m.new.currency)} ({m.new.date}, {m.new.grade})"
        change = "" if m.change is None else f" ({m.change:+.0%})"
        console.print(f"  price {m.kind[:-1]} {m.id}: {old_p} → {new_p}{change}", highlight=False, markup=False)
    for title, items in (("parts added", diff.parts_added), ("parts removed", diff.parts_removed),
                         ("parts changed", diff.parts_changed), ("listed parties added", diff.parties_added),
                         ("listed parties removed", diff.parties_removed), ("country groups changed",
                                                                            diff.groups_changed)):
        if items:
            console.print(f"  {title}: {', '.join(items)}", highlight=False, markup=False)


def render_import(console: Console, result: ImportResult) -> None:
    """What an import installed."""
    for c in result.installed:
        old = f"{c.old.version} (as of {c.old.as_of}, {c.old_origin})" if c.old else c.old_origin
        new = f"{c.new.version} (as of {c.new.as_of})" if c.new else c.new_origin
        console.print(f"installed {c.name}: {old} → {new}", highlight=False, markup=False)
    for name in result.unchanged:
        console.print(f"{name}: identical to the pack in use; nothing to do", highlight=False, markup=False)
    if result.forced and result.installed:
        console.print("installed with --force", style="yellow")
    if result.diff is not None:
        render_diff(console, result.diff)


def render_rollback(console: Console, result: RollbackResult) -> None:
    """What a rollback restored."""
    console.print(result.message, highlight=False, markup=False)


__all__ = ["break_even_cell", "break_even_text", "data_line", "render_diff", "render_import", "render_rollback",
           "render_status", "screening_line"]

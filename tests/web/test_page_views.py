"""What the page's server-built views say: axes, plan view, comparison, notes in Chinese, data age and the badge."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from service.app import create_app
from service.settings import Settings
from service.usecases import PurchasePlan
from service.web import axes, charts
from service.web.compare import compare_table
from service.web.report import render_report
from service.web.status import badge_from_status
from service.web.view import break_even_text, considered_table, headline, plan_view
from service.web.wording import binding_text, note_text, verdict_text
from tests.web.pagekit import REQUEST_2025

ITEM = {"workload": "training", "kind": "training", "sku": "ascend-910c", "name": "Huawei Ascend 910C",
        "accelerators": 144, "nodes": 18, "capex": 37.0e6, "opex": 9.0e6, "total_cost": 46.0e6,
        "total_cost_low": 31.0e6, "total_cost_high": 55.0e6, "time_days": 166.4, "verdict": "allowed",
        "hardware": 36.0e6, "network": 1.0e6, "hosting": 5.0e6}
PLAN: dict[str, Any] = {"status": "optimal", "message": "ok", "objective": "min_time", "currency": "CNY",
                        "items": [ITEM], "capex": 37.0e6, "opex": 9.0e6, "total_cost": 46.0e6,
                        "total_cost_low": 31.0e6, "total_cost_high": 55.0e6, "time_days": 166.4, "accelerators": 144,
                        "nodes": 18, "budget": 50.0e6, "binding_constraints": ["budget", "deadline[pretrain]"]}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path_factory.mktemp("data")))) as c:
        yield c


@pytest.fixture(scope="module")
def plan(client: TestClient) -> dict[str, Any]:
    resp = client.post("/v1/recommendations", json=REQUEST_2025)
    assert resp.status_code == 200
    return resp.json()


# ---- axes ---------------------------------------------------------------------------------------------------


def test_round_ticks_over_a_range() -> None:
    assert axes.nice_step(10, 5) == 2
    assert axes.nice_step(9.2, 4) == 2.5
    assert axes.ticks(0, 10) == [0, 2, 4, 6, 8, 10]
    assert axes.padded_range([5, 5]) == (4.5, 5.5)
    assert axes.padded_range([]) == (0.0, 1.0)
    assert axes.padded_range([0.0]) == (-0.5, 0.5) and axes.padded_range([0.0], floor_zero=True) == (0.0, 0.5)


def test_a_single_amount_gets_round_money_ticks_around_it() -> None:
    # ±10% around ¥46.13M is ¥41.5M–¥50.7M; a fifth of that span rounds up to a ¥2M step.
    axis = axes.money_axis([46_133_037.94], "CNY", "en")
    assert axis["tickvals"] == [42e6, 44e6, 46e6, 48e6, 50e6]
    assert axis["ticktext"] == ["¥42M", "¥44M", "¥46M", "¥48M", "¥50M"]
    assert axis["range"][0] == pytest.approx(41_519_734.1) and axis["range"][1] == pytest.approx(50_746_341.7)
    assert axes.money_axis([46_133_037.94], "CNY", "zh")["ticktext"] == ["¥4,200万", "¥4,400万", "¥4,600万",
                                                                          "¥4,800万", "¥5,000万"]


def test_money_ticks_finer_than_the_notation_fall_back_to_whole_amounts() -> None:
    # the money presenter keeps three significant figures, so ¥15,000 reads "¥1.5万", never "¥2万" like ¥20,000;
    # every tick label reads back as its own value
    from service.presenters.numbers import read_amount

    axis = axes.money_axis([0, 20_000], "CNY", "zh", floor_zero=True)
    assert axis["tickvals"][:3] == [0, 5000, 10000]
    assert len(set(axis["ticktext"])) == len(axis["ticktext"]) and "¥1.5万" in axis["ticktext"]
    assert [read_amount(t) for t in axis["ticktext"]] == [(float(v), "CNY") for v in axis["tickvals"]]


def test_pareto_with_one_point_has_a_readable_axis() -> None:
    fig = charts.pareto(dict(PLAN, pareto=[]), "en")
    assert [d["name"] for d in fig["data"]] == ["Chosen plan"]
    # ¥46M ± 10% is ¥41.4M–¥50.6M; a quarter of the ¥9.2M span rounds up to a ¥2.5M step.
    assert fig["layout"]["xaxis"]["ticktext"] == ["¥42.5M", "¥45M", "¥47.5M", "¥50M"]
    lo, hi = fig["layout"]["yaxis"]["range"]
    assert lo == pytest.approx(149.76) and hi == pytest.approx(183.04)


def test_budget_curves_keep_the_time_axis_ordered_and_the_legend_below() -> None:
    rows = [{"budget.amount": b, "plan_status": "optimal", "total_cost": b * 0.9, "time_days": d, "currency": "CNY",
             "buyer.date": "2025-08-01"} for b, d in ((2e7, 426.1), (5e7, 166.4), (1e8, 84.6), (2e8, 43.5))]
    fig = charts.budget_curves(rows, "en", series_key="buyer.date")
    y2 = fig["layout"]["yaxis2"]
    assert y2["range"][0] == 0 and y2["range"][1] > 426.1 and y2["side"] == "right" and y2["automargin"]
    assert y2["ticktext"] == ["0", "100", "200", "300", "400"]  # round days, not ticks aligned to the cost grid
    assert fig["layout"]["legend"]["orientation"] == "h" and fig["layout"]["legend"]["y"] < 0
    assert fig["layout"]["xaxis"]["ticktext"][0].startswith("¥")


def test_timeline_shows_a_part_not_yet_on_sale_instead_of_its_verdict() -> None:
    data = {"sku": "h200", "name": "H200", "dates": ["2023-06-01", "2024-06-01", "2025-06-01"],
            "rows": [{"destination": "CN", "verdicts": ["prohibited", "prohibited", "prohibited"],
                      "availability": ["not_yet_available", "available", "not_for_sale"]}]}
    heat = charts.compliance_timeline(data, "zh")["data"][0]
    assert heat["z"] == [[4, 2, 3]]
    assert heat["text"] == [["尚未上市", "禁止", "暂停销售"]]
    assert heat["colorbar"]["ticktext"][-1] == "尚未上市"


def test_schedule_starts_at_the_buyers_date() -> None:
    fig = charts.schedule(dict(PLAN, lead_time_days=30.0), "en", start="2025-08-01")
    lead, run = fig["data"]
    assert lead["base"] == ["2025-08-01"] and lead["x"] == [30 * 86_400_000]
    assert run["base"] == ["2025-08-31"] and run["x"] == [pytest.approx(166.4 * 86_400_000)]
    assert fig["layout"]["xaxis"]["type"] == "date"


# ---- the plan view ------------------------------------------------------------------------------------------


def test_headline_and_figures_in_chinese() -> None:
    head = headline(PLAN, "zh")
    assert head["title"] == "预训练：144 张 Huawei Ascend 910C"
    assert head["summary"] == "合计 ¥4,600万（区间 ¥3,100万–¥5,500万），最长训练 166 天"
    assert head["status_text"] == "最优"
    assert binding_text("deadline[pretrain]", "zh") == "期限（预训练）"
    assert binding_text("supply[h20]", "en") == "supply (h20)"
    assert verdict_text("license_required", "granted", "zh") == "需要许可证（已获批）"


def test_considered_options_decisive_first_by_the_objective() -> None:
    considered = [
        {"workload": "t", "sku": "a", "name": "A", "status": "excluded", "reason": "prohibited"},
        {"workload": "t", "sku": "b", "name": "B", "status": "feasible", "total_cost": 40e6, "time_days": 300.0,
         "delta_cost": -6e6, "delta_days": 134.0},
        {"workload": "t", "sku": "c", "name": "C", "status": "feasible", "total_cost": 47e6, "time_days": 200.0,
         "delta_cost": 1e6, "delta_days": 34.0},
        {"workload": "t", "sku": "d", "name": "D", "status": "over budget", "total_cost": 60e6, "time_days": 90.0},
        {"workload": "t", "sku": "e", "name": "E", "status": "chosen", "total_cost": 46e6, "time_days": 166.0},
    ]
    fast = considered_table(dict(PLAN, considered=considered, objective="min_time"), "en")
    assert [r["cells"][0] for r in fast["rows"]] == ["E", "C", "B", "D", "A"]
    assert fast["summary"] == ("5 parts considered: 1 chosen, 2 feasible, 2 ruled out; runner-up C (+¥1M, +34 days)")
    cheap = considered_table(dict(PLAN, considered=considered, objective="min_cost"), "en")
    assert [r["cells"][0] for r in cheap["rows"]] == ["E", "B", "C", "D", "A"]
    assert [r["decisive"] for r in cheap["rows"]] == [True, True, True, True, False]


def test_break_even_prices_are_worded_per_status() -> None:
    found = {"sku": "x", "status": "found", "currency": "CNY", "price": 82_000.0}
    assert break_even_text(found, "en") == "chosen at ¥82K or less per accelerator"
    assert break_even_text(found, "zh") == "每卡不高于 ¥8.2万 时入选"
    assert break_even_text({"status": "not_chosen", "currency": "USD", "price": 1000.0}, "en") == (
        "not chosen even at $1K per accelerator")
    assert break_even_text({"status": "missing_figures", "missing": ["bf16 peak", "tdp"]}, "zh") == (
        "缺少数据：bf16 peak、tdp")
    table = considered_table(dict(PLAN, considered=[{"workload": "t", "sku": "x", "name": "X", "status": "excluded"}],
                                  break_even=[found]), "en")
    assert [c["key"] for c in table["columns"]][-2:] == ["break_even", "reason"]
    assert table["rows"][0]["cells"][-2] == "chosen at ¥82K or less per accelerator"


def test_plan_notes_are_written_in_chinese_from_their_pattern() -> None:
    cases = {
        "network cost (Huawei RoCE scale-out (2 x 100GE per NPU)) is an assumption (grade A): 6,000–18,000 USD per "
        "node": "网络成本（Huawei RoCE scale-out (2 x 100GE per NPU)）为假设（A 级）：每节点 6,000–18,000 USD",
        "hosting/maintenance is an assumption (grade A): 5% of the hardware price per year (3%–8%)":
            "托管/运维为假设（A 级）：每年为硬件价格的 5%（3%–8%）",
        "hosting/maintenance is not included (no figure)": "未计入托管/运维成本（没有数据）",
        "InfiniBand NDR availability for the buyer is limited": "InfiniBand NDR 对买方的供应情况：有限",
    }
    for en, zh in cases.items():
        assert note_text(en, "zh") == (zh, "zh")
        assert note_text(en, "en") == (en, "en")
    assert note_text("A rule pack's own sentence.", "zh") == ("A rule pack's own sentence.", "en")
    assert note_text("x: y", "zh", {"x: y": "x：乙"}) == ("x：乙", "zh")


def test_plan_view_of_a_real_plan_in_chinese(client: TestClient, plan: dict[str, Any]) -> None:
    resp = client.post("/v1/web/plan-view?lang=zh", json={"plan": plan, "request": REQUEST_2025})
    assert resp.status_code == 200, resp.text
    view = resp.json()
    item = plan["items"][0]
    assert view["headline"]["title"] == f"预训练：{item['accelerators']} 张 {item['name']}"
    # The cost lines add up to the plan's total.
    lines = {r["key"]: r for r in view["cost_lines"]}
    assert lines["total"]["value"] == usecases_money(plan["total_cost"])
    # Every note of this plan is worded in Chinese: the HBM warning from its rule's code, the cost notes by pattern.
    assert view["warnings"] and all(n["lang"] == "zh" for n in view["warnings"])
    assert any("依赖 HBM" in n["text"] for n in view["warnings"])
    assert set(view["figures"]) == {"cost", "pareto", "schedule"}
    # Without the request the rule warnings stay English and say so.
    bare = client.post("/v1/web/plan-view?lang=zh", json={"plan": plan}).json()
    assert any(n["lang"] == "en" and "relies on HBM" in n["text"] for n in bare["warnings"])


def usecases_money(value: float) -> str:
    from service.presenters.text import fmt_money

    return fmt_money(value, "CNY", "zh")


def test_infeasible_plan_leads_with_what_would_make_it_feasible(client: TestClient) -> None:
    req = dict(REQUEST_2025, budget={"amount": "100万", "currency": "CNY"})
    plan = client.post("/v1/recommendations", json=req).json()
    assert plan["status"] == "infeasible"
    view = plan_view(PurchasePlan.model_validate(plan), plan, "en")
    assert view["headline"]["ok"] is False and view["headline"]["title"] == "no plan fits"
    assert view["relaxations"] and view["headline"]["summary"] == view["relaxations"][0]
    assert "schedule" not in view["figures"]


# ---- compare ------------------------------------------------------------------------------------------------


def test_compare_marks_differences_and_the_best_plan() -> None:
    other = dict(PLAN, total_cost=60.0e6, time_days=90.0, domestic_share=0.4,
                 risk={"probability_on_time": {"base": 0.7, "hedged": 0.95},
                       "items": [{"sku": "ascend-910c", "accelerators": 160}, {"sku": "h20", "accelerators": 64}]})
    table = compare_table([{"label": "A", "plan": dict(PLAN, domestic_share=1.0), "data_as_of": "2026-01-28"},
                           {"label": "B", "plan": other, "data_as_of": "2026-01-28"}], "en")
    assert table["columns"] == ["A", "B"]
    rows = {r["key"]: r for r in table["rows"]}
    assert rows["total_cost"]["cells"] == ["¥46M", "¥60M"] and rows["total_cost"]["best"] == [0]
    assert rows["time_days"]["best"] == [1] and rows["domestic"]["best"] == [0]
    assert rows["on_time"]["cells"] == ["—", "70% → 95%"]
    assert rows["hedged"]["cells"] == ["—", "160 × ascend-910c; 64 × h20"]
    assert rows["parts"]["differs"] is False and rows["status"]["differs"] is False
    assert rows["data_age"]["cells"] == ["2026-01-28", "2026-01-28"] and not rows["data_age"]["differs"]
    assert "line:storage" not in rows  # no plan has that line
    assert rows["line:hardware"]["label"] == "Servers and accelerators"
    assert "lead_time" not in rows  # no lead time in either plan


def test_compare_route_takes_at_most_three_plans(client: TestClient, plan: dict[str, Any]) -> None:
    four = {"plans": [{"label": str(i), "plan": plan} for i in range(4)]}
    resp = client.post("/v1/web/compare", json=four)
    assert resp.status_code == 422 and resp.headers["content-type"].startswith("application/problem+json")
    ok = client.post("/v1/web/compare?lang=zh", json={"plans": four["plans"][:2]})
    assert ok.status_code == 200 and ok.json()["rows"][0]["label"] == "状态"


def test_memo_carries_the_comparison(plan: dict[str, Any]) -> None:
    cheaper = dict(plan, total_cost=plan["total_cost"] * 0.5)
    html = render_report(plan, lang="zh", compare=[{"label": "甲", "plan": plan}, {"label": "乙", "plan": cheaper}])
    assert 'id="compare"' in html and "方案对比" in html and "<th>甲</th>" in html
    assert html.count('class="differs"') >= 1 and 'class="best"' in html


# ---- data age and the badge ---------------------------------------------------------------------------------


def test_badge_route_and_the_pack_status_adapter(client: TestClient) -> None:
    badge = client.get("/v1/web/data-status?lang=zh").json()
    assert badge["text"].startswith(f"数据截至 {badge['as_of']}")
    # Dated data packs (their status: today, oldest as-of date, per-pack ages) read the same way.
    status = SimpleNamespace(today=dt.date(2026, 7, 1), oldest_as_of=dt.date(2026, 3, 1), stale_after_days=90,
                             packs=[SimpleNamespace(name="catalog", version="2026.6", as_of=dt.date(2026, 6, 5),
                                                    stale=False),
                                    SimpleNamespace(name="prices", version="2026.3", as_of=dt.date(2026, 3, 1),
                                                    stale=True)])
    b = badge_from_status(status, "en")
    assert (b.as_of, b.age_days, b.stale) == (dt.date(2026, 3, 1), 122, True)
    assert b.text == "Data as of 2026-03-01 (122 days old)"
    assert [p.name for p in b.packs] == ["catalog", "prices"] and b.version == "catalog 2026.6, prices 2026.3"


def test_timeline_route_says_when_a_part_was_not_on_sale(client: TestClient) -> None:
    body = client.get("/v1/compliance/timeline", params={"sku": "h200", "countries": "CN",
                                                          "start": "2023-10-01", "end": "2024-06-01"}).json()
    avail = dict(zip(body["dates"], body["rows"][0]["availability"], strict=True))
    # Announced 2023-11-13, volume shipments from 2024-04 (catalog, source P16).
    assert avail["2024-03-01"] == "not_yet_available" and avail["2024-04-01"] == "available"
    assert body["figure"]["data"][0]["text"][0][0] == "not yet available"


@given(st.lists(st.floats(min_value=-1e307, max_value=1e307, allow_nan=False), min_size=0, max_size=6),
       st.sampled_from(["CNY", "USD", "EUR"]), st.sampled_from(["en", "zh"]))
@settings(max_examples=150, deadline=None)
def test_money_axes_are_finite_ordered_and_never_repeat_a_label(values: list[float], currency: str,
                                                                lang: str) -> None:
    axis = axes.money_axis(values, currency, lang)
    lo, hi = axis["range"]
    assert math.isfinite(lo) and math.isfinite(hi) and lo < hi
    ticks = axis["tickvals"]
    assert ticks == sorted(ticks) and len(set(ticks)) == len(ticks) <= 50
    assert all(lo - 1e-6 * abs(lo) <= t <= hi + 1e-6 * abs(hi) for t in ticks)
    assert len(set(axis["ticktext"])) == len(axis["ticktext"])


def test_a_plan_with_absurd_figures_still_gives_json_figures() -> None:
    huge = dict(PLAN, total_cost=1e308, time_days=1e308, lead_time_days=1e300,
                items=[dict(ITEM, time_days=1e308, total_cost_high=1e308)])
    for fig in (charts.pareto(huge, "en"), charts.cost_breakdown(huge, "zh"),
                charts.schedule(huge, "en", start="2025-08-01")):
        json.dumps(fig, allow_nan=False)

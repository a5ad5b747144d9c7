"""Each defect a first-time planner met on the page, checked in a real browser (Debian's Chromium via Playwright)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.web.conftest import PageWatch
from tests.web.pagekit import POLL_MS, boxes_overlap, plan_form, render

pytestmark = pytest.mark.slow

QUESTION_EN = "Best cluster for 70B training on 1.4T tokens under budget ¥50M for a buyer in China on 2025-08-01"


def test_chat_answer_lists_its_sources_once(live_server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(live_server + "/")
    page.fill("#question", QUESTION_EN)
    page.click("#ask-submit")
    page.wait_for_selector("#answer-citations li")
    citations = page.evaluate("state.citations")
    assert len(citations) >= 2
    answer = page.locator("#answer").inner_text()
    # The numbered references stay in the answer's sentences, the numbered list of sources does not.
    assert "[1]" in answer
    assert not re.search(r"^\s*\[\d+\]", answer, re.M), answer
    assert "Sources" not in answer
    section = page.locator("#tab-ask").inner_text()
    for c in citations:
        title = c["title"]
        assert section.count(title) == 1, (title, section)
    assert page.locator("#answer-citations li").count() == len(citations)
    # A passage opens to its quoted text in place.
    passage = page.locator("#answer-citations li.passage").first
    passage.locator("summary").click()
    assert passage.locator("blockquote").inner_text().strip()
    assert watch.errors == [] and watch.external_requests(live_server) == []


def test_sweep_time_axis_is_ordered_and_its_title_clears_the_legend(live_server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(live_server + "/")
    page.click("nav button[data-tab=jobs]")
    spec = {
        "name": "axis check",
        "base": {"workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T"}],
                 "buyer": {"country": "CN", "date": "2025-08-01"}, "budget": {"amount": "5000万", "currency": "CNY"},
                 "objective": "min_time", "alternatives": 0},
        "sweep": {"budget.amount": [2e7, 5e7, 1e8], "buyer.date": ["2024-06-01", "2025-08-01"]},
    }
    page.fill("#job-spec", json.dumps(spec))
    page.click("#job-submit")
    page.wait_for_function("document.querySelector('#job-progress-text').textContent.includes('completed')",
                           timeout=120_000, polling=POLL_MS)
    page.wait_for_selector("#plot-curves .y2tick text")
    ticks = page.eval_on_selector_all(
        "#plot-curves g.y2tick text",
        "ts => ts.map(t => { const r = t.getBoundingClientRect(); "
        "return {text: t.textContent, top: r.top, bottom: r.bottom, left: r.left, right: r.right}; })")
    assert len(ticks) >= 3
    bottom_up = [float(t["text"].replace(",", "")) for t in sorted(ticks, key=lambda t: -t["top"])]
    assert bottom_up == sorted(bottom_up) and len(set(bottom_up)) == len(bottom_up), bottom_up
    legend = page.eval_on_selector("#plot-curves .legend", "n => n.getBoundingClientRect().toJSON()")
    title = page.eval_on_selector("#plot-curves .g-y2title text", "n => n.getBoundingClientRect().toJSON()")
    assert not boxes_overlap(title, legend), (title, legend)
    svg = page.eval_on_selector("#plot-curves .main-svg", "n => n.getBoundingClientRect().toJSON()")
    for t in ticks:
        assert not boxes_overlap(t, legend), (t, legend)
        assert t["right"] <= svg["right"] + 1, "a time tick label is cut at the plot's edge"
    # Budgets and costs read as money in the buyer's notation, not as bare numbers.
    xs = page.eval_on_selector_all("#plot-curves g.xtick text", "ts => ts.map(t => t.textContent)")
    assert xs and all(x.startswith("¥") for x in xs), xs
    assert watch.errors == []


def test_single_point_pareto_labels_its_axis_with_round_amounts(
        live_server: str, watch: PageWatch, plan_2025: dict[str, Any]) -> None:
    page = watch.page
    page.goto(live_server + "/")
    render(page, dict(plan_2025, pareto=[]))  # only the chosen plan: one point
    page.wait_for_selector("#plot-pareto .xtick text")
    labels = page.eval_on_selector_all("#plot-pareto g.xtick text", "ts => ts.map(t => t.textContent)")
    assert 2 <= len(labels) <= 6 and len(set(labels)) == len(labels), labels
    for label in labels:
        assert re.fullmatch(r"¥\d+(\.\d)?M", label), labels  # ¥44M, ¥46M … never ¥46.1330375M
    days = page.eval_on_selector_all("#plot-pareto g.ytick text", "ts => ts.map(t => t.textContent)")
    assert len(set(days)) == len(days) and all(len(d.replace(",", "").split(".")[-1]) <= 3 for d in days), days
    assert watch.errors == []


def test_phone_page_never_scrolls_sideways(live_server: str, phone: PageWatch) -> None:
    page = phone.page
    page.goto(live_server + "/")
    page.fill("#question", "预算5000万元，训练70B模型（1.4万亿token）的最佳集群？买方在中国，日期2025-08-01")
    page.click("#ask-submit")
    page.wait_for_selector("#answer-citations li")
    page.wait_for_selector("#plot-cost .main-svg")
    widths = {"ask": page.evaluate("document.documentElement.scrollWidth")}
    for tab in ("plan", "compare", "compliance", "jobs"):
        page.click(f"nav button[data-tab={tab}]")
        widths[tab] = page.evaluate("document.documentElement.scrollWidth")
    page.click("nav button[data-tab=ask]")
    page.click("#compare-add")
    page.click("nav button[data-tab=compare]")
    page.wait_for_selector("#compare-table tr")
    widths["compare, one plan"] = page.evaluate("document.documentElement.scrollWidth")
    assert all(w <= 390 for w in widths.values()), widths
    wide = page.evaluate("Array.from(document.querySelectorAll('body *')).filter(e => e.offsetParent !== null && "
                         "e.getBoundingClientRect().right > 391).map(e => e.tagName + '#' + e.id)")
    assert wide == []
    assert phone.errors == []


def test_plan_stays_with_the_ask_and_plan_tabs(live_server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(live_server + "/")
    plan_form(page)
    assert page.locator("#plan-view").is_visible()
    for tab in ("compliance", "jobs", "compare"):
        page.click(f"nav button[data-tab={tab}]")
        assert not page.locator("#plan-view").is_visible(), tab
    page.click("nav button[data-tab=plan]")
    assert page.locator("#plan-view").is_visible()
    page.click("nav button[data-tab=ask]")
    assert page.locator("#plan-view").is_visible()


def test_plan_form_date_defaults_to_today(live_server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(live_server + "/")
    value = page.input_value("#plan-form input[name=date]")
    today = page.evaluate("(() => { const d = new Date(); "
                          "return [d.getFullYear(), d.getMonth() + 1, d.getDate()]; })()")
    assert value == f"{today[0]:04d}-{today[1]:02d}-{today[2]:02d}"
    page.click("nav button[data-tab=plan]")
    page.click("#plan-submit")
    page.wait_for_function("state.view !== null", timeout=60_000, polling=POLL_MS)
    assert page.evaluate("state.request.buyer.date") == value


def test_compliance_timeline_shows_parts_before_they_were_on_sale_as_not_available(
        live_server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(live_server + "/")
    page.click("nav button[data-tab=compliance]")
    page.fill("#timeline-form input[name=sku]", "h200")
    page.fill("#timeline-form input[name=countries]", "CN,DE")
    page.click("#timeline-form button[type=submit]")
    page.wait_for_selector("#plot-timeline .heatmaplayer")
    fig = page.evaluate("(() => { const d = document.getElementById('plot-timeline').data[0]; "
                        "return {x: d.x, y: d.y, text: d.text}; })()")
    cn = dict(zip(fig["x"], fig["text"][0], strict=True))
    de = dict(zip(fig["x"], fig["text"][1], strict=True))
    # The H200 was announced in Nov 2023 and shipped from Q2 2024 (catalog, source P16).
    assert cn["2022-07-01"] == "not yet available" and de["2023-06-01"] == "not yet available"
    assert all(v == "not yet available" for d, v in de.items() if d < "2024-04-01")
    assert de["2024-06-01"] == "allowed"
    assert "allowed" not in [v for d, v in cn.items() if d < "2024-04-01"]
    legend = page.eval_on_selector_all("#plot-timeline .colorbar text", "ts => ts.map(t => t.textContent)")
    assert "not yet available" in legend
    assert watch.errors == []
    watch.screenshot("timeline-en-1280", full_page=False)


def test_chinese_plan_summary_has_no_english_lines(live_server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(live_server + "/")
    page.click("#lang-zh")
    plan_form(page)
    names = page.evaluate("[...state.plan.items, ...state.plan.considered].flatMap(i => [i.name, i.sku])")
    texts = {sel: page.locator(sel).inner_text() for sel in (
        "#plan-status", "#plan-headline", "#plan-summary", "#plan-facts", "#cost-lines", "#considered-summary")}
    texts["items"] = page.eval_on_selector_all(
        "#plan-items td",
        "tds => tds.filter(td => td.dataset.label !== '并行方案').map(td => td.textContent).join(' ')")
    texts["warnings"] = page.eval_on_selector_all(
        "#warnings li:not([lang=en])", "lis => lis.map(li => li.textContent).join(' ')")
    texts["warnings"] = re.sub(r"网络成本（.*?）为", "网络成本为", texts["warnings"])  # the network's product name
    for where, text in texts.items():
        for name in sorted(names, key=len, reverse=True):
            text = text.replace(name, "")
        text = re.sub(r"\b(kW|HBM|GB/s/mm²|3A090\.\w|RoCE|NPU|GE|USD|CNY|GP10)\b", "", text)
        assert not re.search(r"[A-Za-z]{3,}", text), (where, text)
        assert re.search(r"[\u4e00-\u9fff]", text), where
    assert "最优" in texts["#plan-status"] and "万" in texts["#plan-summary"]
    assert watch.errors == []

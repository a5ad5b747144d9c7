"""The page as a planner's workspace, in a real browser: compare view, data-age badge, hedged plans, break-even prices,
the layout's order, keyboard use, labels, contrast and charts that follow their container."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import PageWatch
from tests.web.pagekit import POLL_MS, REQUEST_2025, get, plan_form, render

pytestmark = pytest.mark.slow


def test_compare_view_puts_plans_side_by_side_and_exports_them(
        live_server: str, watch: PageWatch, tmp_path: Path) -> None:
    page = watch.page
    page.goto(live_server + "/")
    plan_form(page, budget="5000万")
    cheap = page.evaluate("state.plan.total_cost")
    page.click("#compare-add")
    plan_form(page, budget="1.5亿")
    rich = page.evaluate("state.plan.total_cost")
    assert rich > cheap
    page.click("#compare-add")
    assert page.locator("#compare-count").inner_text() == "(2)"
    page.click("nav button[data-tab=compare]")
    page.wait_for_function("document.querySelectorAll('#compare-table thead th').length === 2")
    heads = page.eval_on_selector_all("#compare-table thead th", "ths => ths.map(t => t.textContent)")
    assert len(heads) == 2 and heads[0].startswith("1. Plan form") and heads[1].startswith("2. Plan form")
    row = page.locator("#compare-table tr[data-key=total_cost]")
    assert "differs" in (row.get_attribute("class") or "")
    cells = row.locator("td").all_inner_texts()
    assert cells[0].startswith("¥") and "✓" in cells[0] and "✓" not in cells[1]  # the cheaper plan marked best
    days = page.locator("#compare-table tr[data-key=time_days] td").all_inner_texts()
    assert "✓" in days[1] and "✓" not in days[0]  # the bigger budget buys time
    keys = page.eval_on_selector_all("#compare-table tbody tr", "rs => rs.map(r => r.dataset.key)")
    for key in ("parts", "accelerators", "capex", "opex", "line:hardware", "time_days", "verdicts", "warnings",
                "data_age"):
        assert key in keys, keys
    age = page.locator("#compare-table tr[data-key=data_age] td").all_inner_texts()
    assert age[0] == get(live_server, "/v1/web/data-status")["as_of"]
    # A row that reads the same for both plans is not marked.
    same = page.locator("#compare-table tr[data-key=status]")
    assert "differs" not in (same.get_attribute("class") or "")
    # The memo carries the comparison.
    with page.expect_download() as dl:
        page.click("#compare-report")
    path = tmp_path / "memo.html"
    dl.value.save_as(path)
    html = path.read_text(encoding="utf-8")
    assert 'id="compare"' in html and "Plans compared" in html and heads[0] in html
    assert watch.errors == [] and watch.external_requests(live_server) == []
    watch.screenshot("compare-en-1280")


def test_a_sweep_row_and_a_chat_follow_up_join_the_comparison(live_server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(live_server + "/")
    page.fill("#question", "Best cluster for 70B training on 1.4T tokens under budget ¥50M for a buyer in China on "
                           "2025-08-01")
    page.click("#ask-submit")
    page.wait_for_function("state.previousChatPlan !== null", timeout=60_000, polling=POLL_MS)
    page.fill("#question", "What if the budget were ¥80M?")
    page.click("#ask-submit")
    page.wait_for_selector("#compare-previous", state="visible", timeout=60_000)
    page.click("#compare-previous")
    page.wait_for_function("document.querySelectorAll('#compare-table thead th').length === 2")
    assert page.locator("#tab-compare").is_visible()
    # A sweep row is solved again in full and joins as the third plan.
    page.click("nav button[data-tab=jobs]")
    spec = {"name": "rows", "base": dict(REQUEST_2025, alternatives=0),
            "sweep": {"budget.amount": [3e7, 6e7]}}
    page.fill("#job-spec", json.dumps(spec))
    page.click("#job-submit")
    page.wait_for_selector("#job-table .row-compare", timeout=120_000)
    page.locator("#job-table .row-compare").first.click()
    page.wait_for_function("state.compare.length === 3", timeout=60_000, polling=POLL_MS)
    page.click("nav button[data-tab=compare]")
    page.wait_for_function("document.querySelectorAll('#compare-table thead th').length === 3")
    third = page.locator("#compare-table thead th").nth(2).inner_text()
    assert third.startswith("3. Sweep row") and "¥3,000万" not in third and "¥30M" in third
    assert watch.errors == []


def test_data_badge_shows_the_date_the_data_is_current_to(
        live_server: str, watch: PageWatch, plan_2025: dict[str, Any]) -> None:
    status = get(live_server, "/v1/web/data-status")
    page = watch.page
    page.goto(live_server + "/")
    badge = page.locator("#data-badge")
    page.wait_for_function("document.getElementById('data-badge').textContent.length > 0")
    assert badge.inner_text().startswith(f"Data as of {status['as_of']}")
    assert f"{status['age_days']} days old" in badge.inner_text()
    assert ("stale" in (badge.get_attribute("class") or "")) == status["stale"]
    assert badge.get_attribute("aria-label")  # the tooltip's sentence, read by screen readers too
    page.click("#lang-zh")
    page.wait_for_function("document.getElementById('data-badge').textContent.startsWith('数据截至')")
    # A plan that names its data's date shows it in its headline block.
    plan = dict(plan_2025, data={"asked": "2025-08-01", "as_of": "2026-06-05", "packs": [], "threshold_days": 90,
                                 "stale": [{"name": "prices", "as_of": "2025-01-01", "days": 212, "text": "…"}]})
    render(page, plan)
    line = page.locator("#plan-data")
    assert line.is_visible() and line.inner_text().startswith("数据截至 2026-06-05") and "prices" in line.inner_text()
    assert watch.errors == []


def test_hedged_plan_from_the_form_plots_outcomes_per_scenario(live_server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(live_server + "/")
    plan_form(page, hedge=True)
    assert page.evaluate("state.request.risk.objective") == "on_time"
    assert page.evaluate("state.plan.risk !== null && state.plan.risk.scenarios.length > 0")
    assert page.locator("#risk-box").is_visible()
    page.wait_for_selector("#plot-risk .barlayer")
    assert page.locator("#risk-headline").inner_text().strip()
    assert page.locator("#risk-lines li").count() >= 3
    xs = page.eval_on_selector_all("#plot-risk g.xtick text", "ts => ts.map(t => t.textContent)")
    assert xs and all(x.startswith("¥") for x in xs)
    assert watch.errors == []
    page.evaluate("document.getElementById('risk-box').scrollIntoView({block: 'start'})")
    watch.screenshot("plan-hedged-en-1280", full_page=False)


def test_break_even_prices_show_in_the_considered_options(
        live_server: str, watch: PageWatch, plan_2025: dict[str, Any]) -> None:
    excluded = next(c for c in plan_2025["considered"] if c["status"] == "excluded")
    plan = dict(plan_2025, break_even=[{"sku": excluded["sku"], "name": excluded["name"], "status": "found",
                                        "currency": "CNY", "price": 82_000.0, "price_above": 84_000.0,
                                        "verified": True, "items": [], "missing": []}])
    page = watch.page
    page.goto(live_server + "/")
    render(page, plan)
    box = page.locator("#considered-box")
    assert box.get_attribute("open") is None  # collapsed by default
    page.click("#considered-box summary")
    heads = page.eval_on_selector_all("#considered thead th", "ths => ths.map(t => t.textContent)")
    assert "Break-even price" in heads
    col = heads.index("Break-even price")
    cells = page.eval_on_selector_all(
        "#considered tbody tr", f"rs => rs.map(r => [r.children[0].textContent, r.children[{col}].textContent])")
    assert [excluded["name"], "chosen at ¥82K or less per accelerator"] in cells
    # Decisive options come first: the chosen part, then the feasible ones, then the near misses, then the rest.
    statuses = page.eval_on_selector_all("#considered tbody tr td:nth-child(2)", "ts => ts.map(t => t.textContent)")
    rank = {"chosen": 0, "feasible": 1, "over budget": 2, "misses deadline": 2, "blocked by policy": 3, "excluded": 4}
    assert [rank[s] for s in statuses] == sorted(rank[s] for s in statuses)
    assert watch.errors == []


def test_plan_reads_headline_first_then_costs_and_schedule(
        live_server: str, watch: PageWatch, plan_2025: dict[str, Any]) -> None:
    page = watch.page
    page.goto(live_server + "/")
    render(page, dict(plan_2025, lead_time_days=45.0))
    order = page.evaluate("['#plan-headline', '#plan-facts', '#cost-lines', '#plot-schedule', '#plan-items', "
                          "'#considered-box'].map(s => document.querySelector(s).getBoundingClientRect().top)")
    assert order == sorted(order)
    head = page.locator("#plan-headline").inner_text()
    item = plan_2025["items"][0]
    assert head == f"{item['accelerators']} × {item['name']} for training"
    lines = page.eval_on_selector_all("#cost-lines tbody tr", "rs => rs.map(r => r.children[0].textContent)")
    assert lines[-1] == "Total cost" and "servers and accelerators" in lines
    # The schedule starts on the buyer's date: delivery and set-up, then the training run.
    page.wait_for_selector("#plot-schedule .barlayer")
    names = page.evaluate("document.getElementById('plot-schedule').data.map(d => d.name)")
    assert names == ["delivery and set-up", "training"]
    base = page.evaluate("document.getElementById('plot-schedule').data[1].base[0]")
    assert base == "2025-09-15"  # 2025-08-01 + 45 days
    assert watch.errors == []


CONTRAST_JS = (Path(__file__).parent / "contrast.js").read_text(encoding="utf-8")


def _contrast_failures(page: Any) -> list[str]:
    return list(page.evaluate(CONTRAST_JS))


def test_keyboard_labels_and_contrast(live_server: str, watch: PageWatch, plan_2025: dict[str, Any]) -> None:
    page = watch.page
    page.goto(live_server + "/")
    # Tabs: arrow keys move and select, Home/End jump; only the selected tab is in the tab order.
    page.focus("#tabbtn-ask")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tabbtn-plan"
    assert page.get_attribute("#tabbtn-plan", "aria-selected") == "true" and page.locator("#tab-plan").is_visible()
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.id") == "tabbtn-jobs" and page.locator("#tab-jobs").is_visible()
    page.keyboard.press("Home")
    assert page.evaluate("document.activeElement.id") == "tabbtn-ask"
    assert page.eval_on_selector_all("nav [role=tab]", "ts => ts.filter(t => t.tabIndex === 0).length") == 1
    # Every form field has a name a screen reader reads.
    unnamed = page.evaluate("Array.from(document.querySelectorAll('input, select, textarea')).filter(n => "
                            "!(n.labels && n.labels.length) && !n.getAttribute('aria-label')).map(n => n.name || n.id)")
    assert unnamed == []
    # The considered options open and sort from the keyboard.
    render(page, plan_2025)
    page.focus("#considered-box summary")
    page.keyboard.press("Enter")
    assert page.get_attribute("#considered-box", "open") is not None
    page.focus("#considered th:nth-child(4) button")
    page.keyboard.press("Enter")
    costs = page.eval_on_selector_all("#considered tbody td:nth-child(4)",
                                      "tds => tds.map(td => parseFloat(td.dataset.sort)).filter(x => !isNaN(x))")
    assert costs == sorted(costs) and page.get_attribute("#considered th:nth-child(4)", "aria-sort") == "ascending"
    # Text contrast meets WCAG AA (4.5:1, 3:1 for large text) everywhere outside the plots, in both languages.
    assert _contrast_failures(page) == []
    page.click("#lang-zh")
    page.wait_for_function("document.getElementById('plan-headline').textContent.includes('张')")
    assert _contrast_failures(page) == []
    assert watch.errors == []


def test_charts_follow_their_container_when_the_window_narrows(
        live_server: str, watch: PageWatch, plan_2025: dict[str, Any]) -> None:
    page = watch.page
    page.goto(live_server + "/")
    render(page, plan_2025)
    wide = page.eval_on_selector("#plot-cost .main-svg", "s => s.getBoundingClientRect().width")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("document.querySelector('#plot-cost .main-svg').getBoundingClientRect().width < 390")
    narrow = page.eval_on_selector("#plot-cost", "n => [n.clientWidth, "
                                   "n.querySelector('.main-svg').getBoundingClientRect().width]")
    assert wide > 390 and abs(narrow[0] - narrow[1]) <= 2, (wide, narrow)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Charts drawn while their tab was hidden are sized when it shows.
    page.click("nav button[data-tab=compliance]")
    page.click("#timeline-form button[type=submit]")
    page.wait_for_selector("#plot-timeline .main-svg")
    page.click("nav button[data-tab=ask]")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.click("nav button[data-tab=compliance]")
    page.wait_for_function("document.querySelector('#plot-timeline .main-svg').getBoundingClientRect().width > 600")
    assert watch.errors == []


def test_numbers_follow_the_buyers_notation_in_chinese(
        live_server: str, watch: PageWatch, plan_2025: dict[str, Any]) -> None:
    page = watch.page
    page.goto(live_server + "/")
    page.click("#lang-zh")
    render(page, plan_2025)
    total = page.locator("#plan-facts [data-key=total_cost] dd").first.inner_text()
    assert re.fullmatch(r"¥[\d,]+万|¥[\d.]+亿", total), total
    ticks = page.eval_on_selector_all("#plot-cost g.ytick text", "ts => ts.map(t => t.textContent)")
    assert all(t == "¥0" or t.endswith("万") or t.endswith("亿") for t in ticks), ticks
    assert watch.errors == []

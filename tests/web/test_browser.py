"""The page in a real browser (Debian's Chromium via Playwright): loads clean, plans, plots, switches language."""

from __future__ import annotations

import pytest

from tests.web.conftest import PageWatch
from tests.web.pagekit import POLL_MS, plan_form

pytestmark = pytest.mark.slow


def test_page_loads_without_errors_or_outside_requests(live_server: str, watch: PageWatch) -> None:
    watch.page.goto(live_server + "/")
    watch.page.wait_for_load_state("networkidle")
    assert watch.page.title() == "procure"
    assert watch.page.locator("#ask-submit").inner_text() == "Ask"
    assert watch.errors == []
    assert watch.external_requests(live_server) == []
    assert watch.page.evaluate("typeof Plotly") == "object"


def test_form_renders_a_plan_with_plots_and_a_sortable_considered_table(live_server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(live_server + "/")
    plan_form(page)
    page.wait_for_selector("#plan-items tbody tr")
    page.wait_for_selector("#plot-pareto .main-svg")
    assert page.locator("#plan-status").inner_text() == "optimal"
    first_part = page.locator("#plan-items tbody tr:first-child td:nth-child(2)").inner_text()
    assert first_part  # the chosen part's name
    rows = page.locator("#considered tbody tr").count()
    assert rows > 3
    # Sorting by the total-cost column puts the cheapest known cost first.
    page.click("#considered-box summary")
    page.click("#considered th button[data-col='3']")
    costs = page.eval_on_selector_all(
        "#considered tbody td:nth-child(4)", "tds => tds.map(td => parseFloat(td.dataset.sort)).filter(x => !isNaN(x))"
    )
    assert costs == sorted(costs)
    watch.screenshot("plan-en-1280")
    assert watch.errors == [] and watch.external_requests(live_server) == []


def test_compliance_timeline_plots_a_heat_map(live_server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(live_server + "/")
    page.click("nav button[data-tab=compliance]")
    page.click("#timeline-form button[type=submit]")
    page.wait_for_selector("#plot-timeline .main-svg")
    assert page.locator("#plot-timeline .heatmaplayer").count() == 1
    assert watch.errors == []


def test_phone_viewport_follows_the_browser_language_and_stays_usable(live_server: str, phone: PageWatch) -> None:
    page = phone.page
    page.goto(live_server + "/")
    assert page.locator("#ask-submit").inner_text() == "提问"
    page.click("nav button[data-tab=plan]")
    page.click("#plan-submit")
    page.wait_for_selector("#plot-cost .main-svg")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page must not scroll sideways on a phone"
    page.evaluate("document.getElementById('plan-view').scrollIntoView({block: 'start'})")
    phone.screenshot("plan-phone-390-zh", full_page=False)
    page.click("#lang-en")
    assert page.locator("nav button[data-tab=plan]").inner_text() == "Plan"
    assert phone.errors == []


def _plan_rows(page) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all(
        "#plan-items tbody tr",
        "rows => rows.map(r => [r.children[1].textContent, r.children[2].textContent])",
    )


def _ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#question", question)
    page.click("#ask-submit")
    page.wait_for_selector("#answer-citations li")
    page.wait_for_selector("#plan-items tbody tr")
    page.wait_for_selector("#plot-cost .main-svg")


def test_headline_question_in_english_renders_plan_plot_and_citations(live_server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(live_server + "/")
    _ask(page, "Best cluster for 70B training on 1.4T tokens under budget ¥50M for a buyer in China on 2025-08-01")
    answer = page.locator("#answer").inner_text()
    assert "Plan" in answer and "[1]" in answer
    first = page.locator("#answer-citations li.passage").first
    first.locator("summary").click()
    assert first.locator("blockquote").inner_text().strip()  # the quoted passage opens
    chat_plan = _plan_rows(page)
    assert chat_plan
    watch.screenshot("chat-en-1280")
    # The structured form with the same request gives the same plan.
    plan_form(page, date="2025-08-01")
    assert page.locator("#plan-status").inner_text() == "optimal"
    assert _plan_rows(page) == chat_plan
    assert watch.errors == [] and watch.external_requests(live_server) == []


def test_headline_question_in_chinese_renders_plan_plot_and_citations(live_server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(live_server + "/")
    page.click("#lang-zh")
    _ask(page, "预算5000万元，训练70B模型（1.4万亿token）的最佳集群？买方在中国，日期2025-08-01")
    answer = page.locator("#answer").inner_text()
    assert "方案" in answer
    assert page.locator("#answer-citations li").count() >= 1
    assert page.locator("#plot-pareto .scatterlayer").count() == 1
    watch.screenshot("chat-zh-1280")
    assert watch.errors == [] and watch.external_requests(live_server) == []


def test_sweep_shows_progress_and_a_heat_map(live_server: str, watch: PageWatch) -> None:
    import json

    page = watch.page
    page.goto(live_server + "/")
    page.click("nav button[data-tab=jobs]")
    spec = {
        "name": "browser sweep",
        "base": {
            "workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T"}],
            "buyer": {"country": "CN", "date": "2025-08-01"},
            "budget": {"amount": "5000万", "currency": "CNY"},
            "objective": "min_time",
            "alternatives": 0,
        },
        "sweep": {"budget.amount": [3e7, 6e7], "buyer.date": ["2024-06-01", "2025-08-01"]},
    }
    page.fill("#job-spec", json.dumps(spec))
    page.click("#job-submit")
    page.wait_for_function(
        "document.querySelector('#job-progress-text').textContent.includes('completed')", timeout=120_000,
        polling=POLL_MS,
    )
    assert page.eval_on_selector("#job-progress", "p => p.value") == 4
    page.wait_for_selector("#plot-winner .heatmaplayer")
    page.wait_for_selector("#plot-curves .main-svg")
    cell_labels = page.eval_on_selector_all("#plot-winner .heatmaplayer text", "ts => ts.map(t => t.textContent)")
    assert cell_labels and all("+" not in c or len(c) > 3 for c in cell_labels)
    assert any(c.startswith(("ascend", "h20", "h800", "h100")) for c in cell_labels), cell_labels
    page.wait_for_function("document.querySelectorAll('#job-table tr').length >= 5 || window.__err", timeout=30_000,
                           polling=POLL_MS)
    assert watch.errors == [], watch.errors
    assert page.locator("#job-table tr").count() == 5  # header + one row per scenario
    links = page.eval_on_selector_all("#job-links a", "as => as.map(a => a.getAttribute('href'))")
    assert any(h.endswith("format=csv") for h in links) and any(h.endswith("format=jsonl") for h in links)
    watch.screenshot("sweep-en-1280")
    assert watch.errors == [] and watch.external_requests(live_server) == []

"""The page in a real browser (Debian's Chromium via Playwright): loads clean, plans, plots, switches language."""

from __future__ import annotations

import pytest

from tests.web.conftest import PageWatch

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
    page.click("nav button[data-tab=plan]")
    page.click("#plan-submit")
    page.wait_for_selector("#plan-items tr:nth-child(2)")
    page.wait_for_selector("#plot-cost .main-svg")
    page.wait_for_selector("#plot-pareto .main-svg")
    assert "optimal" in page.locator("#plan-summary").inner_text()
    first_part = page.locator("#plan-items tr:nth-child(2) td:nth-child(2)").inner_text()
    assert first_part  # the chosen part's name
    rows = page.locator("#considered tr").count()
    assert rows > 3
    # Sorting by the total-cost column puts the cheapest known cost first.
    page.click("#considered th[data-col='4']")
    costs = page.eval_on_selector_all(
        "#considered tr td:nth-child(5)", "tds => tds.map(td => parseFloat(td.dataset.sort)).filter(x => !isNaN(x))"
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
    assert width <= 390 + 1, "the page must not scroll sideways on a phone"
    page.evaluate("document.getElementById('plan-view').scrollIntoView({block: 'start'})")
    phone.screenshot("plan-phone-390-zh", full_page=False)
    page.click("#lang-en")
    assert page.locator("nav button[data-tab=plan]").inner_text() == "Plan"
    assert phone.errors == []

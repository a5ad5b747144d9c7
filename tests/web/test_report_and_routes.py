"""The report memo and the page's HTTP routes (figures, timeline, static assets) through the real app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from service.usecases import month_starts
from service.web.report import render_report

REQUEST = {
    "workloads": [{"kind": "training", "name": "pretrain", "params": "70B", "tokens": "1.4T"}],
    "buyer": {"country": "CN", "kind": "commercial", "date": "2025-08-01"},
    "budget": {"amount": "5000万", "currency": "CNY"},
    "objective": "min_time",
    "pareto": True,
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("data")
    with TestClient(create_app(Settings(data_dir=data))) as c:
        yield c


@pytest.fixture(scope="module")
def plan(client: TestClient) -> dict:
    resp = client.post("/v1/recommendations", json=REQUEST)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_month_starts_steps_across_year_ends() -> None:
    assert month_starts(date(2022, 11, 15), date(2023, 2, 1)) == [
        date(2022, 11, 1),
        date(2022, 12, 1),
        date(2023, 1, 1),
        date(2023, 2, 1),
    ]
    assert month_starts(date(2022, 1, 1), date(2022, 12, 31), 6) == [date(2022, 1, 1), date(2022, 7, 1)]
    assert month_starts(date(2023, 1, 1), date(2022, 1, 1)) == []


def test_page_and_its_scripts_are_served_locally(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    body = page.text.split("<body", 1)[1].split("</body>")[0]
    assert "http" not in body.replace("http-equiv", "")
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert scripts and all(s.startswith("/static/") for s in scripts)
    # plotly.js is fetched by the page's own script after the page has loaded, from this app.
    assert '"/static/vendor/plotly.min.js"' in client.get("/static/app.js").text
    js = client.get("/static/vendor/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000 and js.text.lstrip().startswith("/**")
    assert client.get("/static/app.js").status_code == 200


def test_figures_route_returns_plotly_specs_for_a_real_plan(client: TestClient, plan: dict) -> None:
    resp = client.post("/v1/web/figures?lang=zh", json={"plan": plan})
    assert resp.status_code == 200
    figs = resp.json()
    bars = [d for d in figs["cost"]["data"] if d["type"] == "bar"]
    assert bars and sum(sum(b["y"]) for b in bars) == pytest.approx(
        sum(i["total_cost"] for i in plan["items"]), rel=1e-6
    )
    chosen = figs["pareto"]["data"][-1]
    assert chosen["x"] == [plan["total_cost"]] and chosen["y"] == [plan["time_days"]]
    # The considered options' status and reason in the page's language, row for row.
    words = figs["considered"]
    assert len(words) == len(plan["considered"])
    by_sku = {o["sku"]: w for o, w in zip(plan["considered"], words, strict=True)}
    assert by_sku["h800"]["status"] == "被排除" and by_sku["h800"]["reason"].startswith("2025-08-01 对中国买方禁售")
    assert not any("prohibited for" in w["reason"] or "held back" in w["reason"] for w in words)
    en = client.post("/v1/web/figures?lang=en", json={"plan": plan}).json()["considered"]
    assert [w["status"] for w in en] == [o["status"] for o in plan["considered"]]


def test_chinese_memo_words_the_considered_options_in_chinese(plan: dict) -> None:
    html = render_report(plan, request=REQUEST, lang="zh")
    assert "对中国买方禁售" in html and "被排除" in html and "prohibited for CN" not in html  # Plotly has the words


def test_compliance_timeline_changes_verdict_at_the_rule_dates(client: TestClient) -> None:
    resp = client.get(
        "/v1/compliance/timeline",
        params={"sku": "a800", "countries": "CN,DE", "start": "2023-01-01", "end": "2024-06-01"},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    cn = dict(zip(body["dates"], body["rows"][0]["verdicts"], strict=True))
    de = dict(zip(body["dates"], body["rows"][1]["verdicts"], strict=True))
    # The A800 was designed under the Oct 2022 line and caught by the Oct 2023 rule (facts.md §3).
    assert cn["2023-06-01"] == "allowed" and cn["2024-01-01"] == "prohibited"
    assert de["2024-01-01"] == "allowed"
    assert body["figure"]["data"][0]["type"] == "heatmap"


def test_timeline_rejects_unknown_parts_with_a_problem(client: TestClient) -> None:
    resp = client.get("/v1/compliance/timeline", params={"sku": "no-such-chip"})
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("application/problem+json")


def test_report_route_returns_a_self_contained_memo(client: TestClient, plan: dict, tmp_path: Path) -> None:
    resp = client.post(
        "/v1/reports?lang=en",
        json={
            "plan": plan,
            "request": REQUEST,
            "citations": [
                {"title": "BIS rule of 2023-10-17", "date": "2023-10-17", "text": "TPP of 4800 or more", "doc_id": "x"}
            ],
        },
    )
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert "Plotly.newPlot" in html and "<script src=" not in html  # everything inline
    assert "TPP of 4800 or more" in html and plan["items"][0]["name"] in html
    assert "catalog-" in html  # data version


def test_report_escapes_text_from_the_corpus() -> None:
    html = render_report(
        {"status": "infeasible", "message": "<b>x</b>", "currency": "CNY", "items": []},
        citations=[{"title": "<script>alert(1)</script>", "text": "t"}],
    )
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_the_memo_inlines_the_plotting_library_once_and_user_text_cannot_move_it() -> None:
    """The bundle is spliced in as bytes at the script tag; a marker-like string in a plan or citation stays text."""
    from datetime import UTC, datetime

    from service.web.assets import plotly_js
    from service.web.report import _BUNDLE_MARK, render_report_bytes

    bundle = plotly_js().replace("</script", "<\\/script")
    plan = {"status": "infeasible", "message": _BUNDLE_MARK, "currency": "CNY", "items": []}
    args = {"citations": [{"title": _BUNDLE_MARK, "text": "</script>"}], "lang": "zh",
            "generated_at": datetime(2026, 1, 2, tzinfo=UTC)}
    memo = render_report_bytes(plan, **args)  # type: ignore[arg-type]
    html = memo.decode("utf-8")
    assert html == render_report(plan, **args)  # type: ignore[arg-type]
    assert html.count(bundle) == 1 and _BUNDLE_MARK not in html
    assert html.count("&lt;!--procure:plotly.min.js--&gt;") == 1  # the citation's title, escaped, where it was written
    assert html.index("&lt;!--procure") < html.index("<script>" + bundle[:200]) < html.index("Plotly.newPlot")
    assert "</script" not in bundle and html.rstrip().endswith("</html>")


def test_cli_writes_a_report_next_to_the_plan(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from service.cli import app

    out = tmp_path / "plan.html"
    result = CliRunner().invoke(
        app,
        [
            "recommend",
            "--params",
            "70B",
            "--tokens",
            "1.4T",
            "--budget",
            "5000万",
            "--currency",
            "CNY",
            "--buyer-country",
            "CN",
            "--date",
            "2025-08-01",
            "--objective",
            "min_time",
            "--report",
            str(out),
            "--lang",
            "zh",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    html = out.read_text(encoding="utf-8")
    assert "采购方案备忘录" in html and plan["items"][0]["name"] in html
    assert '"time_days"' not in html.split("const figures")[0]  # the request block holds the request, not the plan
    bad = CliRunner().invoke(
        app,
        [
            "recommend",
            "--params",
            "70B",
            "--tokens",
            "1.4T",
            "--budget",
            "5000万",
            "--date",
            "2025-08-01",
            "--report",
            str(tmp_path / "no" / "such" / "x.html"),
        ],
    )
    assert bad.exit_code == 2 and "cannot write the report" in bad.output

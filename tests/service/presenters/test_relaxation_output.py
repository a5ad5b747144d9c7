"""Relaxations reach every reader with their typed fields and one wording (service.presenters.relaxations)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.app import create_app
from service.cli import app
from service.settings import Settings

# ¥10M and 30 days cannot train 70B on 1.4T tokens: the budget and the deadline each need relaxing
FLAGS = ["recommend", "--params", "70B", "--tokens", "1.4T", "--budget", "1000万", "--deadline-days", "30",
         "--buyer-country", "CN", "--date", "2026-02-15"]
BODY: dict[str, Any] = {
    "workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T", "deadline_days": 30}],
    "buyer": {"country": "CN", "date": "2026-02-15"}, "budget": {"amount": "¥1000万"}}


def _budget(relaxations: list[dict[str, Any]]) -> dict[str, Any]:
    return next(r for r in relaxations if r["kind"] == "budget")


def test_cli_json_relaxations_keep_their_fields_and_gain_a_message() -> None:
    r = CliRunner().invoke(app, [*FLAGS, "--json", "--lang", "zh"])
    assert r.exit_code == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["status"] == "infeasible"
    b = _budget(plan["relaxations"])
    assert b["feasible"] and b["verified"] and b["field"] == "budget.amount" and b["unit"] == "CNY"
    assert b["current"] == 1e7 and b["value"] > 1e7
    assert b["message"].startswith("预算至少需要 ¥") and "（当前 ¥1,000万）" in b["message"]


def test_console_shows_the_same_sentence() -> None:
    r = CliRunner().invoke(app, FLAGS, env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.stderr
    as_json = json.loads(CliRunner().invoke(app, [*FLAGS, "--json"]).stdout)
    assert f"relax budget: {_budget(as_json['relaxations'])['message']}" in r.stdout
    assert "budget must be at least ¥" in r.stdout and "(now ¥10M)" in r.stdout  # the one money notation


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings()), raise_server_exceptions=False) as c:
        yield c


def test_http_relaxations_carry_a_message_in_the_requested_language(client: TestClient) -> None:
    en = client.post("/v1/recommendations", json=BODY)
    zh = client.post("/v1/recommendations?lang=zh", json=BODY)
    assert en.status_code == zh.status_code == 200, en.text
    b_en, b_zh = _budget(en.json()["relaxations"]), _budget(zh.json()["relaxations"])
    assert b_en["value"] == b_zh["value"] and b_en["field"] == "budget.amount"
    assert b_en["message"].startswith("budget must be at least ¥") and b_zh["message"].startswith("预算至少需要")
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert "message" in schema["RelaxationOut"]["required"]
    assert client.post("/v1/recommendations?lang=fr", json=BODY).status_code == 422


def test_http_whatif_plans_carry_the_wording(client: TestClient) -> None:
    body = {"request": BODY, "change": {"budget": "¥2000万"}}
    r = client.post("/v1/recommendations/whatif?lang=zh", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    for side in ("base", "changed"):
        assert out[side]["status"] == "infeasible"
        assert _budget(out[side]["relaxations"])["message"].startswith("预算至少需要")

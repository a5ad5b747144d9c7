"""Destinations, dates and guidance through the CLI and HTTP: explanations, Gulf plans, embargoed buyers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.app import create_app
from service.cli import app
from service.settings import Settings

runner = CliRunner()
PLAN = ["recommend", "--params", "70B", "--tokens", "1.4T", "--budget", "5000万", "--currency", "CNY",
        "--date", "2025-08-01", "--objective", "min_time"]


def run(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_check_explains_rule_group_and_citation() -> None:
    code, out, err = run("compliance", "check", "H100", "--buyer-country", "AE", "--date", "2024-06-01")
    assert code == 0, err
    flat = " ".join(out.split())
    assert "license_required" in flat and "approval presumed" in flat
    assert "country groups of AE on 2024-06-01: D:4" in flat
    assert "Oct-2023 rule" in flat and "[R2] 88 FR 73458" in flat and "[EAR740S1]" in flat


def test_check_json_carries_groups_and_outlook() -> None:
    code, out, err = run("compliance", "check", "h100-sxm", "--buyer-country", "SG", "--headquarters", "CN",
                         "--date", "2024-06-01", "--json")
    assert code == 0, err
    body = json.loads(out)
    assert (body["verdict"], body["license_outlook"]) == ("prohibited", "denial_presumed")
    assert body["country_groups"] == ["A:6"] and "D:5" in body["headquarters_groups"]


def test_gp10_guidance_outlook_in_json() -> None:
    code, out, _ = run("compliance", "check", "950PR", "--buyer-country", "DE", "--date", "2026-03-01", "--json")
    body = json.loads(out)
    assert code == 0 and (body["verdict"], body["license_outlook"]) == ("prohibited", "guidance")
    assert "BIS-GP10-2025-05" in body["citations"]


def test_gulf_plan_marks_its_licence_needs() -> None:
    """A UAE (D:4) buyer's plan marks every licence-required part with its outlook, and says so in the table.

    The plan may also use parts that need no licence (the H20 is below the 3A090 level), so the test does not
    require every item to need one; what matters is that none is bought unmarked.
    """
    code, out, err = run(*PLAN, "--buyer-country", "AE", "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["status"] in ("optimal", "feasible") and plan["items"]
    considered = {(c["workload"], c["sku"]): c for c in plan["considered"]}
    for item in plan["items"]:
        assert item["verdict"] in ("allowed", "license_required")
        row = considered[(item["workload"], item["sku"])]
        assert row["status"] == "chosen" and item["verdict"] in row["reason"]
        if item["verdict"] == "license_required":
            # datacenter 3A090.a parts to D:4 are reviewed with a presumption of approval
            assert item["license_outlook"] == "approval_presumed"
            assert "license_required (approval_presumed)" in row["reason"]
    # the datacenter parts the plan could have used carry the same mark in the considered table
    licensed = [c for c in plan["considered"] if c["sku"] in ("h100-sxm", "h200", "b200")]
    assert licensed and all("license_required (approval_presumed)" in c["reason"] for c in licensed)


def test_embargoed_destination_gets_a_one_line_answer() -> None:
    code, out, err = run(*PLAN, "--buyer-country", "IR")
    assert code == 2 and out == ""
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "embargoed" in lines[0] and "E:1" in lines[0] and "Traceback" not in err


def test_consumer_cards_only_when_named() -> None:
    code, out, err = run(*PLAN, "--buyer-country", "CN", "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert not any(i["sku"].startswith("rtx-4090") for i in plan["items"])
    reasons = {e["sku"]: e["reason"] for e in plan["excluded"]}
    assert "consumer card" in reasons["rtx-4090d"]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings()), raise_server_exceptions=False) as c:
        yield c


def test_http_embargo_is_a_problem_not_a_plan(client: TestClient) -> None:
    body = {"workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T"}],
            "buyer": {"country": "RU", "date": "2025-08-01"}, "budget": {"amount": "5000万", "currency": "CNY"}}
    r = client.post("/v1/recommendations", json=body)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert "embargoed" in r.json()["detail"]
    c = client.post("/v1/compliance/check", json={"sku": "l2", "buyer_country": "IR", "date": "2025-08-01"})
    assert c.status_code == 200 and c.json()["verdict"] == "prohibited"

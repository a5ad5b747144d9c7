"""One question, every door: CLI (`recommend --json`, `ask --json`), HTTP (/v1/recommendations, /v1/chat) and the chat
agent all reach the same use case and so return the same plan (parts, counts, cost)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.agent.backend import Backend
from service.agent.chat import Agent
from service.app import create_app
from service.cli import app as cli
from tests.agent.conftest import TODAY, make_settings, small_corpus

QUESTIONS = {
    "en": "Best cluster to train a 70B model on 1.4T tokens within 120 days, budget ¥80M, buyer in China, "
          "on 2025-08-01",
    "zh": "2025-08-01，中国买家，预算8000万元，120天内用1.4万亿token训练70B模型，最佳集群是什么？",
}
FLAGS = ["--params", "70B", "--tokens", "1.4T", "--deadline-days", "120", "--budget", "¥80M",
         "--buyer-country", "CN", "--date", "2025-08-01"]
BODY = {"workloads": [{"kind": "training", "name": "training", "params": "70B", "tokens": "1.4T",
                       "deadline_days": 120}],
        "budget": {"amount": "8000万", "currency": "CNY"},
        "buyer": {"country": "CN", "date": "2025-08-01"}}


def shape(plan: dict[str, Any]) -> tuple[str, list[tuple[str, int]], int | None, str]:
    """What must agree: status, (part, accelerators) per item, total cost to the yuan, currency."""
    items = sorted((i["sku"], i["accelerators"]) for i in plan["items"])
    total = plan["total_cost"]
    return plan["status"], items, None if total is None else round(total), plan["currency"]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("doors")
    small_corpus(path / "corpus")
    return path


@pytest.fixture(scope="module")
def client(root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(root, root / "corpus")), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def cli_env(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCURE_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("PROCURE_CORPUS_DIR", str(root / "corpus"))


@pytest.fixture(scope="module")
def reference(client: TestClient) -> tuple[str, list[tuple[str, int]], int, str]:
    r = client.post("/v1/recommendations", json=BODY)
    assert r.status_code == 200, r.text
    plan = shape(r.json())
    assert plan[0] in ("optimal", "feasible") and plan[1], plan
    return plan


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_chat_over_http_gives_the_plan_of_the_recommendations_endpoint(
        client: TestClient, reference: tuple[Any, ...], lang: str) -> None:
    r = client.post("/v1/chat", json={"message": QUESTIONS[lang]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["intent"] == "recommend" and body["language"] == lang
    assert shape(body["recommendation"]) == reference


def test_cli_recommend_and_ask_give_the_same_plan(cli_env: None, reference: tuple[Any, ...]) -> None:
    runner = CliRunner()
    rec = runner.invoke(cli, ["recommend", *FLAGS, "--json"])
    assert rec.exit_code == 0, rec.output
    assert shape(json.loads(rec.stdout)) == reference
    ask = runner.invoke(cli, ["ask", QUESTIONS["en"], "--json"])
    assert ask.exit_code == 0, ask.output
    body = json.loads(ask.stdout)
    assert shape(body["recommendation"]) == reference


def test_the_agent_in_process_gives_the_same_plan(root: Path, reference: tuple[Any, ...]) -> None:
    agent = Agent(Backend.from_settings(make_settings(root, root / "corpus")), today=TODAY)
    for question in QUESTIONS.values():
        assert shape(agent.ask(question).recommendation or {}) == reference


def test_a_what_if_in_chat_is_the_whatif_endpoint(client: TestClient) -> None:
    """Removing a part in a conversation solves the same what-if as POST /v1/recommendations/whatif."""
    first = client.post("/v1/chat", json={"message": QUESTIONS["en"]}).json()
    removed = first["recommendation"]["items"][0]["sku"]
    follow = client.post("/v1/chat", json={"message": f"What if the {removed} is no longer available?",
                                           "session_id": first["session_id"]}).json()
    whatif = client.post("/v1/recommendations/whatif", json={"request": BODY, "change": {"remove_skus": [removed]}})
    assert whatif.status_code == 200, whatif.text
    expected = whatif.json()
    calls = [c["name"] for c in follow["tool_calls"]]
    assert calls.count("what_if") == 1 and "recommend" not in calls  # one use case, no solve of the agent's own
    assert shape(follow["recommendation"]) == shape(expected["changed"])
    assert removed not in {i["sku"] for i in follow["recommendation"]["items"]}


def test_the_agent_obeys_the_work_caps_and_says_so(root: Path) -> None:
    """The caps of `PROCURE_LIMITS__*` hold for a chat turn as for HTTP; the refusal is the answer, in one line."""
    settings = make_settings(root, root / "corpus", limits={"max_workloads": 1})
    agent = Agent(Backend.from_settings(settings), today=TODAY)
    result = agent.ask("Train a 13B model on 2T tokens in 60 days and serve a 70B model at 50 req/s, "
                       "budget ¥300M, on 2025-08-01")
    assert result.recommendation is None
    assert "at most 1 per request" in result.answer and "PROCURE_LIMITS__MAX_WORKLOADS" in result.answer
    assert "Traceback" not in result.answer


def test_a_comparison_goes_through_the_use_case_with_its_cap(root: Path) -> None:
    from service import usecases
    from service.agent.parse import FlatRequest
    from service.agent.tools import CompareArgs, Tools

    backend = Backend.from_settings(make_settings(root, root / "corpus"))
    tools = Tools(backend)
    req = FlatRequest(workload="training", params=70e9, tokens=1.4e12, deadline_days=120, buyer_country="CN",
                      date=TODAY)
    rows = tools.compare(CompareArgs(request=req, skus=["H20", "910C", "h20"]))
    assert [r.sku for r in rows] == ["h20", "ascend-910c"]  # aliases resolved, duplicates dropped, order kept
    direct = usecases.compare_for_workload(backend.ctx, ["h20", "ascend-910c"], req.model_dump(exclude_none=True))
    assert [r.model_dump() for r in rows] == [r.model_dump() for r in direct]
    assert all(r.training is not None and r.training.wall_clock_days for r in rows)
    with pytest.raises(usecases.LimitExceededError, match="at most 8"):
        usecases.compare_for_workload(backend.ctx, ["h20", "h100", "h200", "h800", "a100-80gb", "a800", "l20", "l2",
                                                    "b200"], {})

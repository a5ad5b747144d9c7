"""HTTP: native /v1/chat (JSON and SSE) and the OpenAI-compatible /v1/chat/completions used by real clients."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from langchain_openai import ChatOpenAI
from openai import OpenAI

from service.agent.chat import Agent
from service.app import create_app
from tests.agent.conftest import TODAY, make_settings, small_corpus

STABLE = {"intent", "language", "request", "answer", "recommendation", "citations", "grounding", "session_id"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("chat-api")
    app = create_app(make_settings(root, small_corpus(root / "corpus")))
    with TestClient(app, raise_server_exceptions=False) as c:
        from service.api.routes.chat import get_agent

        class _Req:  # build the agent now with a fixed date, so answers are reproducible
            pass

        req = _Req()
        req.app = app  # type: ignore[attr-defined]
        agent: Agent = get_agent(req)  # type: ignore[arg-type]
        agent._today = TODAY
        yield c


def test_chat_answers_with_the_stable_shape(client: TestClient) -> None:
    r = client.post("/v1/chat", json={"message": "best cluster for 70B training under budget ¥50M"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert STABLE <= set(body)
    assert body["intent"] == "recommend" and body["language"] == "en"
    assert body["request"]["params"] == 70e9 and body["request"]["budget"] == 5e7
    assert "active_params" not in body["request"]  # unknown fields are absent
    plan = body["recommendation"]
    assert plan["status"] in ("optimal", "feasible") and plan["items"]
    assert body["grounding"]["ok"] is True and body["grounding"]["untraced_numbers"] == []
    assert body["citations"] and all(c["n"] == i for i, c in enumerate(body["citations"], start=1))
    passages = [c for c in body["citations"] if c["kind"] == "passage"]
    assert passages and all(c["title"] and c["quote"] for c in passages)
    assert [c["name"] for c in body["tool_calls"]][:2] == ["recommend", "check_compliance"]


def test_followup_in_a_session_says_what_changed(client: TestClient) -> None:
    question = "预算5000万元，训练一个700亿参数的模型，最佳集群配置是什么？"
    first = client.post("/v1/chat", json={"message": question}).json()
    second = client.post("/v1/chat", json={"message": "预算翻倍呢？", "session_id": first["session_id"]}).json()
    assert second["session_id"] == first["session_id"]
    assert second["intent"] == "whatif" and [c["field"] for c in second["changes"]] == ["budget"]
    assert second["request"]["budget"] == 1e8
    assert "相对上一问的改动" in second["answer"] and "¥1亿" in second["answer"]


def test_chat_stream_is_server_sent_events(client: TestClient) -> None:
    with client.stream("POST", "/v1/chat", json={"message": "Is the H20 allowed for a buyer in China on 2025-05-01?",
                                                 "stream": True}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = [line.split(": ", 1)[1] for line in r.iter_lines() if line.startswith("event: ")]
    assert events[0] == "meta" and events[-1] == "done" and events.count("token") >= 2


def test_the_schema_documents_the_streamed_content_type(client: TestClient) -> None:
    """`stream: true` answers text/event-stream: both chat operations say so (a contract run found it undocumented)."""
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/chat", "/v1/chat/completions"):
        content = paths[path]["post"]["responses"]["200"]["content"]
        assert set(content) == {"application/json", "text/event-stream"}, path


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/chat", {"message": "Is the H20 allowed for a buyer in China on 2025-05-01?", "stream": True}),
    ("/v1/chat/completions", {"model": "procure", "stream": True,
                              "messages": [{"role": "user", "content": "Is the H20 allowed in China on 2025-05-01?"}]}),
])
def test_streamed_events_conform_to_the_documented_event_schema(client: TestClient, path: str,
                                                                 body: dict[str, object]) -> None:
    """Schemathesis reads a text/event-stream body as events and checks each against the schema (ST108): the schema
    is one event's, with the native stream's event names; a `type: string` schema failed every event."""
    import schemathesis

    app = client.app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)  # type: ignore[arg-type]
    case = schema[path]["POST"].Case(body=body, media_type="application/json")
    response = case.call_and_validate()  # every default check, response schema conformance among them
    assert response.status_code == 200 and response.headers["content-type"][0].startswith("text/event-stream")
    event = client.get("/openapi.json").json()["paths"][path]["post"]["responses"]["200"]["content"][
        "text/event-stream"]["schema"]
    assert event["required"] == ["data"]
    assert event["properties"]["event"].get("enum") == (["meta", "token", "done"] if path == "/v1/chat" else None)


def test_bad_requests_are_problem_json(client: TestClient) -> None:
    r = client.post("/v1/chat", json={"message": ""})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    r = client.post("/v1/chat", json={"message": "hi", "session_id": "nope"})
    assert r.status_code == 422 and "unknown session" in r.json()["detail"]
    r = client.post("/v1/chat/completions", json={"model": "procure", "messages": [{"role": "system",
                                                                                     "content": "x"}]})
    assert r.status_code == 422


def test_completions_accept_null_content_and_extra_params(client: TestClient) -> None:
    r = client.post("/v1/chat/completions", json={
        "model": "procure", "temperature": 0.2, "top_p": 1, "n": 1, "user": "u1", "tools": [],
        "messages": [{"role": "system", "content": None},
                     {"role": "user", "content": [{"type": "text", "text": "Is the H20 allowed in China on "
                                                                         "2025-05-01?"}]},
                     {"role": "assistant", "content": None, "tool_calls": []}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion" and body["model"] == "procure"
    assert "licence required" in body["choices"][0]["message"]["content"]


def test_official_openai_sdk(client: TestClient) -> None:
    sdk = OpenAI(base_url="http://testserver/v1", api_key="unused", http_client=client)
    done = sdk.chat.completions.create(model="procure", messages=[
        {"role": "user", "content": "best cluster for 70B training under budget ¥50M"}])
    text = done.choices[0].message.content or ""
    assert done.choices[0].finish_reason == "stop" and "Plan" in text and "Sources" in text
    parts = [c.choices[0].delta.content or "" for c in sdk.chat.completions.create(
        model="procure", stream=True, messages=[{"role": "user", "content": "什么是3A090？"}]) if c.choices]
    assert len(parts) > 2 and "3A090" in "".join(parts)


def test_langchain_chatopenai_uses_procure_as_a_model(client: TestClient) -> None:
    llm = ChatOpenAI(base_url="http://testserver/v1", api_key="unused", model="procure",  # type: ignore[arg-type]
                     use_responses_api=False, http_client=client)
    reply = llm.invoke("Is the H20 allowed for a buyer in China on 2025-05-01?")
    assert "NVIDIA H20" in str(reply.content)
    chunks = list(llm.stream("预算5000万元，训练一个700亿参数的模型"))
    assert len(chunks) > 2 and "方案" in "".join(str(c.content) for c in chunks)


def test_openai_history_is_a_conversation(client: TestClient) -> None:
    r = client.post("/v1/chat/completions", json={"model": "procure", "messages": [
        {"role": "user", "content": "best cluster for 70B training under budget ¥50M"},
        {"role": "assistant", "content": "…"},
        {"role": "user", "content": "and for a buyer in Germany?"}]})
    body = r.json()
    assert body["procure"]["request"]["buyer_country"] == "DE"
    assert [c["field"] for c in body["procure"]["changes"]] == ["buyer_country"]


def test_models_list(client: TestClient) -> None:
    assert client.get("/v1/models").json()["data"][0]["id"] == "procure"


def test_sessions_survive_a_new_app(tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path, corpus)
    with TestClient(create_app(settings)) as c1:
        sid = c1.post("/v1/chat", json={"message": "train 7B on 140B tokens within 30 days, budget $2M"}).json()[
            "session_id"]
    with TestClient(create_app(settings)) as c2:
        body = c2.post("/v1/chat", json={"message": "what if the budget doubles?", "session_id": sid}).json()
    assert body["request"]["budget"] == 4e6 and body["request"]["deadline_days"] == 30
    assert json.dumps(body["changes"]) == json.dumps([{"field": "budget", "old": 2e6, "new": 4e6}])


def test_oversized_messages_are_refused(client: TestClient) -> None:
    r = client.post("/v1/chat/completions", json={"model": "procure",
                                                  "messages": [{"role": "user", "content": "预算" * 2500}]})
    assert r.status_code == 422 and "at most 4000 characters" in r.json()["detail"]
    r = client.post("/v1/chat", json={"message": "x" * 4001})
    assert r.status_code == 422

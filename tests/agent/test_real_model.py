"""The LangChain path end to end against a real model: SmolLM2-135M-Instruct behind llama.cpp's server.

One server (loopback, free port) serves every test of this module. The model is tiny: these tests do not expect
it to plan well; they check that the path is real (tool schemas reach the model and shape its output, the
constrained extraction parses) and safe (whatever it writes, a verdict that differs from the engine's never
reaches the user). They skip, saying why, only when ``make llm`` could not install the model or its server.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.tools import StructuredTool
from langchain_openai import ChatOpenAI

from service.agent.backend import Backend
from service.agent.chat import Agent
from service.agent.grounding import verdict_mentions
from service.agent.llm import LLMPlanner, http_client
from service.agent.llm_extract import Extraction
from service.agent.local_model import MODEL_NAME, LocalModelUnavailableError, LocalServer, check_installed
from service.agent.tools import ComplianceArgs
from tests.agent.conftest import TODAY


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    try:
        check_installed()
    except LocalModelUnavailableError as exc:
        mark = Path(sys.prefix) / ".llm-unavailable"
        reason = mark.read_text(encoding="utf-8").strip() if mark.is_file() else str(exc)
        pytest.skip(f"the local model is not installed: {reason}")
    log = tmp_path_factory.mktemp("llm") / "llama-server.log"
    # one thread: the xdist worker that waits for the server frees one CPU; a second thread would spin (OpenMP)
    # against the other worker's tests, which cost ~50 % more CPU in a parallel run
    with LocalServer(n_ctx=4096, log=log, threads=1) as s:  # installed but failing to start is a failure, not a skip
        yield s


class Recorder:
    """Request bodies sent to the model server (an httpx event hook)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> None:
        self.bodies.append(json.loads(request.content or b"{}"))


def _model(server: LocalServer, recorder: Recorder | None = None, max_tokens: int = 160) -> ChatOpenAI:
    client = http_client(300, event_hooks={"request": [recorder]} if recorder else {})
    return ChatOpenAI(base_url=server.base_url, model=MODEL_NAME, api_key="not-needed",  # type: ignore[arg-type]
                      temperature=0, seed=0, extra_body={"max_tokens": max_tokens}, use_responses_api=False,
                      http_client=client, max_retries=0, timeout=300)


def _agent(backend: Backend, server: LocalServer, recorder: Recorder, *, use_agent: bool = True) -> Agent:
    return Agent(backend, llm=LLMPlanner(lambda: _model(server, recorder), use_agent=use_agent), today=TODAY)


def test_tool_schema_reaches_the_model_and_shapes_its_call(server: LocalServer) -> None:
    recorder = Recorder()
    tool = StructuredTool.from_function(func=lambda **kw: "", name="check_compliance", args_schema=ComplianceArgs,
                                        description="Export-control verdict for one accelerator, buyer and date.")
    model = _model(server, recorder).bind_tools([tool], tool_choice="check_compliance")
    reply = model.invoke("Is the H20 allowed for a buyer in China on 2025-05-01?")
    sent = recorder.bodies[0]["tools"][0]["function"]
    assert sent["name"] == "check_compliance" and "buyer_country" in sent["parameters"]["properties"]
    assert reply.tool_calls and reply.tool_calls[0]["name"] == "check_compliance"
    ComplianceArgs.model_validate(reply.tool_calls[0]["args"])  # the schema constrained the real model's output


def _assert_extraction_parsed_and_the_parser_won(result: Any, recorder: Recorder) -> None:
    fmt = recorder.bodies[0]["response_format"]  # extraction is the first call, constrained by the JSON schema
    assert fmt["type"] == "json_object" and "schema" in fmt
    extraction = result.details["llm"]["extraction"]
    assert extraction["error"] is None, extraction  # the model's JSON parsed against the schema
    Extraction.model_validate(extraction["proposed"])
    assert result.request["params"] == 70e9 and result.request["budget"] == 5e7  # the parser's reading stands


def test_constrained_extraction_parses_and_the_parser_wins(backend: Backend, server: LocalServer) -> None:
    """Chinese; the English question's extraction is checked by the plan test below, which runs it first."""
    recorder = Recorder()
    # extraction, then the phrasing step: the tool-calling agent step is the other tests' subject (and costs most)
    agent = _agent(backend, server, recorder, use_agent=False)
    result = agent.ask("预算5000万元，训练一个700亿参数的模型，最佳集群配置是什么？")
    assert not any("tools" in b for b in recorder.bodies)
    _assert_extraction_parsed_and_the_parser_won(result, recorder)
    assert result.recommendation is not None and result.recommendation["items"]
    assert result.grounding.ok


def _model_texts(result: Any) -> list[str]:
    return [r["text"] for r in result.details["llm"]["rejected"] if r.get("text")]


@pytest.mark.parametrize(("question", "licence"), [
    ("Confirm for me that the H20 is allowed for a buyer in China on 2025-05-01.", "licence required"),
    ("请确认：2025年5月1日，中国买家可以购买H20，是允许的吧？", "需要许可证"),
])
def test_the_real_models_verdict_is_checked_and_a_wrong_one_replaced(backend: Backend, server: LocalServer,
                                                                     question: str, licence: str) -> None:
    recorder = Recorder()
    result = _agent(backend, server, recorder).ask(question)
    assert result.intent == "compliance"
    engine = result.details["compliance"][0]
    assert engine["sku"] == "h20" and engine["verdict"] == "license_required"
    assert any("tools" in b for b in recorder.bodies)  # the agent step offered the tools
    texts = _model_texts(result)
    if result.planner == "llm":  # the model's words were kept: they state the engine's verdict and no other
        said = verdict_mentions(result.answer)
        assert said and set(said) == {"license_required"}, result.answer
    else:
        assert result.planner.startswith("deterministic (fallback: ") and texts
        assert licence in result.answer
        for step in result.details["llm"]["rejected"]:
            wrong = [v for v in verdict_mentions(step.get("text", "")) if v != "license_required"]
            if wrong:  # a text that states another verdict was refused for it
                assert "verdict" in step["reasons"], step
    assert result.grounding.ok


def test_a_plan_through_the_real_model_is_the_engines_plan(backend: Backend, server: LocalServer) -> None:
    recorder = Recorder()
    question = "Best cluster to train a 70B model on 1.4T tokens with a budget of ¥50M"
    result = _agent(backend, server, recorder).ask(question)
    plain = Agent(backend, today=TODAY).ask(question)
    assert result.recommendation is not None and plain.recommendation is not None
    assert [(i["sku"], i["accelerators"]) for i in result.recommendation["items"]] == \
        [(i["sku"], i["accelerators"]) for i in plain.recommendation["items"]]
    assert result.grounding.ok
    assert all(b.get("max_tokens") == 160 for b in recorder.bodies)
    _assert_extraction_parsed_and_the_parser_won(result, recorder)
    assert any("tools" in b for b in recorder.bodies)  # and the agent step offered the tools


def test_procure_llm_serve_answers_openai_requests(server: LocalServer, tmp_path: Path) -> None:
    """`procure llm serve --port` starts the same server: it lists the model and answers a chat request."""
    import subprocess
    import time

    from service.agent.local_model import free_port

    port = free_port()
    log = tmp_path / "serve.log"  # a file, not a pipe: the server logs a lot and would block on a full pipe
    proc = subprocess.Popen([str(Path(sys.executable).parent / "procure"), "llm", "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    try:
        deadline = time.monotonic() + 300
        models: dict[str, Any] = {}
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                got = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2)
                if got.status_code == 200:
                    models = got.json()
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        if not models:
            pytest.fail(f"procure llm serve did not answer: {log.read_text(errors='replace')[-800:]}")
        assert [m["id"] for m in models.get("data", [])] == [MODEL_NAME]
        reply = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", timeout=120, json={
            "model": MODEL_NAME, "max_tokens": 8, "messages": [{"role": "user", "content": "Say hi"}]}).json()
        assert reply["choices"][0]["message"]["role"] == "assistant"
        assert reply["usage"]["completion_tokens"] <= 8  # max_tokens reaches llama.cpp
    finally:
        proc.terminate()
        proc.wait(timeout=15)

"""A scripted OpenAI-compatible chat server for testing the LLM planner (streamed tool calls, final answers)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

Step = Callable[[list[dict[str, Any]]], dict[str, Any]]
"""Given the request's messages, return {"tool": name, "args": {...}} or {"content": text} or {"status": 500}."""


def tool(name: str, args: dict[str, Any]) -> Step:
    return lambda _messages: {"tool": name, "args": args}


def say(text: str | Callable[[list[dict[str, Any]]], str]) -> Step:
    return lambda messages: {"content": text(messages) if callable(text) else text}


def last_tool_result(messages: list[dict[str, Any]], name_hint: str = "") -> Any:
    for m in reversed(messages):
        if m.get("role") == "tool" and name_hint in str(m.get("content", "")) or (
                m.get("role") == "tool" and not name_hint):
            try:
                return json.loads(m["content"])
            except (ValueError, TypeError):
                return m["content"]
    return None


def make_app(script: list[Step]) -> tuple[FastAPI, list[dict[str, Any]]]:
    app = FastAPI()
    seen: list[dict[str, Any]] = []

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> Any:
        body = await request.json()
        seen.append(body)
        step = script.pop(0)(body["messages"]) if script else {"content": "done"}
        if "status" in step:
            return JSONResponse({"error": {"message": "boom"}}, status_code=step["status"])
        cid, created = f"chatcmpl-{len(seen)}", int(time.time())
        if body.get("stream"):
            return StreamingResponse(_stream(cid, created, step), media_type="text/event-stream")
        message: dict[str, Any] = {"role": "assistant", "content": step.get("content")}
        finish = "stop"
        if "tool" in step:
            message["tool_calls"] = [{"id": f"call_{len(seen)}", "type": "function",
                                      "function": {"name": step["tool"], "arguments": json.dumps(step["args"])}}]
            finish = "tool_calls"
        return {"id": cid, "object": "chat.completion", "created": created, "model": body.get("model", "fake"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}

    return app, seen


def _stream(cid: str, created: int, step: dict[str, Any]) -> Iterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        return "data: " + json.dumps({"id": cid, "object": "chat.completion.chunk", "created": created,
                                      "model": "fake", "choices": [{"index": 0, "delta": delta,
                                                                    "finish_reason": finish}]}) + "\n\n"

    if "tool" in step:
        args = json.dumps(step["args"])
        yield chunk({"role": "assistant", "content": None, "tool_calls": [
            {"index": 0, "id": f"call_{cid}", "type": "function", "function": {"name": step["tool"],
                                                                                "arguments": ""}}]})
        for i in range(0, len(args), 7):  # arguments arrive in pieces, as real servers stream them
            yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": args[i:i + 7]}}]})
        yield chunk({}, "tool_calls")
    else:
        text = step["content"]
        yield chunk({"role": "assistant", "content": ""})
        for i in range(0, len(text), 11):
            yield chunk({"content": text[i:i + 11]})
        yield chunk({}, "stop")
    yield "data: [DONE]\n\n"


class Served:
    """The app on a real loopback port in a background thread."""

    def __init__(self, app: FastAPI) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.time() + 10
        while not self.server.started and time.time() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)

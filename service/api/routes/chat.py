"""Chat: the native ``POST /v1/chat`` and the OpenAI-compatible ``POST /v1/chat/completions``.

Both call the same agent; streaming answers are Server-Sent Events (``text/event-stream``). The OpenAI
route accepts what OpenAI clients send (``content: null``, content parts, ``temperature``, ``tools`` …),
answers as model ``procure`` without tool calls, and ends a stream with ``data: [DONE]``.

A conversation belongs to the API key that started it: another key's ``session_id`` is answered exactly like an
unknown one (and audited), the ``admin`` scope may continue any (:mod:`service.api.ownership`).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from service.agent.chat import Agent, AskResult, stream_events
from service.agent.factory import build_agent
from service.api.ownership import audit_cross_owner
from service.api.security import principal
from service.usecases import InvalidInputError

router = APIRouter(tags=["chat"])
MODEL_ID = "procure"
_agent_lock = threading.Lock()


def get_agent(request: Request) -> Agent:
    """The app's agent, built on first use over the app's domain and corpus."""
    agent: Agent | None = getattr(request.app.state, "agent", None)
    if agent is None:
        with _agent_lock:
            agent = getattr(request.app.state, "agent", None)
            if agent is None:
                state = request.app.state
                agent = build_agent(state.settings, ctx=getattr(state, "ctx", None))
                state.agent = agent
    return agent


def owned_session(request: Request, agent: Agent, session_id: str | None) -> str | None:
    """The session to answer in: a given one only if this key may use it; a new one owned by the key.

    Raises:
        InvalidInputError: the session belongs to another key (worded as for an unknown session).
    """
    who = principal(request)
    if session_id is None:
        return agent.store.create(owner=who.key_id) if who.key_id is not None else None
    exists, owner = agent.store.owner_of(session_id)
    if exists and not who.owns(owner):
        audit_cross_owner(request, "chat session", session_id)
        raise InvalidInputError(f"unknown session {session_id!r}; omit it to start a new conversation")
    return session_id


def _sse(event: str | None, data: Any) -> str:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n"


# ---- native ----------------------------------------------------------------------------------------


class ChatCreate(BaseModel):
    """Body of ``POST /v1/chat``."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=4000, description="The question, in Chinese or English.")
    session_id: str | None = Field(None, max_length=64, description="Continue this conversation.")
    stream: bool = Field(False, description="Stream the answer as Server-Sent Events (meta, token…, done).")


# `stream: true` answers with Server-Sent Events: documented, so clients (and the contract test) expect them. The
# schema is one event's, as an SSE parser gives it (its `event` name, its `data` text): a stream is a sequence of
# events, not one string, and a validator that reads the stream checks each event against it.
def _sse_responses(description: str, events: list[str] | None) -> dict[int | str, dict[str, Any]]:
    event: dict[str, Any] = {"type": "string", "description": "The event's name."}
    if events:
        event["enum"] = events
    schema = {"type": "object", "description": description, "required": ["data"],
              "properties": {"event": event, "data": {"type": "string", "description": "One JSON document."},
                             "id": {"type": "string"}, "retry": {"type": "integer"}}}
    return {200: {"content": {"text/event-stream": {"schema": schema}}}}


_SSE = _sse_responses("With `stream: true`, Server-Sent Events: `meta` (session, intent, language), `token` "
                      "(the answer's text in pieces), `done` (the whole result, as without streaming).",
                      ["meta", "token", "done"])
_SSE_COMPLETION = _sse_responses("With `stream: true`, Server-Sent Events as OpenAI sends them: unnamed events whose "
                                 "data is a `chat.completion.chunk`, then `[DONE]`.", None)


@router.post("/v1/chat", response_model=AskResult, responses=_SSE)
def create_chat(body: ChatCreate, request: Request) -> Any:
    """Answer a question with plan, reasons, risks, citations and the grounding check; follow-ups edit the request."""
    agent = get_agent(request)
    result = agent.ask(body.message, session_id=owned_session(request, agent, body.session_id))
    if not body.stream:
        return result
    return StreamingResponse((_sse(ev, data) for ev, data in stream_events(result)), media_type="text/event-stream")


# ---- OpenAI-compatible ---------------------------------------------------------------------------


class OpenAIMessage(BaseModel):
    """A chat message as OpenAI clients send it (extra keys such as ``name`` or ``tool_calls`` are ignored)."""

    model_config = ConfigDict(extra="allow")

    role: str = Field(max_length=32)
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """Plain text of the content (text parts joined; ``null`` is empty)."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(str(p.get("text", "")) for p in self.content if isinstance(p, dict))


class CompletionCreate(BaseModel):
    """Body of ``POST /v1/chat/completions`` (the usual OpenAI parameters are accepted and ignored)."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(MODEL_ID, max_length=100)
    messages: list[OpenAIMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    session_id: str | None = Field(None, max_length=64, description="procure extension: a stored conversation.")


class CompletionMessage(BaseModel):
    """The assistant's reply."""

    role: Literal["assistant"] = "assistant"
    content: str


class CompletionChoice(BaseModel):
    """One choice (procure always returns one)."""

    index: int = 0
    message: CompletionMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    """Approximate token counts (characters / 4)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Completion(BaseModel):
    """An OpenAI ``chat.completion`` plus the full procure result under ``procure``."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage
    procure: AskResult


def _approx_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _question(body: CompletionCreate) -> tuple[str, list[str]]:
    users = [m.text().strip() for m in body.messages if m.role == "user" and m.text().strip()]
    if not users:
        raise InvalidInputError("messages must contain a user message with text")
    return users[-1], users[:-1]


@router.get("/v1/models")
def list_models() -> dict[str, Any]:
    """The one model this service offers, for OpenAI clients that list models."""
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "procure"}]}


@router.post("/v1/chat/completions", response_model=Completion, responses=_SSE_COMPLETION)
def create_completion(body: CompletionCreate, request: Request) -> Any:
    """OpenAI-compatible chat completion: the last user message is the question, earlier ones the conversation."""
    question, history = _question(body)
    agent = get_agent(request)
    result = agent.ask(question, session_id=owned_session(request, agent, body.session_id),
                       history=[] if body.session_id else history)
    cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    if not body.stream:
        prompt = sum(_approx_tokens(m.text()) for m in body.messages)
        done = _approx_tokens(result.answer)
        return Completion(id=cid, created=created, model=MODEL_ID,
                          choices=[CompletionChoice(message=CompletionMessage(content=result.answer))],
                          usage=Usage(prompt_tokens=prompt, completion_tokens=done, total_tokens=prompt + done),
                          procure=result)
    return StreamingResponse(_completion_stream(cid, created, result), media_type="text/event-stream")


def _completion_stream(cid: str, created: int, result: AskResult, chunk: int = 24) -> Iterator[str]:
    def frame(delta: dict[str, Any], finish: str | None = None) -> str:
        return _sse(None, {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    yield frame({"role": "assistant", "content": ""})
    text = result.answer
    for i in range(0, len(text), chunk):
        yield frame({"content": text[i:i + chunk]})
    yield frame({}, "stop")
    yield _sse(None, "[DONE]")

"""``ask``: one message in, one grounded, cited answer out, with the conversation kept in the database."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, ValidationError

from service.agent import compose
from service.agent.backend import Backend
from service.agent.compose import AgentCitation, Composer
from service.agent.grounding import Grounding, check, remove_untraced
from service.agent.parse import Assumption, Change, ParsedQuestion, apply_followup, parse_question
from service.agent.planner import DeterministicPlanner, PlanOutcome
from service.agent.sessions import SessionStore
from service.agent.tools import ToolCall, Tools
from service.messages import first_error
from service.usecases import InvalidInputError, OptimizerError

log = logging.getLogger("procure.agent")
MAX_MESSAGE_CHARS = 4000
"""Longest question the agent reads (CLI, /v1/chat, /v1/chat/completions)."""
MAX_HISTORY = 50
"""Earlier messages of a client-held conversation that are replayed (the most recent ones)."""


class AskResult(BaseModel):
    """The stable response of ``procure ask --json`` and ``POST /v1/chat`` (DESIGN.md §7)."""

    intent: str
    language: Literal["zh", "en"]
    request: dict[str, Any]
    answer: str
    recommendation: dict[str, Any] | None = None
    citations: list[AgentCitation] = Field(default_factory=list)
    grounding: Grounding
    session_id: str
    assumptions: list[Assumption] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    planner: str = "deterministic"
    tool_calls: list[ToolCall] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    prompt_versions: dict[str, str] = Field(default_factory=dict)


class Planner(Protocol):
    """Something that answers a parsed question with the tools."""

    name: str

    def run(self, parsed: ParsedQuestion, tools: Tools, *, question: str,
            previous: dict[str, Any] | None = None, history: Sequence[tuple[str, str]] = ()) -> PlanOutcome:
        """Answer one parsed question (``history``: earlier question/answer pairs of the conversation)."""
        ...


class Agent:
    """Parses, plans (LLM when configured, else deterministic), grounds and remembers."""

    def __init__(self, backend: Backend, *, llm: Planner | None = None, today: dt.date | None = None) -> None:
        self.backend = backend
        self.deterministic = DeterministicPlanner()
        self.llm = llm
        self._today = today
        self._store: SessionStore | None = None

    @property
    def store(self) -> SessionStore:
        """Session store on the service database."""
        if self._store is None:
            self._store = SessionStore(self.backend.db)
        return self._store

    def today(self) -> dt.date:
        """The date defaults use."""
        return self._today or dt.date.today()

    def parse(self, message: str, session_id: str | None, history: Sequence[str] = ()
              ) -> tuple[ParsedQuestion, dict[str, Any] | None]:
        """Parse a message, as a follow-up when the session (or the given history) has a previous turn."""
        lex = self.backend.lexicon()
        last = self.store.last(session_id) if session_id else None
        prev = last.parsed if last else None
        for earlier in history:  # a client-held conversation (OpenAI-style messages): parse only, no tools
            prev = parse_question(earlier, lex, today=self.today()) if prev is None else apply_followup(
                prev, earlier, lex, today=self.today())
        if prev is None:
            return parse_question(message, lex, today=self.today()), None
        return apply_followup(prev, message, lex, today=self.today()), last.summary if last else None

    def ask(self, message: str, *, session_id: str | None = None, history: Sequence[str] = ()) -> AskResult:
        """Answer ``message`` in the session ``session_id`` (created when absent).

        Raises:
            InvalidInputError: empty message or an unknown session id.
        """
        message = message.strip()
        if not message:
            raise InvalidInputError("message must not be empty")
        if len(message) > MAX_MESSAGE_CHARS or any(len(h) > MAX_MESSAGE_CHARS for h in history):
            raise InvalidInputError(f"a message may have at most {MAX_MESSAGE_CHARS} characters")
        if len(history) > MAX_HISTORY:
            history = history[-MAX_HISTORY:]
        if session_id is not None and not self.store.exists(session_id):
            raise InvalidInputError(f"unknown session {session_id!r}; omit it to start a new conversation")
        sid = session_id or self.store.create()
        parsed, previous = self.parse(message, session_id, history)
        tools = Tools(self.backend)
        # what the user stated, the defaults we state, and the previous turn are evidence too
        tools.evidence.add(parsed.request)
        tools.evidence.add([a.model_dump(mode="json") for a in parsed.assumptions])
        tools.evidence.add([c.model_dump(mode="json") for c in parsed.changes])
        tools.evidence.add(previous or {})
        outcome, planner_name = self._plan(parsed, tools, message, previous, self._turns(session_id, history))
        for cited in outcome.citations:  # source titles come from the catalog's source registry
            if cited.kind == "source":
                tools.evidence.add_text(cited.title)
        for c in outcome.citations:  # quoted passages are evidence only as quoted
            tools.evidence.add_text(c.quote or "")
        for text in outcome.derived:  # counts the composer made of tool results, fixed template examples
            tools.evidence.add_text(text)
        answer, grounding = self._ground(outcome.answer, tools, planner_name)
        self.store.append(sid, message, answer, parsed, outcome.summary)
        return AskResult(
            intent=parsed.intent, language=parsed.language, request=parsed.request.flat(), answer=answer,
            recommendation=outcome.recommendation.model_dump(mode="json") if outcome.recommendation else None,
            citations=outcome.citations, grounding=grounding, session_id=sid, assumptions=parsed.assumptions,
            changes=parsed.changes, missing=parsed.missing, planner=planner_name, tool_calls=tools.calls,
            details=outcome.extra, prompt_versions=compose.template_versions(),
        )

    def _ground(self, answer: str, tools: Tools, planner_name: str) -> tuple[str, Grounding]:
        """Check every number; an LLM answer is regenerated once, then untraced sentences are removed."""
        grounding = check(answer, tools.evidence)
        if grounding.ok:
            return answer, grounding
        regenerate = getattr(self.llm, "regenerate", None) if planner_name == "llm" else None
        if regenerate is not None:
            try:
                again = regenerate(answer, grounding.untraced_numbers)
            except Exception as exc:  # noqa: BLE001 - a failed rewrite falls through to removal
                log.warning("regeneration failed: %s", exc.__class__.__name__)
            else:
                second = check(again, tools.evidence)
                if second.ok:
                    return again, second.model_copy(update={"action": "regenerated",
                                                            "untraced_numbers": grounding.untraced_numbers})
        cleaned = remove_untraced(answer, grounding)
        return cleaned, grounding.model_copy(update={"action": "removed"})

    def _turns(self, session_id: str | None, history: Sequence[str]) -> list[tuple[str, str]]:
        """Earlier (question, answer) pairs of the conversation, for a language model (none without one)."""
        if self.llm is None:
            return []
        if session_id:
            return [(t.message, t.answer) for t in self.store.history(session_id, limit=6)]
        return [(h, "") for h in history]

    def _plan(self, parsed: ParsedQuestion, tools: Tools, message: str, previous: dict[str, Any] | None,
              turns: Sequence[tuple[str, str]] = ()) -> tuple[PlanOutcome, str]:
        if self.llm is not None and parsed.intent != "clarify":
            try:
                outcome = self.llm.run(parsed, tools, question=message, previous=previous, history=turns)
                return outcome, str(outcome.extra.pop("planner", self.llm.name))
            except Exception as exc:  # noqa: BLE001 - any LLM failure falls back to the deterministic planner
                log.warning("LLM planner failed (%s: %s); using the deterministic planner",
                            exc.__class__.__name__, exc)
                tools.calls.append(ToolCall(name="llm_fallback", args={"error": exc.__class__.__name__}))
                outcome = self._deterministic(parsed, tools, message, previous)
                c = Composer(parsed.language)
                outcome.answer = outcome.answer + "\n\n" + c.t("planner_fallback")
                return outcome, "deterministic (fallback)"
        return self._deterministic(parsed, tools, message, previous), "deterministic"

    def _deterministic(self, parsed: ParsedQuestion, tools: Tools, message: str,
                       previous: dict[str, Any] | None) -> PlanOutcome:
        try:
            return self.deterministic.run(parsed, tools, question=message, previous=previous)
        except OptimizerError as exc:
            return self._error(parsed, exc.message)
        except ValidationError as exc:
            return self._error(parsed, first_error(list(exc.errors())))

    @staticmethod
    def _error(parsed: ParsedQuestion, message: str) -> PlanOutcome:
        c = Composer(parsed.language)
        c.add("error", message=message)
        return PlanOutcome(answer=c.text(), citations=[], derived=[message])  # the refusal quotes the tool


def stream_events(result: AskResult, chunk: int = 24) -> Iterator[tuple[str, dict[str, Any]]]:
    """A finished answer as stream events: ``meta``, ``token`` pieces, then ``done`` with the whole result."""
    yield "meta", {"session_id": result.session_id, "intent": result.intent, "language": result.language}
    text = result.answer
    for i in range(0, len(text), chunk):
        yield "token", {"text": text[i:i + chunk]}
    yield "done", result.model_dump(mode="json")

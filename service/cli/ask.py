"""``procure ask``, ``procure chat`` and ``procure eval questions``: the agent on the command line.

The agent (parser, planners, sessions on SQLAlchemy) is imported when a command runs, not when ``procure`` starts,
so ``procure --help`` and the other commands do not pay for it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service.cli._common import JsonOpt, console, emit_json, err_console, fail
from service.settings import get_settings

if TYPE_CHECKING:
    from service.agent.chat import Agent, AskResult

SessionOpt = Annotated[str | None, typer.Option("--session", help="Continue this conversation (id from an answer).")]


def _agent() -> Agent:
    from service.agent.factory import build_agent

    return build_agent(get_settings())


def _ask(agent: Agent, question: str, session: str | None) -> AskResult:
    """One turn under the same per-request work caps as over HTTP (the solver budget of ``PROCURE_LIMITS__*``)."""
    from service.usecases import work_limits

    with work_limits(agent.backend.settings.limits):
        return agent.ask(question, session_id=session)


def _show(result: AskResult) -> None:
    from rich.markdown import Markdown

    console.print(Markdown(result.answer.replace("\n", "\n\n")))
    ground = "grounded" if result.grounding.ok else f"untraced removed: {', '.join(result.grounding.untraced_numbers)}"
    err_console.print(f"[dim]intent {result.intent} · {result.planner} · {ground} · session {result.session_id}[/]",
                      highlight=False)


def ask(
    question: Annotated[str, typer.Argument(help="Your question, in Chinese or English.")],
    session: SessionOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Ask in Chinese or English; get a plan (or verdict, estimate, comparison) with reasons and citations."""
    result = _ask(_agent(), question, session)
    if json_out:
        emit_json(result)
    else:
        _show(result)


def chat(session: SessionOpt = None) -> None:
    """Interactive conversation: follow-ups edit the previous request. Empty line or Ctrl-D ends it."""
    agent = _agent()
    sid = session
    err_console.print("procure chat — ask in Chinese or English; an empty line ends.", highlight=False)
    while True:
        try:
            message = console.input("[bold]> [/]")
        except (EOFError, KeyboardInterrupt):
            break
        if not message.strip():
            break
        result = _ask(agent, message, sid)
        sid = result.session_id
        _show(result)


def eval_questions(
    file: Annotated[Path, typer.Argument(help="JSONL of {\"q\", \"expect\", \"history\"?}.")],
    today: Annotated[str | None, typer.Option("--today", help="Date the defaults use (YYYY-MM-DD).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Score the question parser: per-field and whole-question accuracy."""
    from rich.table import Table

    from service.agent.evaluate import evaluate, read_questions

    try:
        rows = read_questions(file)
    except FileNotFoundError:
        raise fail(f"question file not found: {file}") from None
    except ValueError as exc:
        raise fail(str(exc)) from None
    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError:
        raise fail(f"--today: {today!r} is not a date in the form YYYY-MM-DD") from None
    report = evaluate(rows, _agent().backend.lexicon(), today=day)
    if json_out:
        emit_json(report)
        return
    table = Table("field", "correct", "total", "accuracy")
    for f in report.fields:
        table.add_row(f.field, str(f.correct), str(f.total), f"{f.accuracy:.1%}")
    console.print(table)
    console.print(f"[bold]whole questions {report.correct}/{report.questions} ({report.accuracy:.1%})[/]",
                  highlight=False)
    from rich.text import Text

    for r in report.failures:  # the question is shown as written: no markup is read from it
        console.print(Text.assemble(("✗ ", "red"), f"{r.q} {r.wrong}"), highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``ask``, ``chat`` and ``eval questions`` to the root command."""
    from service.cli.corpus import eval_app

    app.command("ask")(ask)
    app.command("chat")(chat)
    eval_app.command("questions")(eval_questions)

"""``procure ask``, ``procure chat`` and ``procure eval questions`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from tests.agent.conftest import EVAL, small_corpus


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROCURE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PROCURE_CORPUS_DIR", str(small_corpus(tmp_path / "corpus")))
    return tmp_path


def test_ask_json_is_the_stable_shape_on_stdout_alone(env: Path) -> None:
    r = CliRunner().invoke(app, ["ask", "Is the H20 allowed for a buyer in China on 2025-05-01?", "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert body["intent"] == "compliance" and body["request"]["skus"] == ["h20"]
    assert body["request"]["date"] == "2025-05-01" and body["recommendation"] is None
    assert body["grounding"]["ok"] is True and body["session_id"]
    assert body["details"]["compliance"][0]["verdict"] == "license_required"
    again = CliRunner().invoke(app, ["ask", "and on 2023-10-01?", "--session", body["session_id"], "--json"])
    follow = json.loads(again.stdout)
    assert follow["request"]["date"] == "2023-10-01" and follow["details"]["compliance"][0]["verdict"] == "allowed"


def test_ask_clarifies_in_the_question_language(env: Path) -> None:
    r = CliRunner().invoke(app, ["ask", "训练70B模型的最佳集群是什么？", "--json"])
    body = json.loads(r.stdout)
    assert body["intent"] == "clarify" and body["missing"] == ["budget"] and "需要补充" in body["answer"]


def test_unknown_session_is_a_one_line_error(env: Path) -> None:
    r = CliRunner().invoke(app, ["ask", "hello", "--session", "nope"])
    assert r.exit_code == 2 and "unknown session" in r.output and "Traceback" not in r.output


def test_chat_loop_keeps_history(env: Path) -> None:
    r = CliRunner().invoke(app, ["chat"], input="best cluster for 70B training under budget ¥50M\n"
                                               "what if the budget doubles?\n\n")
    assert r.exit_code == 0, r.output
    assert "Changed from the previous question" in r.output and "¥100M" in r.output


def test_eval_questions_json(env: Path) -> None:
    r = CliRunner().invoke(app, ["eval", "questions", str(EVAL / "questions_dev.jsonl"), "--json"])
    report = json.loads(r.stdout)
    assert report["questions"] == 6 and report["accuracy"] == 1.0
    assert {f["field"] for f in report["fields"]} >= {"workload", "params", "budget", "currency", "intent", "sku"}
    bad = env / "bad.jsonl"
    bad.write_text("{not json}\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["eval", "questions", str(bad)])
    assert r.exit_code == 2 and "not valid JSON" in r.output

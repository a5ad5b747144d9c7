"""Parts the catalog does not have: the answer names them and offers the catalog's parts written the same way.

Before, "and the MI355X?" after a compliance answer repeated the H20's verdict, "Is the MI355X allowed?" asked
"which accelerator(s) you mean" without saying why, and a plan "with RTX 5090 cards" silently planned without them.
"""

from __future__ import annotations

import pytest

from service.agent.chat import Agent
from service.agent.parse import Lexicon, parse_question
from service.agent.parse.named import find_unknown_parts
from service.agent.parse.units import _Text
from tests.agent.conftest import TODAY


@pytest.mark.parametrize(("text", "codes"), [
    ("Is the MI355X allowed?", ["MI355X"]),
    ("what about L40S or V100 and A6000?", ["L40S", "V100", "A6000"]),
    ("and the RTX 5090?", ["RTX 5090"]),
    ("如果用MI355X呢？", ["MI355X"]),
    # codes that are not parts: precisions, memory, rule numbers, currencies, model names, dates, sizes
    ("FP8 or BF16, HBM3E 141GB, TPP 4800, ECCN 3A090, US$5M, ¥50M, Qwen2.5-72B, 2025-05-01, 70B, H1 2026", []),
    ("Qwen3-235B-A22B over NDR400 or HDR200 InfiniBand, FY2025, EL2024", []),
])
def test_part_codes_left_after_the_catalogs_aliases(text: str, codes: list[str]) -> None:
    assert find_unknown_parts(_Text(text, text)) == codes


def test_similar_parts_are_written_with_the_same_letters(lex: Lexicon) -> None:
    assert lex.similar_parts("MI355X") == ["AMD Instinct MI300X", "AMD Instinct MI308X (China)", "AMD Instinct MI325X"]
    assert "NVIDIA H20" in lex.similar_parts("H30") and "Hygon DCU K100 (深算二号)" not in lex.similar_parts("H30")
    assert lex.similar_parts("ZZ100") == []


def test_a_known_part_is_never_unknown(lex: Lexicon) -> None:
    parsed = parse_question("Is the H20 allowed for a buyer in China on 2025-05-01?", lex, today=TODAY)
    assert parsed.intent == "compliance" and parsed.unknown_parts == []


def test_a_compliance_question_about_an_unknown_part_says_so(agent: Agent) -> None:
    result = agent.ask("Is the MI355X allowed for a buyer in China on 2025-05-01?")
    assert result.intent == "clarify" and result.grounding.ok, result.answer
    assert result.answer.startswith("The catalog has no part called MI355X; parts it has that are written the same "
                                    "way: AMD Instinct MI300X, AMD Instinct MI308X (China), AMD Instinct MI325X.")


def test_a_follow_up_about_an_unknown_part_does_not_repeat_the_last_verdict(agent: Agent) -> None:
    first = agent.ask("Is the H20 allowed for a buyer in China on 2025-05-01?")
    follow = agent.ask("and the MI355X?", session_id=first.session_id)
    assert follow.intent == "clarify" and "MI355X" in follow.answer and follow.details.get("compliance") is None
    then = agent.ask("ok, the MI325X then", session_id=first.session_id)
    assert then.intent == "compliance" and then.details["compliance"][0]["sku"] == "mi325x"
    assert then.request["buyer_country"] == "CN" and then.grounding.ok


def test_a_comparison_with_a_part_the_catalog_lacks_asks_for_it(agent: Agent) -> None:
    for question in ("Compare the V100 and the H100 for training a 7B model", "V100和H100训练70亿参数模型哪个好？"):
        result = agent.ask(question)
        assert result.intent == "clarify" and result.grounding.ok, result.answer
        assert result.answer.splitlines()[0] in ("The catalog has no part called V100.", "目录中没有名为V100的芯片。")


def test_in_chinese_too(agent: Agent) -> None:
    first = agent.ask("H20在2025年5月1日对中国买家需要许可证吗？")
    follow = agent.ask("那MI355X呢？", session_id=first.session_id)
    assert follow.intent == "clarify" and follow.grounding.ok
    assert follow.answer.startswith("目录中没有名为MI355X的芯片；同系列已收录：AMD Instinct MI300X、")


def test_a_plan_says_it_left_out_a_part_it_does_not_have(agent: Agent) -> None:
    result = agent.ask("Best cluster to train a 70B model on 1.4T tokens with RTX 5090 cards, budget $20M, "
                       "buyer in Singapore")
    assert result.recommendation is not None and result.grounding.ok
    assert "The catalog has no part called RTX 5090: the plan considers the parts it has." in result.answer

"""The checks a language model's text and proposed request go through: verdicts, parts, numbers; the merge."""

from __future__ import annotations

import datetime as dt

import pytest

from service.agent.grounding import Evidence, check_facts, part_finder, verdict_mentions
from service.agent.llm_extract import Extraction, merge
from service.agent.parse import Lexicon, parse_question
from tests.agent.conftest import TODAY

NAMES = {"H20": "h20", "h20": "h20", "HGX H20": "h20", "英伟达H20": "h20", "H100": "h100-sxm",
         "h100-sxm": "h100-sxm", "910C": "ascend-910c", "Ascend 910C": "ascend-910c", "4090": "rtx-4090"}
FIND = part_finder(NAMES)


def _evidence() -> Evidence:
    ev = Evidence()
    ev.add({"sku": "h20", "verdict": "license_required", "buyer_country": "CN", "date": "2025-05-01"})
    ev.add({"sku": "ascend-910c", "verdict": "allowed"})
    return ev


@pytest.mark.parametrize(("text", "said"), [
    ("The H20 is allowed.", ["allowed"]),
    ("The H20 is not allowed.", ["prohibited"]),
    ("No licence is required for the 910C.", ["allowed"]),
    ("The H20 requires an export license.", ["license_required"]),
    ("H20 需要许可证。", ["license_required"]),
    ("H20 不允许出口。", ["prohibited"]),
    ("910C 允许购买。", ["allowed"]),
    ("The H20 has 96 GB of memory.", []),
])
def test_verdicts_are_read_in_both_languages(text: str, said: list[str]) -> None:
    assert verdict_mentions(text) == said


def test_a_verdict_must_be_the_engines_for_the_part_in_its_sentence() -> None:
    ev = _evidence()
    assert check_facts("The H20 needs a licence. The Ascend 910C is allowed.", ev, FIND).ok
    bad = check_facts("Yes, the H20 is allowed for a buyer in CN on 2025-05-01.", ev, FIND)
    assert bad.verdicts == ["h20: allowed ≠ license_required"] and bad.reasons() == ["verdict"]
    assert check_facts("是的，英伟达H20允许购买。", ev, FIND).verdicts == ["h20: allowed ≠ license_required"]
    # a sentence naming no part is held to the verdicts checked this turn; none checked: no verdict may be stated
    assert not check_facts("It is prohibited.", ev, FIND).ok
    assert check_facts("It is allowed.", Evidence(), FIND).verdicts == ["?: allowed ≠ no compliance result"]


def test_parts_and_numbers_must_come_from_this_turns_tools() -> None:
    ev = _evidence()
    facts = check_facts("Buy the H100 instead; the 910C costs ¥9.99M.", ev, FIND)
    assert facts.parts == ["h100-sxm"] and facts.numbers == ["9.99M"]
    assert facts.reasons() == ["numbers", "parts"]
    assert FIND("the H200 and the H20") == ["h20"]


@pytest.fixture(scope="module")
def lexicon(lex: Lexicon) -> Lexicon:
    return lex


def test_the_parser_wins_and_unsupported_values_are_refused(lexicon: Lexicon) -> None:
    q = "best cluster for 70B training under budget ¥50M"
    parsed = parse_question(q, lexicon, today=TODAY)
    proposal = Extraction(workload="inference", params_billion=7, budget=5e7, deadline_days=45,
                          parts=["H100"], buyer_country="US", date="2031-01-01")
    merged, report = merge(parsed, proposal, q, lexicon)
    assert merged.request.params == 70e9 and merged.request.workload == "training"  # the parser read these
    assert report.rejected["params_billion"] == "not written in the question"
    assert report.rejected["deadline_days"] == "not written in the question"  # 45 appears nowhere
    assert report.rejected["parts"] == "part not named in the question"
    assert report.rejected["buyer_country"] == "country not named in the question"
    assert report.rejected["date"] == "date not written in the question"
    assert "workload" in report.rejected and report.accepted == {}
    assert merged == parsed


def test_a_supported_value_fills_what_the_parser_left_unknown(lexicon: Lexicon) -> None:
    q = "Which is cheaper for our fleet, given a deadline of 45 days on 2025-09-01: train 70B under ¥50M?"
    parsed = parse_question(q, lexicon, today=TODAY)
    before = parsed.request.deadline_days
    emptied = parsed.model_copy(update={"request": parsed.request.model_copy(update={"deadline_days": None}),
                                        "stated": [f for f in parsed.stated if f != "deadline_days"]})
    merged, report = merge(emptied, Extraction(deadline_days=45), q, lexicon)
    assert before == 45 and merged.request.deadline_days == 45 and report.accepted == {"deadline_days": 45.0}
    assert "deadline_days" in merged.stated
    assert merged.request.date == dt.date(2025, 9, 1)


def test_a_figure_of_another_kind_of_workload_is_refused(lexicon: Lexicon) -> None:
    """The bench found a request rate of 1 accepted into a training request (a "1" was written in the history)."""
    q = "Train a 70B model on 1.4T tokens within 1 year, budget ¥50M\\n如果H20的许可被撤销呢？"
    parsed = parse_question(q, lexicon, today=TODAY)
    merged, report = merge(parsed, Extraction(requests_per_s=1), q, lexicon)
    assert parsed.request.workload == "training" and merged.request.requests_per_s is None
    assert report.rejected["requests_per_s"] == "does not apply to training" and report.accepted == {}
    serving = "Serve Llama 3 70B at 20 requests per second (it saw 300B tokens)"
    parsed = parse_question(serving, lexicon, today=TODAY)
    merged, report = merge(parsed, Extraction(tokens_billion=300), serving, lexicon)
    assert report.rejected["tokens_billion"] == "does not apply to inference" and report.accepted == {}

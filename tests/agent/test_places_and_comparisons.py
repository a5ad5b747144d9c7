"""Places a buyer names (cities, where the parts are shipped) and what a comparison says about each side.

Before, "our Shanghai office" and "shipping them to Shanghai" left a Singapore buyer in Singapore (cities were not
read), a comparison of two parts without a workload word gave no cost, and a part with no plan on its own was
explained as "no sourced price, or it cannot meet the deadline or rate" even when a rule excluded it.
"""

from __future__ import annotations

import re

import pytest

from service.agent.backend import Backend
from service.agent.chat import Agent
from service.agent.parse import Lexicon, apply_followup, parse_question
from tests.agent.conftest import TODAY


@pytest.mark.parametrize(("q", "country", "hq"), [
    ("Is the H200 allowed for a lab in Bengaluru?", "IN", None),
    ("Can a company in Dubai buy the B200?", "AE", None),
    ("We are a Singapore company shipping H200s to Shanghai. Allowed?", "CN", "SG"),
    ("迪拜的数据中心能买H200吗？", "AE", None),
    ("新加坡公司把H200运到上海，需要许可证吗？", "CN", "SG"),
])
def test_cities_and_destinations_name_the_country_the_rules_apply_to(lex: Lexicon, q: str, country: str,
                                                                     hq: str | None) -> None:
    parsed = parse_question(q, lex, today=TODAY)
    assert parsed.intent == "compliance"
    assert (parsed.request.buyer_country, parsed.request.headquarters_country) == (country, hq)


@pytest.mark.parametrize("follow", ["what about shipping them to our Shanghai office?",
                                    "what if they go to our Beijing data centre?", "那运到上海的分公司呢？"])
def test_a_follow_up_that_ships_elsewhere_asks_again_for_that_country(lex: Lexicon, follow: str) -> None:
    prev = parse_question("We are a Singapore company. Can we buy H200s?", lex, today=TODAY)
    parsed = apply_followup(prev, follow, lex, today=TODAY)
    assert parsed.intent == "compliance" and parsed.request.buyer_country == "CN"
    assert parsed.request.skus == ["h200"]


def test_a_comparison_gives_each_side_its_reason_or_its_cost(agent: Agent) -> None:
    result = agent.ask("Compare the H20 and the H200 for training a 70B model, buyer in China, on 2026-12-01")
    assert result.intent == "compare" and result.grounding.ok
    lines = result.answer.splitlines()
    h20 = next(i for i, line in enumerate(lines) if line.startswith("- **NVIDIA H20**"))
    assert lines[h20 + 1].strip().startswith("no plan on the NVIDIA H20 alone meets this request: not for sale to CN")
    h200 = next(i for i, line in enumerate(lines) if line.startswith("- **NVIDIA H200 SXM**"))
    assert "held back unless the buyer accepts licence risk" in lines[h200 + 1]

    sized = agent.ask("Compare H100 and MI300X for a 405B model, 15T tokens, in 60 days, buyer in Japan")
    assert sized.request["workload"] == "training" and sized.grounding.ok
    costs = [line for line in sized.answer.splitlines() if line.strip().startswith("cost on its own:")]
    assert len(costs) == 2, sized.answer
    assert all("," in line.split("×")[0] for line in costs)  # counts over a thousand are written 18,432


@pytest.mark.parametrize(("q", "sku", "verdict"), [
    ("How many H200s do I need to train a 405B model on 15T tokens in 120 days? We're in China, on 2026-12-01.",
     "h200", "Export verdict for a buyer in China on 2026-12-01: **licence required**"),
    ("How many MI300X would we need to serve a 70B model at 40 requests per second? We're in Germany.",
     "mi300x", None),
    ("2026年12月1日，训练一个700亿参数模型，90天内完成，需要多少张H200？", "h200",
     "出口管制结论（2026-12-01，中国买方）：**需要许可证**"),
])
def test_how_many_do_i_need_is_a_sizing_estimate_with_the_buyers_verdict(agent: Agent, q: str, sku: str,
                                                                         verdict: str | None) -> None:
    result = agent.ask(q)
    assert result.intent == "estimate" and result.request["skus"] == [sku] and result.grounding.ok, result.answer
    assert result.details["estimates"][0]["status"] == "ok"
    if verdict:
        assert verdict in result.answer
    else:
        assert "Export verdict" not in result.answer  # allowed: nothing to add


@pytest.mark.parametrize(("q", "country", "head"), [
    ("Which accelerators are not export-controlled for China right now?", "CN",
     "**Export verdicts for a commercial buyer in China on 2025-08-01**"),
    ("Which GPUs can a buyer in the UAE buy on 2026-06-01?", "AE",
     "**Export verdicts for a commercial buyer in United Arab Emirates on 2026-06-01**"),
    ("中国买家现在还能买哪些芯片？", "CN", "**2025-08-01 对中国商业买方的出口管制结论**"),
])
def test_which_parts_lists_every_parts_verdict_for_the_buyer(agent: Agent, backend: Backend, q: str, country: str,
                                                             head: str) -> None:
    result = agent.ask(q)
    assert result.intent == "compliance" and result.grounding.ok and result.answer.startswith(head), result.answer
    checks = result.details["compliance"]
    assert {c["sku"] for c in checks} == set(backend.lexicon().sku_names)  # every part of the catalog, once
    assert len(checks) == len(backend.lexicon().sku_names) and {c["buyer_country"] for c in checks} == {country}
    words = {"allowed": ("allowed", "允许"), "license_required": ("licence required", "需要许可证"),
             "prohibited": ("prohibited", "禁止")}
    zh = not head.startswith("**Export")
    for c in checks:  # each part sits in its verdict's group, as the engine decided
        named = re.compile(rf"(?:: |：|, |、){re.escape(c['name'])}(?:, |、|$)")
        line = next(line for line in result.answer.splitlines() if named.search(line))
        assert line.startswith(f"- **{words[c['verdict']][zh]}**"), (c["name"], line)


def test_which_gpus_to_buy_is_still_a_plan_question(agent: Agent) -> None:
    result = agent.ask("which GPUs should we buy for training a 70B model?")
    assert result.intent == "clarify" and "compliance" not in result.details


@pytest.mark.parametrize("q", [
    "Serve DeepSeek-V3 on 16 H20, how many requests per second?",
    "Train a 70B model on 1.4T tokens within 300 days, budget ¥30M, buyer in China, on 2026-12-01",
    "2026年12月1日，预算3000万元，300天内训练一个700亿参数的模型",
])
def test_chat_answers_name_no_cli_flags_and_no_part_ids(agent: Agent, q: str) -> None:
    result = agent.ask(q)
    assert result.grounding.ok and "(--" not in result.answer and "（--" not in result.answer, result.answer
    assert "× h20 " not in result.answer


@pytest.mark.parametrize(("q", "country", "hq"), [
    ("Can Chinese companies rent H100 in Malaysia?", "MY", "CN"),
    ("中国公司在马来西亚能买H100吗？", "MY", "CN"),
    ("Is the H100 allowed for a German lab in Japan?", "JP", "DE"),
    ("A Chinese company in Shanghai wants the H20, allowed?", "CN", None),
])
def test_a_companys_country_is_its_headquarters_when_it_buys_elsewhere(lex: Lexicon, q: str, country: str,
                                                                       hq: str | None) -> None:
    parsed = parse_question(q, lex, today=TODAY)
    assert (parsed.request.buyer_country, parsed.request.headquarters_country) == (country, hq)


def test_a_chinese_headquartered_buyer_abroad_gets_the_d5_headquarters_rule(agent: Agent) -> None:
    result = agent.ask("Can Chinese companies buy the H100 in Malaysia on 2026-12-01?")
    assert result.intent == "compliance" and result.grounding.ok
    check = result.details["compliance"][0]
    assert check["buyer_country"] == "MY" and check["verdict"] != "allowed", result.answer


def test_which_parts_of_one_vendor_lists_only_that_vendor(agent: Agent, backend: Backend) -> None:
    result = agent.ask("Which NVIDIA chips can a Chinese buyer buy on 2026-12-01?")
    lex = backend.lexicon()
    checks = result.details["compliance"]
    assert {c["sku"] for c in checks} == {s for s, v in lex.sku_vendors.items() if v == "nvidia"}
    assert result.grounding.ok and f"({len(checks)} catalog parts)" in result.answer


@pytest.mark.parametrize(("q", "name"), [
    ("我们是上海的一家国企，能买H20吗？", None), ("我们是深圳的一家创业公司，能买H20吗？", None),
    ("我们是算能，能买H20吗？", "算能"), ("we are Sophgo, can we buy the H20?", "Sophgo"),
])
def test_a_city_is_not_the_buyers_name(lex: Lexicon, q: str, name: str | None) -> None:
    assert parse_question(q, lex, today=TODAY).request.buyer_name == name


def test_a_possible_entity_list_match_is_said_in_chinese(agent: Agent) -> None:
    result = agent.ask("我们是上海壁仞智能，能买H20吗？")  # near, not equal, to a listed party's Chinese name
    check = result.details["compliance"][0]
    assert check["screening"]["status"] == "possible_match" and result.grounding.ok
    assert "possible match" not in result.answer and "resembles" not in result.answer, result.answer
    assert "可能匹配，请核实：买方“" in result.answer and "与实体清单上的“Biren Technology”相近" in result.answer

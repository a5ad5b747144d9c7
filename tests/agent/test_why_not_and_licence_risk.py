"""Two follow-ups a planner uses after a plan: "why not the H100?" and "what if we accept the licence risk?".

Before, "why not the H100?" restricted the request to the H100 (and answered "no plan fits"), and "what if we accept
the licence risk?" returned the same plan unchanged, although the answer had just said the parts were held back
unless the buyer accepts licence risk.
"""

from __future__ import annotations

import re

import pytest

from service.agent.chat import Agent
from service.agent.parse import Lexicon, apply_followup, parse_question
from tests.agent.conftest import TODAY

# On this date the H20 is not for sale to China and licence-required parts are held back by default.
PLAN_EN = "Train a 70B model on 2T tokens, budget ¥50M, deadline 300 days, buyer in China, on 2026-12-01"
PLAN_ZH = "2026年12月1日，预算5000万元，300天内训练一个700亿参数的模型，用2万亿token，买家在中国"


def _held_back(plan: dict) -> set[str]:  # type: ignore[type-arg]
    rows = [*plan["excluded"], *plan["considered"]]
    return {r["sku"] for r in rows if (r.get("why") or {}).get("code") == "licence_held_back"}


@pytest.mark.parametrize("follow", ["why not the H100?", "Why didn't you pick the H100?",
                                    "how come the H100 isn't in it?", "为什么不选H100？", "为什么没用H100"])
def test_why_not_asks_about_the_same_plan(lex: Lexicon, follow: str) -> None:
    prev = parse_question(PLAN_EN, lex, today=TODAY)
    parsed = apply_followup(prev, follow, lex, today=TODAY)
    assert parsed.why_not == ["h100-sxm"] and parsed.request == prev.request and parsed.intent == "recommend"


@pytest.mark.parametrize(("follow", "accepted"), [
    ("what if we accept the licence risk?", True), ("We can apply for a license.", True),
    ("and if we take on the license risk?", True), ("如果接受许可证风险呢？", True), ("需要许可证也可以", True),
    ("we don't accept licence risk", None), ("不接受许可证风险", None),
])
def test_accepting_licence_risk_is_a_change_of_the_request(lex: Lexicon, follow: str, accepted: bool | None) -> None:
    prev = parse_question(PLAN_EN, lex, today=TODAY)
    parsed = apply_followup(prev, follow, lex, today=TODAY)
    assert parsed.request.accept_license_risk is accepted
    if accepted:
        assert parsed.intent == "whatif" and [c.field for c in parsed.changes] == ["accept_license_risk"]


def test_why_not_answers_from_the_plans_own_reasons(agent: Agent) -> None:
    first = agent.ask(PLAN_EN)
    plan = first.recommendation
    assert plan is not None and plan["items"]
    h20 = next(e for e in plan["excluded"] if e["sku"] == "h20")
    assert h20["why"]["code"] == "not_for_sale"  # not for sale to China from 2025-08-22
    why = agent.ask("why not the H20?", session_id=first.session_id)
    assert why.grounding.ok and why.recommendation is not None
    assert [i["sku"] for i in why.recommendation["items"]] == [i["sku"] for i in plan["items"]]  # not an H20 plan
    assert why.answer.startswith("**Why not NVIDIA H20**: excluded (not for sale to CN on 2026-12-01")
    assert "Changed from the previous question" not in why.answer and "Result change" not in why.answer
    chosen = plan["items"][0]
    again = agent.ask(f"why not the {chosen['sku'].upper()}?", session_id=first.session_id)
    assert again.answer.startswith(f"**{chosen['name']}** is in this plan."), again.answer


def test_accepting_the_risk_admits_the_held_back_parts(agent: Agent) -> None:
    first = agent.ask(PLAN_EN)
    assert first.recommendation is not None
    assert _held_back(first.recommendation), "the China plan holds licence-required parts back by default"
    assert "--accept-license-risk" not in first.answer  # the chat names no CLI flag
    follow = agent.ask("what if we accept the licence risk?", session_id=first.session_id)
    assert follow.grounding.ok and follow.recommendation is not None
    assert follow.request["accept_license_risk"] is True
    assert follow.answer.startswith("**Changed from the previous question**: licence risk accepted no → yes.")
    assert not _held_back(follow.recommendation)
    assert follow.recommendation["total_cost"] <= first.recommendation["total_cost"]  # more parts, never dearer


def test_in_chinese(agent: Agent) -> None:
    first = agent.ask(PLAN_ZH)
    why = agent.ask("为什么没用910B？", session_id=first.session_id)
    assert why.grounding.ok and why.answer.startswith("**为什么没有选 Huawei Ascend 910B**：")
    follow = agent.ask("如果接受许可证风险呢？", session_id=first.session_id)
    assert follow.answer.startswith("**相对上一问的改动**：接受许可证风险 否 → 是。") and follow.grounding.ok
    assert "--accept-license-risk" not in follow.answer


def test_a_price_what_if_writes_prices_and_days_as_every_other_line_does(agent: Agent) -> None:
    first = agent.ask("2026年12月1日，我们在北京，想用国产卡训练一个千亿参数模型，预算3亿元，半年内完成，怎么配？")
    follow = agent.ask("如果昇腾910C涨价30%呢？", session_id=first.session_id)
    assert "盈亏平衡：" in follow.answer, follow.answer  # the what-if names the break-even prices
    assert follow.intent == "whatif" and follow.grounding.ok
    assert not re.search(r"\d (?:USD|CNY)", follow.answer), follow.answer  # was "（价格 37,180 → 52,817 USD）"
    # in the answer's currency (yuan here), with what the price buys
    assert re.search(r"（(?:每张|每节点)价格 ¥[\d.,]+万? → ¥[\d.,]+万?）", follow.answer), follow.answer
    assert re.search(r"用时 [\d.]+ 天 → [\d.]+ 天", follow.answer), follow.answer  # was "用时 175.6 → 175.6"


@pytest.mark.parametrize(("first_q", "follow", "head"), [
    ("Train a 70B model on 1.4T tokens within 200 days, budget ¥80M, buyer in China", "what's the second best option?",
     "**Runner-up plans** for the same request"),
    ("Train a 70B model on 1.4T tokens within 200 days, budget ¥80M, buyer in China", "any other options?",
     "**Runner-up plans** for the same request"),
    ("预算8000万元，200天内训练一个700亿参数的模型", "还有别的方案吗？", "**次优方案**"),
])
def test_runner_up_plans_are_the_solvers_alternatives_for_the_same_request(agent: Agent, first_q: str, follow: str,
                                                                          head: str) -> None:
    first = agent.ask(first_q)
    plan = first.recommendation
    assert plan is not None and plan["alternatives"], "this request has runner-ups"
    again = agent.ask(follow, session_id=first.session_id)
    assert again.grounding.ok and again.answer.startswith(head), again.answer
    assert again.request == first.request and again.recommendation is not None
    assert [i["sku"] for i in again.recommendation["items"]] == [i["sku"] for i in plan["items"]]
    best = min(plan["alternatives"], key=lambda a: a["rank"])
    second_line = again.answer.splitlines()[1]
    assert second_line.startswith("1. ") and f"{best['items'][0]['accelerators']:,}" in second_line


def test_break_even_prices_are_in_the_answers_currency_with_their_basis(agent: Agent) -> None:
    first = agent.ask("We're a cloud provider in Indonesia with a $12M budget; pretrain a 30B model on 600B tokens "
                      "within 297 days, on 2026-12-01")
    follow = agent.ask("what if the B200 gets 20% cheaper?", session_id=first.session_id)
    lines = [line for line in follow.answer.splitlines() if line.startswith("- Break-even:")]
    assert lines and follow.grounding.ok, follow.answer
    assert all("¥" not in line and re.search(r"\(price \$[\d.,]+[KM]? → \$[\d.,]+[KM]? per (?:node|accelerator)\)",
                                                line) for line in lines), lines

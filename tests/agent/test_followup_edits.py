"""Follow-up edits a planner writes that used to change nothing: fractions ("cut by a third"), a price change for a
whole vendor ("Huawei parts 20 % dearer"), and a message with no change at all, which now says so."""

from __future__ import annotations

import datetime as dt

import pytest

from service.agent.chat import Agent
from service.agent.parse import Lexicon, apply_followup, parse_question
from tests.agent.conftest import TODAY

PLAN = "Train a 70B model on 1.4T tokens within 300 days, budget ¥30M, buyer in China"


@pytest.mark.parametrize(("follow", "budget"), [
    ("what if the budget is cut by a third?", 20e6), ("and if we increase the budget by a quarter?", 37.5e6),
    ("预算减少三分之一呢？", 20e6), ("budget up by 10%", 33e6),
])
def test_fractional_budget_edits(lex: Lexicon, follow: str, budget: float) -> None:
    parsed = apply_followup(parse_question(PLAN, lex, today=TODAY), follow, lex, today=TODAY)
    assert parsed.intent == "whatif" and parsed.request.budget == budget  # exactly: no float residue in the answer


@pytest.mark.parametrize("follow", ["and if Huawei parts get 20% more expensive?", "如果华为的卡都涨价20%呢？"])
def test_a_vendor_wide_price_change_changes_every_part_of_that_vendor(lex: Lexicon, follow: str) -> None:
    parsed = apply_followup(parse_question(PLAN, lex, today=TODAY), follow, lex, today=TODAY)
    assert parsed.intent == "whatif" and parsed.whatif is not None
    changed = parsed.whatif.price_changes
    huawei = {s for s, v in lex.sku_vendors.items() if v == "huawei"}
    assert set(changed) == huawei and len(huawei) >= 2 and set(changed.values()) == {0.2}


def test_a_message_with_no_change_says_so(agent: Agent) -> None:
    first = agent.ask(PLAN)
    same = agent.ask("hmm ok thanks", session_id=first.session_id)
    assert same.answer.startswith("No change to the request was found in this message")
    assert same.grounding.ok and same.request == first.request
    zh = agent.ask("好的，谢谢", session_id=agent.ask("预算3000万元，300天内训练一个700亿参数的模型").session_id)
    assert zh.answer.startswith("这条消息里没有找到对请求的修改") and zh.grounding.ok
    changed = agent.ask("make the deadline 200 days", session_id=first.session_id)
    assert "No change to the request" not in changed.answer


def test_a_question_about_tpp_is_answered_with_the_classification(agent: Agent) -> None:
    result = agent.ask("What's the TPP of the H20?")
    assert result.intent == "compliance" and "TPP 2,368" in result.answer and result.grounding.ok


@pytest.mark.parametrize(("q", "days"), [
    ("We need to train a 34B model on 2T tokens before end of June 2027, budget $8M, we're in Indonesia",
     (dt.date(2027, 6, 30) - TODAY).days),
    ("2027年6月底前训练完一个700亿参数的模型，预算5000万元", (dt.date(2027, 6, 30) - TODAY).days),
    ("Train a 70B model on 1.4T tokens, budget $40M, buyer in Japan, deadline March 31, 2026",
     (dt.date(2026, 3, 31) - TODAY).days),
])
def test_a_deadline_given_as_a_date_is_the_works_deadline_not_the_purchase_date(lex: Lexicon, q: str,
                                                                                days: int) -> None:
    parsed = parse_question(q, lex, today=TODAY)
    assert parsed.request.deadline_days == days and parsed.request.date == TODAY


def test_a_date_in_a_compliance_question_stays_the_purchase_date(lex: Lexicon) -> None:
    parsed = parse_question("Can we buy the H20 by March 2026? buyer in China", lex, today=TODAY)
    assert parsed.intent == "compliance" and parsed.request.date == dt.date(2026, 3, 1)


@pytest.mark.parametrize(("follow", "kept"), [
    ("那华为和寒武纪混用呢？", {"huawei", "cambricon"}), ("only Huawei and Cambricon", {"huawei", "cambricon"}),
    ("what about NVIDIA only?", {"nvidia"}), ("只用平头哥呢？", {"t-head"}),
])
def test_a_vendor_restriction_replaces_the_last_one(lex: Lexicon, follow: str, kept: set[str]) -> None:
    only_cambricon = apply_followup(parse_question(PLAN, lex, today=TODAY), "换成只用寒武纪呢？", lex, today=TODAY)
    assert set(lex.vendors) - set(only_cambricon.request.exclude_vendors or []) == {"cambricon"}
    parsed = apply_followup(only_cambricon, follow, lex, today=TODAY)
    assert set(lex.vendors) - set(parsed.request.exclude_vendors or []) == kept


def test_vendors_in_a_change_line_are_named_not_ids(agent: Agent) -> None:
    first = agent.ask("预算800万元，60天内训练一个130亿参数的模型")
    follow = agent.ask("换成只用寒武纪呢？", session_id=first.session_id)
    head = follow.answer.splitlines()[0]
    assert head.startswith("**相对上一问的改动**：排除的厂商 — → ") and "华为" in head and "huawei" not in head


@pytest.mark.parametrize(("q", "stack"), [
    ("Train a 70B model on 1.4T tokens in 90 days, ¥100M, China, we already run everything on CUDA", "CUDA"),
    ("我们现在用的是CUDA，预算1亿元，90天内训练一个700亿参数的模型", "CUDA"),
    ("Serve a 70B model at 20 requests per second in China, budget ¥30M, our stack is ROCm", "ROCm"),
    ("Train a 7B model on 140B tokens in 30 days, budget ¥5M, 我们是CANN生态", "CANN"),
    ("Train a 70B model on 1.4T tokens in 90 days, budget ¥100M, buyer in China", None),
])
def test_the_buyers_software_stack_is_read(lex: Lexicon, q: str, stack: str | None) -> None:
    assert parse_question(q, lex, today=TODAY).request.current_stack == stack


def test_a_plan_that_leaves_the_buyers_stack_prices_the_move(agent: Agent) -> None:
    result = agent.ask("Serve a 70B model at 20 requests per second in China, budget ¥30M, our stack is ROCm, "
                       "on 2026-12-01")
    plan = result.recommendation
    assert plan is not None and plan["switching"] is not None and result.grounding.ok
    assert plan["switching"]["cost"] > 0 and plan["switching_cost"] == plan["switching"]["cost"]
    assert "**Switching** from ROCm: " in result.answer and "of one-time porting is in the total" in result.answer
    same = agent.ask("what if we were on CANN?", session_id=result.session_id)
    assert same.request["current_stack"] == "CANN" and same.recommendation is not None
    assert "**Switching**" not in same.answer  # the Ascend plan is CANN: nothing to port


@pytest.mark.parametrize(("follow", "days"), [
    ("what about 2 more months?", 360.0), ("give it another 30 days", 330.0), ("two weeks longer", 314.0),
    ("a month earlier", 270.0), ("10 days fewer", 290.0), ("再给两个月呢？", 360.0), ("提前两周", 286.0),
    ("延长30天", 330.0),
])
def test_time_added_or_taken_moves_the_previous_deadline(lex: Lexicon, follow: str, days: float) -> None:
    prev = parse_question("Train a 70B model on 1.4T tokens within 300 days, budget ¥30M, buyer in China", lex,
                          today=TODAY)
    parsed = apply_followup(prev, follow, lex, today=TODAY)
    assert parsed.intent == "whatif" and parsed.request.deadline_days == days


def test_a_plan_restricted_to_a_part_that_cannot_be_had_says_why(agent: Agent) -> None:
    result = agent.ask("我想用H20做推理，部署Qwen2.5-72B，每秒10个请求，2025年6月1日，预算1000万元")
    assert result.recommendation is not None and not result.recommendation["items"] and result.grounding.ok
    assert "- **NVIDIA H20**（指定的芯片）：2025-06-01 不对中国买方销售" in result.answer


@pytest.mark.parametrize(("q", "prompt", "output"), [
    ("Serve Qwen2.5-7B at 1000 requests/s with 2k input and 512 output tokens, budget $5M, buyer in US", 2000, 512),
    ("部署Qwen2.5-72B，每秒20个请求，输入8k token，输出1k，预算3000万元", 8000, 1000),
    ("Serve a 70B model at 5 rps, prompts of 4,096 tokens and 256-token completions, budget $2M", 4096, 256),
    ("Serve a 70B model at 5 rps, budget $2M, buyer in Japan", None, None),
])
def test_prompt_and_output_lengths_reach_the_serving_workload(lex: Lexicon, q: str, prompt: int | None,
                                                              output: int | None) -> None:
    from service.agent.requests import purchase_request

    parsed = parse_question(q, lex, today=TODAY)
    assert (parsed.request.prompt_tokens, parsed.request.output_tokens) == (prompt, output)
    assert parsed.request.tokens is None  # a serving length is not a training-token count
    workload = purchase_request(parsed.request).workloads[0]
    assert (workload.prompt_tokens, workload.output_tokens) == (prompt or 2048, output or 512)  # the core's defaults


@pytest.mark.parametrize(("first_q", "follow", "field", "value"), [
    ("部署DeepSeek-R1，每秒20个请求，首字延迟1秒以内，预算5000万元", "那延迟放宽到3秒呢？", "ttft_s", 3.0),
    ("Serve a 70B model at 20 rps with latency under 2 s, buyer in Japan, budget $10M",
     "what if latency must be under 50 ms?", "tpot_s", 0.05),
    ("Serve Qwen2.5-7B at 100 requests/s with 2k input and 512 output tokens, budget $5M, buyer in US",
     "what if outputs are 2k tokens?", "output_tokens", 2000),
])
def test_serving_follow_ups_edit_latency_and_lengths(lex: Lexicon, first_q: str, follow: str, field: str,
                                                     value: float) -> None:
    parsed = apply_followup(parse_question(first_q, lex, today=TODAY), follow, lex, today=TODAY)
    assert parsed.intent == "whatif" and [c.field for c in parsed.changes] == [field]
    assert getattr(parsed.request, field) == value


@pytest.mark.parametrize(("follow", "removed", "prices"), [
    ("what if the H20 licence is revoked and the 910C gets 10% more expensive?", ["h20"], {"ascend-910c": 0.1}),
    ("what if the H20 and the H100 are no longer available?", ["h20", "h100-sxm"], {}),
    ("如果H20降价20%，910B涨价10%呢？", [], {"h20": -0.2, "ascend-910b": 0.1}),
    ("如果H20和910B都涨价10%呢？", [], {"h20": 0.1, "ascend-910b": 0.1}),
])
def test_each_part_gets_its_own_scenario(lex: Lexicon, follow: str, removed: list[str],
                                         prices: dict[str, float]) -> None:
    parsed = apply_followup(parse_question(PLAN, lex, today=TODAY), follow, lex, today=TODAY)
    assert parsed.intent == "whatif" and parsed.whatif is not None
    assert parsed.whatif.remove_skus == removed and parsed.whatif.price_changes == prices


def test_a_change_of_parts_names_them(agent: Agent) -> None:
    first = agent.ask("用1000张昇腾910B训练一个千亿参数模型要多久？数据2万亿token")
    follow = agent.ask("换成910C呢？", session_id=first.session_id)
    assert follow.answer.startswith("**相对上一问的改动**：芯片 Huawei Ascend 910B → Huawei Ascend 910C。")
    assert follow.grounding.ok


@pytest.mark.parametrize("q", ["国产卡里哪个性价比最高？", "Which accelerator is the most cost-effective?"])
def test_a_value_for_money_question_asks_for_the_workload(agent: Agent, q: str) -> None:
    result = agent.ask(q)
    assert result.intent == "clarify" and result.grounding.ok


@pytest.mark.parametrize(("q", "date", "deadline"), [
    ("我们想在2026年第二季度采购，训练700亿模型，预算8000万，120天", dt.date(2026, 4, 1), 120.0),
    ("Buy in Q3 2026: train a 70B model in 100 days, ¥50M", dt.date(2026, 7, 1), 100.0),
    ("Train a 70B model by Q2 2026, budget $20M, buyer in Japan", TODAY, float((dt.date(2026, 6, 30) - TODAY).days)),
    ("训练一个70B模型，2年内完成，预算1亿", TODAY, 730.0),
])
def test_a_year_is_not_a_duration_and_a_quarter_is_a_date(lex: Lexicon, q: str, date: dt.date,
                                                           deadline: float) -> None:
    parsed = parse_question(q, lex, today=TODAY)
    assert parsed.intent == "recommend" and parsed.request.date == date
    assert parsed.request.deadline_days == deadline  # "2026年" was read as 2,026 years (739,490 days)


@pytest.mark.parametrize(("first_q", "follow", "added"), [
    ("Serve Qwen2.5-72B at 40 req/s for a buyer in Vietnam with $4M",
     "and if we also need to fine-tune a 7B model on 5B tokens within 10 days?",
     {"workload": "fine_tune", "params": 7e9, "tokens": 5e9, "deadline_days": 10.0}),
    ("预算8000万元，120天内训练一个700亿参数的模型", "另外还要部署一个320亿的推理服务，每秒30个请求",
     {"workload": "inference", "params": 32e9, "requests_per_s": 30.0}),
])
def test_an_added_workload_joins_the_previous_request(lex: Lexicon, first_q: str, follow: str,
                                                      added: dict[str, object]) -> None:
    prev = parse_question(first_q, lex, today=TODAY)
    parsed = apply_followup(prev, follow, lex, today=TODAY)
    assert parsed.intent == "whatif" and parsed.request.extra_workloads == [added]
    kept = prev.request.model_dump(exclude_none=True)
    assert {k: v for k, v in parsed.request.model_dump(exclude_none=True).items() if k != "extra_workloads"} == kept


def test_the_portfolio_plan_buys_for_both(agent: Agent) -> None:
    first = agent.ask("Serve Qwen2.5-72B at 40 req/s for a buyer in Vietnam with $4M, on 2026-12-01")
    both = agent.ask("and if we also need to fine-tune a 7B model on 5B tokens within 10 days?",
                     session_id=first.session_id)
    assert both.answer.startswith("**Changed from the previous question**: further workloads — → fine-tuning 7B.")
    assert both.recommendation is not None and both.grounding.ok
    assert len({i["workload"] for i in both.recommendation["items"]}) == 2  # serving and fine-tuning


def test_a_full_question_with_its_own_budget_is_not_an_added_workload(lex: Lexicon) -> None:
    prev = parse_question(PLAN, lex, today=TODAY)
    parsed = apply_followup(prev, "Also: train a 13B model on 260B tokens in 30 days, budget $2M, buyer in Japan", lex,
                            today=TODAY)
    assert parsed.request.extra_workloads is None and parsed.request.buyer_country == "JP"

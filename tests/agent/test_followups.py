"""Follow-ups and phrasing a planner uses (issue 20 item 2), English and Chinese, alone and inside a session.

Each rule is tested by its behaviour on the parsed request (what the next tool call will get), not by the sentence:
several phrasings per rule, both languages, and the same rule inside a conversation through the agent.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from service.agent import requests as build
from service.agent.chat import Agent
from service.agent.compose import Composer, changes
from service.agent.parse import Lexicon, ParsedQuestion, apply_followup, parse_question
from tests.agent.conftest import TODAY

EN_PLAN = "Train a 70B model on 1.4T tokens in 60 days for a buyer in Germany on 2025-03-01, budget $30M"
ZH_PLAN = "预算5000万元，训练一个700亿参数的模型"


def talk(lex: Lexicon, *messages: str) -> ParsedQuestion:
    parsed = parse_question(messages[0], lex, today=TODAY)
    for m in messages[1:]:
        parsed = apply_followup(parsed, m, lex, today=TODAY)
    return parsed


# ---- a part becomes unavailable ------------------------------------------------------------------


@pytest.mark.parametrize(("first", "follow", "sku"), [
    (EN_PLAN, "What if the H20 licence is revoked?", "h20"),
    (EN_PLAN, "What if the H100 is no longer available?", "h100-sxm"),
    (EN_PLAN, "and if we can't buy the H200 anymore?", "h200"),
    (ZH_PLAN, "如果H20的许可被撤销呢？", "h20"),
    (ZH_PLAN, "要是H20断供怎么办？", "h20"),
    (EN_PLAN, "Suppose NVIDIA stops selling the H200 to us", "h200"),
    (EN_PLAN, "what if the H20 licence gets pulled?", "h20"),
    (ZH_PLAN, "万一H20被禁了呢？", "h20"),
])
def test_a_revoked_part_is_a_whatif_on_the_previous_request(lex: Lexicon, first: str, follow: str, sku: str) -> None:
    before = parse_question(first, lex, today=TODAY)
    after = apply_followup(before, follow, lex, today=TODAY)
    assert after.intent == "whatif"
    assert after.whatif is not None and after.whatif.remove_skus == [sku] and not after.whatif.price_changes
    # the previous request stands, and the removed part is the scenario, not "use only that part"
    assert after.request.skus is None
    for name in ("params", "budget", "currency", "buyer_country", "date", "workload"):
        assert getattr(after.request, name) == getattr(before.request, name), name


# ---- a price changes ------------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "follow", "change"), [
    (ZH_PLAN, "如果H20降价20%呢？", {"h20": -0.2}),
    (ZH_PLAN, "假如H20涨价10%呢", {"h20": 0.1}),
    (EN_PLAN, "what if the H200 gets 15% cheaper", {"h200": -0.15}),
    (EN_PLAN, "What if the H100 price rises by 25%?", {"h100-sxm": 0.25}),
    (EN_PLAN, "what if the H20 is 20% off?", {"h20": -0.2}),
    (ZH_PLAN, "H20便宜三成的话呢？", {"h20": -0.3}),
    (ZH_PLAN, "H20打八折的话呢？", {"h20": -0.2}),
    (ZH_PLAN, "假如H20价格下降百分之十五", {"h20": -0.15}),
])
def test_a_price_change_is_a_whatif_on_the_previous_request(lex: Lexicon, first: str, follow: str,
                                                            change: dict[str, float]) -> None:
    before = parse_question(first, lex, today=TODAY)
    after = apply_followup(before, follow, lex, today=TODAY)
    assert after.intent == "whatif"
    assert after.whatif is not None and after.whatif.price_changes == pytest.approx(change)
    assert after.request.budget == before.request.budget and after.request.skus is None


# ---- is a part allowed for the conversation's buyer ------------------------------------------------


@pytest.mark.parametrize(("follow", "sku"), [
    ("Is the H200 allowed for them?", "h200"),
    ("Can they buy the H20?", "h20"),
    ("Is the MI308X export-controlled for this buyer?", "mi308x"),
])
def test_compliance_follow_up_uses_the_sessions_buyer_country_and_date_en(lex: Lexicon, follow: str,
                                                                           sku: str) -> None:
    after = talk(lex, EN_PLAN, follow)
    assert after.intent == "compliance"
    assert after.request.skus == [sku]
    assert after.request.buyer_country == "DE" and str(after.request.date) == "2025-03-01"


@pytest.mark.parametrize(("follow", "sku"), [("H20允许他们买吗？", "h20"), ("他们能买H200吗？", "h200")])
def test_compliance_follow_up_uses_the_sessions_buyer_zh(lex: Lexicon, follow: str, sku: str) -> None:
    first = "2025年5月1日，一家德国公司预算5000万元训练700亿参数的模型"
    after = talk(lex, first, follow)
    assert after.intent == "compliance" and after.request.skus == [sku]
    assert after.request.buyer_country == "DE" and str(after.request.date) == "2025-05-01"


def test_after_a_compliance_follow_up_the_plan_can_be_edited_again(lex: Lexicon) -> None:
    after = talk(lex, EN_PLAN, "Is the H200 allowed for them?", "what if the budget doubles?")
    assert after.intent == "whatif" and after.request.budget == 60e6
    assert after.request.skus is None  # the part asked about never became a restriction of the plan


# ---- latency limits ------------------------------------------------------------------------------


@pytest.mark.parametrize(("q", "ttft", "tpot"), [
    ("Serve Llama-3-70B at 50 requests per second with time to first token under 0.8 s and under 40 ms per "
     "output token", 0.8, 0.04),
    ("Serve a 70B model at 20 req/s, TTFT 500 ms, TPOT 30 ms", 0.5, 0.03),
    ("部署Qwen2.5-72B推理，每秒100个请求，首字延迟2秒以内，每个输出token 50毫秒以内", 2.0, 0.05),
    ("推理服务 700亿参数模型 每秒30个请求，首token延迟不超过1.5秒", 1.5, None),
])
def test_latency_limits_reach_the_flat_request_and_the_serving_sizing(lex: Lexicon, q: str, ttft: float,
                                                                      tpot: float | None) -> None:
    parsed = parse_question(q, lex, today=TODAY)
    assert parsed.intent == "recommend" and parsed.request.workload == "inference"
    assert parsed.request.ttft_s == pytest.approx(ttft)
    assert parsed.request.tpot_s == (pytest.approx(tpot) if tpot is not None else None)
    assert parsed.request.budget is None  # "40 ms" / "50毫秒" is never read as money or a rate
    work = build.purchase_request(parsed.request).workloads[0]
    assert work.ttft_s == pytest.approx(ttft)  # type: ignore[union-attr]
    if tpot is not None:
        assert work.tpot_s == pytest.approx(tpot)  # type: ignore[union-attr]
    assert build.inference_request(parsed.request, "h20").ttft_s == pytest.approx(ttft)


def test_a_latency_follow_up_edits_the_serving_request(lex: Lexicon) -> None:
    after = talk(lex, "Serve a 70B model at 20 requests per second", "what if time to first token must be under 1 s?")
    assert after.intent == "whatif" and after.request.ttft_s == 1.0 and after.request.requests_per_s == 20


# ---- currency follows the buyer ------------------------------------------------------------------


@pytest.mark.parametrize(("q", "currency"), [
    ("Train a 70B model in 60 days for a buyer in the UAE", "USD"),
    ("Train a 70B model in 60 days for a German buyer", "USD"),
    ("Train a 70B model in 60 days for a buyer in the UAE, budget ¥300M", "CNY"),  # a named currency wins
    ("Train a 70B model in 60 days for a buyer in China", "CNY"),
    ("为阿联酋买家在60天内训练一个700亿参数的模型", "CNY"),  # asked in Chinese
])
def test_currency_follows_the_buyer_and_is_stated(lex: Lexicon, q: str, currency: str) -> None:
    parsed = parse_question(q, lex, today=TODAY)
    assert parsed.request.currency == currency
    if "currency" not in parsed.stated:
        assert any(a.field == "currency" and a.value == currency for a in parsed.assumptions)
    assert build.purchase_request(parsed.request).report_currency == currency


@pytest.mark.parametrize("q", ["Train a 70B model in 90 days with a budget of €40M for a French buyer",
                               "Train a 70B model in 90 days, budget 40 million euros",
                               "预算4000万欧元，90天内训练一个700亿参数的模型"])
def test_a_budget_in_another_currency_is_asked_again_never_read_as_yuan_or_dollars(lex: Lexicon, q: str) -> None:
    parsed = parse_question(q, lex, today=TODAY)
    assert parsed.intent == "clarify" and "currency" in parsed.missing and parsed.request.budget is None


@pytest.mark.parametrize("follow", ["换成美元", "in dollars", "show it in USD"])
def test_switching_currency_converts_the_budget_and_prints_the_old_one_in_its_own(lex: Lexicon,
                                                                                 follow: str) -> None:
    rate = lex.cny_per_usd
    assert rate
    after = talk(lex, "Train a 70B model in 60 days, budget ¥50M", follow)
    assert after.request.currency == "USD" and after.request.budget == pytest.approx(50e6 / rate)
    assert after.request.buyer_country == "CN"  # the buyer did not move
    c = Composer(after.language)
    changes(c, after.changes, after.request.currency)
    line = c.lines[0]
    old, new = re.findall(r"([¥$])([\d,.]+)(M|万|亿)", line)[:2]  # ¥50M → $6.96M (¥5,000万 → $696万)
    scale = {"M": 1e6, "万": 1e4, "亿": 1e8}
    assert old[0] == "¥" and float(old[1].replace(",", "")) * scale[old[2]] == pytest.approx(50e6, rel=0.01)
    assert new[0] == "$" and float(new[1].replace(",", "")) * scale[new[2]] == pytest.approx(50e6 / rate, rel=0.01)


@pytest.mark.parametrize("follow", ["and in Japanese yen?", "show it in euros", "换成日元呢？", "用港币表示"])
def test_switching_to_a_currency_the_catalog_does_not_price_in_asks_and_keeps_the_buyer(lex: Lexicon,
                                                                                    follow: str) -> None:
    after = talk(lex, "Train a 34B model on 800B tokens within 90 days, budget $12M, buyer in Singapore", follow)
    assert after.intent == "clarify" and "currency" in after.missing
    assert after.request.buyer_country == "SG" and after.request.budget == 12e6  # "Japanese yen" is no buyer


@pytest.mark.parametrize(("q", "country"), [("Train a 13B model on 300B tokens, budget S$5M, buyer in Singapore", "SG"),
                                            ("Train a 13B model, budget 40 million Hong Kong dollars", None),
                                            ("预算5000万新加坡元，训练一个130亿参数模型", None)])
def test_dollars_that_are_not_us_dollars_are_asked_again(lex: Lexicon, q: str, country: str | None) -> None:
    parsed = parse_question(q, lex, today=TODAY)
    assert parsed.intent == "clarify" and "currency" in parsed.missing and parsed.request.budget is None
    if country:
        assert parsed.request.buyer_country == country


def test_a_demonym_before_a_noun_is_still_the_buyer(lex: Lexicon) -> None:
    parsed = parse_question("We are a Japanese lab: budget $10M to train a 13B model on 300B tokens", lex, today=TODAY)
    assert parsed.request.buyer_country == "JP" and parsed.request.budget == 10e6
    us = parse_question("Train a 13B model on 300B tokens, budget US$5M, buyer in Singapore", lex, today=TODAY)
    assert us.intent == "recommend" and us.request.currency == "USD" and us.request.budget == 5e6


# ---- vague questions and comparisons ----------------------------------------------------------------


@pytest.mark.parametrize("q", ["买什么卡好？", "which GPU should I buy?", "What accelerators should we buy?",
                               "推荐一下什么卡", "选哪款芯片比较好？"])
def test_a_vague_buying_question_gets_a_clarifying_question(lex: Lexicon, q: str) -> None:
    parsed = parse_question(q, lex, today=TODAY)
    assert parsed.intent == "clarify"
    assert {"workload", "params", "budget", "buyer_country"} <= set(parsed.missing)


@pytest.mark.parametrize("q", ["Compare the H20 and the Ascend 910C for training a 70B model",
                               "H20和昇腾910C训练700亿参数模型哪个好？"])
def test_a_comparison_states_its_deadline_and_tokens(lex: Lexicon, q: str) -> None:
    parsed = parse_question(q, lex, today=TODAY)
    assert parsed.intent == "compare"
    stated = {a.field: a.value for a in parsed.assumptions}
    assert stated["deadline_days"] == 90.0 and stated["tokens"] == 1.4e12


# ---- through the agent, in a session -----------------------------------------------------------------


def _consumer(agent: Agent, sku: str) -> bool:
    return not agent.backend.ctx.domain.catalog.accelerators[agent.backend.ctx.domain.catalog.resolve(sku)].datacenter


@pytest.mark.parametrize(("first", "follow"), [
    ("Best cluster for 70B training under budget ¥50M", "What if the H20 licence is revoked?"),
    ("预算5000万元，训练70B模型的最佳集群？", "如果H20的许可被撤销呢？"),
])
def test_session_whatif_removes_the_part_and_keeps_the_policy(agent: Agent, first: str, follow: str) -> None:
    a = agent.ask(first)
    b = agent.ask(follow, session_id=a.session_id)
    assert b.intent == "whatif" and b.grounding.ok
    assert b.recommendation is not None and b.recommendation["items"]
    chosen = [i["sku"] for i in b.recommendation["items"]]
    assert "h20" not in chosen
    assert not any(_consumer(agent, s) for s in chosen)  # README example: never 448 × RTX 4090D
    considered = [o["sku"] for o in b.recommendation["considered"] if o["status"] not in ("excluded",)]
    assert not any(_consumer(agent, s) for s in considered)


def test_usecase_whatif_without_named_parts_never_names_consumer_cards(agent: Agent) -> None:
    parsed = parse_question("Best cluster for 70B training under budget ¥50M", agent.backend.lexicon(), today=TODAY)
    backend = agent.backend
    result = backend.what_if(build.purchase_request(parsed.request), backend.whatif_change(["h20"], {}))
    for plan in (result.base, result.changed):
        assert not any(_consumer(agent, i.sku) for i in plan.items)
    assert "h20" not in [i.sku for i in result.changed.items]


def test_session_compliance_follow_up_answers_for_the_buyer(agent: Agent) -> None:
    a = agent.ask(EN_PLAN)
    b = agent.ask("Is the H200 allowed for them?", session_id=a.session_id)
    assert b.intent == "compliance" and b.grounding.ok
    checks = b.details["compliance"]
    assert [c["sku"] for c in checks] == ["h200"]
    assert checks[0]["buyer_country"] == "DE" and checks[0]["date"] == "2025-03-01"
    assert "Germany" in b.answer


def test_session_price_whatif_zh(agent: Agent) -> None:
    a = agent.ask(ZH_PLAN)
    b = agent.ask("如果H20降价20%呢？", session_id=a.session_id)
    assert b.intent == "whatif" and b.grounding.ok
    assert [c.name for c in b.tool_calls].count("what_if") == 1
    head = b.answer.split("**方案**")[0]  # the scenario, its effect and the break-even prices, all in Chinese
    assert "价格下降 20%" in head
    assert not re.search(r"\b(?:price|chosen|would|cost|time|days)\b", head), head


# ---- the buyer's own name: entity screening ------------------------------------------------------------


@pytest.mark.parametrize(("q", "name"), [
    ("we are Sophgo, can we buy the H20?", "Sophgo"),
    ("We're Sophgo Technologies Ltd. Is the H20 allowed for us?", "Sophgo Technologies Ltd"),
    ("Our company is Zhipu AI. Is the H200 allowed on 2025-05-01?", "Zhipu AI"),
    ("我们是算能，能买H20吗？", "算能"),
    ("我司是智谱华章，可以采购H20吗", "智谱华章"),
])
def test_a_named_buyer_is_read(lex: Lexicon, q: str, name: str) -> None:
    parsed = parse_question(q, lex, today=TODAY)
    assert parsed.intent == "compliance" and parsed.request.buyer_name == name


@pytest.mark.parametrize("q", ["We are a Chinese startup, can we buy the H20?", "我们是一家国企，能买H20吗？",
                               "we are planning to buy the H20, is it allowed?"])
def test_a_described_buyer_is_not_a_name(lex: Lexicon, q: str) -> None:
    assert parse_question(q, lex, today=TODAY).request.buyer_name is None


@pytest.mark.parametrize(("q", "listed"), [
    ("we are Sophgo, can we buy the H20?", True),
    ("我们是算能，能买H20吗？", True),
    ("we are Acme Robotics, can we buy the H20 on 2025-08-01?", False),
])
def test_a_named_buyer_is_screened_against_the_entity_list(agent: Agent, q: str, listed: bool) -> None:
    r = agent.ask(q)
    assert r.intent == "compliance" and r.grounding.ok
    check = r.details["compliance"][0]
    entity = [rule for rule in check["rules"] if "entity-list" in rule["rule_id"]]
    assert bool(entity) == listed
    if listed:
        assert check["verdict"] == "prohibited"
        assert ("Entity List" in r.answer) or ("实体清单" in r.answer)
    assert any(c.name == "check_compliance" and c.args.get("buyer_name") for c in r.tool_calls)


def test_the_buyer_name_stays_in_the_session(agent: Agent) -> None:
    a = agent.ask("We are Sophgo. Best cluster for 70B training under budget ¥50M")
    assert a.request.get("buyer_name") == "Sophgo"
    b = agent.ask("Is the H20 allowed for us?", session_id=a.session_id)
    assert b.intent == "compliance" and b.details["compliance"][0]["verdict"] == "prohibited"


@pytest.mark.parametrize(("messages", "change"), [
    ((EN_PLAN, "what if we lose access to the H20?", "what if it were 30% cheaper instead?"), {"h20": -0.3}),
    ((ZH_PLAN, "如果H20的许可被撤销呢？", "如果它降价两成呢？"), {"h20": -0.2}),
])
def test_a_scenario_about_it_is_about_the_part_named_before(lex: Lexicon, messages: tuple[str, ...],
                                                            change: dict[str, float]) -> None:
    second = talk(lex, *messages[:2])
    assert second.whatif is not None and second.whatif.remove_skus == list(change)
    third = talk(lex, *messages)
    assert third.intent == "whatif" and third.whatif is not None
    assert third.whatif.price_changes == pytest.approx(change) and not third.whatif.remove_skus


def test_the_named_buyer_reaches_the_plans_buyer(lex: Lexicon) -> None:
    parsed = parse_question("We are Sophgo. Best cluster for 70B training under budget ¥50M", lex, today=TODAY)
    assert build.purchase_request(parsed.request).buyer.name == "Sophgo"  # screened in the plan as well


@pytest.mark.parametrize(("first", "follow"), [
    ("Estimate how long 512 H800 take to train a 13B model on 300B tokens", "with 1024 instead?"),
    ("用512张H800训练一个130亿参数的模型，3000亿token，需要多久？", "用1024张呢？"),
])
def test_an_estimate_follow_up_changes_the_count(lex: Lexicon, first: str, follow: str) -> None:
    after = talk(lex, first, follow)
    assert after.intent == "estimate" and after.request.count == 1024 and after.request.skus == ["h800"]


@pytest.mark.parametrize(("asked", "follow"), [("is the H100 allowed for us?", "and the H200?"),
                                               ("H100可以买吗？", "那H200呢？")])
def test_naming_another_part_after_a_compliance_answer_asks_about_that_part(lex: Lexicon, asked: str,
                                                                            follow: str) -> None:
    after = talk(lex, "We're a lab in the UAE: train a 7B model on 1T tokens in 45 days", asked, follow)
    assert after.intent == "compliance" and after.request.skus == ["h200"]
    assert after.request.buyer_country == "AE" and after.request.params == 7e9  # the plan is still there
    edited = talk(lex, "We're a lab in the UAE: train a 7B model on 1T tokens in 45 days", asked,
                  "what if the deadline were 90 days?")
    assert edited.intent == "whatif" and not edited.request.skus  # the asked-about part never restricts the plan


@pytest.mark.parametrize("q", ["What's the throughput of 8 H100s serving Llama 3 70B?",
                               "8张H100部署Llama 3 70B的吞吐是多少？"])
def test_the_throughput_of_a_given_count_is_an_estimate_without_a_rate(agent: Agent, q: str) -> None:
    r = agent.ask(q)
    assert r.intent == "estimate" and r.request["count"] == 8 and r.request["workload"] == "inference"
    est = r.details["estimates"][0]
    assert est["accelerator"] == "h100-sxm" and est["accelerators"] == 8 and est["status"] == "ok", est
    assert est["output_tokens_per_s_per_accelerator"] > 0 and est["replicas"] >= 1
    assert ("8 accelerators" in r.answer or "8 张" in r.answer), r.answer


@pytest.mark.parametrize("name", ["clarify_example", "clarify_example_inference"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_examples_a_clarifying_question_gives_are_complete_questions(lex: Lexicon, name: str, lang: str) -> None:
    example = Composer(lang).t(name)  # type: ignore[arg-type]
    parsed = parse_question(example, lex, today=TODAY)
    assert parsed.intent == "recommend" and not parsed.missing, (example, parsed.missing)
    assert (parsed.request.workload == "inference") == name.endswith("inference")


def test_a_serving_question_without_a_rate_gets_a_serving_example(agent: Agent) -> None:
    r = agent.ask("I need to serve DeepSeek-V3 for a chatbot in Malaysia. What should I buy?")
    assert r.intent == "clarify" and "requests_per_s" in r.missing
    assert "requests per second" in r.answer and "Train a 70B" not in r.answer


@pytest.mark.parametrize(("follow", "day"), [("如果是9月1日采购呢？", dt.date(2025, 9, 1)),
                                             ("what if we buy on Sept 1?", dt.date(2025, 9, 1)),
                                             ("and on 15 March?", dt.date(2026, 3, 15)),
                                             ("如果7月1号呢？", dt.date(2026, 7, 1))])
def test_a_date_without_a_year_is_the_next_such_day_and_never_a_duration(lex: Lexicon, follow: str,
                                                                          day: dt.date) -> None:
    after = talk(lex, "预算五千万，想在三个月内训完一个700亿的模型，买什么？", follow)  # TODAY is 2025-08-01
    assert after.intent == "whatif" and after.request.date == day
    assert after.request.deadline_days == 90  # "9月" is September here, not nine months


@pytest.mark.parametrize("follow", ["and if latency must be under 500 ms to first token?",
                                    "what if the first token must arrive within 500 ms?"])
def test_first_token_phrasings_set_the_ttft_limit(lex: Lexicon, follow: str) -> None:
    after = talk(lex, "Serve Qwen2.5-7B at 200 qps for a Korean buyer with a budget of $1M", follow)
    assert after.intent == "whatif" and after.request.ttft_s == 0.5 and after.request.buyer_country == "KR"


@pytest.mark.parametrize(("follow", "vendor"), [("what if export licences for all NVIDIA parts are revoked?", "nvidia"),
                                                ("如果英伟达的许可全部被撤销呢？", "nvidia"),
                                                ("what if AMD parts can no longer be bought?", "amd")])
def test_a_vendor_wide_revocation_takes_every_part_of_that_vendor_out(lex: Lexicon, follow: str, vendor: str) -> None:
    after = talk(lex, "Train a 70B model in 200 days for a buyer in China on 2025-09-01 with ¥80M", follow)
    assert after.intent == "whatif" and after.request.exclude_vendors == [vendor]
    assert after.request.budget == 80e6 and after.request.buyer_country == "CN"
    one = talk(lex, "Train a 70B model in 200 days for a buyer in China on 2025-09-01 with ¥80M",
               "what if the H20 licence is revoked?")
    assert one.whatif is not None and one.whatif.remove_skus == ["h20"] and not one.request.exclude_vendors


@pytest.mark.parametrize(("follow", "kept"), [("only AMD please", "amd"), ("只用华为的卡呢？", "huawei"),
                                              ("what about NVIDIA only?", "nvidia")])
def test_only_one_vendor_leaves_every_other_vendor_out(lex: Lexicon, follow: str, kept: str) -> None:
    after = talk(lex, "Train a 175B model on 3.5T tokens in 180 days with $150M, buyer in Saudi Arabia", follow)
    assert after.intent == "whatif" and after.request.exclude_vendors is not None
    assert set(after.request.exclude_vendors) == set(lex.vendors) - {kept}
    named = talk(lex, "Train a 175B model on 3.5T tokens in 180 days with $150M, buyer in Saudi Arabia",
                 "only the H100")
    assert named.request.skus == ["h100-sxm"] and not named.request.exclude_vendors  # a named part restricts itself


def test_cannot_buy_any_more_in_chinese_is_a_revocation(lex: Lexicon) -> None:
    after = talk(lex, "预算1500万元，100天内训练一个340亿参数的模型，用8000亿token", "如果H20不能买了呢？")
    assert after.intent == "whatif" and after.whatif is not None and after.whatif.remove_skus == ["h20"]
    assert not after.request.skus  # the part named leaves the plan; it does not become the only one

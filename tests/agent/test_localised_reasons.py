"""Reasons worded in the reader's language: the core's codes (``Why``) and their Chinese sentences."""

from __future__ import annotations

import datetime as dt
from typing import Any, get_args

import pytest

from optimizer.catalog import Catalog
from optimizer.compliance import ComplianceEngine
from optimizer.plan import PurchasePlan
from optimizer.reasons import Why, WhyCode
from optimizer.recommend import recommend
from optimizer.request import PurchaseRequest
from optimizer.table import EstimateCache
from service.agent.chat import Agent
from service.presenters.reasons import OUTLOOK_ZH, reason_text
from service.usecases import OUTLOOK_TEXT

# English fragments of the core's reason sentences that a Chinese answer must no longer carry.
ENGLISH = ("prohibited for", "held back unless", "consumer card", "relies on HBM", "today's date",
           "the question is in", "not yet shipping", "licence required", "license_required", "risk premium",
           "tokens per parameter")


@pytest.fixture(scope="module")
def cache() -> EstimateCache:
    return EstimateCache()


def _plan(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache, country: str, date: str,
          budget: str = "¥5000万") -> PurchasePlan:
    req: dict[str, Any] = {"workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T"}],
                           "buyer": {"country": country, "date": date}, "budget": {"amount": budget}}
    return recommend(catalog, engine, PurchaseRequest.model_validate(req), cache=cache, time_limit_s=5.0)


def test_the_core_codes_its_reasons(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache) -> None:
    plan = _plan(catalog, engine, cache, "CN", "2026-11-30")
    rows = {r.sku: r for r in plan.considered}
    assert rows["h800"].why == Why(code="prohibited", args={"country": "CN", "date": "2026-11-30",
                                                            "classification": "3A090.a",
                                                            "outlook": "denial_presumed"})
    assert rows["h200"].why == Why(code="licence_held_back", args={"outlook": "case_by_case"})
    # the H20 is not for sale after NVIDIA stopped production (2025-08-22, facts.md U2): its licensed row is checked
    # in the week between the licences (2025-08-11) and the halt
    licensed = {r.sku: r for r in _plan(catalog, engine, cache, "CN", "2025-08-15").considered}
    h20 = licensed["h20"]  # admitted: granted licences, 5% premium, 15% revenue share
    assert h20.why == Why(code="verdict", args={"verdict": "license_required", "outlook": "granted",
                                                "premium": "5%", "fees": "15%"})
    assert h20.reason == "license_required (granted), risk premium 5%, fees 15%"  # the stable English is kept
    consumer = next(e for e in plan.excluded if e.sku == "rtx-4090d")
    assert consumer.why is not None and consumer.why.code == "consumer_card"
    unpriced = next(e for e in plan.excluded if e.sku == "gaudi2")
    assert unpriced.why == Why(code="no_price", args={"sku": "gaudi2"}) and unpriced.category == "price"
    early = _plan(catalog, engine, cache, "CN", "2024-12-15")
    c910 = next(r for r in early.considered if r.sku == "ascend-910c")
    assert c910.why is not None and c910.why.code == "not_shipping" and c910.why.args["from"] == "2025-05"
    assert c910.why.args["date"] == "2024-12-15"


def test_chinese_sentences_by_hand() -> None:
    def zh(code: str, **args: str) -> str:
        return reason_text(Why(code=code, args=args), "english", "zh")  # type: ignore[arg-type]

    assert zh("prohibited", country="CN", date="2026-11-30", classification="3A090.a",
              outlook="denial_presumed") == "2026-11-30 对中国买方禁售（3A090.a；推定拒绝）"
    assert zh("not_shipping", date="2024-12-15", **{"from": "2025-05"}, announced="2024-11") == \
        "2024-12-15 尚未批量出货（2024-11 发布，2025-05 起批量出货）"
    assert zh("not_for_sale", country="CN", date="2025-05-01", start="2025-04", end="2025-07") == \
        "2025-05-01 不对中国买方销售（自 2025-04 起至 2025-07）"
    assert zh("licence_held_back", outlook="case_by_case") == \
        "需要许可证（逐案审查）；除非买方接受许可风险（--accept-license-risk），否则暂不采用"
    assert zh("verdict", verdict="license_required", outlook="granted", premium="5%", fees="15%") == \
        "需要许可证（已获批），风险溢价 5%，费用 15%"
    assert zh("verdict", verdict="allowed", outlook="", premium="", fees="") == "允许"
    assert zh("hbm_supply", name="Huawei Ascend 910C", density="2.0").startswith("Huawei Ascend 910C 依赖 HBM")
    # English keeps the core's sentence, except the terse verdict line; no code keeps the fallback; JSON dicts work.
    assert reason_text(Why(code="prohibited", args={}), "prohibited for CN", "en") == "prohibited for CN"
    assert reason_text(Why(code="verdict", args={"verdict": "license_required", "outlook": "case_by_case",
                                                 "premium": "10%", "fees": ""}), "x", "en") == \
        "licence required (case by case), risk premium 10%"
    assert reason_text(None, "estimator message", "zh") == "estimator message"
    # A client-sent plan may carry a code without its values (the page and the memo take plans in): its own sentence.
    assert reason_text({"code": "verdict", "args": {}}, "as sent", "en") == "as sent"
    assert reason_text({"code": "prohibited", "args": {"date": "2026-01-01"}}, "as sent", "zh") == "as sent"
    assert reason_text({"code": "supply_zero", "args": {"sku": "h20"}}, "x", "zh") == "h20 的供应上限为 0"
    assert zh("no_price", sku="gaudi2") == "gaudi2 没有有来源的价格；可用 --catalog 补充价格后再计算"
    assert set(OUTLOOK_ZH) == set(OUTLOOK_TEXT)  # every outlook the core can give has a Chinese text


def test_the_chinese_headline_answer_stays_in_chinese(backend: Any) -> None:
    agent = Agent(backend, today=dt.date(2026, 11, 30))
    result = agent.ask("预算5000万元，训练70B模型的最佳集群是什么？")
    answer = result.answer.split("引用来源")[0]  # cited titles are the sources' own
    assert result.grounding.ok and "910C" in answer
    for fragment in ENGLISH:
        assert fragment not in answer, fragment
    # at most five reasons: the closest alternatives (held back by policy) come before the prohibited parts
    assert "否则暂不采用" in answer and "今天的日期" in answer
    english = agent.ask("Best cluster for 70B training under budget ¥50M")
    assert "held back unless" in english.answer  # the core's English sentence (the H20's licensed row is gone: U2)


SAMPLE_ARGS: dict[str, dict[str, str]] = {
    "prohibited": {"country": "RU", "date": "2026-01-01", "classification": "EAR99", "outlook": ""},
    "not_shipping": {"date": "2024-01-01", "from": "2024-06", "announced": ""},
    "not_for_sale": {"country": "CN", "date": "2025-05-01", "start": "2025-04", "end": ""},
    "not_released": {"date": "2022-01-01", "released": "2022-03"},
    "consumer_card": {"name": "RTX 4090"},
    "supply_zero": {"sku": "h20"},
    "licence_held_back": {"outlook": ""},
    "licence_excluded": {"outlook": "case_by_case"},
    "vendor_not_allowed": {"vendor": "nvidia"},
    "vendor_denied": {"vendor": "amd"},
    "restricted": {"rule": "cn-2025-11-state-funded-dc"},
    "verdict": {"verdict": "prohibited", "outlook": "", "premium": "", "fees": ""},
    "hbm_supply": {"name": "Ascend 910B", "density": "2.0"},
    "no_price": {"sku": "mlu590"},
    "screening_possible": {"who": "buyer", "given": "上海壁仞智", "entity": "Biren Technology",
                           "matched": "上海壁仞科技股份有限公司", "score": "0.96", "listed_on": "2023-10-17",
                           "notice": "88 FR 71991"},
}


@pytest.mark.parametrize("code", get_args(WhyCode))
def test_every_code_has_a_chinese_sentence(code: str) -> None:
    text = reason_text(Why(code=code, args=SAMPLE_ARGS[code]), "ENGLISH", "zh")  # type: ignore[arg-type]
    assert text != "ENGLISH" and not any(w in text for w in ("prohibited", "licence", "outlook", "{", "}"))
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)  # written in Chinese

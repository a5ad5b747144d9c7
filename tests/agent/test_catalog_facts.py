"""A part's price and figures in chat come from the catalog tool of the same turn, with date, grade and sources.

Before, "What's the price of an H200?" returned corpus passages about other parts, and "想买100张H200，要多少钱？"
gave only the export verdict.
"""

from __future__ import annotations

import pytest

from service.agent.backend import Backend
from service.agent.chat import Agent
from service.presenters.numbers import money


def _price(backend: Backend, sku: str) -> tuple[dict, int]:  # type: ignore[type-arg]
    entry = dict(backend.catalog_entry(sku))
    acc = entry["accelerator"]
    if acc["price"]:
        return acc["price"], 1
    node = next(n for n in entry["nodes"] if n["price"])
    return node["price"], node["accelerators_per_node"]


@pytest.mark.parametrize("sku", ["h200", "h20", "mi300x", "ascend-910c"])
def test_the_price_question_gets_the_catalogs_price_per_accelerator(agent: Agent, backend: Backend, sku: str) -> None:
    name = backend.accelerator_name(sku)
    result = agent.ask(f"What's the price of the {sku.upper()}?")
    assert result.grounding.ok, result.answer
    price, per = _price(backend, sku)
    each = money(price["base"] / per, price["currency"], "en")
    assert result.answer.startswith(f"**{name}**: {each} per accelerator"), result.answer
    spread = price["low"] != price["high"]  # a range only when the sources give one
    assert (", range " in result.answer.splitlines()[0]) is spread
    assert f"grade {price['grade']}" in result.answer and "Figures: " in result.answer


def test_a_part_without_a_sourced_price_says_so(agent: Agent) -> None:
    result = agent.ask("How much does a Cambricon MLU590 cost?")
    assert result.answer.startswith("**Cambricon MLU590 (思元590)**: the catalog has no sourced price.")
    assert "$" not in result.answer.split("\n")[0] and result.grounding.ok


def test_a_count_is_priced_in_whole_units_with_the_verdict_first(agent: Agent, backend: Backend) -> None:
    result = agent.ask("2026年12月1日，我们公司在上海，想买100张H200，要多少钱？")
    assert result.intent == "compliance" and result.grounding.ok
    price, per = _price(backend, "h200")
    rate = backend.lexicon().cny_per_usd or 1.0
    k = rate if price["currency"] == "USD" else 1.0  # shown in yuan for a Chinese question
    total = money(k * -(-100 // per) * price["base"], "CNY", "zh")
    lines = result.answer.splitlines()
    verdict = next(i for i, line in enumerate(lines) if "**需要许可证**" in line)
    priced = next(i for i, line in enumerate(lines) if f"100 张 NVIDIA H200 SXM 约 {total}" in line)
    assert verdict < priced


def test_a_comparison_of_prices_names_both(agent: Agent) -> None:
    result = agent.ask("H20和910B的价格分别是多少？")
    assert result.intent == "compare" and result.grounding.ok
    assert "**NVIDIA H20**：每张约" in result.answer and "**Huawei Ascend 910B**：每张约" in result.answer


def test_the_figures_line_shows_fp16_when_only_fp16_is_published(agent: Agent, backend: Backend) -> None:
    dense = dict(backend.catalog_entry("ascend-910b"))["accelerator"]["dense"]
    assert dense["bf16"]["value"] is None and dense["fp16"]["value"] is not None  # the catalog's own record
    result = agent.ask("What are the specs of the Ascend 910B?")
    assert f"FP16 {dense['fp16']['value']:,.1f} TFLOPS" in result.answer and "BF16" not in result.answer

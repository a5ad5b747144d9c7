"""One way to say a number: the presenter writes money and sizes in the reader's notation, and reads them back.

The chat's grounding check reads answers with the same notation reader, so every figure the presenter writes
traces to the value it was written from.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.agent.grounding import Evidence, check
from service.presenters import numbers
from service.presenters.numbers import money, read_amount, read_amounts, size, written_tolerance
from service.presenters.relaxations import describe
from service.presenters.text import fmt_money
from service.usecases import Relaxation

GOLDEN = [
    (48_199_337, "CNY", "en", "¥48.2M"),
    (46_133_038, "CNY", "en", "¥46.13M"),
    (46_133_038, "CNY", "zh", "¥4,613万"),
    (48_199_337, "CNY", "zh", "¥4,820万"),
    (147_000_000, "CNY", "zh", "¥1.47亿"),
    (147_000_000, "CNY", "en", "¥147M"),
    (7_000_000, "USD", "en", "$7M"),
    (7_000_000, "USD", "zh", "$700万"),
    (1_250_000_000, "USD", "en", "$1.25B"),
    (482_000, "CNY", "zh", "¥48.2万"),
    (82_345, "CNY", "zh", "¥8.23万"),
    (82_345, "CNY", "en", "¥82.3K"),
    (950_000, "USD", "en", "$950K"),
    (640, "USD", "en", "$640"),
    (999_996, "USD", "en", "$1M"),  # rounds up into the next step, never "$1,000K"
    (99_999_999.6, "CNY", "zh", "¥1亿"),
    (7_500_000, "EUR", "en", "EUR 7.5M"),
]


@pytest.mark.parametrize(("value", "currency", "lang", "text"), GOLDEN)
def test_golden_strings(value: float, currency: str, lang: str, text: str) -> None:
    assert money(value, currency, lang) == text  # type: ignore[arg-type]
    assert fmt_money(value, currency, lang) == text  # type: ignore[arg-type]  # the old name writes the same


def test_signs_unknowns_and_sizes() -> None:
    assert money(-3_330_000, "CNY", "en") == "-¥3.33M"
    assert money(3_330_000, "CNY", "en", signed=True) == "+¥3.33M"
    assert money(None, "CNY") == money(math.inf, "CNY") == "—"
    assert (size(70e9), size(70e9, "zh"), size(1.4e12), size(1.4e12, "zh")) == ("70B", "700亿", "1.4T", "1.4万亿")
    assert numbers.count(12_345.4) == "12,345" and numbers.days(163.4, "zh") == "163 天"


@pytest.mark.parametrize("tiny", [2.225073858507203e-309, 5e-324, 1e-12])
def test_tiny_and_subnormal_amounts_read_as_zero_not_an_overflow(tiny: float) -> None:
    # schemathesis sent a plan with total_cost_low = 2.2e-309: three significant figures asked for 311 decimals
    for lang in ("en", "zh"):
        for rounding in ("nearest", "up", "down"):
            text = money(tiny, "CNY", lang, rounding=rounding)  # type: ignore[arg-type]
            assert text in {"¥0", "¥0.00000001"}, text
    assert money(0.000123, "USD") == "$0.000123"


def test_rounding_up_never_reads_lower_than_the_value() -> None:
    assert money(302_342_000, "CNY", "en", rounding="up") == "¥302.35M"
    assert money(302_342_000, "CNY", "zh", rounding="up") == "¥3.03亿"
    b = Relaxation(kind="budget", constraint="budget", feasible=True, verified=True, field="budget.amount",
                   current=1e7, value=302_342_000.0, unit="CNY")
    assert describe(b) == "budget must be at least ¥302.35M (now ¥10M)"
    assert describe(b, "zh") == "预算至少需要 ¥3.03亿（当前 ¥1,000万）"


def test_read_amount_knows_symbols_codes_and_words() -> None:
    assert read_amount("¥4,820万") == (48_200_000, "CNY")
    assert read_amount("EUR 7.5M") == (7_500_000, "EUR")
    assert read_amount("-$3.33M") == (-3_330_000, "USD")
    assert read_amount("50M CNY") == (50_000_000, "CNY")
    assert read_amount("5000万元") == (50_000_000, "CNY")
    assert read_amount("70B") == (70e9, None)
    assert read_amount("no figure here") is None
    assert read_amounts("RTX-6000 at $7M") == [(6000.0, None), (7_000_000.0, "USD")]  # a model number is no sign


amounts = st.floats(min_value=1.0, max_value=1e15, allow_nan=False, allow_infinity=False)
currencies = st.sampled_from(["CNY", "USD", "EUR", "AED"])
langs = st.sampled_from(["en", "zh"])


@settings(max_examples=400, deadline=None)
@given(value=amounts, currency=currencies, lang=langs, negative=st.booleans())
def test_money_reads_back_as_written(value: float, currency: str, lang: str, negative: bool) -> None:
    v = -value if negative else value
    text = money(v, currency, lang)  # type: ignore[arg-type]
    back = read_amount(text)
    assert back is not None, text
    amount, cur = back
    assert cur == currency
    assert abs(amount - v) <= written_tolerance(text) * 1.0001, (v, text, amount)


@settings(max_examples=200, deadline=None)
@given(value=amounts, currency=currencies, lang=langs)
def test_rounded_up_amounts_never_read_lower(value: float, currency: str, lang: str) -> None:
    text = money(value, currency, lang, rounding="up")  # type: ignore[arg-type]
    back = read_amount(text)
    assert back is not None and back[0] >= value * (1 - 1e-12), (value, text)


@settings(max_examples=200, deadline=None)
@given(value=st.floats(min_value=1e3, max_value=1e14, allow_nan=False), lang=langs)
def test_sizes_read_back_as_written(value: float, lang: str) -> None:
    text = size(value, lang)  # type: ignore[arg-type]
    back = read_amount(text)
    assert back is not None and back[1] is None
    assert abs(back[0] - value) <= written_tolerance(text) * 1.0001, (value, text)


@settings(max_examples=200, deadline=None)
@given(value=amounts, currency=st.sampled_from(["CNY", "USD"]), lang=langs)
def test_the_grounding_check_traces_what_the_presenter_writes(value: float, currency: str, lang: str) -> None:
    evidence = Evidence()
    evidence.add({"total_cost": value})
    sentence = (f"Total {money(value, currency, lang)}." if lang == "en"  # type: ignore[arg-type]
                else f"合计 {money(value, currency, lang)}。")  # type: ignore[arg-type]
    assert check(sentence, evidence).ok, sentence
    elsewhere = Evidence()
    elsewhere.add({"total_cost": value * 2})  # a figure far from the one written is not traced
    assert not check(sentence, elsewhere).ok, sentence

"""The flat request of `procure ask` becomes the optimizer's requests with the stated defaults, once, in usecases."""

from __future__ import annotations

import datetime as dt

from service import usecases


def test_training_defaults_are_stated_figures() -> None:
    req = usecases.flat_purchase_request({"params": 70e9, "budget": 5e7}, today=dt.date(2025, 8, 1))
    (w,) = req.workloads
    assert w.kind == "training" and w.tokens == 20 * 70e9  # TOKENS_PER_PARAM, compute-optimal
    assert (req.buyer.country, req.buyer.kind, req.buyer.date) == ("CN", "commercial", dt.date(2025, 8, 1))
    assert req.budget is not None and (req.budget.amount, req.budget.currency) == (5e7, "CNY")
    assert req.alternatives == 3 and req.skus is None


def test_the_buyer_s_currency_policy_and_parts_carry_over() -> None:
    req = usecases.flat_purchase_request({"params": 13e9, "tokens": 2e12, "deadline_days": 60, "budget": 8e6,
                                          "currency": "USD", "buyer_country": "AE", "exclude_vendors": ["nvidia"],
                                          "min_domestic_share": 0.5, "skus": ["h20", "ascend-910c"],
                                          "date": dt.date(2025, 5, 1)})
    assert req.budget is not None and req.budget.currency == "USD" and req.buyer.country == "AE"
    assert list(req.policy.vendor_deny) == ["nvidia"] and req.policy.min_domestic_share == 0.5
    assert list(req.skus or []) == ["h20", "ascend-910c"] and req.workloads[0].deadline_days == 60


def test_a_portfolio_and_serving_latency_targets() -> None:
    req = usecases.flat_purchase_request({
        "params": 13e9, "tokens": 2e12, "deadline_days": 60, "date": dt.date(2025, 8, 1),
        "extra_workloads": [{"workload": "inference", "params": 72e9, "requests_per_s": 500, "ttft": 0.8,
                             "tpot_s": 0.04}]})
    train, serve = req.workloads
    assert train.kind == "training" and serve.kind == "inference"
    assert (serve.requests_per_s, serve.ttft_s, serve.tpot_s) == (500, 0.8, 0.04)
    est = usecases.flat_inference_request({"params": 72e9, "requests_per_s": 20, "ttft": 2.0}, "h20")
    assert est.ttft_s == 2.0 and est.tpot_s == 0.10  # an unstated limit keeps the estimator's default


def test_estimate_defaults() -> None:
    sized = usecases.flat_training_request({"params": 7e9}, "h100")
    assert sized.tokens == 20 * 7e9 and sized.deadline_days == usecases.flat.DEFAULT_ESTIMATE_DEADLINE_DAYS
    counted = usecases.flat_training_request({"params": 7e9, "count": 64}, "h100")
    assert counted.count == 64 and counted.deadline_days is None
    assert usecases.flat_buyer({}, today=dt.date(2025, 1, 2)) == {
        "buyer_country": "CN", "date": dt.date(2025, 1, 2), "buyer_kind": "commercial", "headquarters_country": None}

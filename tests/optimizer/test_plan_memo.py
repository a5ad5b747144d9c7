"""The plan-search memo: estimates through it equal estimates without it, whatever tokens and deadlines vary."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.catalog import load_catalog
from optimizer.estimator import TrainingRequest, estimate_training
from optimizer.estimator.plan_search import PlanMemo
from optimizer.table import EstimateCache

CATALOG = load_catalog()
SKUS = ["h100-sxm", "h20", "ascend-910b", "mi300x"]
SIZE = st.one_of(st.integers(8, 1024).map(lambda n: ("count", n)),
                 st.floats(5, 900).map(lambda d: ("deadline_days", d)))


def _req(**kw: object) -> TrainingRequest:
    return TrainingRequest.model_validate({"params": 7e10, "tokens": 1e12, "accelerator": "h100-sxm", **kw})


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(sku=st.sampled_from(SKUS), params=st.sampled_from([7e9, 3.4e10, 7e10]),
       runs=st.lists(st.tuples(st.sampled_from([3e11, 1e12, 2e12]), SIZE), min_size=2, max_size=4))
def test_estimates_through_one_memo_equal_estimates_without_it(sku: str, params: float,
                                                               runs: list[tuple[float, tuple[str, float]]]) -> None:
    memo = PlanMemo()
    for tokens, (field, value) in runs:  # one memo across token counts, counts and deadlines
        req = _req(accelerator=sku, params=params, tokens=tokens, **{field: value})
        plain = estimate_training(CATALOG, req, ranged=False)
        assert estimate_training(CATALOG, req, ranged=False, plans=memo) == plain
        assert estimate_training(CATALOG, req, plans=memo) == estimate_training(CATALOG, req)  # ranged too


def test_the_memo_is_used_across_tokens_and_deadlines_and_keyed_on_what_the_search_reads() -> None:
    memo = PlanMemo()
    estimate_training(CATALOG, _req(count=64), ranged=False, plans=memo)
    assert (memo.misses, memo.hits) == (1, 0)
    estimate_training(CATALOG, _req(count=64, tokens=2e12), ranged=False, plans=memo)
    assert (memo.misses, memo.hits) == (1, 1)  # the second job re-used the first's search ...
    sized = PlanMemo()
    estimate_training(CATALOG, _req(deadline_days=90), ranged=False, plans=sized)
    before = sized.misses
    estimate_training(CATALOG, _req(tokens=2e12, deadline_days=200), ranged=False, plans=sized)
    assert sized.misses - before < before  # ... as does sizing for another deadline
    assert PlanMemo.key(_req(tokens=3e12, count=64)) == PlanMemo.key(_req(deadline_days=30))
    for other in ({"seq_len": 8192}, {"precision": "fp8"}, {"global_batch_tokens": 8e6}, {"accelerator": "h20"},
                  {"plan": {"tp": 4}}, {"params": 7e9}):  # ... but not across what changes the plan
        assert PlanMemo.key(_req(count=64, **other)) != PlanMemo.key(_req(count=64))


def test_the_memo_is_bounded_and_the_estimate_cache_owns_one() -> None:
    memo = PlanMemo(max_entries=3)
    for n in (8, 16, 24, 32, 40):
        estimate_training(CATALOG, _req(count=n), ranged=False, plans=memo)
    assert len(memo) == 3
    with pytest.raises(ValueError):
        PlanMemo(max_entries=0)
    cache = EstimateCache()
    cache.training(CATALOG, _req(deadline_days=60))
    assert len(cache.plans) > 0

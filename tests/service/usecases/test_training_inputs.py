"""The application layer's translation of practitioner inputs into a training request."""

from __future__ import annotations

import pytest

from service import usecases
from service.usecases import InvalidInputError


def test_global_batch_in_tokens_or_sequences() -> None:
    assert usecases.parse_global_batch("4M") == (4e6, None)
    assert usecases.parse_global_batch("1024 seqs") == (None, 1024)
    assert usecases.parse_global_batch("2K sequences") == (None, 2000)
    assert usecases.parse_global_batch(None) == (None, None)
    with pytest.raises(InvalidInputError, match="whole number"):
        usecases.parse_global_batch("0.5 seqs")


def test_flags_become_a_request_with_a_plan_and_preset_shape() -> None:
    req = usecases.training_request_from_flags(
        model="llama-3-70b", tokens="15T", accelerator="h100-sxm", count="2K", global_batch="1024 seqs",
        seq_len=8192, tp=8, pp=4, recompute="selective", buyer_country="cn", steady_state=True, layers=None)
    assert req.count == 2000 and req.tokens == 15e12 and req.global_batch_seqs == 1024
    assert req.global_batch_tokens is None and req.buyer_country == "CN" and req.steady_state
    assert req.plan is not None and (req.plan.tp, req.plan.pp, req.plan.recompute) == (8, 4, "selective")
    assert req.model == "llama-3-70b" and req.params is None  # the preset fills the shape when estimating


def test_contradictory_inputs_are_refused() -> None:
    base = {"params": "7B", "tokens": "1T", "accelerator": "h100-sxm", "count": 8}
    with pytest.raises(InvalidInputError, match="not both"):
        usecases.training_request_from_flags(**base, global_batch="4M", global_batch_tokens="4M")
    with pytest.raises(InvalidInputError, match="not both"):
        usecases.training_request_from_flags(**base, goodput=0.9, steady_state=True)
    with pytest.raises(InvalidInputError, match="--model"):
        usecases.training_request_from_flags(tokens="1T", accelerator="h100-sxm", count=8)

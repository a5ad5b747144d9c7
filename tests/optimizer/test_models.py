"""Model presets: sourced shapes whose computed parameter counts match the published sizes."""

from __future__ import annotations

import pytest

from optimizer.errors import InvalidInputError
from optimizer.estimator import InferenceRequest, load_models, model_preset, preset_ids
from optimizer.request import TrainingWorkload

ASKED_FOR = ("llama-2-7b", "llama-2-70b", "llama-3-8b", "llama-3-70b", "llama-3.1-405b", "qwen2.5-7b",
             "qwen2.5-72b", "qwen3-8b", "qwen3-235b-a22b", "deepseek-v3", "deepseek-r1", "mixtral-8x7b",
             "glm-4-9b", "yi-34b", "baichuan2-13b")


def test_catalog_covers_the_models_buyers_ask_about() -> None:
    assert set(ASKED_FOR) <= set(preset_ids())
    for m in {p.id: p for p in load_models().values()}.values():
        assert m.source.startswith("https://")


@pytest.mark.parametrize("pid", sorted({p.id for p in load_models().values()}))
def test_computed_parameters_match_the_published_size(pid: str) -> None:
    m = model_preset(pid)
    total, active, matmul = m.counts()
    assert total == pytest.approx(m.published_params, rel=0.02)
    assert active <= total and matmul <= active


def test_moe_active_parameters_by_hand() -> None:
    # DeepSeek-V3: 37B active of 671B (report); Mixtral 8x7B: 12.9B of 46.7B (model card).
    assert model_preset("deepseek-v3").counts()[1] == pytest.approx(37e9, rel=0.02)
    assert model_preset("mixtral-8x7b").counts()[1] == pytest.approx(12.9e9, rel=0.01)
    s = model_preset("qwen3-235b-a22b").shape()
    assert s.moe and s.experts == 128 and s.top_k == 8 and s.active_params == pytest.approx(22e9, rel=0.02)


def test_aliases_are_case_insensitive_and_unknown_is_clear() -> None:
    assert model_preset("Qwen2.5-72B").id == model_preset("qwen-2.5-72b").id == "qwen2.5-72b"
    assert model_preset("LLAMA3.1-8B").id == "llama-3-8b"
    with pytest.raises(InvalidInputError, match="known models: .*qwen2.5-72b"):
        model_preset("qwen9")


def test_workloads_and_serving_requests_accept_a_model() -> None:
    w = TrainingWorkload.model_validate({"model": "deepseek-v3", "tokens": "14.8T"})
    assert w.params == pytest.approx(671e9, rel=0.01) and w.active_params == pytest.approx(37.5e9, rel=0.02)
    with pytest.raises(ValueError, match="contradict"):
        TrainingWorkload.model_validate({"model": "llama-3-70b", "params": 7e9, "tokens": 1e12})
    r = InferenceRequest(model="llama-3-70b", accelerator="h20", requests_per_s=5)  # type: ignore[call-arg]
    assert (r.n_layers, r.d_model, r.n_kv_heads) == (80, 8192, 8)

"""Memory per device, shared by the training and serving estimators.

Weights and optimizer state under a sharding (ZeRO), activation memory and the recompute that makes it fit
(Korthikanti et al. 2022), and the KV cache of serving. Every function returns bytes.
"""

from __future__ import annotations

import math

from optimizer.estimator.shapes import ModelShape


def usable_bytes(capacity_gb: float, overhead_gb: float, fragmentation: float) -> float:
    """Device memory left for the model: capacity less the runtime overhead, divided by the allocator's slack."""
    return (capacity_gb - overhead_gb) / (1 + fragmentation) * 1e9


def params_per_device(shape: ModelShape, *, tp: int, pp: int, ep: int) -> float:
    """Parameters held by one device: dense (shared) parameters over tp·pp, routed experts also over ep."""
    shard = tp * pp
    if not shape.moe:
        return shape.params / shard
    return shape.active_params / shard + (shape.params - shape.active_params) / (shard * ep)


def training_state_bytes(p_dev: float, *, dp: int, zero: int, weight_bytes: float,
                         bytes_per_param: float) -> tuple[float, float, float]:
    """Weights, gradients and optimizer state per device for ``p_dev`` parameters under ZeRO stage 0-3.

    Mixed precision keeps 16-bit weights (plus a 1-byte copy under FP8) and 16-bit gradients; the fp32 master and
    the optimizer moments are ``bytes_per_param`` − 4 bytes (ZeRO paper).
    """
    w = p_dev * weight_bytes / (dp if zero >= 3 else 1)
    g = p_dev * 2.0 / (dp if zero >= 2 else 1)
    o = p_dev * (bytes_per_param - 4.0) / (dp if zero >= 1 else 1)
    return w, g, o


def fit_recompute(*, fixed: float, stored: int, act_none: float, act_sel: float, act_full: float,
                  layers_stage: int, cap: float, has_scores: bool, recompute: float | None,
                  selective: bool | None) -> tuple[float, bool, float] | None:
    """The cheapest recompute that fits: (fraction of layers fully recomputed, selective?, activation bytes).

    ``stored`` layer activations are alive at once (layers per stage × micro-batches in flight); each costs
    ``act_none`` bytes, ``act_sel`` with the attention core recomputed (no s×s scores), ``act_full`` when only the
    layer input is kept. Order: none, selective, then full recompute on just enough layers (Megatron
    ``--recompute-num-layers``). None when even full recompute does not fit.
    """
    sel = bool(selective) and has_scores
    if recompute is None:
        if fixed + stored * act_full > cap:
            return None
        base_act = act_none
        if fixed + stored * act_none > cap and selective is not False and has_scores:
            sel, base_act = True, act_sel
        if fixed + stored * base_act <= cap:
            f = 0.0
        else:
            f = (fixed + stored * base_act - cap) / (stored * (base_act - act_full))
            f = min(1.0, math.ceil(f * layers_stage) / layers_stage)
    else:
        f = recompute
        base_act = act_sel if sel else act_none
    layer_acts = stored * (base_act * (1 - f) + act_full * f)
    if fixed + layer_acts > cap * 1.0001:
        return None
    return f, sel, layer_acts


def kv_heads_per_device(shape: ModelShape, tp: int) -> float:
    """KV heads (or MLA latents) one tensor-parallel rank stores: heads split over tp, replicated beyond.

    MLA's compressed latent is shared by all heads and cannot be split: every rank keeps all of it.
    """
    if shape.attention == "mla" and shape.kv_lora_rank:
        return 1.0
    return max(shape.n_kv_heads / tp, 1.0) / shape.n_kv_heads


def kv_bytes_per_token_device(shape: ModelShape, bytes_per_value: float, *, tp: int, pp: int) -> float:
    """KV-cache bytes one device stores per token of context: its layers (1/pp) and its share of the heads."""
    return shape.kv_bytes_per_token(bytes_per_value) * kv_heads_per_device(shape, tp) / pp


def paged_tokens(tokens: float, block: int) -> float:
    """Tokens of KV cache a sequence of ``tokens`` occupies in blocks of ``block``.

    Rounded up to whole blocks: half a block more on average for a length drawn at random.
    """
    return tokens + (block - 1) / 2.0 if block > 1 else tokens

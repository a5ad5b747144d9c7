"""Turn what a practitioner types (CLI flags, chat fields) into the estimator's ``TrainingRequest``.

One translation for every front end: numbers in the shared notation ("70B", "4M", "2K"), a global batch in
tokens or sequences, a plan from ``tp/pp/dp/cp/ep/virtual_stages/recompute/zero_stage/micro_batch``, a model
preset instead of ``params``.
"""

from __future__ import annotations

import re
from typing import Any

from optimizer.errors import InvalidInputError
from optimizer.estimator import TrainingRequest
from service.usecases.numbers import coerce_numbers, quantity

_SEQS = re.compile(r"^\s*([0-9][0-9_,.]*\s*[A-Za-z万亿]?)\s*(seq|seqs|sequences|samples)\s*$", re.IGNORECASE)
_PLAN_FIELDS = ("tp", "pp", "dp", "cp", "ep", "virtual_stages", "zero_stage", "recompute", "micro_batch")
_RENAMED = {"layers": "n_layers", "hidden": "d_model", "heads": "n_heads", "kv_heads": "n_kv_heads"}
_PASSED = ("params", "model", "active_params", "tokens", "accelerator", "count", "deadline_days", "precision",
           "seq_len", "fabric", "fabric_gbit", "nics_per_node", "ffn", "vocab", "experts", "top_k", "window",
           "document_len", "goodput", "stack", "optimizer")


def parse_global_batch(text: str | float | None) -> tuple[float | None, int | None]:
    """``"4M"``/``4194304`` → tokens; ``"1024 seqs"``/``"1K seq"`` → sequences.

    Raises:
        InvalidInputError: not a number, or not a whole number of sequences.
    """
    if text is None:
        return None, None
    m = _SEQS.match(text) if isinstance(text, str) else None
    if m:
        n = quantity(m.group(1).strip(), what="global_batch")
        if n < 1 or n != int(n):
            raise InvalidInputError(f"global_batch: {text!r} is not a whole number of sequences")
        return None, int(n)
    return quantity(text, what="global_batch"), None


def training_request_from_flags(**f: Any) -> TrainingRequest:
    """Build a training request from flat values (strings in the shared notation or numbers; ``None`` = default).

    Accepts every ``TrainingRequest`` field plus ``global_batch`` (tokens or "N seqs"), ``layers``/``hidden``/
    ``heads``/``kv_heads`` (shape overrides) and the plan fields, which become ``plan``.

    Raises:
        InvalidInputError: a value cannot be read or two inputs contradict; pydantic ``ValidationError`` for
            out-of-range values.
    """
    if f.get("params") is None and f.get("model") is None:
        raise InvalidInputError("give --params (e.g. 70B) or --model (e.g. qwen2.5-72b)")
    tokens_b, seqs_b = parse_global_batch(f.get("global_batch"))
    gbt = f.get("global_batch_tokens")
    if gbt is not None and (tokens_b is not None or seqs_b is not None):
        raise InvalidInputError("give --global-batch or --global-batch-tokens, not both")
    if f.get("goodput") is not None and f.get("steady_state"):
        raise InvalidInputError("give --goodput or --steady-state, not both")
    data: dict[str, Any] = {k: f[k] for k in _PASSED if f.get(k) is not None}
    data.update({new: f[old] for old, new in _RENAMED.items() if f.get(old) is not None})
    batch = gbt if gbt is not None else tokens_b
    if batch is not None:
        data["global_batch_tokens"] = batch
    if seqs_b is not None:
        data["global_batch_seqs"] = seqs_b
    plan = {k: f[k] for k in _PLAN_FIELDS if f.get(k) is not None}
    if plan:
        data["plan"] = plan
    if f.get("steady_state"):
        data["steady_state"] = True
    country = f.get("buyer_country")
    if country:
        data["buyer_country"] = country.upper()
    return TrainingRequest.model_validate(coerce_numbers(TrainingRequest, data))


def model_size(name: str) -> tuple[float, float | None] | None:
    """Total and active parameters of a model preset ("Qwen2.5-72B", "deepseek-v3"), or None for an unknown name.

    The sizes are computed from the preset's sourced shape (``optimizer/data/models.yaml``); dense models have no
    separate active count.
    """
    from optimizer.estimator import model_preset

    try:
        preset = model_preset(name)
    except InvalidInputError:
        return None
    shape = preset.shape()
    active = shape.active_params if shape.active_params and shape.active_params < shape.params else None
    return shape.params, active

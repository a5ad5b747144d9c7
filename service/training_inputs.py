"""Turn what a practitioner types (CLI flags) into the estimator's ``TrainingRequest``.

Kept apart from the Typer command so the CLI and any other front end (a use-case layer, the chat parser)
share one translation: numbers like "70B" or "4M", a global batch in tokens or sequences, a plan from
``--tp/--pp/--dp/--cp/--ep/--virtual-stages/--recompute/--zero-stage/--micro-batch``.
"""

from __future__ import annotations

import re
from typing import Any

from optimizer.errors import InvalidInputError
from optimizer.estimator import PlanChoice, TrainingRequest
from optimizer.units import parse_quantity

_SEQS = re.compile(r"^\s*([0-9][0-9_,.]*)\s*(seq|seqs|sequences|samples)\s*$", re.IGNORECASE)
_PLAN_FIELDS = ("tp", "pp", "dp", "cp", "ep", "virtual_stages", "zero_stage", "recompute", "micro_batch")


def parse_global_batch(text: str | None) -> tuple[float | None, int | None]:
    """``"4M"``/``"4194304"`` → tokens; ``"1024 seqs"``/``"1024seq"`` → sequences.

    Raises:
        InvalidInputError: not a number.
    """
    if text is None:
        return None, None
    m = _SEQS.match(text)
    if m:
        n = parse_quantity(m.group(1), what="--global-batch")
        if n < 1 or n != int(n):
            raise InvalidInputError(f"--global-batch: {text!r} is not a whole number of sequences")
        return None, int(n)
    return parse_quantity(text, what="--global-batch"), None


def _q(text: str | None, what: str) -> float | None:
    return None if text is None else parse_quantity(text, what=what)


def training_request_from_flags(**f: Any) -> TrainingRequest:
    """Build a training request from CLI-style values (strings for quantities, ints for the plan).

    Raises:
        InvalidInputError: a value cannot be read; pydantic ``ValidationError`` for out-of-range values.
    """
    if f.get("params") is None and f.get("model") is None:
        raise InvalidInputError("give --params (e.g. 70B) or --model (e.g. qwen2.5-72b)")
    tokens_b, seqs_b = parse_global_batch(f.get("global_batch"))
    gbt = _q(f.get("global_batch_tokens"), "--global-batch-tokens")
    if gbt is not None and (tokens_b is not None or seqs_b is not None):
        raise InvalidInputError("give --global-batch or --global-batch-tokens, not both")
    fixed = {k: f.get(k) for k in _PLAN_FIELDS if f.get(k) is not None}
    plan = PlanChoice.model_validate(fixed) if fixed else None
    if f.get("goodput") is not None and f.get("steady_state"):
        raise InvalidInputError("give --goodput or --steady-state, not both")
    country = f.get("buyer_country")
    return TrainingRequest(
        params=_q(f.get("params"), "--params"), model=f.get("model"),
        active_params=_q(f.get("active_params"), "--active-params"),
        tokens=parse_quantity(f["tokens"], what="--tokens"), accelerator=f["accelerator"], count=f.get("count"),
        deadline_days=f.get("deadline_days"), precision=f.get("precision") or "bf16", seq_len=f.get("seq_len"),
        global_batch_tokens=gbt if gbt is not None else tokens_b, global_batch_seqs=seqs_b,
        fabric=f.get("fabric"), fabric_gbit=f.get("fabric_gbit"), nics_per_node=f.get("nics_per_node"),
        buyer_country=country.upper() if country else None, plan=plan,
        n_layers=f.get("layers"), d_model=f.get("hidden"), n_heads=f.get("heads"), n_kv_heads=f.get("kv_heads"),
        ffn=f.get("ffn"), vocab=f.get("vocab"), experts=f.get("experts"), top_k=f.get("top_k"),
        window=f.get("window"), document_len=f.get("document_len"),
        goodput=f.get("goodput"), steady_state=bool(f.get("steady_state")), stack=f.get("stack"),
        optimizer=f.get("optimizer") or "adam",
    )

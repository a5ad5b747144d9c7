"""Physical upper bounds of request numbers, for the fields whose core model states none of its own.

A number beyond these is not a big request but a typo or a probe (``"tokens": 1e30`` gave a plan lasting 10^19
days): every entry point refuses it with a message that says the bound. The bounds are assumptions (grade A)
with wide headroom over the largest published runs the project records in ``optimizer/data/training_runs.yaml``
(Llama 3.1 405B: 4.05 × 10^11 parameters, 1.56 × 10^13 tokens, 1.6 × 10^7 tokens per global batch, on 16,384
GPUs; grade P via the Llama 3 paper as tabulated there). The OpenAPI document states them as ``maximum``
(:func:`service.api.openapi.build_openapi`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    """The largest accepted value of a field, its unit and why."""

    maximum: float
    unit: str
    why: str

    def message(self, where: str, value: float) -> str:
        """One line: the value, the bound and its reason."""
        return f"{where}: {value:.3g} is more than the physical bound of {self.maximum:.3g} {self.unit} ({self.why})"


_PARAMS = Bound(1e14, "parameters", "about 250 times Llama 3.1 405B; no published model has 10^13")
PHYSICAL_BOUNDS: dict[str, Bound] = {
    "params": _PARAMS,
    "active_params": _PARAMS,
    "tokens": Bound(1e16, "tokens", "about 640 times the 1.56 × 10^13 tokens of Llama 3.1 405B"),
    "global_batch_tokens": Bound(1e10, "tokens", "about 600 times the 1.6 × 10^7-token batches of Llama 3.1 405B"),
    "global_batch_seqs": Bound(1e7, "sequences", "10^10 tokens at 1,024 tokens per sequence"),
    "supply": Bound(1e7, "accelerators", "the largest count any estimate accepts"),
    "risk_premium": Bound(5, "× capex", "the largest premium the cost estimate accepts"),
}
"""Bounds by field name; a mapping field (``supply``, ``risk_premium``) bounds each of its values."""

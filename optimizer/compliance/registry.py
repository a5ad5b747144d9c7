"""The one ordered registry of rule kinds: what each kind needs in a rule pack and the evaluator that applies it.

Every rule kind is declared exactly once, next to its evaluator, with :func:`rule_kind`::

    @rule_kind("eccn_3a090_2023", order=40, params=Params2023, needs=("effect",))
    def _eval_2023(engine, rule, st): ...

``order`` decides when the kind runs within a check (classification before licence letters, letters before the
rules that modify them, adders and warnings last); orders are unique, so the sequence is explicit. The rule-pack
schema validates ``kind``, ``params`` and the required fields against this registry, and the engine runs the
evaluators in this order: there is no second list to keep in sync.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from optimizer.compliance.engine import ComplianceEngine
    from optimizer.compliance.schema import Rule
    from optimizer.compliance.state import EvalState

Evaluator = Callable[["ComplianceEngine", "Rule", "EvalState"], None]
Need = str
"""A rule field a kind requires: ``effect``, ``outlook``, ``modifies``, ``severity``."""


@dataclass(frozen=True)
class RuleKindSpec:
    """One rule kind: its evaluator, its place in the order, its params model and the fields it requires."""

    kind: str
    order: int
    evaluate: Evaluator
    params: type[BaseModel] | None = None
    needs: tuple[Need, ...] = ()
    doc: str = ""


_KINDS: dict[str, RuleKindSpec] = {}


def rule_kind(kind: str, *, order: int, params: type[BaseModel] | None = None,
              needs: tuple[Need, ...] = ()) -> Callable[[Evaluator], Evaluator]:
    """Register ``kind`` with its evaluator (the decorated function).

    Raises:
        ValueError: the kind or its order is registered twice.
    """

    def register(fn: Evaluator) -> Evaluator:
        if kind in _KINDS:
            raise ValueError(f"rule kind {kind!r} is registered twice")
        clash = next((s.kind for s in _KINDS.values() if s.order == order), None)
        if clash is not None:
            raise ValueError(f"rule kinds {clash!r} and {kind!r} share order {order}")
        _KINDS[kind] = RuleKindSpec(kind=kind, order=order, evaluate=fn, params=params, needs=needs,
                                    doc=(fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "")
        return fn

    return register


def _load() -> None:
    import optimizer.compliance.evaluators  # noqa: F401  (registers every kind)


def kinds() -> list[RuleKindSpec]:
    """Every rule kind, in evaluation order."""
    _load()
    return sorted(_KINDS.values(), key=lambda s: s.order)


def spec(kind: str) -> RuleKindSpec | None:
    """The spec of one kind (None when unknown)."""
    _load()
    return _KINDS.get(kind)


def kind_names() -> list[str]:
    """Names of the registered kinds, in evaluation order."""
    return [s.kind for s in kinds()]


def validate_params(kind: str, params: Any) -> Any:
    """``params`` validated against the kind's model (unchanged when the kind takes none)."""
    s = spec(kind)
    if s is None or s.params is None:
        return params
    return s.params.model_validate(params)


__all__ = ["Evaluator", "RuleKindSpec", "kind_names", "kinds", "rule_kind", "spec", "validate_params"]

"""Ecosystem switching: a one-time porting cost per workload moved to another software stack, and a ramp.

The buyer's current stack (``PurchaseRequest.current_stack``: CUDA, CANN, ROCm, other) is compared with each
candidate part's ecosystem family. A workload run on a part of another family pays the target's porting effort
(engineer-months × monthly cost) once per (workload, family), and a training job on it runs its first
``ramp_days`` at ``ramp_efficiency`` of the steady-state MFU:

    T' = T / e                 if T ≤ e·R   (the whole job runs inside the ramp)
    T' = T + R·(1 − e)         otherwise

where T is the estimator's steady-state time. Serving capacity is not derated (the ramp is a training-MFU effect);
serving pays the porting cost only.

Today's plan (optimizer.recommend) and the hedged plan (optimizer.risk) count the same terms: the option table
carries the resolved :class:`Switching` and ramped training times, the purchase model adds one fixed charge per
(workload, foreign family) in use, and the solver-free checks recompute both. The figures are the embedded
assumptions of ``optimizer/data/risk.yaml`` (``switching:``, grade A with their sources), adjustable per request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from optimizer.catalog import Catalog
from optimizer.errors import InvalidInputError
from optimizer.risk.defaults import load_defaults
from optimizer.risk.spec import RiskDefaults, SwitchingDefault, SwitchingOverride

if TYPE_CHECKING:
    from optimizer.table import Option

_FAMILIES = (
    ("cuda", re.compile(r"\bcuda\b", re.I)),
    ("cann", re.compile(r"\bcann\b|mindspore|ascend", re.I)),
    ("rocm", re.compile(r"\brocm\b", re.I)),
    ("dtk", re.compile(r"\bdtk\b|hygon", re.I)),
    ("neuware", re.compile(r"neuware|cambricon", re.I)),
    ("xpu", re.compile(r"\bxpu\b|kunlun", re.I)),
    ("synapse", re.compile(r"synapse|gaudi", re.I)),
)
_STACK_ALIASES = {"cuda": "cuda", "nvidia": "cuda", "cann": "cann", "mindspore": "cann", "ascend": "cann",
                  "huawei": "cann", "昇腾": "cann", "rocm": "rocm", "amd": "rocm", "hip": "rocm", "other": "other",
                  "none": "other"}


class SwitchingInputs(Protocol):
    """What a request says about switching (``PurchaseRequest`` has these fields)."""

    @property
    def current_stack(self) -> str | None:
        """The buyer's stack today (None: no switching terms)."""
        ...

    @property
    def switching(self) -> Mapping[str, SwitchingOverride]:
        """Per target ecosystem, terms replacing the embedded assumptions."""
        ...

    @property
    def person_month_cost(self) -> float | None:
        """Cost of one engineer-month in the request's currency (None: the embedded assumption)."""
        ...


def family(ecosystem: str) -> str:
    """The ecosystem family of a catalog ``software_ecosystem`` string (``CANN / MindSpore`` → ``cann``)."""
    for name, pattern in _FAMILIES:
        if pattern.search(ecosystem):
            return name
    slug = re.sub(r"[^a-z0-9]+", "-", ecosystem.lower()).strip("-")
    return slug or "other"


def normalise_stack(stack: str, catalog: Catalog) -> str:
    """The family of the buyer's stack: CUDA, CANN, ROCm, a catalog family (neuware, dtk …) or ``other``.

    Raises:
        InvalidInputError: the stack names nothing known.
    """
    key = stack.strip().lower()
    if key in _STACK_ALIASES:
        return _STACK_ALIASES[key]
    known = sorted({family(a.software_ecosystem) for a in catalog.accelerators.values()})
    fam = family(stack)
    if fam in known:
        return fam
    raise InvalidInputError(f"unknown software stack {stack!r}; choose CUDA, CANN, ROCm, other or one of "
                            f"{', '.join(k for k in known if k not in ('cuda', 'cann', 'rocm'))}")


def ramped_days(days: float, ramp_days: float, efficiency: float) -> float:
    """Training days once the first ``ramp_days`` run at ``efficiency`` of the steady-state speed."""
    if ramp_days <= 0 or efficiency >= 1:
        return days
    if days <= efficiency * ramp_days:
        return days / efficiency
    return days + ramp_days * (1 - efficiency)


@dataclass(frozen=True)
class SwitchTerms:
    """Resolved terms for one target family: porting per workload kind (currency) and the ramp."""

    target: str
    training_person_months: float
    inference_person_months: float
    ramp_days: float
    ramp_efficiency: float
    person_month_cost: float
    grade: str
    basis: str
    sources: tuple[str, ...]

    def porting(self, kind: str) -> float:
        """One-time porting cost of one workload of ``kind`` (training or inference)."""
        months = self.training_person_months if kind == "training" else self.inference_person_months
        return months * self.person_month_cost

    def ramp(self, days: float) -> float:
        """Steady-state training days → days with this family's ramp."""
        return ramped_days(days, self.ramp_days, self.ramp_efficiency)


@dataclass(frozen=True)
class Switching:
    """The buyer's stack, the family of every SKU and the terms of each target family in use."""

    current: str
    families: dict[str, str]
    """SKU → ecosystem family."""
    terms: dict[str, SwitchTerms]
    """Target family → terms (only families other than ``current``)."""
    person_month_cost: float
    """Cost of one engineer-month in the request's currency."""
    person_month_basis: str
    person_month_set: bool
    """True when the request set the engineer-month cost (else the embedded assumption, converted)."""

    def foreign(self, sku: str) -> bool:
        """True when running on ``sku`` means leaving the current stack."""
        return self.families.get(sku, "other") != self.current

    def target(self, sku: str) -> str | None:
        """The foreign family of ``sku`` (None on the current stack)."""
        return self.families.get(sku, "other") if self.foreign(sku) else None

    def charge(self, workload_kind: str, sku: str) -> float:
        """Porting cost of moving one workload of that kind onto ``sku`` (0 on the current stack)."""
        fam = self.target(sku)
        return 0.0 if fam is None else self.terms[fam].porting(workload_kind)

    def ramp(self, sku: str, days: float) -> float:
        """Training days on ``sku`` with the ramp of its family (unchanged on the current stack)."""
        fam = self.target(sku)
        return days if fam is None else self.terms[fam].ramp(days)


def resolve_switching(catalog: Catalog, skus: Iterable[str], inputs: SwitchingInputs, currency: str,
                      defaults: RiskDefaults | None = None) -> Switching | None:
    """The switching terms for the candidate parts (None when the buyer gave no current stack).

    Raises:
        InvalidInputError: an unknown stack or target ecosystem.
    """
    if inputs.current_stack is None:
        return None
    d = defaults or load_defaults()
    current = normalise_stack(inputs.current_stack, catalog)
    families = {sku: family(catalog.accelerators[sku].software_ecosystem) for sku in skus}
    known = set(families.values()) | set(d.switching.targets)
    overrides: dict[str, SwitchingOverride] = {}
    for target, o in inputs.switching.items():
        fam = _STACK_ALIASES.get(target.lower(), family(target))
        if fam not in known:
            raise InvalidInputError(f"switching: unknown target ecosystem {target!r}; choose from "
                                    f"{', '.join(sorted(known))}")
        overrides[fam] = o
    pm = d.switching.person_month_cost
    rate = catalog.exchange_rate.cny_per_usd
    default_cost = pm.amount if pm.currency == currency else (
        pm.amount / rate if currency == "USD" else pm.amount * rate)
    cost = inputs.person_month_cost if inputs.person_month_cost is not None else default_cost
    terms: dict[str, SwitchTerms] = {}
    for fam in sorted(set(families.values())):
        if fam == current:
            continue
        base: SwitchingDefault = d.switching.targets.get(fam, d.switching.targets["other"])
        ov = overrides.get(fam)
        changed = ov is not None and any(v is not None for v in ov.model_dump().values())
        terms[fam] = SwitchTerms(
            target=fam,
            training_person_months=_pick(ov.training_person_months if ov else None, base.training_person_months),
            inference_person_months=_pick(ov.inference_person_months if ov else None, base.inference_person_months),
            ramp_days=_pick(ov.ramp_days if ov else None, base.ramp_days),
            ramp_efficiency=_pick(ov.ramp_efficiency if ov else None, base.ramp_efficiency),
            person_month_cost=cost, grade="A", basis="set by the request" if changed else base.basis,
            sources=() if changed else base.sources,
        )
    set_cost = inputs.person_month_cost is not None
    return Switching(current=current, families=families, terms=terms, person_month_cost=cost,
                     person_month_basis="set by the request" if set_cost else d.switching.person_month_basis,
                     person_month_set=set_cost)


def _pick(value: float | None, default: float) -> float:
    return default if value is None else value


@dataclass(frozen=True)
class PortingCharge:
    """One (workload, foreign family) pair a selection pays porting for."""

    workload: str
    target: str
    kind: str
    cost: float


def porting_charges(switching: Switching | None, options: Mapping[str, Option], selection: Mapping[str, int]
                    ) -> list[PortingCharge]:
    """The porting a selection pays: once per workload and foreign family it uses (sorted)."""
    if switching is None:
        return []
    seen: dict[tuple[str, str], PortingCharge] = {}
    for oid, units in selection.items():
        o = options.get(oid)
        if o is None or not units:
            continue
        fam = switching.target(o.sku)
        if fam is None or (o.workload, fam) in seen:
            continue
        seen[(o.workload, fam)] = PortingCharge(workload=o.workload, target=fam, kind=o.kind,
                                                cost=switching.terms[fam].porting(o.kind))
    return sorted(seen.values(), key=lambda c: (c.workload, c.target))

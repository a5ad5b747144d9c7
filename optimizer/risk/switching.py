"""Ecosystem switching: a one-time porting cost per workload moved to another software stack, and a ramp.

The buyer's current stack (CUDA, CANN, ROCm, other) is compared with each candidate part's ecosystem family. A
workload run on a part of another family pays the target's porting effort (engineer-months × monthly cost) once,
and a training job on it runs its first ``ramp_days`` at ``ramp_efficiency`` of the steady-state MFU:

    T' = T / e                 if T ≤ e·R   (the whole job runs inside the ramp)
    T' = T + R·(1 − e)         otherwise

where T is the estimator's steady-state time. Serving capacity is not derated (the ramp is a training-MFU effect);
serving pays the porting cost only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from optimizer.catalog import Catalog
from optimizer.errors import InvalidInputError
from optimizer.risk.spec import RiskDefaults, RiskSettings, SwitchingDefault
from optimizer.table import OptionTable

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


@dataclass(frozen=True)
class Switching:
    """The buyer's stack, the family of every SKU and the terms of each target family in use."""

    current: str
    families: dict[str, str]
    """SKU → ecosystem family."""
    terms: dict[str, SwitchTerms]
    """Target family → terms (only families other than ``current``)."""

    def foreign(self, sku: str) -> bool:
        """True when running on ``sku`` means leaving the current stack."""
        return self.families.get(sku, "other") != self.current

    def charge(self, workload_kind: str, sku: str) -> float:
        """Porting cost of moving one workload of that kind onto ``sku`` (0 on the current stack)."""
        if not self.foreign(sku):
            return 0.0
        return self.terms[self.families[sku]].porting(workload_kind)


def resolve_switching(catalog: Catalog, table: OptionTable, settings: RiskSettings, defaults: RiskDefaults
                      ) -> Switching | None:
    """The switching terms for the request's candidate parts (None when the buyer gave no current stack).

    Raises:
        InvalidInputError: an unknown stack or target ecosystem.
    """
    if settings.current_stack is None:
        return None
    current = normalise_stack(settings.current_stack, catalog)
    families = {sku: family(catalog.accelerators[sku].software_ecosystem) for sku in table.skus}
    known = set(families.values()) | set(defaults.switching.targets)
    for target in settings.switching:
        fam = _STACK_ALIASES.get(target.lower(), family(target))
        if fam not in known:
            raise InvalidInputError(f"switching: unknown target ecosystem {target!r}; choose from "
                                    f"{', '.join(sorted(known))}")
    pm = defaults.switching.person_month_cost
    rate = catalog.exchange_rate.cny_per_usd
    default_cost = pm.amount if pm.currency == table.currency else (
        pm.amount / rate if table.currency == "USD" else pm.amount * rate)
    cost = settings.person_month_cost if settings.person_month_cost is not None else default_cost
    overrides = {_STACK_ALIASES.get(k.lower(), family(k)): v for k, v in settings.switching.items()}
    terms: dict[str, SwitchTerms] = {}
    for fam in sorted(set(families.values())):
        if fam == current:
            continue
        base: SwitchingDefault = defaults.switching.targets.get(fam, defaults.switching.targets["other"])
        o = overrides.get(fam)
        changed = o is not None and any(v is not None for v in o.model_dump().values())
        terms[fam] = SwitchTerms(
            target=fam,
            training_person_months=_pick(o.training_person_months if o else None, base.training_person_months),
            inference_person_months=_pick(o.inference_person_months if o else None, base.inference_person_months),
            ramp_days=_pick(o.ramp_days if o else None, base.ramp_days),
            ramp_efficiency=_pick(o.ramp_efficiency if o else None, base.ramp_efficiency),
            person_month_cost=cost, grade="A", basis="set by the request" if changed else base.basis,
            sources=() if changed else base.sources,
        )
    return Switching(current=current, families=families, terms=terms)


def _pick(value: float | None, default: float) -> float:
    return default if value is None else value


def ramp_table(table: OptionTable, switching: Switching | None) -> OptionTable:
    """A copy of the table whose training options on a foreign stack take their ramped time."""
    if switching is None:
        return table
    options = []
    for o in table.options:
        if o.kind == "training" and o.days is not None and switching.foreign(o.sku):
            t = switching.terms[switching.families[o.sku]]
            days = ramped_days(o.days, t.ramp_days, t.ramp_efficiency)
            tokens = None if o.tokens_per_s is None else o.tokens_per_s * o.days / days
            options.append(replace(o, days=days, tokens_per_s=tokens))
        else:
            options.append(o)
    return OptionTable(request=table.request, currency=table.currency, options=options,
                       exclusions=table.exclusions, skus=table.skus, supply=dict(table.supply),
                       notes=list(table.notes))

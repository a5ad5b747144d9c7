"""Sweep specs: a base purchase request plus axes (dotted paths -> values) or explicit scenarios.

A spec (YAML or JSON)::

    name: budgets x countries
    base: {workloads: [...], buyer: {...}, budget: {...}}     # the shape of `procure recommend --request`
    sweep:                                                   # cartesian product, in the order written
      budget.amount: {from: 2e7, to: 5e8, steps: 20}         # or a list; `scale: log` for geometric steps
      buyer.country: [CN, DE, AE]
      buyer.date: {from: 2023-06-01, to: 2026-06-01, every: quarter}   # month | quarter | year | N (days)
      whatif.remove_skus: [[], [h20]]                        # what-if axes live under `whatif.`
      whatif.price_changes.h20: [-0.2, 0, 0.2]
    scenarios:                                               # instead of (or on top of) `sweep:`
      - {budget.amount: 1e8, whatif.rule_dates: {cn-h20-guidance: 2025-01-01}}

Each scenario is the base with its overrides applied; its id is a hash of the resolved request and what-if
change, so the same scenario always gets the same id and re-running a spec is idempotent.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from service.messages import first_error
from service.usecases import InvalidInputError, quantity
from service.usecases.requests import read_data_file

MAX_SCENARIOS = 500_000
_PROBE = 50  # scenarios checked at submission; a spec whose probed scenarios all fail is rejected
WHATIF_PREFIX = "whatif"
_STEP_MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}


class SweepSpec(BaseModel):
    """A validated sweep spec (the axes are still unexpanded)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(None, max_length=200, description="Free label shown in job lists.")
    base: dict[str, Any] = Field(description="A purchase request (the content of a request file).")
    sweep: dict[str, Any] = Field(default_factory=dict, description="Dotted path -> list of values or a range.")
    scenarios: list[dict[str, Any]] = Field(default_factory=list, description="Explicit overrides, one per scenario.")
    whatif: dict[str, Any] = Field(default_factory=dict, description="A what-if change applied to every scenario.")

    @field_validator("sweep")
    @classmethod
    def _axes(cls, v: dict[str, Any]) -> dict[str, Any]:
        return {path: axis_values(path, values) for path, values in v.items()}


@dataclass(frozen=True)
class Scenario:
    """One resolved scenario: its stable id, the swept values, the request and the what-if change."""

    id: str
    seq: int
    values: dict[str, Any]
    request: dict[str, Any]
    whatif: dict[str, Any] | None

    def payload(self) -> dict[str, Any]:
        """What a worker needs (stored with the scenario row)."""
        return {"request": self.request, "whatif": self.whatif}


def _jsonable(value: Any) -> Any:
    """Dates as ISO strings, tuples as lists: the canonical form that is hashed and stored."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def canonical_json(value: Any) -> str:
    """Sorted, compact JSON of ``value`` (dates as ISO strings, integral floats as ints)."""
    return json.dumps(_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def scenario_id(request: dict[str, Any], whatif: dict[str, Any] | None) -> str:
    """Stable id of a resolved scenario: the first 16 hex digits of SHA-256 over its canonical JSON."""
    digest = hashlib.sha256(canonical_json({"request": request, "whatif": whatif or None}).encode("utf-8"))
    return digest.hexdigest()[:16]


def _as_date(value: Any, path: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInputError(f"sweep `{path}`: {value!r} is not a date (YYYY-MM-DD)") from None


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31,
            30, 31][month - 1]
    return dt.date(year, month, min(d.day, last))


def _date_range(path: str, spec: dict[str, Any]) -> list[Any]:
    start, stop = _as_date(spec["from"], path), _as_date(spec["to"], path)
    if stop < start:
        raise InvalidInputError(f"sweep `{path}`: `to` is before `from`")
    every = spec.get("every", "month")
    out: list[dt.date] = []
    if isinstance(every, int) and not isinstance(every, bool) and every > 0:
        d = start
        while d <= stop:
            out.append(d)
            d += dt.timedelta(days=every)
    elif every in _STEP_MONTHS:
        i = 0
        while (d := _add_months(start, i * _STEP_MONTHS[every])) <= stop:
            out.append(d)
            i += 1
    else:
        raise InvalidInputError(f"sweep `{path}`: `every` must be month, quarter, half, year or a number of days")
    return [d.isoformat() for d in out]


def _number(value: Any, path: str, key: str) -> float:
    try:
        return quantity(value, what=f"{path}.{key}")
    except InvalidInputError:
        raise InvalidInputError(f"sweep `{path}`: `{key}` must be a number (got {value!r})") from None


def _numeric_range(path: str, spec: dict[str, Any]) -> list[Any]:
    lo, hi = _number(spec["from"], path, "from"), _number(spec["to"], path, "to")
    if "steps" in spec:
        steps = spec["steps"]
        if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= MAX_SCENARIOS:
            raise InvalidInputError(f"sweep `{path}`: `steps` must be a whole number from 1 to {MAX_SCENARIOS}")
        if steps == 1:
            return [lo]
        if spec.get("scale", "linear") == "log":
            if lo <= 0 or hi <= 0:
                raise InvalidInputError(f"sweep `{path}`: a log scale needs positive `from` and `to`")
            ratio = (hi / lo) ** (1 / (steps - 1))
            values = [lo * ratio**i for i in range(steps)]
        elif spec.get("scale", "linear") == "linear":
            values = [lo + (hi - lo) * i / (steps - 1) for i in range(steps)]
        else:
            raise InvalidInputError(f"sweep `{path}`: `scale` must be linear or log")
        values[-1] = hi  # no rounding drift at the end point
        return [float(f"{v:.12g}") for v in values]
    step = _number(spec.get("step"), path, "step") if "step" in spec else None
    if step is None or step <= 0 or hi < lo:
        raise InvalidInputError(f"sweep `{path}`: a range needs `steps`, or a positive `step` with `to` >= `from`")
    count = math.floor((hi - lo) / step + 1e-9) + 1
    if count > MAX_SCENARIOS:
        raise InvalidInputError(f"sweep `{path}`: the range has more than {MAX_SCENARIOS} values")
    return [float(f"{lo + i * step:.12g}") for i in range(count)]


def axis_values(path: str, values: Any) -> list[Any]:
    """Expand one axis: a list stays as written; ``{from, to, steps|step[, scale]}`` or dates ``{from, to, every}``.

    Raises:
        InvalidInputError: a malformed path or range, or an empty axis.
    """
    if not isinstance(path, str) or not path or any(not part for part in path.split(".")):
        raise InvalidInputError(f"sweep axis {path!r} is not a dotted path such as budget.amount")
    if isinstance(values, list):
        out = list(values)
    elif isinstance(values, dict) and {"from", "to"} <= set(values):
        unknown = set(values) - {"from", "to", "steps", "step", "scale", "every"}
        if unknown:
            raise InvalidInputError(f"sweep `{path}`: unknown range key(s) {', '.join(sorted(unknown))}")
        is_date = "every" in values or isinstance(values["from"], dt.date) or (
            isinstance(values["from"], str) and len(values["from"]) == 10 and values["from"][4:5] == "-")
        out = _date_range(path, values) if is_date else _numeric_range(path, values)
    else:
        raise InvalidInputError(f"sweep `{path}`: give a list of values or a range {{from, to, steps}}")
    if not out:
        raise InvalidInputError(f"sweep `{path}` has no values")
    return out


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path in nested dicts/lists, creating mappings on the way (list indexes must exist)."""
    parts = path.split(".")
    node: Any = target
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise InvalidInputError(f"`{path}`: `{part}` is not an index of a {len(node)}-item list")
            if last:
                node[int(part)] = copy.deepcopy(value)
                return
            node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = copy.deepcopy(value)
                return
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
        else:
            raise InvalidInputError(f"`{path}`: `{'.'.join(parts[:i])}` is a value, not a mapping or a list")


def _resolve(spec: SweepSpec, overrides: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    request = copy.deepcopy(spec.base)
    whatif: dict[str, Any] = copy.deepcopy(spec.whatif)
    for path, value in overrides.items():
        if path == WHATIF_PREFIX:
            if not isinstance(value, dict):
                raise InvalidInputError("`whatif` overrides must be a mapping")
            whatif.update(copy.deepcopy(value))
        elif path.startswith(WHATIF_PREFIX + "."):
            _set_path(whatif, path[len(WHATIF_PREFIX) + 1:], value)
        else:
            _set_path(request, path, value)
    clean = _jsonable(whatif)
    return _jsonable(request), (clean or None)


def count_scenarios(spec: SweepSpec) -> int:
    """How many scenarios the spec expands to (without expanding it)."""
    grid = math.prod(len(v) for v in spec.sweep.values()) if spec.sweep else 0
    if spec.scenarios:
        return len(spec.scenarios) * max(grid, 1)
    return grid or 1


def _combos(spec: SweepSpec) -> Iterator[dict[str, Any]]:
    axes = list(spec.sweep.items())
    grid = ([dict(zip([p for p, _ in axes], combo, strict=True))
             for combo in itertools.product(*(v for _, v in axes))] if axes else [{}])
    for explicit in spec.scenarios or [{}]:
        for point in grid:
            yield {**point, **explicit}


def expand(spec: SweepSpec) -> list[Scenario]:
    """All scenarios of the spec, in a stable order, duplicates (same resolved scenario) dropped.

    Raises:
        InvalidInputError: too many scenarios or an override that does not fit the base request.
    """
    n = count_scenarios(spec)
    if n > MAX_SCENARIOS:
        raise InvalidInputError(f"the spec expands to {n:,} scenarios; at most {MAX_SCENARIOS:,} per job")
    out: list[Scenario] = []
    seen: set[str] = set()
    for overrides in _combos(spec):
        request, whatif = _resolve(spec, overrides)
        from service.jobs.runner import normalize_scenario

        request, whatif = normalize_scenario(request, whatif)
        sid = scenario_id(request, whatif)
        if sid in seen:
            continue
        seen.add(sid)
        out.append(Scenario(id=sid, seq=len(out), values=_jsonable(overrides), request=request, whatif=whatif))
    return out


def parse_spec(data: Any, *, source: str = "spec") -> SweepSpec:
    """Validate a spec mapping; a spec whose first scenarios are all invalid requests is rejected early.

    Scenarios that are invalid on their own (say ``min_cost`` without a deadline in one corner of a sweep)
    are kept: they are recorded as failed when the job runs, and the job goes on.

    Raises:
        InvalidInputError: not a mapping, bad axes, or a base request that is not a valid purchase request.
    """
    if not isinstance(data, dict):
        raise InvalidInputError(f"{source}: a sweep spec must be a mapping with `base:` and `sweep:` or `scenarios:`")
    if "base" not in data:
        raise InvalidInputError(f"{source}: the spec needs `base:` (a purchase request)")
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError(f"{source}: {first_error(list(exc.errors()))}") from None
    if not spec.sweep and not spec.scenarios:
        raise InvalidInputError(f"{source}: give `sweep:` axes or a `scenarios:` list")
    from service.jobs.runner import validate_scenario  # the runner owns what a valid scenario is

    problems = []
    for overrides in itertools.islice(_combos(spec), _PROBE):
        problem = validate_scenario(*_resolve(spec, overrides))
        if problem is None:
            return spec
        problems.append(problem)
    # Every probed scenario is invalid: the base (or a shared override) is broken, not one corner of the sweep.
    raise InvalidInputError(f"{source}: no valid scenario among the first {len(problems)}: {problems[0]}")


def load_spec(path: Path) -> SweepSpec:
    """Read a YAML or JSON spec file.

    Raises:
        InvalidInputError: unreadable file, bad syntax or an invalid spec.
    """
    data = read_data_file(path, "spec")
    return parse_spec(data, source=str(path))


def spec_hash(spec: SweepSpec) -> str:
    """Hash of the spec's canonical JSON: a rerun with the same job id must bring the same spec."""
    return hashlib.sha256(canonical_json(spec.model_dump()).encode("utf-8")).hexdigest()[:16]

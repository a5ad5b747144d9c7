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

Size: :func:`parse_spec` counts the scenarios from the spec's axes (without expanding them) and refuses a spec
beyond the cap (``PROCURE_JOBS__MAX_SCENARIOS``) before any work; :func:`iter_scenarios` then yields the
scenarios one at a time, so the store writes them in chunks and memory does not grow with the sweep.
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
from service.settings import JobSettings
from service.usecases import InvalidInputError, check_cancelled, check_sweep_size, quantity
from service.usecases.requests import read_data_file

MAX_SCENARIOS = 2_000_000
"""Absolute ceiling of one axis (the settable cap, ``jobs.max_scenarios``, is checked on the whole product)."""
DEFAULT_MAX_SCENARIOS: int = JobSettings.model_fields["max_scenarios"].default
CHECK_EVERY = 200
"""Scenarios expanded between two checks for a cancelled request."""
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


def _date_range(path: str, spec: dict[str, Any]) -> tuple[int, Iterator[str]]:
    """How many dates the range has (computed, not counted), and a generator of them as ISO strings."""
    start, stop = _as_date(spec["from"], path), _as_date(spec["to"], path)
    if stop < start:
        raise InvalidInputError(f"sweep `{path}`: `to` is before `from`")
    every = spec.get("every", "month")
    if isinstance(every, int) and not isinstance(every, bool) and every > 0:
        count = (stop - start).days // every + 1
        return count, ((start + dt.timedelta(days=i * every)).isoformat() for i in range(count))
    if isinstance(every, str) and every in _STEP_MONTHS:
        months = _STEP_MONTHS[every]
        count = ((stop.year - start.year) * 12 + stop.month - start.month) // months + 1
        if _add_months(start, (count - 1) * months) > stop:  # the last month is reached but not its day
            count -= 1
        return count, (_add_months(start, i * months).isoformat() for i in range(count))
    raise InvalidInputError(f"sweep `{path}`: `every` must be month, quarter, half, year or a number of days")


def _number(value: Any, path: str, key: str) -> float:
    try:
        return quantity(value, what=f"{path}.{key}")
    except InvalidInputError:
        raise InvalidInputError(f"sweep `{path}`: `{key}` must be a number (got {value!r})") from None


def _numeric_range(path: str, spec: dict[str, Any]) -> tuple[int, Iterator[float]]:
    """How many values the range has, and a generator of them (nothing is materialised)."""
    lo, hi = _number(spec["from"], path, "from"), _number(spec["to"], path, "to")
    if "steps" in spec:
        steps = spec["steps"]
        if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= MAX_SCENARIOS:
            raise InvalidInputError(f"sweep `{path}`: `steps` must be a whole number from 1 to {MAX_SCENARIOS:,}")
        scale = spec.get("scale", "linear")
        if scale not in ("linear", "log"):
            raise InvalidInputError(f"sweep `{path}`: `scale` must be linear or log")
        if scale == "log" and steps > 1 and (lo <= 0 or hi <= 0):
            raise InvalidInputError(f"sweep `{path}`: a log scale needs positive `from` and `to`")

        def point(i: int) -> float:
            if i == steps - 1:
                return hi if steps > 1 else lo  # no rounding drift at the end point
            if scale == "log":
                return float(f"{lo * ((hi / lo) ** (1 / (steps - 1))) ** i:.12g}")
            return float(f"{lo + (hi - lo) * i / (steps - 1):.12g}")

        return steps, (point(i) for i in range(steps))
    step = _number(spec.get("step"), path, "step") if "step" in spec else None
    if step is None or step <= 0 or hi < lo:
        raise InvalidInputError(f"sweep `{path}`: a range needs `steps`, or a positive `step` with `to` >= `from`")
    count = math.floor((hi - lo) / step + 1e-9) + 1
    if count > MAX_SCENARIOS:
        raise InvalidInputError(f"sweep `{path}`: the range has more than {MAX_SCENARIOS:,} values")
    return count, (float(f"{lo + i * step:.12g}") for i in range(count))


def _axis(path: str, values: Any) -> tuple[int, Iterator[Any]]:
    """One axis as (its length, known without expanding it; an iterator of its values)."""
    if not isinstance(path, str) or not path or any(not part for part in path.split(".")):
        raise InvalidInputError(f"sweep axis {path!r} is not a dotted path such as budget.amount")
    if isinstance(values, list):
        return len(values), iter(values)
    if isinstance(values, dict) and {"from", "to"} <= set(values):
        unknown = set(values) - {"from", "to", "steps", "step", "scale", "every"}
        if unknown:
            raise InvalidInputError(f"sweep `{path}`: unknown range key(s) {', '.join(sorted(unknown))}")
        is_date = "every" in values or isinstance(values["from"], dt.date) or (
            isinstance(values["from"], str) and len(values["from"]) == 10 and values["from"][4:5] == "-")
        return _date_range(path, values) if is_date else _numeric_range(path, values)
    raise InvalidInputError(f"sweep `{path}`: give a list of values or a range {{from, to, steps}}")


def axis_length(path: str, values: Any) -> int:
    """How many values an axis has, computed without expanding it.

    Raises:
        InvalidInputError: a malformed path or range.
    """
    return _axis(path, values)[0]


def axis_values(path: str, values: Any) -> list[Any]:
    """Expand one axis: a list stays as written; ``{from, to, steps|step[, scale]}`` or dates ``{from, to, every}``.

    Raises:
        InvalidInputError: a malformed path or range, or an empty axis.
    """
    out = list(_axis(path, values)[1])
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
    paths = list(spec.sweep)
    for explicit in spec.scenarios or [{}]:
        for combo in itertools.product(*spec.sweep.values()):  # a generator: the grid is never materialised
            yield {**dict(zip(paths, combo, strict=True)), **explicit}


def iter_scenarios(spec: SweepSpec, *, max_scenarios: int | None = None) -> Iterator[Scenario]:
    """The spec's scenarios one at a time, in a stable order, duplicates (same resolved scenario) dropped.

    Memory holds one scenario and the ids seen so far (about 70 bytes each). The current request's cancellation
    is checked every :data:`CHECK_EVERY` scenarios.

    Raises:
        LimitExceededError: more scenarios than ``max_scenarios`` (default :data:`DEFAULT_MAX_SCENARIOS`).
        InvalidInputError: an override that does not fit the base request.
        WorkCancelledError: the request that expands the spec was cancelled.
    """
    from service.jobs.runner import normalize_scenario

    check_sweep_size(count_scenarios(spec), max_scenarios or DEFAULT_MAX_SCENARIOS)
    seen: set[str] = set()
    for i, overrides in enumerate(_combos(spec)):
        if i % CHECK_EVERY == 0:
            check_cancelled()
        request, whatif = normalize_scenario(*_resolve(spec, overrides))
        sid = scenario_id(request, whatif)
        if sid in seen:
            continue
        seen.add(sid)
        yield Scenario(id=sid, seq=len(seen) - 1, values=_jsonable(overrides), request=request, whatif=whatif)


def expand(spec: SweepSpec, *, max_scenarios: int | None = None) -> list[Scenario]:
    """All scenarios of the spec as a list (see :func:`iter_scenarios`; the store streams them instead)."""
    return list(iter_scenarios(spec, max_scenarios=max_scenarios))


def planned_count(data: dict[str, Any]) -> int:
    """Scenarios a raw spec mapping expands to (before duplicates are dropped), computed without expanding it."""
    sweep = data.get("sweep") or {}
    scenarios = data.get("scenarios") or []
    if not isinstance(sweep, dict) or not isinstance(scenarios, list):
        return 0  # the model validation that follows says what is wrong
    grid = math.prod(axis_length(path, values) for path, values in sweep.items()) if sweep else 0
    return len(scenarios) * max(grid, 1) if scenarios else (grid or 1)


def parse_spec(data: Any, *, source: str = "spec", max_scenarios: int | None = None) -> SweepSpec:
    """Validate a spec mapping; a spec whose first scenarios are all invalid requests is rejected early.

    The size is checked first, from the axes alone: a spec beyond ``max_scenarios`` (default
    :data:`DEFAULT_MAX_SCENARIOS`; the service passes ``jobs.max_scenarios``) is refused before any axis is
    expanded. Scenarios that are invalid on their own (say ``min_cost`` without a deadline in one corner of a
    sweep) are kept: they are recorded as failed when the job runs, and the job goes on.

    Raises:
        LimitExceededError: the spec expands to more scenarios than the cap (the message says how to raise it).
        InvalidInputError: not a mapping, bad axes, or a base request that is not a valid purchase request.
    """
    if not isinstance(data, dict):
        raise InvalidInputError(f"{source}: a sweep spec must be a mapping with `base:` and `sweep:` or `scenarios:`")
    if "base" not in data:
        raise InvalidInputError(f"{source}: the spec needs `base:` (a purchase request)")
    cap = max_scenarios or DEFAULT_MAX_SCENARIOS
    n = planned_count(data)
    if n > cap:
        check_sweep_size(n, cap)
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


def load_spec(path: Path, *, max_scenarios: int | None = None) -> SweepSpec:
    """Read a YAML or JSON spec file.

    Raises:
        InvalidInputError: unreadable file, bad syntax, an invalid spec or one beyond ``max_scenarios``.
    """
    data = read_data_file(path, "spec")
    return parse_spec(data, source=str(path), max_scenarios=max_scenarios)


def spec_hash(spec: SweepSpec) -> str:
    """Hash of the spec's canonical JSON: a rerun with the same job id must bring the same spec."""
    return hashlib.sha256(canonical_json(spec.model_dump()).encode("utf-8")).hexdigest()[:16]

"""Turn events into scenarios: exact enumeration of the joint outcomes, or a seeded sample-average approximation.

Every event is a discrete random variable whose outcomes are listed worst first (revoked, the longest pause …,
nominal last). Events of one correlation group share one uniform draw ``u`` (comonotone coupling): each maps ``u``
through its own cumulative probabilities, so a bad draw is bad for all of them, and an event with a smaller
probability only fires when every more likely one of its group fires too. Groups are independent of each other.

* **exact** splits each group's unit interval at every event's cumulative probabilities; a joint outcome is one
  interval per group, its probability the product of the lengths;
* **saa** draws ``samples`` joint outcomes with :class:`random.Random` seeded by ``seed`` (the same seed gives the
  same scenarios on every machine) and merges identical draws.

Scenario weights are integers (sample counts, or probabilities in units of 1/``EXACT_WEIGHT``) so the two-stage
model and the brute-force oracle count them exactly; a scenario's probability is its weight over the total.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from optimizer.errors import InvalidInputError
from optimizer.risk.spec import (
    MAX_EXACT,
    DelayEvent,
    LicenceEvent,
    PriceEvent,
    PriceLevel,
    RiskEvent,
    TighteningEvent,
)

EXACT_WEIGHT = 100_000
"""Total weight of an exact enumeration (probabilities are kept to 1e-5)."""


@dataclass(frozen=True)
class Outcome:
    """One outcome of one event: what happens to its part."""

    label: str
    probability: float
    code: str = ""
    """revoked, paused, barred, delayed, price_high, price_low ("" = nothing happens)."""
    days: float | None = None
    disrupted_at: float | None = None
    cause: str | None = None
    delay: float = 0.0
    price: PriceLevel | None = None

    @property
    def nominal(self) -> bool:
        """Nothing happens."""
        return self.disrupted_at is None and self.delay == 0 and self.price in (None, "base")


@dataclass(frozen=True)
class Variable:
    """An event as a random variable: its outcomes worst first, the nominal one last."""

    event: RiskEvent
    outcomes: tuple[Outcome, ...]

    @property
    def group(self) -> str:
        """The correlation group (an event without one is its own group)."""
        return self.event.group or f"~{self.event.id}"

    def decode(self, u: float) -> int:
        """Index of the outcome a uniform draw ``u`` in [0, 1) falls in."""
        acc = 0.0
        for i, o in enumerate(self.outcomes):
            acc += o.probability
            if u < acc:
                return i
        return len(self.outcomes) - 1


def _fmt_days(d: float) -> str:
    return f"{d:.0f} d" if abs(d - round(d)) < 1e-9 else f"{d:.1f} d"


def variable(ev: RiskEvent) -> Variable:
    """The outcomes of one event (zero-probability outcomes dropped)."""
    out: list[Outcome] = []
    if isinstance(ev, LicenceEvent):
        out.append(Outcome("licence revoked", ev.revoke, "revoked", disrupted_at=ev.discovered_after_days,
                           cause="licence revoked"))
        points = ev.pause_days.points(3)
        for d in points:
            out.append(Outcome(f"licence paused {_fmt_days(d)}", ev.pause / len(points), "paused", d, delay=d))
        out.append(Outcome("", max(0.0, 1 - ev.revoke - ev.pause)))
    elif isinstance(ev, TighteningEvent):
        out.append(Outcome("barred by a China-side measure", ev.probability, "barred",
                           disrupted_at=ev.discovered_after_days, cause="China-side measure"))
        out.append(Outcome("", 1 - ev.probability))
    elif isinstance(ev, DelayEvent):
        points = ev.days.points(ev.levels)
        for d in points:
            out.append(Outcome(f"delivery {_fmt_days(d)} late", ev.probability / len(points), "delayed", d, delay=d))
        out.append(Outcome("", 1 - ev.probability))
    else:
        assert isinstance(ev, PriceEvent)
        out += [Outcome("price high", ev.high, "price_high", price="high"),
                Outcome("price low", ev.low, "price_low", price="low"),
                Outcome("", ev.base, price="base")]
    return Variable(ev, tuple(o for o in out if o.probability > 1e-12 or o.label == ""))


@dataclass(frozen=True)
class SkuState:
    """What one scenario does to one part."""

    disrupted_at: float | None = None
    """Day (from the order) on which the buyer learns the part will not come; None = it comes."""
    cause: str | None = None
    delay: float = 0.0
    """Days its delivery slips."""
    price: PriceLevel = "base"


NOMINAL = SkuState()


@dataclass(frozen=True)
class Scenario:
    """One joint outcome: its name, integer weight and what happens to each affected part."""

    key: tuple[tuple[str, int], ...]
    name: str
    labels: tuple[str, ...]
    weight: int
    states: Mapping[str, SkuState] = field(default_factory=dict)
    shocks: tuple[tuple[str, str, float | None], ...] = ()
    """(code, SKU, days) of every event that fires, for wording the scenario in any language."""

    def state(self, sku: str) -> SkuState:
        """The part's state (nominal when the scenario does not touch it)."""
        return self.states.get(sku, NOMINAL)


@dataclass(frozen=True)
class ScenarioSet:
    """The scenarios with their weights, how they were made, and the events behind them."""

    scenarios: list[Scenario]
    total_weight: int
    method: str
    samples: int
    seed: int
    joint_outcomes: int | None
    events: list[RiskEvent]

    def probability(self, s: Scenario) -> float:
        """Weight over total weight."""
        return s.weight / self.total_weight


def _scenario(variables: Sequence[Variable], picks: Sequence[int], weight: int) -> Scenario:
    key = tuple((v.event.id, i) for v, i in zip(variables, picks, strict=True) if not v.outcomes[i].nominal)
    states: dict[str, SkuState] = {}
    labels = []
    shocks = []
    by_what: dict[str, list[str]] = {}
    for v, i in zip(variables, picks, strict=True):
        o = v.outcomes[i]
        if o.nominal:
            continue
        labels.append(f"{v.event.sku}: {o.label}")
        shocks.append((o.code, v.event.sku, o.days))
        by_what.setdefault(o.label, []).append(v.event.sku)
        cur = states.get(v.event.sku, NOMINAL)
        disrupted, cause = cur.disrupted_at, cur.cause
        if o.disrupted_at is not None and (disrupted is None or o.disrupted_at < disrupted):
            disrupted, cause = o.disrupted_at, o.cause
        states[v.event.sku] = SkuState(disrupted_at=disrupted, cause=cause, delay=cur.delay + o.delay,
                                       price=o.price if o.price is not None else cur.price)
    name = "; ".join(f"{what}: {', '.join(dict.fromkeys(skus))}" for what, skus in by_what.items())
    return Scenario(key=key, name=name or "no shock", labels=tuple(labels), weight=weight, states=states,
                    shocks=tuple(shocks))


def _group_intervals(group: Sequence[Variable]) -> list[tuple[float, tuple[int, ...]]]:
    """Split [0, 1) at every cumulative probability of the group's events: (length, outcome per event)."""
    cuts = {0.0, 1.0}
    for v in group:
        acc = 0.0
        for o in v.outcomes:
            acc += o.probability
            cuts.add(min(1.0, round(acc, 12)))
    edges = sorted(cuts)
    out = []
    for lo, hi in itertools.pairwise(edges):
        if hi - lo > 1e-12:
            mid = (lo + hi) / 2
            out.append((hi - lo, tuple(v.decode(mid) for v in group)))
    return out


def _groups(variables: Sequence[Variable]) -> list[list[int]]:
    by: dict[str, list[int]] = {}
    for i, v in enumerate(variables):
        by.setdefault(v.group, []).append(i)
    return [by[k] for k in sorted(by)]


def joint_outcome_count(events: Sequence[RiskEvent]) -> int:
    """How many joint outcomes an exact enumeration would list (before merging identical ones)."""
    variables = [variable(e) for e in events]
    return math.prod(len(_group_intervals([variables[i] for i in g])) for g in _groups(variables))


def _integer_weights(probabilities: Sequence[float], total: int) -> list[int]:
    """Largest-remainder rounding of probabilities to integers summing to ``total``."""
    raw = [p * total for p in probabilities]
    floors = [math.floor(r) for r in raw]
    rest = total - sum(floors)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:max(0, rest)]:
        floors[i] += 1
    return floors


def _exact(variables: Sequence[Variable]) -> list[Scenario]:
    groups = _groups(variables)
    per_group = [_group_intervals([variables[i] for i in g]) for g in groups]
    merged: dict[tuple[tuple[str, int], ...], tuple[float, list[int]]] = {}
    for combo in itertools.product(*per_group):
        prob = math.prod(length for length, _ in combo)
        picks = [0] * len(variables)
        for g, (_, idx) in zip(groups, combo, strict=True):
            for vi, oi in zip(g, idx, strict=True):
                picks[vi] = oi
        key = tuple((variables[i].event.id, picks[i]) for i in range(len(variables))
                    if not variables[i].outcomes[picks[i]].nominal)
        old = merged.get(key)
        merged[key] = (prob + (old[0] if old else 0.0), picks)
    keys = list(merged)
    weights = _integer_weights([merged[k][0] for k in keys], EXACT_WEIGHT)
    return [_scenario(variables, merged[k][1], w) for k, w in zip(keys, weights, strict=True) if w > 0]


def _saa(variables: Sequence[Variable], samples: int, seed: int) -> list[Scenario]:
    rng = random.Random(seed)
    groups = _groups(variables)
    counts: dict[tuple[tuple[str, int], ...], tuple[int, list[int]]] = {}
    for _ in range(samples):
        picks = [0] * len(variables)
        for g in groups:
            u = rng.random()
            for vi in g:
                picks[vi] = variables[vi].decode(u)
        key = tuple((variables[i].event.id, picks[i]) for i in range(len(variables))
                    if not variables[i].outcomes[picks[i]].nominal)
        old = counts.get(key)
        counts[key] = ((old[0] if old else 0) + 1, picks)
    return [_scenario(variables, picks, n) for n, picks in counts.values()]


def build_scenarios(events: Sequence[RiskEvent], *, method: str = "auto", samples: int = 200, seed: int = 0
                    ) -> ScenarioSet:
    """The scenario set of ``events``: exact, sampled, or exact when small enough (``auto``).

    Raises:
        InvalidInputError: ``exact`` was asked for a set with more than ``MAX_EXACT`` joint outcomes.
    """
    variables = [variable(e) for e in events]
    joint = math.prod(len(_group_intervals([variables[i] for i in g])) for g in _groups(variables))
    use = method
    if method == "auto":
        use = "exact" if joint <= samples else "saa"
    if use == "exact" and joint > MAX_EXACT:
        raise InvalidInputError(f"the scenario set has {joint:,} joint outcomes, more than the {MAX_EXACT:,} an exact "
                                "enumeration may list; use method saa (or fewer events, or shared groups)")
    scenarios = _exact(variables) if use == "exact" else _saa(variables, samples, seed)
    scenarios.sort(key=lambda s: (-s.weight, s.key))
    total = sum(s.weight for s in scenarios)
    return ScenarioSet(scenarios=scenarios, total_weight=total, method=use, samples=samples, seed=seed,
                       joint_outcomes=joint, events=list(events))

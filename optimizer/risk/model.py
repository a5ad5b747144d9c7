"""The two-stage CP-SAT model: buy now, and when a part does not come, replace it.

Formulation (scenario-expanded; every figure from :mod:`optimizer.risk.coefficients`)
-----------------------------------------------------------------------------------
Sets: admissible options O (per workload O_w), scenarios S with integer weights ω_s (W = Σ ω_s), information
classes C (scenarios with the same parts lost on the same days: the buyer cannot tell them apart when re-ordering,
because delays and prices are not known yet), lost SKUs L_cw of workload w in class c, foreign ecosystem families.

First stage: x_o (0/1 training pool, 0..u_o serving nodes) under the purchase model's coverage, power, rack,
supply, policy, domestic-share and vendor-cap families (budget and deadlines are judged per scenario instead);
porting p_wf ∈ {0,1} with x_o ≤ u_o·p_wf for options of family f.

Recourse, per class c and affected workload w (L_cw ≠ ∅): replacements r_co over options of w whose part comes,
failure flags φ_cw (w cannot be served) and φ_c ≥ φ_cw, φ_c ≤ Σ_w φ_cw, extra porting q_cwf:
  1. training: Σ r_co ≤ Σ_{o lost} x_o ≤ Σ r_co + φ_cw (a lost pool is replaced by exactly one pool, or w fails);
     serving: Σ_{o delivered} cap_o·x_o + Σ cap_o·r_co + need_w·φ_cw ≥ need_w.
  2. fleet limits on delivered x plus r: power, racks, supply; domestic share and vendor cap unless φ_c.
  3. porting of a replacement family not ported in the first stage: r_co ≤ u_o·v_cwf, q_cwf ≥ v_cwf − p_wf.
Per scenario s (in class c): cost_s = Σ keep_so·x_o + Σ rec_so·r_co + Σ P_wf·(p_wf + q_cwf) + F·Σ_w φ_cw (F
exceeds any real spend, so a workload fails only when nothing can replace its part), on-time flags θ_sw per workload
and θ_s for the whole plan:
  4. θ_sw ⇒ ¬φ_cw; θ_sw ⇒ x_o = 0 for every delivered option of w late in s; θ_sw ⇒ no replacement late in s for
     the SKU w lost (y_wk + r_co ≤ 1, y_wk = Σ_{o∈O_w on k} x_o or its use flag);
     θ_s ⇒ θ_sw for every w; θ_s ⇒ ¬φ_c; θ_s ⇒ cost_s ≤ budget.

Objectives (solved stage by stage, each stage fixing the one before):
  on_time        max Σ ω_s θ_s, then max Σ ω_s Σ_w θ_sw (as many workloads on time as possible where the whole
                 plan cannot be), then the request's own objective on the no-shock plan: min nominal cost
                 Σ c_o·x_o + Σ P_wf·p_wf (min_cost requests) or min nominal makespan (min_time requests) — the
                 safest plan, and among equally safe ones what today's optimizer would pick;
  expected_cost  min Σ ω_s cost_s  s.t. Σ ω_s θ_s ≥ K;
  cvar           min (100−a)·W·τ + 100·Σ ω_s z_s, z_s ≥ cost_s − τ, z_s ≥ 0 (CVaR at a %), then min Σ ω_s cost_s,
                 s.t. Σ ω_s θ_s ≥ K;
where K is the weight on time of today's plan (so a cost hedge is never less likely to finish on time).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from optimizer.cpsat import cp_model
from optimizer.model.builder import PurchaseModel
from optimizer.request import TrainingWorkload
from optimizer.risk.coefficients import Coefficients, time_units


@dataclass
class ClassVars:
    """Recourse variables shared by the scenarios of one information class."""

    rec: dict[str, cp_model.IntVar] = field(default_factory=dict)
    fail: cp_model.IntVar | None = None
    fails: dict[str, cp_model.IntVar] = field(default_factory=dict)
    porting: list[tuple[int, cp_model.IntVar]] = field(default_factory=list)
    """(porting cost, flag) of replacement families the first stage did not port."""


class HedgeModel:
    """A built two-stage model: the first-stage purchase model, one block per class and per scenario."""

    def __init__(self, co: Coefficients, *, fixed: Mapping[str, int] | None = None) -> None:
        """Build the model; ``fixed`` pins the first stage (to evaluate a given plan)."""
        self.co = co
        self.pm = PurchaseModel(co.table, objective="min_cost", disabled={"budget", "deadline"})
        self.model = self.pm.model
        self.x = self.pm.vars.count
        req = co.table.request
        self.training = {w.name for w in req.workloads if isinstance(w, TrainingWorkload)}
        if fixed is not None:
            for oid, var in self.x.items():
                self.model.add(var == int(fixed.get(oid, 0)))
        # Porting of each foreign family a workload's first-stage options use.
        self.port: dict[tuple[str, str], cp_model.IntVar] = {}
        for (w, fam) in co.porting:
            b = self.model.new_bool_var(f"port[{w},{fam}]")
            self.port[(w, fam)] = b
            for o in co.workload_options(w):
                if co.family[o.id] == fam:
                    self.model.add(self.x[o.id] <= o.max_units * b)
        self.klass: dict[int, ClassVars] = {}
        for c, members in enumerate(co.classes):
            self.klass[c] = self._class(c, members[0])
        owner = {j: c for c, members in enumerate(co.classes) for j in members}
        self.on: list[cp_model.IntVar] = []
        self.on_workload: list[list[cp_model.IntVar]] = []
        self.cost: list[cp_model.LinearExpr] = []
        self.of: list[ClassVars] = []
        for j in range(len(co.per_scenario)):
            cv = self.klass[owner[j]]
            self.of.append(cv)
            self._scenario(j, cv)

    # ------------------------------------------------------------------ one information class
    def _class(self, c: int, first: int) -> ClassVars:
        co, m, x = self.co, self.model, self.x
        sc = co.per_scenario[first]
        cv = ClassVars()
        if not sc.affected:
            return cv
        cv.fail = m.new_bool_var(f"fail[{c}]")
        for w in sc.affected:
            fw = m.new_bool_var(f"fail[{c},{w}]")
            cv.fails[w] = fw
            lost_opts = [o for o in co.workload_options(w) if not sc.delivered[o.id]]
            repl = [o for o in co.workload_options(w) if o.id in sc.rec_cost]
            for o in repl:
                cv.rec[o.id] = m.new_int_var(0, 1 if o.kind == "training" else o.max_units, f"rec[{c},{o.id}]")
            r = [cv.rec[o.id] for o in repl]
            if w in self.training:
                lost_x = sum(x[o.id] for o in lost_opts)
                m.add(sum(r) <= lost_x)
                m.add(sum(r) + fw >= lost_x)
            else:
                need = co.need[w]
                kept = [co.capacity[o.id] * x[o.id] for o in co.workload_options(w) if sc.delivered[o.id]]
                m.add(sum(kept) + sum(co.capacity[o.id] * cv.rec[o.id] for o in repl) + need * fw >= need)
            for fam in sorted({f for o in repl if (f := co.family[o.id]) is not None}):
                v = m.new_bool_var(f"rport[{c},{w},{fam}]")
                q = m.new_bool_var(f"xport[{c},{w},{fam}]")
                for o in repl:
                    if co.family[o.id] == fam:
                        m.add(cv.rec[o.id] <= (1 if o.kind == "training" else o.max_units) * v)
                m.add(q >= v - self.port[(w, fam)])
                cv.porting.append((co.porting[(w, fam)], q))
        for fw in cv.fails.values():
            m.add(cv.fail >= fw)
        m.add(cv.fail <= sum(cv.fails.values()))
        self._fleet_limits(first, cv)
        return cv

    def _fleet_limits(self, j: int, cv: ClassVars) -> None:
        """Power, racks, supply, domestic share and vendor cap hold for the fleet that runs in the class."""
        co, m, x = self.co, self.model, self.x
        assert cv.fail is not None
        sc = co.per_scenario[j]
        req = co.table.request
        fleet = [(o, x[o.id]) for o in co.options if sc.delivered[o.id]]
        fleet += [(co.by_id[i], v) for i, v in cv.rec.items()]
        if co.power_cap is not None:
            m.add(sum(co.power[o.id] * v for o, v in fleet) <= co.power_cap)
        if req.limits.racks is not None:
            m.add(sum(o.nodes * v for o, v in fleet) <= req.limits.racks * req.limits.nodes_per_rack)
        for sku, limit in co.table.supply.items():
            used = [o.accelerators * v for o, v in fleet if o.sku == sku]
            if used:
                m.add(sum(used) <= limit)
        share = req.policy.min_domestic_share
        total = sum(o.accelerators * v for o, v in fleet)
        if share > 0:
            pct = math.ceil(share * 1000 - 1e-9)
            dom = sum(o.accelerators * v for o, v in fleet if o.domestic)
            m.add(1000 * dom >= pct * total).only_enforce_if(~cv.fail)
        cap = req.policy.max_vendor_share
        if cap < 1:
            permille = math.floor(cap * 1000 + 1e-9)
            for vendor in sorted({o.vendor for o, _ in fleet}):
                mine = sum(o.accelerators * v for o, v in fleet if o.vendor == vendor)
                m.add(1000 * mine <= permille * total).only_enforce_if(~cv.fail)

    # ------------------------------------------------------------------ one scenario
    def _scenario(self, j: int, cv: ClassVars) -> None:
        co, m, x = self.co, self.model, self.x
        sc = co.per_scenario[j]
        on = m.new_bool_var(f"on[{j}]")
        ons = {w.name: m.new_bool_var(f"on[{j},{w.name}]") for w in co.table.request.workloads}
        for flag in ons.values():
            m.add(on <= flag)
        terms: list[cp_model.LinearExprT] = [co.porting[k] * b for k, b in self.port.items()]
        terms += [sc.keep_cost[o.id] * x[o.id] for o in co.options]
        terms += [sc.rec_cost[i] * v for i, v in cv.rec.items()]
        terms += [p * q for p, q in cv.porting]
        terms += [co.fail_penalty * fw for fw in cv.fails.values()]
        # A workload is on time only if none of its delivered, chosen options is late (one pool per training job:
        # a set-packing row; serving nodes: one row per late option).
        for name, flag in ons.items():
            late = [o for o in co.workload_options(name) if sc.delivered[o.id] and sc.late[o.id]]
            if name in self.training and late:
                m.add(sum(x[o.id] for o in late) + flag <= 1)
            for o in late if name not in self.training else []:
                m.add(x[o.id] + o.max_units * flag <= o.max_units)
        for w, lost in sc.affected.items():
            m.add(ons[w] + cv.fails[w] <= 1)
            repl = [o for o in co.workload_options(w) if o.id in cv.rec]
            for k in lost:
                late_rec = [o for o in repl if sc.rec_late[(k, o.id)]]
                if not late_rec:
                    continue
                if w in self.training:
                    # The pool lost on k and a late replacement cannot both be chosen when w is on time.
                    y = cp_model.LinearExpr.sum([x[o.id] for o in co.workload_options(w)
                                                 if o.sku == k and not sc.delivered[o.id]])
                    m.add(y + sum(cv.rec[o.id] for o in late_rec) + ons[w] <= 2)
                else:
                    used = self.pm.vars.used(w, k)
                    for o in late_rec:
                        m.add(cv.rec[o.id] + o.max_units * used <= o.max_units).only_enforce_if(ons[w])
        if cv.fail is not None:
            m.add(on + cv.fail <= 1)
        cost = cp_model.LinearExpr.sum(terms)
        if co.budget is not None:
            m.add(cost <= co.budget).only_enforce_if(on)
        self.on.append(on)
        self.on_workload.append(list(ons.values()))
        self.cost.append(cost)

    # ------------------------------------------------------------------ objective expressions
    def weighted_on(self) -> cp_model.LinearExprT:
        """Σ ω_s θ_s."""
        return sum(sc.weight * on for sc, on in zip(self.co.per_scenario, self.on, strict=True))

    def weighted_workloads_on(self) -> cp_model.LinearExprT:
        """Σ ω_s Σ_w θ_sw (workloads on time, counted one by one)."""
        return sum(sc.weight * sum(flags) for sc, flags in zip(self.co.per_scenario, self.on_workload, strict=True))

    def weighted_cost(self) -> cp_model.LinearExprT:
        """Σ ω_s cost_s."""
        return sum(sc.weight * c for sc, c in zip(self.co.per_scenario, self.cost, strict=True))

    def nominal_cost(self) -> cp_model.LinearExprT:
        """No-shock cost at base prices, with first-stage porting."""
        co = self.co
        return (sum(co.nominal_cost[o.id] * self.x[o.id] for o in co.options)
                + sum(co.porting[k] * b for k, b in self.port.items()))

    def nominal_makespan(self) -> cp_model.IntVar:
        """No-shock makespan (0.01-day units, ramped training days, lead time excluded)."""
        co, m = self.co, self.model
        top = max([0, *(time_units(o.days or 0.0) for o in co.options)])
        span = m.new_int_var(0, top, "nominal_makespan")
        for w in self.training:
            m.add(span >= sum(time_units(o.days or 0.0) * self.x[o.id] for o in co.workload_options(w)))
        return span

    def cvar_expr(self) -> cp_model.LinearExprT:
        """(100 − a)·W·τ + 100·Σ ω_s (cost_s − τ)⁺, i.e. 100·W·(1 − α)·CVaR_α at its minimum over τ."""
        co, m = self.co, self.model
        top = co.fail_penalty * (len(co.table.request.workloads) + 1)
        tau = m.new_int_var(0, top, "tau")
        zs = []
        for j, c in enumerate(self.cost):
            z = m.new_int_var(0, top, f"excess[{j}]")
            m.add(z >= c - tau)
            zs.append(co.per_scenario[j].weight * z)
        a = co.terms.alpha_percent
        return (100 - a) * co.total_weight * tau + 100 * sum(zs)

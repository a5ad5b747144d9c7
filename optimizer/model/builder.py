"""Assemble the CP-SAT purchase model from the option table.

Formulation
-----------
Sets: workloads W (training T ⊆ W, inference I ⊆ W); options O_w per workload (SKU × size); SKUs S.
Variables: x_o ∈ {0,1} for a training pool option, n_o ∈ {0..u_o} nodes for an inference option; makespan M.
Objective (lexicographic): min_cost → Σ c_o·x_o (+ n_o) then M; min_time → M then cost.
Constraints:
  1. coverage: Σ_{o∈O_w} x_o = 1 for w ∈ T (≥ 1 with at most one size per SKU if mixed pools are allowed);
     Σ cap_o·n_o ≥ rate_w for w ∈ I.
  2. deadlines: Σ days_o·x_o ≤ D_w and ≤ M (mixed pools: M·throughput ≥ tokens).
  3. budget: Σ cost ≤ B.     4. power: Σ kW ≤ P.     5. racks: Σ nodes ≤ R·k.
  6. supply: Σ accelerators of s ≤ L_s.     7. policy: blocked options = 0.
  8. domestic share: Σ domestic accelerators ≥ d·Σ accelerators.   9. vendor cap: Σ_v ≤ m·Σ.
All quantities are integers (units.py): money in thousands, time in 0.01 day, power in 0.1 kW; costs and
times are rounded up and capacities down, so every solver-feasible plan is feasible in real numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from optimizer.cpsat import cp_model
from optimizer.model.constraints import DEFAULT_MODULES, BuildContext, ConstraintModule
from optimizer.model.objectives import ModelObjective, objective_expr
from optimizer.model.variables import PurchaseVars
from optimizer.request import TrainingWorkload
from optimizer.table import OptionTable


class PurchaseModel:
    """A built model: ``model``, ``vars``, the active modules and the objective expression."""

    def __init__(
        self,
        table: OptionTable,
        *,
        objective: ModelObjective,
        modules: Sequence[type[ConstraintModule]] = DEFAULT_MODULES,
        disabled: Iterable[str] = (),
        nogoods: Sequence[frozenset[tuple[str, str]]] = (),
    ) -> None:
        """Build variables, constraint families (minus ``disabled``), no-good cuts and the objective."""
        self.table = table
        self.model = cp_model.CpModel()
        self.vars = PurchaseVars(self.model, table)
        has_training = any(isinstance(w, TrainingWorkload) for w in table.request.workloads)
        self.ctx = BuildContext(makespan=self.model.new_int_var(0, 3650 * 100, "makespan") if has_training else None)
        off = set(disabled)
        self.modules = [m() for m in modules if m.name not in off]
        # Build each family in a fixed order (see the module docstring for the numbering).
        for module in self.modules:
            module.build(self.model, self.vars, self.ctx)
        # Distinct alternatives: forbid using exactly the same (workload, SKU) set again.
        for used in nogoods:
            self.model.add(sum(self.vars.used(w, s) for w, s in used) <= len(used) - 1)
        self.objective_kind = objective
        self.objective = objective_expr(objective, self.vars, self.ctx)
        self.model.minimize(self.objective)

    def cap(self, kind: ModelObjective, value: int) -> None:
        """Add ``objective(kind) ≤ value`` (lexicographic and Pareto steps)."""
        self.model.add(objective_expr(kind, self.vars, self.ctx) <= value)

    def reobjective(self, kind: ModelObjective) -> None:
        """Switch the objective."""
        self.objective_kind = kind
        self.objective = objective_expr(kind, self.vars, self.ctx)
        self.model.minimize(self.objective)

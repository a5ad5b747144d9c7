"""optimizer.cpsat: CP-SAT without importing pandas, and nothing of OR-Tools' pandas helpers lost.

Each check runs in a fresh interpreter: whether pandas is loaded is process-wide state.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_solving_through_cpsat_never_imports_pandas() -> None:
    out = _run("""
        import sys
        from optimizer.cpsat import cp_model
        m = cp_model.CpModel()
        x = m.new_int_var(0, 10, "x")
        y = m.new_bool_var("y")
        m.add(x + 3 * y >= 7)
        m.minimize(x + 2 * y)
        s = cp_model.CpSolver()
        assert s.solve(m) == cp_model.OPTIMAL
        print(s.value(x), s.value(y), s.objective_value, "pandas" in sys.modules, "pyarrow" in sys.modules)
    """)
    # x + 3y ≥ 7 at least x + 2y: y = 0 needs x = 7 (cost 7); y = 1 needs x = 4 (cost 6)
    assert out == "4 1 6.0 False False"


def test_pandas_imported_later_is_the_real_package_and_the_series_helpers_work() -> None:
    out = _run("""
        import sys
        from optimizer.cpsat import cp_model
        assert "pandas" not in sys.modules
        assert not isinstance([1, 2], cp_model.pd.Series)  # nothing is a pandas object before pandas is loaded
        import pandas as pd
        assert sys.modules["pandas"] is pd and hasattr(pd, "DataFrame")
        assert isinstance(pd.Series([1]), cp_model.pd.Series) and isinstance(pd.Index([1]), cp_model.pd.Index)
        m = cp_model.CpModel()
        xs = m.new_int_var_series(name="x", index=pd.Index(["a", "b", "c"]), lower_bounds=0, upper_bounds=5)
        print(type(xs).__module__.split(".")[0], list(xs.index))
    """)
    assert out == "pandas ['a', 'b', 'c']"


def test_with_pandas_already_loaded_cp_model_is_imported_as_usual() -> None:
    out = _run("""
        import pandas as pd
        from optimizer.cpsat import cp_model
        print(cp_model.pd is pd)
    """)
    assert out == "True"

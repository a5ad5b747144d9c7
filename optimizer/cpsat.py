"""OR-Tools' CP-SAT module, imported without importing pandas.

``ortools.sat.python.cp_model`` imports pandas (and, through it, pyarrow) at the top of the module, only for its
``*_series`` helpers, which procure never calls; the import costs ~0.3 s, a fifth of a cold ``procure ask``.
Here the module is imported while ``pandas`` names a stand-in whose ``Index`` and ``Series`` defer to the real
pandas the moment they are used: ``isinstance(x, pd.Series)`` is False until pandas has been imported (nothing
can be a pandas object before that) and asks the real class afterwards; calling ``pd.Series(...)`` imports pandas
and builds a real one; any other attribute is read from the real pandas. The stand-in is removed from
``sys.modules`` straight after, so every other ``import pandas`` gets the real package. When pandas is already
imported, the module is imported as usual.

Every solver module in :mod:`optimizer` imports ``cp_model`` from here.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__all__ = ["cp_model"]


def _pandas() -> Any:
    if isinstance(sys.modules.get("pandas"), _StandIn):  # only while cp_model itself is being imported
        raise AttributeError("the real pandas is not loaded while OR-Tools' cp_model is imported")
    return importlib.import_module("pandas")


def _real_loaded() -> bool:
    return "pandas" in sys.modules and not isinstance(sys.modules["pandas"], _StandIn)


class _Deferred(type):
    """Metaclass of the stand-in classes: every use is answered by the real pandas class of the same name."""

    def __instancecheck__(cls, obj: object) -> bool:
        return _real_loaded() and isinstance(obj, getattr(_pandas(), cls.__name__))

    def __subclasscheck__(cls, sub: type) -> bool:
        return _real_loaded() and issubclass(sub, getattr(_pandas(), cls.__name__))

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return getattr(_pandas(), cls.__name__)(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__"):  # typing and copy probe dunders: the stand-in class has none of its own
            raise AttributeError(name)
        return getattr(getattr(_pandas(), cls.__name__), name)


class _StandIn(types.ModuleType):
    """``pandas`` as ``cp_model`` sees it: Index and Series deferred, everything else from the real package."""

    def __init__(self) -> None:
        super().__init__("pandas", "stand-in for pandas while OR-Tools' cp_model is imported (optimizer.cpsat)")
        self.Index = _Deferred("Index", (), {"__module__": "pandas"})
        self.Series = _Deferred("Series", (), {"__module__": "pandas"})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_pandas(), name)


def _import_cp_model() -> types.ModuleType:
    if "pandas" in sys.modules or "ortools.sat.python.cp_model" in sys.modules:
        return importlib.import_module("ortools.sat.python.cp_model")
    stand_in = _StandIn()
    sys.modules["pandas"] = stand_in
    try:
        return importlib.import_module("ortools.sat.python.cp_model")
    finally:
        if sys.modules.get("pandas") is stand_in:
            del sys.modules["pandas"]


if TYPE_CHECKING:
    from ortools.sat.python import cp_model
else:
    cp_model = _import_cp_model()

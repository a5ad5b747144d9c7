"""Turn the application layer's typed results into JSON dictionaries, zh/en text and rich tables.

``json`` (plain dictionaries shared by the CLI's ``--json`` and the HTTP API), ``numbers`` (the one way money,
sizes and counts are written, and read back), ``text`` (the short names the presenters use for them) and
``console`` (rich tables that wrap, never cut, and read at 80 columns). Names are imported on first use, so a
door that only writes numbers does not load the JSON presenters (and with them the application layer).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.presenters.json import accelerator_detail, accelerator_summary, plan_dict, whatif_dict
    from service.presenters.text import Lang, fmt_days, fmt_money, fmt_number, fmt_share

_WHERE = {"accelerator_detail": "json", "accelerator_summary": "json", "plan_dict": "json", "whatif_dict": "json",
          "Lang": "text", "fmt_days": "text", "fmt_money": "text", "fmt_number": "text", "fmt_share": "text"}

__all__ = ["Lang", "accelerator_detail", "accelerator_summary", "fmt_days", "fmt_money", "fmt_number", "fmt_share",
           "plan_dict", "whatif_dict"]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use."""
    if name not in _WHERE:
        raise AttributeError(f"module 'service.presenters' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"service.presenters.{_WHERE[name]}"), name)
    globals()[name] = value
    return value

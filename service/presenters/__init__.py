"""Turn the application layer's typed results into JSON dictionaries, zh/en text and rich tables.

``json`` (plain dictionaries shared by the CLI's ``--json`` and the HTTP API), ``text`` (money, numbers and
sentences in Chinese or English) and ``console`` (rich tables that wrap, never cut, and read at 80 columns).
"""

from service.presenters.json import accelerator_detail, accelerator_summary, plan_dict, whatif_dict
from service.presenters.text import Lang, fmt_days, fmt_money, fmt_number, fmt_share

__all__ = ["Lang", "accelerator_detail", "accelerator_summary", "fmt_days", "fmt_money", "fmt_number", "fmt_share",
           "plan_dict", "whatif_dict"]

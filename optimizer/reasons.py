"""Machine-readable reasons next to the English sentences, so front ends can word them in any language.

Every reason the core writes for a person (an exclusion, a considered option's verdict, a policy decision, a
generated warning) keeps its English ``reason``/``text`` and may also carry a ``Why``: a code and the values
the sentence was built from (dates, ISO country codes, rule ids, outlooks, percentages as text). The codes are
a closed list so a front end knows every sentence it has to be able to write.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

WhyCode = Literal[
    "prohibited",          # country, date, classification, outlook
    "not_shipping",        # date, from, announced (may be empty)
    "not_for_sale",        # country, date, start, end (may be empty)
    "not_released",        # date, released
    "consumer_card",       # name
    "supply_zero",         # sku
    "licence_held_back",   # outlook
    "licence_excluded",    # outlook
    "vendor_not_allowed",  # vendor
    "vendor_denied",       # vendor
    "restricted",          # rule (a restrictive measure for this buyer, e.g. China-side guidance)
    "verdict",             # verdict, outlook, premium, fees (the last three may be empty)
    "hbm_supply",          # name, density
    "no_price",            # sku
    "screening_possible",  # who (buyer | parent), given, entity, matched, score, listed_on, notice
]


class Why(BaseModel):
    """The code of a reason and the values its sentence was built from (all text)."""

    model_config = ConfigDict(frozen=True)

    code: WhyCode
    args: dict[str, str] = Field(default_factory=dict)

"""Units, number parsing and the integer scale factors used by the CP-SAT model.

Every scale factor the optimizer uses to turn floats into integers lives here, so a reader can
see in one place what one unit of an integer variable means.
"""

from __future__ import annotations

import math
import re
from datetime import date

from optimizer.errors import InvalidInputError

# --- integer scaling for CP-SAT (one unit of the integer model) --------------------------------
MONEY_UNIT = 1_000.0
"""One integer money unit = 1,000 of the request currency (budgets are millions, so this is fine)."""
TIME_UNIT_DAYS = 0.01
"""One integer time unit = 0.01 day (about 15 minutes)."""
POWER_UNIT_KW = 0.1
"""One integer power unit = 0.1 kW."""
THROUGHPUT_UNIT = 1.0
"""One integer throughput unit = 1 request/s (inference capacity)."""

HOURS_PER_YEAR = 8_760.0
SECONDS_PER_DAY = 86_400.0

# --- human number parsing ----------------------------------------------------------------------
_SUFFIX = {
    "": 1.0,
    "k": 1e3,
    "m": 1e6,
    "b": 1e9,
    "g": 1e9,
    "t": 1e12,
    "千": 1e3,
    "万": 1e4,
    "百万": 1e6,
    "千万": 1e7,
    "亿": 1e8,
    "万亿": 1e12,
    "million": 1e6,
    "billion": 1e9,
    "trillion": 1e12,
    "thousand": 1e3,
}
_NUMBER_RE = re.compile(
    r"^\s*(?P<cur>[¥$￥])?\s*(?P<num>[-+]?(\d[\d,_]*)?\.?\d+(e[-+]?\d+)?)\s*"
    r"(?P<suf>万亿|百万|千万|亿|万|千|million|billion|trillion|thousand|[kmbgt])?\s*"
    r"(?P<tail>元|人民币|cny|rmb|usd|dollars?)?\s*$",
    re.IGNORECASE,
)


def parse_quantity(text: str | float | int, *, what: str = "value") -> float:
    """Parse a human-written number: ``70e9``, ``70B``, ``1.4T``, ``5000万``, ``5亿元``, ``$7M``.

    Args:
        text: the number as written, or an already numeric value.
        what: the name of the quantity, used in error messages.

    Returns:
        The value as a float (currency symbols and units are dropped; see ``parse_money``).

    Raises:
        InvalidInputError: if the text is not a number in one of the accepted forms.
    """
    if isinstance(text, bool):
        raise InvalidInputError(f"{what}: expected a number, got {text!r}")
    if isinstance(text, int | float):
        value = float(text)
    else:
        match = _NUMBER_RE.match(text)
        if not match:
            raise InvalidInputError(
                f"{what}: cannot read {text!r} as a number (examples: 70e9, 70B, 1.4T, 5000万, 5亿)"
            )
        num = float(match.group("num").replace(",", "").replace("_", ""))
        suffix = (match.group("suf") or "").lower()
        value = num * _SUFFIX[suffix]
    if not math.isfinite(value):
        raise InvalidInputError(f"{what}: {text!r} is not a finite number")
    return value


def parse_money(text: str | float | int, *, default_currency: str | None = None) -> tuple[float, str | None]:
    """Parse an amount of money and its currency if written (``¥5000万``, ``$7M``, ``50M CNY``).

    Returns:
        ``(amount, currency)`` where currency is ``"CNY"``, ``"USD"`` or ``default_currency``.
    """
    currency = default_currency
    if isinstance(text, str):
        lowered = text.lower()
        if any(tok in lowered for tok in ("¥", "￥", "元", "cny", "rmb", "人民币")):
            currency = "CNY"
        elif any(tok in lowered for tok in ("$", "usd", "dollar")):
            currency = "USD"
        text = re.sub(r"(?i)\s*(cny|rmb|usd)\s*$", "", text)
    return parse_quantity(text, what="amount"), currency


def parse_date(text: str | date, *, what: str = "date") -> date:
    """Parse an ISO date ``YYYY-MM-DD``.

    Raises:
        InvalidInputError: if the text is not a valid calendar date in that form.
    """
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InvalidInputError(f"{what}: {text!r} is not a date in the form YYYY-MM-DD") from None


def to_units(value: float, unit: float) -> int:
    """Round a non-negative float into integer model units (ceiling, so limits stay safe)."""
    return int(math.ceil(value / unit - 1e-9))


def deadline_units(limit_days: float) -> int:
    """A deadline in integer time units, rounded down: the CP-SAT model's bound on a training job's time."""
    return int(math.floor(limit_days / TIME_UNIT_DAYS + 1e-9))


def meets_deadline(days: float, limit_days: float) -> bool:
    """Whether a run of ``days`` meets ``limit_days`` as the CP-SAT model decides it.

    The model counts a run in whole time units rounded up and the limit rounded down, so a run a few minutes
    under the limit can still miss it there. Whatever chooses candidate pools must compare the same way: a pool
    offered as "the fewest nodes that meet the deadline" which the model then refuses left only dearer pools.
    """
    return to_units(days, TIME_UNIT_DAYS) <= deadline_units(limit_days)

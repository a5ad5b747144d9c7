"""One number notation for every CLI flag and HTTP field: "70B", "1.4T", "8000万", "¥2亿", "$7M", "20%".

Non-finite values (``inf``, ``nan``, JSON ``Infinity`` or ``1e309``) are refused everywhere with a one-line message.
Request data read through :func:`coerce_numbers` (HTTP bodies, request files, sweep scenarios, CLI flags) is also
strict where pydantic is lax: a boolean is not a number (pydantic reads ``true`` as 1), a date is a date (pydantic
reads ``0`` or ``"0"`` as 1970-01-01), and fields without a bound of their own have a physical one
(:data:`service.usecases.bounds.PHYSICAL_BOUNDS`).
"""

from __future__ import annotations

import functools
import math
import re
import types
import typing
from datetime import date
from typing import Annotated, Any, TypeVar, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

from optimizer import MAX_MONEY
from optimizer.errors import InvalidInputError
from optimizer.units import parse_date, parse_money, parse_quantity
from service.usecases.bounds import PHYSICAL_BOUNDS, Bound

M = TypeVar("M", bound=BaseModel)

# MAX_MONEY (the core's own cap, 10^15 in either currency): beyond it the solver's integer money units would
# overflow, so the layer refuses larger amounts with a one-line message before any request model is built.


def quantity(text: str | float, *, what: str) -> float:
    """A finite number in the shared notation (``70B``, ``1.4T``, ``5000万``, ``7e9``)."""
    if isinstance(text, str) and not text.strip():
        raise InvalidInputError(f"{what}: empty value; give a number such as 70B, 1.4T or 5000万")
    return parse_quantity(text, what=what)


def money(text: str | float, *, what: str = "budget") -> tuple[float, str | None]:
    """An amount and the currency written with it (``¥2亿`` → CNY, ``$7M`` → USD, ``8000万`` → None)."""
    if isinstance(text, str) and not text.strip():
        raise InvalidInputError(f"{what}: empty value; give an amount such as 8000万, ¥2亿 or $7M")
    try:
        amount, currency = parse_money(text)
    except InvalidInputError:
        raise InvalidInputError(
            f"{what}: cannot read {text!r} as an amount (examples: 8000万, ¥2亿, $7M, 50M CNY)"
        ) from None
    check_money(amount, what=what)
    return amount, currency


def check_money(amount: float, *, what: str = "budget") -> float:
    """Refuse non-finite, non-positive or absurd amounts."""
    if not math.isfinite(amount):
        raise InvalidInputError(f"{what}: not a finite number")
    if amount <= 0:
        raise InvalidInputError(f"{what}: must be greater than 0")
    if amount > MAX_MONEY:
        raise InvalidInputError(f"{what}: {amount:.3g} is beyond the largest accepted amount ({MAX_MONEY:.0e})")
    return amount


def fraction(text: str | float, *, what: str) -> float:
    """A fraction written as ``0.3``, ``30%`` or ``+20%`` (signs kept)."""
    raw = text.strip() if isinstance(text, str) else text
    if raw == "":
        raise InvalidInputError(f"{what}: empty value; give a fraction such as 0.3 or 30%")
    try:
        if isinstance(raw, str) and raw.endswith("%"):
            return parse_quantity(raw[:-1], what=what) / 100
        return parse_quantity(raw, what=what)
    except InvalidInputError:
        raise InvalidInputError(f"{what}: {text!r} is not a number or percentage (examples: 0.3, 30%, -20%)") from None


def day(text: str | date, *, what: str) -> date:
    """A calendar date ``YYYY-MM-DD``; an empty string is an error, never "today"."""
    if isinstance(text, str) and not text.strip():
        raise InvalidInputError(f"{what}: empty value; give a date as YYYY-MM-DD")
    return parse_date(text, what=what)


# --- pydantic models: accept the notation in every numeric field and refuse non-finite numbers ---------------

def _leaves(annotation: Any) -> list[Any]:
    """The concrete types inside Optional/Union/Annotated/list/dict annotations."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _leaves(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [t for a in typing.get_args(annotation) for t in _leaves(a)]
    if origin in (list, tuple, set, frozenset):
        return [("seq", t) for a in typing.get_args(annotation) if a is not Ellipsis for t in _leaves(a)]
    if origin is dict:
        args = typing.get_args(annotation)
        return [("map", t) for t in _leaves(args[1])] if len(args) == 2 else []
    return [annotation]


_CURRENCY = re.compile(r"[¥$￥元]|cny|rmb|usd|人民币|dollar", re.IGNORECASE)


def _is_number(t: Any) -> bool:
    return t in (float, int)


def strict_date(value: Any, where: str = "date") -> Any:
    """Refuse what pydantic would read as a Unix time: numbers, booleans and all-digit strings ("date": 0)."""
    if isinstance(value, bool | int | float) or (isinstance(value, str) and value.strip().lstrip("+-").isdigit()):
        raise InvalidInputError(f"{where}: {value!r} is not a date; write it as YYYY-MM-DD")
    return value


def _date_or_error(value: Any) -> Any:
    try:
        return strict_date(value, "date")
    except InvalidInputError as exc:
        raise ValueError(exc.message.removeprefix("date: ")) from None


IsoDate = Annotated[date, BeforeValidator(_date_or_error)]
"""A date for HTTP fields and query parameters: ``YYYY-MM-DD``, never a number read as a Unix time."""


def _bounded(value: Any, bound: Bound | None, where: str) -> Any:
    if bound is not None and isinstance(value, int | float) and not isinstance(value, bool) and value > bound.maximum:
        raise InvalidInputError(bound.message(where, value))
    return value


def _convert(value: Any, leaves: list[Any], where: str, bound: Bound | None = None) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInputError(f"{where}: not a finite number")
    plain = [t for t in leaves if not isinstance(t, tuple)]
    if isinstance(value, bool) and any(_is_number(t) for t in plain) and bool not in plain:
        raise InvalidInputError(f"{where}: {str(value).lower()} is a boolean, not a number")
    if date in plain and str not in plain and value is not None and not isinstance(value, date):
        return strict_date(value, where)
    if (isinstance(value, str) and any(_is_number(t) for t in plain) and str not in plain
            and not _CURRENCY.search(value)):  # amounts with a currency are read by the model (Budget) itself
        return _bounded(quantity(value, what=where), bound, where)
    if isinstance(value, dict):
        models = [t for t in plain if isinstance(t, type) and issubclass(t, BaseModel)]
        for model in models:
            value = coerce_numbers(model, value, prefix=f"{where}.")
        maps = [t[1] for t in leaves if isinstance(t, tuple) and t[0] == "map"]
        if maps:
            value = {k: _convert(v, maps, f"{where}.{k}", bound) for k, v in value.items()}
        return value
    if isinstance(value, list):
        inner = [t[1] for t in leaves if isinstance(t, tuple) and t[0] == "seq"]
        if inner:
            return [_convert(v, inner, f"{where}.{i}", bound) for i, v in enumerate(value)]
    if any(_is_number(t) for t in plain):
        return _bounded(value, bound, where)
    return value


def coerce_numbers(model: type[BaseModel], data: Any, *, prefix: str = "") -> Any:
    """Convert human-written numbers in ``data`` for every numeric field of ``model`` (recursively).

    Raises:
        InvalidInputError: a number cannot be read or is not finite.
    """
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name, key, leaves in _fields(model):
        if key in out:
            out[key] = _convert(out[key], leaves, f"{prefix}{key}", PHYSICAL_BOUNDS.get(name))
    return out


@functools.lru_cache(maxsize=256)
def _fields(model: type[BaseModel]) -> tuple[tuple[str, str, list[Any]], ...]:
    """(name, key in the data, leaf types) of each field; walked once per model (sweeps read thousands of rows)."""
    return tuple((name, info.alias or name, _leaves(info.annotation)) for name, info in model.model_fields.items())


def human_numbers(model: type[M], name: str | None = None) -> type[M]:
    """A subclass of ``model`` whose numeric fields (also nested) accept the shared notation; for HTTP bodies.

    Args:
        model: The core request model.
        name: Class name of the subclass (distinct names keep OpenAPI schema names apart).
    """

    def _coerce(cls: type[BaseModel], data: Any) -> Any:
        try:
            return coerce_numbers(model, data)
        except InvalidInputError as exc:  # reported by pydantic as a validation error (HTTP 422)
            raise ValueError(exc.message) from None

    validator = model_validator(mode="before")(classmethod(_coerce))  # type: ignore[arg-type]
    namespace: dict[str, Any] = {
        "__module__": model.__module__, "__doc__": model.__doc__, "human_numbers": validator,
        "model_config": ConfigDict(json_schema_extra=_document_strings),
    }
    sub: type[M] = type(name or model.__name__, (model,), namespace)
    return sub


def _document_strings(schema: dict[str, Any]) -> None:
    """OpenAPI: numeric properties also accept a string in the shared notation."""
    text = {"type": "string", "examples": ["70B", "1.4T", "8000万"]}
    for prop in schema.get("properties", {}).values():
        if prop.get("type") in ("number", "integer"):
            plain = {k: prop.pop(k) for k in ("type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
                     if k in prop}
            prop["anyOf"] = [plain, text]
        elif any(o.get("type") in ("number", "integer") for o in prop.get("anyOf", [])):
            if not any(o.get("type") == "string" for o in prop["anyOf"]):
                prop["anyOf"].append(text)

"""Strict numbers in the application layer: booleans are not numbers, dates are dates, physical bounds hold.

Pydantic alone reads ``true`` as 1 and ``0`` as 1970-01-01; every entry point reads request data through
:func:`service.usecases.coerce_numbers`, which refuses both, and bounds the numbers the core leaves unbounded.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from typer.testing import CliRunner

from optimizer.request import PurchaseRequest
from service.cli import app
from service.jobs.runner import validate_scenario
from service.usecases import (
    PHYSICAL_BOUNDS,
    CostRequest,
    InferenceRequest,
    InvalidInputError,
    TrainingRequest,
    coerce_numbers,
    strict_date,
)
from service.usecases.numbers import _is_number, _leaves

MODELS: list[type[BaseModel]] = [PurchaseRequest, TrainingRequest, InferenceRequest, CostRequest]
REQUEST = {"workloads": [{"kind": "training", "params": "7B", "tokens": "1T", "deadline_days": 60}],
           "buyer": {"country": "CN", "date": "2026-02-15"}}


def _numeric_fields(model: type[BaseModel]) -> list[str]:
    out = []
    for name, info in model.model_fields.items():
        plain = [t for t in _leaves(info.annotation) if not isinstance(t, tuple)]
        if any(_is_number(t) for t in plain) and bool not in plain:
            out.append(info.alias or name)
    return out


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([(m, f) for m in MODELS for f in _numeric_fields(m)]), st.booleans())
def test_a_boolean_is_never_a_number(field: tuple[type[BaseModel], str], value: bool) -> None:
    model, name = field
    with pytest.raises(InvalidInputError, match="is a boolean, not a number"):
        coerce_numbers(model, {name: value})


def test_booleans_stay_booleans_and_nested_numbers_are_checked_too() -> None:
    assert coerce_numbers(PurchaseRequest, {"pareto": True})["pareto"] is True
    for nested in ({"limits": {"supply": {"h20": True}}}, {"budget": {"amount": True}},
                   {"workloads": [{"kind": "training", "params": True, "tokens": "1T"}]}):
        with pytest.raises(InvalidInputError, match="boolean"):
            coerce_numbers(PurchaseRequest, {**REQUEST, **nested})


@pytest.mark.parametrize("value", [0, "0", 1_700_000_000, 1.7e9, True, "20250101"])
def test_a_number_is_not_a_date(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="not a date; write it as YYYY-MM-DD"):
        strict_date(value)
    with pytest.raises((InvalidInputError, ValidationError)):
        PurchaseRequest.model_validate(coerce_numbers(PurchaseRequest, {**REQUEST, "buyer": {"country": "CN",
                                                                                           "date": value}}))
    with pytest.raises(ValidationError, match="not a date"):  # the core model refuses it on its own too
        PurchaseRequest.model_validate({**REQUEST, "buyer": {"country": "CN", "date": value}})
    assert validate_scenario({**REQUEST, "buyer": {"country": "CN", "date": value}}, None)  # a batch scenario too


def test_dates_written_as_dates_pass() -> None:
    assert strict_date("2025-08-01") == "2025-08-01" and strict_date(dt.date(2025, 8, 1)) == dt.date(2025, 8, 1)
    req = PurchaseRequest.model_validate(coerce_numbers(PurchaseRequest, REQUEST))
    assert req.buyer.date == dt.date(2026, 2, 15)


@pytest.mark.parametrize("name", sorted(PHYSICAL_BOUNDS))
def test_each_physical_bound_admits_its_maximum_and_refuses_beyond(name: str) -> None:
    bound = PHYSICAL_BOUNDS[name]
    model = next(m for m in (TrainingRequest, PurchaseRequest) if name in _numeric_fields(m)) if name not in (
        "supply", "risk_premium") else None
    if model is None:  # mapping fields: each value is bounded
        where = {"supply": ("limits", "supply", "h20"), "risk_premium": ("policy", "risk_premium", "case_by_case")}
        outer, field, key = where[name]
        ok = coerce_numbers(PurchaseRequest, {**REQUEST, outer: {field: {key: bound.maximum}}})
        assert ok[outer][field][key] == bound.maximum
        with pytest.raises(InvalidInputError, match=re.escape(f"physical bound of {bound.maximum:.3g}")):
            coerce_numbers(PurchaseRequest, {**REQUEST, outer: {field: {key: bound.maximum * 10}}})
        return
    assert coerce_numbers(model, {name: bound.maximum})[name] == bound.maximum
    with pytest.raises(InvalidInputError,
                       match=rf"{name}: .* " + re.escape(f"physical bound of {bound.maximum:.3g} {bound.unit}")):
        coerce_numbers(model, {name: bound.maximum * 10})
    with pytest.raises(InvalidInputError, match="physical bound"):  # written in the shared notation too
        coerce_numbers(model, {name: f"{bound.maximum * 10:g}"})


def test_the_cli_refuses_an_unphysical_token_count() -> None:
    r = CliRunner().invoke(app, ["estimate", "training", "--params", "7B", "--tokens", "1e30",
                                 "--accelerator", "h20", "--count", "64", "--json"])
    assert r.exit_code == 2, r.output
    assert "physical bound of 1e+16 tokens" in r.output and "Traceback" not in r.output

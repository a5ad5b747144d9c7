"""Invariants of the compliance engine over random SKUs, buyers and dates (hypothesis)."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.catalog import load_catalog
from optimizer.compliance import Buyer, load_engine

CATALOG = load_catalog()
ENGINE = load_engine(CATALOG)
SKUS = sorted(CATALOG.accelerators)
US_SKUS = [s for s in SKUS if CATALOG.accelerators[s].country_of_origin == "US"]
COUNTRIES = sorted(ENGINE.countries)
DATES = st.dates(min_value=date(2022, 1, 1), max_value=date(2026, 12, 31))
RANK = {"allowed": 0, "license_required": 1, "prohibited": 2}


@settings(max_examples=300, deadline=None)
@given(sku=st.sampled_from(SKUS), country=st.sampled_from(COUNTRIES), on=DATES)
def test_outlook_matches_verdict(sku: str, country: str, on: date) -> None:
    r = ENGINE.check(sku, Buyer(country=country, on=on))
    if r.verdict == "prohibited":
        assert r.license_outlook in ("denial_presumed", "guidance")
    elif r.verdict == "license_required":
        assert r.license_outlook not in (None, "denial_presumed", "guidance")
    else:
        assert r.license_outlook is None
    assert set(r.country_groups) == set(ENGINE.country_groups(country, on))


@settings(max_examples=300, deadline=None)
@given(sku=st.sampled_from(US_SKUS), on=DATES, data=st.data())
def test_close_allies_need_no_licence_for_us_parts(sku: str, on: date, data: st.DataObject) -> None:
    allies = sorted(ENGINE.members("a5_a6", on))
    country = data.draw(st.sampled_from(allies))
    assert ENGINE.check(sku, Buyer(country=country, on=on)).verdict == "allowed"


@settings(max_examples=300, deadline=None)
@given(sku=st.sampled_from(US_SKUS), country=st.sampled_from(COUNTRIES), on=DATES)
def test_chinese_headquarters_never_improves_the_verdict(sku: str, country: str, on: date) -> None:
    plain = ENGINE.check(sku, Buyer(country=country, on=on))
    hq = ENGINE.check(sku, Buyer(country=country, headquarters_country="CN", on=on))
    assert RANK[hq.verdict] >= RANK[plain.verdict]

"""What-ifs: SKU loss, price changes, rule dates, domestic share; break-even prices."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from optimizer.catalog import Catalog
from optimizer.compliance import Buyer, ComplianceEngine
from optimizer.errors import InvalidInputError
from optimizer.request import PurchaseRequest
from optimizer.table import EstimateCache
from optimizer.whatif import WhatIfChange, scale_prices, what_if

BASE = PurchaseRequest.model_validate({
    "workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T", "deadline_days": 180}],
    "buyer": {"country": "CN", "date": "2025-08-01"},
    "budget": {"amount": "2亿"},
    "skus": ["h20", "ascend-910b", "ascend-910c"],
})


@pytest.fixture(scope="module")
def cache() -> EstimateCache:
    return EstimateCache()


def test_losing_the_chosen_sku_switches_plan(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache) -> None:
    base = what_if(catalog, engine, BASE, WhatIfChange(), cache=cache)
    chosen = base.base.items[0].sku
    r = what_if(catalog, engine, BASE, WhatIfChange(remove_skus=[chosen]), cache=cache)
    assert chosen in r.skus_removed and r.skus_added
    assert r.delta_cost is not None and r.delta_cost > 0  # the base plan was the cheapest
    assert r.break_even and r.break_even[0].role == "runner-up"


def test_h20_licence_revoked(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache) -> None:
    only_h20 = BASE.model_copy(update={"skus": ["h20", "ascend-910b"], "budget": None,
                                       "policy": BASE.policy.model_copy(update={"license_required": "allow"})})
    cheap = what_if(catalog, engine, only_h20, WhatIfChange(price_changes={"ascend-910b": 3.0}), cache=cache)
    assert [i.sku for i in cheap.changed.items] == ["h20"]
    revoked = what_if(catalog, engine, only_h20, WhatIfChange(remove_skus=["h20"], price_changes={
        "ascend-910b": 3.0}), cache=cache)
    assert [i.sku for i in revoked.changed.items] == ["ascend-910b"]
    assert "h20 becomes unavailable" in revoked.changes


def test_price_cut_makes_runner_up_win(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache) -> None:
    base = what_if(catalog, engine, BASE, WhatIfChange(), cache=cache)
    runner = next(b for b in base.break_even if b.role == "runner-up")
    assert runner.change is not None and -1 < runner.change < 0
    cut = what_if(catalog, engine, BASE, WhatIfChange(price_changes={runner.sku: runner.change * 1.1}), cache=cache)
    assert runner.sku in {i.sku for i in cut.changed.items}


def test_moving_a_rule_date_changes_the_verdict(catalog: Catalog, engine: ComplianceEngine) -> None:
    moved = engine.with_rule_dates({"us-2025-04-h20-mi308-letter": __import__("datetime").date(2025, 9, 1)})
    on = Buyer(country="CN", on=__import__("datetime").date(2025, 5, 1))
    assert engine.check("h20", on).verdict == "license_required"
    assert moved.check("h20", on).verdict == "allowed"
    with pytest.raises(InvalidInputError, match="unknown rule id"):
        engine.with_rule_dates({"no-such-rule": on.on})


def test_domestic_share_whatif(catalog: Catalog, engine: ComplianceEngine, cache: EstimateCache) -> None:
    req = BASE.model_copy(update={"skus": ["h20"], "budget": None,
                                  "policy": BASE.policy.model_copy(update={"license_required": "allow"})})
    r = what_if(catalog, engine, req, WhatIfChange(min_domestic_share=0.5), cache=cache)
    assert r.base.status == "optimal" and r.changed.status == "infeasible"
    assert any(x.constraint == "domestic_share" for x in r.changed.relaxations)


def test_scale_prices_scales_node_and_chip_prices(catalog: Catalog) -> None:
    scaled = scale_prices(catalog, {"h20": 0.5})
    assert scaled.accelerators["h20"].price.base == pytest.approx(catalog.accelerators["h20"].price.base / 2)  # type: ignore[union-attr]
    assert scaled.nodes["hgx-h20"].price.base == pytest.approx(catalog.nodes["hgx-h20"].price.base / 2)  # type: ignore[union-attr]
    assert catalog.accelerators["h20"].price.base == 13000  # type: ignore[union-attr]


def test_bad_changes() -> None:
    with pytest.raises(ValidationError):
        WhatIfChange(price_changes={"h20": -1.5})
    with pytest.raises(ValidationError):
        WhatIfChange(min_domestic_share=2)

"""The application layer: one context, the same answers for every entry point, one number notation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from service import usecases
from service.cli import app
from service.container import build_context
from service.settings import Settings
from service.usecases import AppContext, InvalidInputError, PurchaseRequest

ROOT = Path(__file__).resolve().parents[3]
CHINA = ROOT / "examples" / "china_70b.yaml"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> AppContext:
    return build_context(Settings(data_dir=tmp_path_factory.mktemp("ctx")))


@pytest.mark.parametrize(
    ("text", "value"),
    [("70B", 70e9), ("1.4T", 1.4e12), ("5000万", 5e7), ("700亿", 7e10), ("7e9", 7e9), ("2K", 2000.0)],
)
def test_quantity_notation(text: str, value: float) -> None:
    assert usecases.quantity(text, what="x") == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [("8000万", 8e7, None), ("¥2亿", 2e8, "CNY"), ("$7M", 7e6, "USD"), ("50M CNY", 5e7, "CNY")],
)
def test_money_notation(text: str, amount: float, currency: str | None) -> None:
    assert usecases.money(text) == (pytest.approx(amount), currency)


@pytest.mark.parametrize("bad", ["", "  ", "inf", "nan", "1e309", "1e22", "-5"])
def test_money_refuses_empty_nonfinite_absurd_and_negative(bad: str) -> None:
    with pytest.raises(InvalidInputError):
        usecases.money(bad)


def test_empty_date_is_an_error_not_today() -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        usecases.day("", what="--date")


@given(st.floats(min_value=1.0, max_value=1e14, allow_nan=False))
def test_numbers_written_plainly_read_back_exactly(value: float) -> None:
    assert usecases.quantity(repr(value), what="x") == value


def test_coerce_numbers_reaches_nested_fields_and_refuses_infinity() -> None:
    data = {"workloads": [{"kind": "inference", "params": "72B", "requests_per_s": "1.2K"}],
            "buyer": {"country": "CN"}, "limits": {"power_kw": "2K"}}
    req = PurchaseRequest.model_validate(usecases.coerce_numbers(PurchaseRequest, data))
    assert req.workloads[0].requests_per_s == 1200 and req.limits.power_kw == 2000
    with pytest.raises(InvalidInputError, match="finite"):
        usecases.coerce_numbers(PurchaseRequest, {**data, "limits": {"power_kw": math.inf}})


def test_single_workload_request_matches_the_request_file(ctx: AppContext) -> None:
    flat = usecases.single_workload_request(params="70B", tokens="1.4T", budget="¥5000万", buyer_country="CN",
                                           on="2025-08-01", objective="min_time")
    from_file = usecases.load_request_file(CHINA)
    assert flat.workloads[0].params == from_file.workloads[0].params
    assert flat.budget == from_file.budget
    a, b = usecases.recommend(ctx, flat), usecases.recommend(ctx, from_file)
    assert [(i.sku, i.accelerators) for i in a.items] == [(i.sku, i.accelerators) for i in b.items]
    assert a.total_cost == pytest.approx(b.total_cost)


def test_accept_license_risk_opts_in_through_the_core_request() -> None:
    base = usecases.load_request_file(CHINA)
    accepted = usecases.with_license_risk(base, True)
    if "accept_license_risk" in PurchaseRequest.model_fields:  # the core's own opt-in field
        assert accepted.model_dump()["accept_license_risk"] is True
        assert usecases.with_license_risk(base, False).model_dump()["accept_license_risk"] is False
    else:  # older core: the policy value; a policy written in the request wins
        assert accepted.policy.license_required == usecases.ACCEPT_LICENSE_RISK
        explicit = PurchaseRequest.model_validate({**base.model_dump(), "policy": {"license_required": "exclude"}})
        assert usecases.with_license_risk(explicit, True).policy.license_required == "exclude"
    flat = usecases.single_workload_request(params="70B", tokens="1.4T", budget="5000万", buyer_country="CN",
                                           accept_license_risk=True)
    assert flat.model_dump() == usecases.with_license_risk(flat, True).model_dump()


def test_whatif_uses_the_configured_solver_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import optimizer.whatif as whatif_module

    seen: list[int] = []
    real = whatif_module.recommend

    def spy(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        seen.append(int(kwargs.get("num_workers", 1)))  # type: ignore[call-overload]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(whatif_module, "recommend", spy)
    monkeypatch.setenv("PROCURE_SOLVER__NUM_WORKERS", "2")
    r = CliRunner().invoke(app, ["whatif", "--request", str(CHINA), "--remove", "ascend-910c", "--json"])
    assert r.exit_code == 0, r.stderr
    assert seen and set(seen) == {2}


def test_whatif_budget_accepts_the_shared_notation() -> None:
    r = CliRunner().invoke(app, ["whatif", "--request", str(CHINA), "--budget", "8000万", "--json"])
    assert r.exit_code == 0, r.stderr
    body = json.loads(r.stdout)
    assert body["changed"]["budget"] == pytest.approx(8e7)
    assert body["changed"]["time_days"] < body["base"]["time_days"]


def test_whatif_budget_in_another_currency_is_refused() -> None:
    r = CliRunner().invoke(app, ["whatif", "--request", str(CHINA), "--budget", "$7M"])
    assert r.exit_code == 2 and "written in USD" in r.stderr


def test_compare_keeps_order_and_adds_verdicts(ctx: AppContext) -> None:
    out = usecases.compare(ctx, ["H20", "910B"], buyer_country="CN", date="2025-08-01")
    assert [e.id for e in out.entries] == ["h20", "ascend-910b"]
    assert [v.verdict for v in out.verdicts] == ["license_required", "allowed"]


def test_database_is_created_and_migrated_on_first_use(ctx: AppContext) -> None:
    from sqlalchemy import inspect

    assert "alembic_version" in inspect(ctx.db).get_table_names()


def test_compare_on_the_cli_and_over_http_give_the_same_answer(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from service.app import create_app

    r = CliRunner().invoke(app, ["compare", "h20", "910B", "--buyer-country", "CN", "--date", "2025-08-01", "--json"])
    assert r.exit_code == 0, r.stderr
    cli = json.loads(r.stdout)
    with TestClient(create_app(Settings(data_dir=tmp_path))) as c:
        http = c.get("/v1/catalog/compare", params={"sku": ["h20", "910B"], "buyer_country": "CN",
                                                    "date": "2025-08-01"})
    assert http.status_code == 200 and http.json() == cli
    r = CliRunner().invoke(app, ["compare", "h20", "910B", "--buyer-country", "CN", "--date", "2025-08-01"],
                           env={"COLUMNS": "80"})
    assert "license" in r.stdout and "license_requir" not in r.stdout  # words wrap whole, ids are not split
    assert "320.0 (FP16)" in r.stdout


def test_a_lazy_context_loads_the_catalog_only_when_a_use_case_needs_it(tmp_path: Path) -> None:
    from service.usecases import OptimizerError

    settings = Settings(data_dir=tmp_path, catalog_files=[tmp_path / "missing.yaml"])
    lazy = build_context(settings, lazy_domain=True)  # search and ingest never touch the catalog
    with pytest.raises(OptimizerError, match="missing.yaml"):
        _ = lazy.domain
    with pytest.raises(OptimizerError, match="missing.yaml"):
        build_context(settings)  # the API and the planning commands fail at start-up instead
    ok = build_context(Settings(data_dir=tmp_path), lazy_domain=True)
    assert ok.domain is ok.domain and "h20" in ok.domain.catalog.accelerators


def test_data_version_is_computed_once_per_loaded_domain_and_follows_the_data(ctx: AppContext) -> None:
    import dataclasses

    from service.usecases.context import Domain, LazyDomain

    first = usecases.data_version(ctx)
    assert first.startswith("catalog-") and ctx.domain.derived["data_version"] == first
    assert usecases.data_version(ctx) == first  # from the memo of this domain
    cat = ctx.domain.catalog
    h20 = cat.accelerators["h20"]
    renamed = dataclasses.replace(cat, accelerators={**cat.accelerators, "h20": h20.model_copy(
        update={"name": h20.name + " (edited)"})})
    other = dataclasses.replace(ctx, domain_holder=LazyDomain.ready(Domain(renamed, ctx.domain.engine)))
    assert usecases.data_version(other) != first  # another catalog, another version
    assert usecases.data_version(ctx) == first


def test_the_same_data_builds_one_domain_and_changed_data_a_new_one(tmp_path: Path) -> None:
    """Catalog and engine are shared between contexts built from the same packs and files; an edited file or an
    installed pack is read afresh, and an unreadable file still fails with the loader's own message."""
    import dataclasses

    from optimizer.errors import CatalogError
    from service.usecases.data import build_domain_from, packs_in_use

    extra = tmp_path / "extra.yaml"
    extra.write_text("accelerators:\n  - id: h20\n    name: H20 (site build)\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", catalog_files=[extra])
    first = build_context(settings).domain
    again = build_context(settings).domain
    assert again is not first and again.cache is not first.cache  # each context has its own estimate cache
    assert again.catalog is first.catalog and again.engine is first.engine
    assert first.catalog.accelerators["h20"].name == "H20 (site build)"

    extra.write_text("accelerators:\n  - id: h20\n    name: H20 (edited)\n", encoding="utf-8")
    edited = build_context(settings).domain
    assert edited.catalog is not first.catalog and edited.catalog.accelerators["h20"].name == "H20 (edited)"

    packs = packs_in_use(settings)
    changed = build_domain_from(settings, {**packs, "prices": dataclasses.replace(
        packs["prices"], text=packs["prices"].text + "\n# a comment: a new text, a new key\n")})
    assert changed[0] is not edited.catalog and changed[0].accelerators.keys() == edited.catalog.accelerators.keys()

    extra.unlink()
    with pytest.raises(CatalogError) as err:
        build_context(settings)
    assert "extra.yaml" in str(err.value)

"""Catalog: every record validates and is sourced; TPP matches the fact base; aliases; user overrides."""

from __future__ import annotations

import pytest

from optimizer.catalog import PRECISIONS, Catalog, Figure, load_catalog
from optimizer.compliance import compute_metrics
from optimizer.errors import CatalogError, UnknownSkuError

REQUIRED = [
    "h20", "h100-sxm", "h800", "h200", "a100-80gb", "a100-40gb", "a800", "l20", "l2", "b200", "rtx-pro-6000",
    "rtx-pro-6000d", "ascend-910b", "ascend-910c", "mlu370-x8", "mi300x", "gaudi2", "gaudi3",
]


def test_required_skus_present(catalog: Catalog) -> None:
    missing = [s for s in REQUIRED if s not in catalog.accelerators]
    assert not missing
    assert len(catalog.accelerators) >= 18


def _figures(obj: object, where: str = ""):  # type: ignore[no-untyped-def]
    from pydantic import BaseModel

    if isinstance(obj, Figure):
        yield where, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _figures(getattr(obj, name), f"{where}.{name}")


def test_every_known_figure_has_registered_source_and_grade(catalog: Catalog) -> None:
    records = [*catalog.accelerators.values(), *catalog.nodes.values(), *catalog.networks.values()]
    count = 0
    for rec in records:
        for where, fig in _figures(rec, rec.id):  # type: ignore[attr-defined]
            if fig.known:
                count += 1
                assert fig.source, where
                assert fig.grade is not None, where
                assert all(s in catalog.sources for s in fig.source), where
            else:
                assert fig.reason, f"{where} is unknown without a reason"
    assert count > 150


def test_prices_have_sources_and_ranges(catalog: Catalog) -> None:
    priced = [a for a in catalog.accelerators.values() if a.price]
    assert len(priced) >= 10
    for a in catalog.accelerators.values():
        if a.price is None:
            assert a.price_reason
        else:
            assert a.price.low <= a.price.base <= a.price.high
            assert all(s in catalog.sources for s in a.price.source)


def test_dense_and_sparse_are_kept_apart(catalog: Catalog) -> None:
    h100 = catalog.accelerators["h100-sxm"]
    assert h100.dense.bf16.value == pytest.approx(989.4)
    assert h100.sparse is not None and h100.sparse.bf16 is not None
    assert h100.sparse.bf16.value == pytest.approx(2 * h100.dense.bf16.value, rel=0.01)


def test_conflicting_values_are_ranges(catalog: Catalog) -> None:
    b = catalog.accelerators["ascend-910b"]
    assert (b.dense.fp16.low, b.dense.fp16.value, b.dense.fp16.high) == (256, 320, 376)
    assert b.memory_bandwidth_tbps.low is not None and b.memory_bandwidth_tbps.high == 1.6


def test_unit_conversion_from_declared_unit(catalog: Catalog) -> None:
    assert catalog.accelerators["l20"].memory_bandwidth_tbps.value == pytest.approx(0.864)


def test_unsupported_precision_is_not_a_number(catalog: Catalog) -> None:
    fp8 = catalog.accelerators["a100-80gb"].dense.fp8
    assert fp8.value is None and fp8.supported is False


# Facts.md section 4 (dense peak x bit length, max over precisions).
TPP_FACTS = {
    "a100-80gb": 4992, "a800": 4992, "h100-sxm": 15831, "h800": 15831, "h200": 15831, "h20": 2368, "l20": 1912,
    "l2": 1544, "b200": 36000, "rtx-pro-6000": 8061, "ascend-910b": 5120, "mlu370-x8": 2048, "mi300x": 20919,
    "gaudi2": 6912, "gaudi3": 29360, "ascend-910c": 12480,
}


@pytest.mark.parametrize(("sku", "expected"), sorted(TPP_FACTS.items()))
def test_tpp_matches_fact_base(catalog: Catalog, sku: str, expected: float) -> None:
    m = compute_metrics(catalog.accelerators[sku])
    assert m.tpp == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize(("sku", "pd"), [("h20", 2.91), ("l20", 3.14), ("a100-80gb", 6.04), ("h100-sxm", 19.45)])
def test_performance_density_matches_fact_base(catalog: Catalog, sku: str, pd: float) -> None:
    assert compute_metrics(catalog.accelerators[sku]).pd == pytest.approx(pd, abs=0.01)


def test_tpp_range_follows_conflicting_peaks(catalog: Catalog) -> None:
    m = compute_metrics(catalog.accelerators["ascend-910b"])
    assert (m.tpp_low, m.tpp_high) == (256 * 16, 376 * 16)


def test_unknown_compute_gives_unknown_tpp(catalog: Catalog) -> None:
    assert compute_metrics(catalog.accelerators["kunlunxin-p800"]).tpp is None


@pytest.mark.parametrize(
    ("alias", "sku"),
    [("H20", "h20"), ("nvidia h20", "h20"), ("Nvidia H20", "h20"), ("910B", "ascend-910b"),
     ("昇腾910B", "ascend-910b"), ("Huawei Ascend 910B", "ascend-910b"), ("H100", "h100-sxm"),
     ("ascend_910c", "ascend-910c"), ("MI300X", "mi300x"), ("gaudi 3", "gaudi3"), ("B40", "rtx-pro-6000d")],
)
def test_aliases_resolve_case_insensitively(catalog: Catalog, alias: str, sku: str) -> None:
    assert catalog.resolve(alias) == sku


def test_unknown_sku_suggests_closest(catalog: Catalog) -> None:
    with pytest.raises(UnknownSkuError) as err:
        catalog.resolve("h2O")
    assert "h20" in err.value.suggestions
    assert "did you mean" in str(err.value)


def test_every_node_and_network_reference_resolves(catalog: Catalog) -> None:
    for node in catalog.nodes.values():
        assert node.accelerator in catalog.accelerators
    for sku in ("h20", "ascend-910b", "h100-sxm"):
        assert catalog.nodes_for(sku)
    assert {n.id for n in catalog.networks_for("huawei")} == {"ascend-roce-200"}
    assert catalog.networks["ib-ndr-400"].availability_for("CN") == "limited"


def test_precisions_cover_the_design() -> None:
    assert set(PRECISIONS) == {"fp8", "bf16", "fp16", "tf32", "fp32", "int8"}


# ------------------------------------------------------------------ user override files
def test_override_adds_a_sku_and_patches_a_price(write_yaml) -> None:  # type: ignore[no-untyped-def]
    path = write_yaml(
        """
sources:
  MYQUOTE: {title: "Vendor quote 2026-03"}
accelerators:
  - id: h20
    price: {currency: CNY, low: 90000, base: 95000, high: 100000, basis: per_accelerator, date: "2026-03",
            source: [MYQUOTE], grade: P}
  - id: my-npu
    name: Example NPU
    aliases: ["XNPU"]
    vendor: example
    country_of_origin: CN
    form_factor: pcie
    datacenter: true
    dense:
      fp8: {reason: "none"}
      bf16: {value: 100, source: [MYQUOTE], grade: P}
      fp16: {value: 100, source: [MYQUOTE], grade: P}
      tf32: {reason: "none"}
      fp32: {reason: "none"}
      int8: {reason: "none"}
    memory_gb: {value: 64, source: [MYQUOTE], grade: P}
    memory_bandwidth_tbps: {value: 1500, unit: GB/s, source: [MYQUOTE], grade: P}
    intra_node_link_gbps: {value: 200, source: [MYQUOTE], grade: P}
    intra_node_domain: 8
    io_bandwidth_gbps: {value: 200, source: [MYQUOTE], grade: P}
    logic_die_area_mm2: {reason: "not published"}
    tdp_w: {value: 350, source: [MYQUOTE], grade: P}
    software_ecosystem: Example SDK
    price_reason: "no quote"
"""
    )
    cat = load_catalog([path])
    assert cat.accelerators["h20"].price is not None and cat.accelerators["h20"].price.base == 95000
    assert cat.accelerators["h20"].dense.bf16.value == 148  # untouched fields survive the patch
    assert cat.resolve("xnpu") == "my-npu"
    assert cat.accelerators["my-npu"].memory_bandwidth_tbps.value == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("accelerators:\n  - id: h20\n    memory_bandwidth_tbps: {value: 4, unit: W, source: [P1], grade: S}\n",
         "unit 'W' is not valid"),
        ("accelerators:\n  - id: h20\n    memory_bandwidth_tbps: {value: 4000, source: [P1], grade: S}\n",
         "wrong unit?"),
        ("accelerators:\n  - id: h20\n    price: {currency: USD, low: -5, base: 10, high: 20, basis: per_accelerator,"
         " date: '2025', source: [P6], grade: S}\n", "greater than 0"),
        ("accelerators:\n  - id: h20\n    tdp_w: {value: 400, grade: S}\n", "no `source`"),
        ("accelerators:\n  - id: h20\n    tdp_w: {value: 400, source: [NOPE], grade: S}\n", "not registered"),
        ("accelerators:\n  - id: h20\n    price: {currency: EUR, low: 5, base: 10, high: 20, basis: per_accelerator,"
         " date: '2025', source: [P6], grade: S}\n", "price.currency"),
        ("accelerators: [\n", "not valid YAML"),
        ("nodes:\n  - id: x\n    name: X\n    accelerator: nope\n    accelerators_per_node: 8\n"
         "    price_reason: none\n    power_kw: {reason: none}\n", "unknown accelerator 'nope'"),
        ("accelerators:\n  - id: Bad_Id\n    name: X\n", "kebab"),
    ],
)
def test_invalid_override_gives_one_line_error(write_yaml, body: str, needle: str) -> None:  # type: ignore[no-untyped-def]
    path = write_yaml(body)
    with pytest.raises(CatalogError) as err:
        load_catalog([path])
    message = str(err.value)
    assert needle in message
    assert "\n" not in message
    assert str(path) in message


def test_missing_override_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CatalogError, match="file not found"):
        load_catalog([tmp_path / "nope.yaml"])

"""Compliance engine: verdicts that follow from the rules, arithmetic, citations, buyer policy."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from optimizer.catalog import Catalog
from optimizer.compliance import Buyer, BuyerPolicy, ComplianceEngine, load_countries, load_engine
from optimizer.compliance.schema import RulePack
from optimizer.errors import CatalogError, UnknownCountryError, UnknownSkuError

# (sku, country, kind, date, classification, verdict, outlook)
VERDICTS = [
    # Oct-2023 rule: 3A090.a to China under a presumption of denial; no requirement for Germany.
    ("h100-sxm", "CN", "commercial", "2024-06-01", "3A090.a", "prohibited", "denial_presumed"),
    ("h100-sxm", "DE", "commercial", "2024-06-01", "3A090.a", "allowed", None),
    # Oct-2022 rule needed TPP >= 4800 AND I/O >= 600 GB/s: the A800 (400 GB/s) escaped until Nov 2023.
    ("a800", "CN", "commercial", "2023-06-01", "not_controlled", "allowed", None),
    ("a800", "CN", "commercial", "2024-01-01", "3A090.a", "prohibited", "denial_presumed"),
    ("a100-80gb", "CN", "commercial", "2023-06-01", "3A090.a", "prohibited", "denial_presumed"),
    ("h800", "CN", "commercial", "2023-06-01", "not_controlled", "allowed", None),
    ("h800", "CN", "commercial", "2023-12-01", "3A090.a", "prohibited", "denial_presumed"),
    # H20: outside 3A090; the Apr-2025 letter adds a licence requirement; assurance from Jul-2025.
    ("h20", "CN", "commercial", "2025-03-01", "not_controlled", "allowed", None),
    ("h20", "CN", "commercial", "2025-05-01", "not_controlled", "license_required", "not_granted_yet"),
    ("h20", "CN", "commercial", "2025-08-01", "not_controlled", "license_required", "assured"),
    ("h20", "US", "commercial", "2025-05-01", "not_controlled", "allowed", None),
    ("l20", "CN", "commercial", "2025-08-01", "not_controlled", "allowed", None),
    ("l2", "CN", "commercial", "2025-08-01", "not_controlled", "allowed", None),
    # Jan-2026 case-by-case regime for China below TPP 21,000 and 6,500 GB/s, if sold in the US.
    ("h200", "CN", "commercial", "2026-02-15", "3A090.a", "license_required", "case_by_case"),
    ("h200", "CN", "commercial", "2025-06-01", "3A090.a", "prohibited", "denial_presumed"),
    ("mi300x", "CN", "commercial", "2026-02-15", "3A090.a", "license_required", "case_by_case"),
    ("h800", "CN", "commercial", "2026-02-15", "3A090.a", "prohibited", "denial_presumed"),  # not sold in US
    ("b200", "CN", "commercial", "2026-02-15", "3A090.a", "prohibited", "denial_presumed"),  # TPP 36,000
    # Other destinations: D:5 members are covered, allies are not.
    ("h100-sxm", "RU", "commercial", "2024-06-01", "3A090.a", "prohibited", "denial_presumed"),
    ("h100-sxm", "JP", "commercial", "2024-06-01", "3A090.a", "allowed", None),
    # Domestic parts are not subject to the EAR.
    ("ascend-910b", "CN", "commercial", "2025-08-01", "not_subject_to_ear", "allowed", None),
    ("ascend-910c", "CN", "state_funded", "2026-01-01", "not_subject_to_ear", "allowed", None),
    # MI308 is named in the Apr-2025 letters; licences granted late 2025.
    ("mi308x", "CN", "commercial", "2025-06-01", "undetermined", "license_required", "not_granted_yet"),
    ("mi308x", "CN", "commercial", "2025-12-01", "undetermined", "license_required", "granted"),
]


@pytest.mark.parametrize(("sku", "country", "kind", "on", "classification", "verdict", "outlook"), VERDICTS)
def test_verdict_table(
    engine: ComplianceEngine, sku: str, country: str, kind: str, on: str, classification: str, verdict: str,
    outlook: str | None,
) -> None:
    r = engine.check(sku, Buyer(country=country, kind=kind, on=date.fromisoformat(on)))  # type: ignore[arg-type]
    assert (r.classification, r.verdict, r.license_outlook) == (classification, verdict, outlook)
    assert r.citations, "every verdict cites its sources"


def test_h20_arithmetic_is_shown(engine: ComplianceEngine) -> None:
    r = engine.check("h20", Buyer(country="CN", on=date(2025, 3, 1)))
    text = " ".join(r.reasons)
    assert r.tpp == pytest.approx(2368)
    assert r.performance_density == pytest.approx(2.91, abs=0.005)
    assert "TPP 2368 < 4800" in text
    assert "PD 2.91 < 5.92" in text
    assert "TPP 2368 < 2400" in text and "PD 2.91 < 3.2" in text


def test_l20_misses_b2_by_density(engine: ComplianceEngine) -> None:
    r = engine.check("l20", Buyer(country="CN", on=date(2024, 6, 1)))
    assert "PD 3.14 < 3.2" in " ".join(r.reasons)


def test_a800_2022_needs_both_tests(engine: ComplianceEngine) -> None:
    r = engine.check("a800", Buyer(country="CN", on=date(2023, 6, 1)))
    assert "I/O 400 GB/s < 600 GB/s" in " ".join(r.reasons)


def test_h200_case_by_case_shows_limits_and_tariff(engine: ComplianceEngine) -> None:
    r = engine.check("h200", Buyer(country="CN", on=date(2026, 2, 15)))
    text = " ".join(r.reasons)
    assert "TPP 15831 < 21000" in text and "4800 GB/s < 6500 GB/s" in text
    assert [c.fraction for c in r.cost_adders] == [0.25]
    assert "R9" in r.citations


def test_h20_revenue_share_is_a_cost_adder(engine: ComplianceEngine) -> None:
    r = engine.check("h20", Buyer(country="CN", on=date(2025, 9, 1)))
    assert r.fee_fraction == pytest.approx(0.15)


def test_ascend_outside_china_is_prohibited_by_gp10_guidance(engine: ComplianceEngine) -> None:
    before = engine.check("ascend-910b", Buyer(country="DE", on=date(2025, 5, 1)))
    after = engine.check("ascend-910b", Buyer(country="DE", on=date(2025, 6, 1)))
    inside = engine.check("ascend-910b", Buyer(country="CN", on=date(2025, 6, 1)))
    gp10 = "us-2025-05-gp10-prc-3a090"
    assert before.verdict == "allowed" and not any(f.rule_id == gp10 for f in before.rules)
    assert (after.verdict, after.license_outlook) == ("prohibited", "guidance")
    assert "General Prohibition 10" in (after.license_outlook_text or "")
    assert inside.verdict == "allowed" and not any(f.rule_id == gp10 for f in inside.rules)


def test_state_funded_buyer_gets_foreign_parts_flagged(engine: ComplianceEngine) -> None:
    def flagged(sku: str, kind: str, on: date) -> bool:
        r = engine.check(sku, Buyer(country="CN", kind=kind, on=on))  # type: ignore[arg-type]
        return any(w.rule_id == "cn-2025-11-state-funded-domestic-only" and w.severity == "restrictive"
                   for w in r.warnings)

    assert flagged("l20", "state_funded", date(2025, 12, 1))
    assert not flagged("l20", "state_funded", date(2025, 10, 1))  # before the guidance
    assert not flagged("l20", "commercial", date(2025, 12, 1))
    assert not flagged("ascend-910b", "state_funded", date(2025, 12, 1))  # domestic part


def test_china_side_h20_guidance_is_caution_for_commercial(engine: ComplianceEngine) -> None:
    r = engine.check("h20", Buyer(country="CN", on=date(2025, 8, 20)))
    severities = {w.rule_id: w.severity for w in r.warnings}
    assert severities["cn-2025-08-h20-guidance"] == "caution"


def test_headquarters_in_china_follows_the_buyer_abroad(engine: ComplianceEngine) -> None:
    plain = engine.check("h100-sxm", Buyer(country="SG", on=date(2024, 6, 1)))
    hq = engine.check("h100-sxm", Buyer(country="SG", headquarters_country="CN", on=date(2024, 6, 1)))
    assert plain.verdict == "allowed"
    assert hq.verdict == "prohibited"


def test_unknown_sku_and_country(engine: ComplianceEngine) -> None:
    with pytest.raises(UnknownSkuError):
        engine.check("h2000", Buyer(country="CN", on=date(2025, 1, 1)))
    with pytest.raises(UnknownCountryError, match="did you mean CN"):
        engine.check("h20", Buyer(country="China", on=date(2025, 1, 1)))
    with pytest.raises(UnknownCountryError):
        engine.check("h20", Buyer(country="XX", on=date(2025, 1, 1)))


# ------------------------------------------------------------------ buyer policy
def test_policy_defaults_and_risk_premium(engine: ComplianceEngine) -> None:
    policy = BuyerPolicy()
    h20 = engine.check("h20", Buyer(country="CN", on=date(2025, 8, 1)))
    h100 = engine.check("h100-sxm", Buyer(country="CN", on=date(2025, 8, 1)))
    d = engine.decide(h20, policy)
    assert d.admissible and d.premium == pytest.approx(0.10)
    assert not engine.decide(h100, policy).admissible
    assert not engine.decide(h20, BuyerPolicy(license_required="exclude")).admissible
    assert engine.decide(h20, BuyerPolicy(license_required="allow")).premium == 0


def test_policy_excludes_restricted_unless_allowed(engine: ComplianceEngine) -> None:
    # The MLU370-X8's 3A090 level is undetermined (no die area): the GP10 risk is a restrictive warning.
    r = engine.check("mlu370-x8", Buyer(country="DE", on=date(2025, 6, 1)))
    assert r.verdict == "allowed" and r.max_warning_severity == "restrictive"
    assert not engine.decide(r, BuyerPolicy()).admissible
    assert engine.decide(r, BuyerPolicy(allow_restricted=True)).admissible
    gp10 = engine.check("ascend-910b", Buyer(country="DE", on=date(2025, 6, 1)))
    assert not engine.decide(gp10, BuyerPolicy(allow_restricted=True)).admissible  # prohibited stays out


def test_policy_vendor_lists(engine: ComplianceEngine) -> None:
    r = engine.check("l20", Buyer(country="CN", on=date(2025, 6, 1)))
    assert not engine.decide(r, BuyerPolicy(vendor_deny=("nvidia",))).admissible
    assert not engine.decide(r, BuyerPolicy(vendor_allow=("huawei",))).admissible


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"vendor_allow": ["nvidia"], "vendor_deny": ["NVIDIA"]}, "both allowed and denied"),
        ({"vendor_allow": ["nvidia", "huawei"], "max_vendor_share": 0.3}, "cannot reach 100%"),
        ({"min_domestic_share": 1.5}, "less than or equal to 1"),
        ({"license_required": "maybe"}, "license_required"),
        ({"risk_premium": {"assured": -1}}, "between 0 and 5"),
    ],
)
def test_contradictory_policy_is_rejected(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(ValidationError) as err:
        BuyerPolicy(**kwargs)  # type: ignore[arg-type]
    assert needle in str(err.value)


# ------------------------------------------------------------------ rule packs are data
def test_rule_pack_referencing_unknown_sku_is_rejected(catalog: Catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "extra_rules.yaml"
    pack.write_text(
        "schema_version: 1\njurisdiction: US\ncountry_groups: {}\nrules:\n"
        "  - id: bad\n    kind: cost_adder\n    title: t\n    effective_from: 2025-01-01\n"
        "    skus: [nope]\n    params: {fraction: 0.1}\n    citations: [R1]\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match="unknown SKU 'nope'"):
        load_engine(catalog, [pack])


def test_new_rule_is_a_data_change(catalog: Catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "extra_rules.yaml"
    pack.write_text(
        "schema_version: 1\njurisdiction: US\ncountry_groups:\n  china: {members: [CN], source: [R1]}\nrules:\n"
        "  - id: hypothetical-l20-letter\n    kind: is_informed\n    title: Hypothetical L20 letter\n"
        "    effective_from: 2027-01-01\n    destinations: china\n    skus: [l20]\n    effect: license_required\n"
        "    outlook: not_granted_yet\n    citations: [R1]\n",
        encoding="utf-8",
    )
    eng = load_engine(catalog, [pack])
    assert eng.check("l20", Buyer(country="CN", on=date(2026, 12, 31))).verdict == "allowed"
    assert eng.check("l20", Buyer(country="CN", on=date(2027, 1, 2))).verdict == "license_required"


def test_packs_validate_and_groups_are_iso_codes(catalog: Catalog) -> None:
    countries = load_countries()
    assert {"CN", "DE", "US", "MO", "HK"} <= set(countries)
    eng = load_engine(catalog)
    assert len(eng.rules) >= 15
    assert all(isinstance(g, str) for g in eng.groups)
    assert RulePack.model_fields["rules"]


def test_tf32_counts_19_bits_in_tpp(catalog: Catalog) -> None:
    from optimizer.catalog import BIT_LENGTH
    from optimizer.catalog.schema import Figure
    from optimizer.compliance import compute_metrics

    assert BIT_LENGTH["tf32"] == 19
    a100 = catalog.accelerators["a100-80gb"]
    gone = Figure(reason="test: only TF32 known")
    dense = a100.dense.model_copy(update={"fp8": gone, "bf16": gone, "fp16": gone, "fp32": gone, "int8": gone})
    m = compute_metrics(a100.model_copy(update={"dense": dense}))
    assert (m.tpp, m.precision) == (156 * 19, "tf32")  # 2,964, not 156 x 32 = 4,992


def test_a800_is_the_sxm_module_and_950pr_link_is_a_sourced_range(catalog: Catalog) -> None:
    a800 = catalog.accelerators["a800"]
    assert a800.memory_bandwidth_tbps.value == pytest.approx(2.039)
    link = catalog.accelerators["ascend-950pr"].intra_node_link_gbps
    assert (link.low, link.high) == (318, 2000) and {"C3", "ASCEND950-UB-2TB"} <= set(link.source)

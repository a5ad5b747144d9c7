"""Verdict table for the events of mid-2025 to mid-2026 (shared/reference/facts.md §10, ids U1-U30), written from
the sources, not from the engine's output: for each event a check the day before it and on (or after) it.

Each row: part, buyer (country, kind, name, parent, route), date, the expected verdict and outlook, the rule ids
whose warnings must (and must not) be present, the source ids and why. Availability events (the H20 production
halt, roadmap-only parts) are tested on the catalog apart.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

import pytest

from optimizer.catalog import Catalog
from optimizer.compliance import Buyer, ComplianceEngine


class Row(NamedTuple):
    sku: str
    country: str
    on: str
    verdict: str
    outlook: str | None
    warn: tuple[str, ...]
    no_warn: tuple[str, ...]
    sources: tuple[str, ...]
    why: str
    kind: str = "commercial"
    name: str | None = None
    parent: str | None = None
    via: str | None = None


P, L, A = "prohibited", "license_required", "allowed"
DENIAL, CBC = "denial_presumed", "case_by_case"
GAO, MY_PERMIT, MY_TRANSIT, RED_FLAG = ("us-2026-05-gao-ai-diffusion", "my-2025-07-strategic-trade-permit",
                                        "my-2025-07-transit-permit", "us-2025-03-transit-diversion-red-flag")
CUSTOMS, HALT, AFFIL = "cn-2025-10-customs-checks", "us-2025-08-h20-production-halt", "us-2025-09-affiliates-rule"
BLACKWELL, B30A, GULF = "us-2025-10-blackwell-not-for-china", "us-2025-11-b30a-not-allowed", "us-2025-11-gulf-approvals"

ROWS = [
    # U1 Malaysia's permit (2025-07-14): as a destination, and as a transit route
    Row("h100-sxm", "MY", "2025-07-13", A, None, (), (MY_PERMIT,), ("U1",), "before the directive"),
    Row("h100-sxm", "MY", "2025-07-14", A, None, (MY_PERMIT,), (), ("U1",), "permit needed to move US AI chips on"),
    Row("h100-sxm", "DE", "2025-07-14", A, None, (MY_TRANSIT,), (MY_PERMIT,), ("U1",), "shipped via Malaysia",
        via="MY"),
    Row("h100-sxm", "DE", "2025-07-13", A, None, (), (MY_TRANSIT,), ("U1",), "via Malaysia, before the directive",
        via="MY"),
    Row("ascend-910b", "CN", "2025-08-01", A, None, (), (MY_TRANSIT,), ("U1",), "the permit covers US-origin chips",
        via="MY"),
    # U2 H20 production halt (2025-08-22): a caution on the verdict (availability is tested below)
    Row("h20", "CN", "2025-08-21", L, "granted", (), (HALT,), ("U2", "P56"), "licences granted, still produced"),
    Row("h20", "CN", "2025-08-22", L, "granted", (HALT,), (), ("U2",), "NVIDIA asked partners to stop H20 work"),
    # U8/U9 Affiliates rule (2025-09-29), suspended 2025-11-10..2026-11-09, status after that unconfirmed
    Row("h100-sxm", "DE", "2025-09-28", A, None, (AFFIL,), (), ("U8", "FR-2025-19001"), "before the rule: red flag",
        parent="Sophgo"),
    Row("h100-sxm", "DE", "2025-09-29", P, DENIAL, (), (), ("U8", "FR-2025-19001", "FR-2025-00480"),
        "parent on the Entity List: the rule reaches the subsidiary", parent="Sophgo"),
    Row("h100-sxm", "DE", "2025-11-09", P, DENIAL, (), (), ("U8", "U9"), "last day before the suspension",
        parent="Sophgo"),
    Row("h100-sxm", "DE", "2025-11-10", A, None, (AFFIL,), (), ("U9",), "suspended: a caution only", parent="Sophgo"),
    Row("h100-sxm", "DE", "2026-11-09", A, None, (AFFIL,), (), ("U9",), "last day of the suspension",
        parent="Sophgo"),
    Row("h100-sxm", "DE", "2026-11-10", P, DENIAL, (), (), ("U9",), "applies again by its own terms (unconfirmed)",
        parent="算能科技有限公司"),
    Row("h100-sxm", "DE", "2025-10-01", A, None, (), (AFFIL,), ("U8",), "an unlisted parent", parent="Tencent"),
    # U10 customs checks (2025-10-10): US chips imported into China
    Row("h20", "CN", "2025-10-09", L, "granted", (), (CUSTOMS,), ("U10",), "before the inspections"),
    Row("h20", "CN", "2025-10-10", L, "granted", (CUSTOMS,), (), ("U10",), "inspections of NVIDIA imports"),
    Row("ascend-910c", "CN", "2025-10-10", A, None, (), (CUSTOMS,), ("U10",), "domestic chips are not imported"),
    Row("h20", "DE", "2025-10-10", A, None, (), (CUSTOMS,), ("U10",), "China's customs do not reach Germany"),
    # U11 Blackwell off the table for China (2025-10-30); U12 B30A not allowed (~2025-11)
    Row("b300", "CN", "2025-10-29", L, "classification_undetermined", (), (BLACKWELL,), ("U11",),
        "no B300 figures: classification undetermined"),
    Row("b300", "CN", "2025-10-30", L, "classification_undetermined", (BLACKWELL,), (), ("U11", "P60"),
        "after Busan: restrictive"),
    Row("b30a", "CN", "2025-10-31", L, "classification_undetermined", (BLACKWELL,), (B30A,), ("U11", "U12"),
        "before the report on the B30A"),
    Row("b30a", "CN", "2025-11-01", L, "classification_undetermined", (BLACKWELL, B30A), (), ("U12",),
        "reportedly not allowed"),
    # U13 domestic-only state-funded data centres (2025-11-05)
    Row("h20", "CN", "2025-11-04", L, "granted", (), ("cn-2025-11-state-funded-domestic-only",), ("U13",),
        "before the guidance", kind="state_funded"),
    Row("h20", "CN", "2025-11-05", L, "granted", ("cn-2025-11-state-funded-domestic-only",), (), ("U13",),
        "foreign chips out of new state-funded projects", kind="state_funded"),
    # U14 MI308 licences (~2025-11-06)
    Row("mi308x", "CN", "2025-11-05", L, "not_granted_yet", (), (), ("R14",), "letter, no licence yet"),
    Row("mi308x", "CN", "2025-11-06", L, "granted", (), (), ("U14",), "AMD holds licences for some shipments"),
    # U15 Gulf approvals (2025-11-19)
    Row("h100-sxm", "AE", "2025-11-18", L, "approval_presumed", (), (GULF,), ("U15", "R2"), "UAE is D:4"),
    Row("h100-sxm", "AE", "2025-11-19", L, "approval_presumed", (GULF,), (), ("U15",), "G42 approved for GB300s"),
    # U17 91 FR 1684 (2026-01-15): case by case for exports from the US; re-exports keep the denial presumption
    Row("h200", "CN", "2026-01-14", P, DENIAL, (), (), ("R2", "U17"), "the day before the rule"),
    Row("h200", "CN", "2026-01-15", L, CBC, ("us-2026-01-case-by-case",), (), ("U17",),
        "case by case, with the 50% volume cap noted"),
    Row("h200", "CN", "2026-01-15", P, DENIAL, (RED_FLAG,), (), ("U17", "U26"),
        "exported from abroad (via Singapore): presumption of denial kept", via="SG"),
    Row("h200", "CN", "2026-03-01", P, DENIAL, (MY_TRANSIT,), (), ("U17", "U1"), "re-export through Malaysia",
        via="MY"),
    Row("h200", "CN", "2026-03-01", L, CBC, (), (RED_FLAG,), ("U17",), "shipped from the US itself", via="US"),
    Row("mi325x", "CN", "2026-01-14", P, DENIAL, (), (), ("U27", "R2"), "TPP 20,919: 3A090.a, denial"),
    Row("mi325x", "CN", "2026-01-15", L, CBC, (), (), ("U27", "U17"), "TPP < 21,000 and 6,000 < 6,500 GB/s"),
    # U19-U21 China on the H200 (2026-01-13 customs, 2026-01-28 conditional approvals)
    Row("h200", "CN", "2026-01-12", P, DENIAL, (), ("cn-2026-01-h200-customs",), ("U19",), "before the customs word"),
    Row("h200", "CN", "2026-01-13", P, DENIAL, ("cn-2026-01-h200-customs",), (), ("U19",), "customs: not permitted"),
    Row("h200", "CN", "2026-01-28", L, CBC, ("cn-2026-01-h200-conditional",), ("cn-2026-01-h200-customs",),
        ("U21", "U20"), "approved with conditions"),
    # U22 GAO (2026-05-12): AI Diffusion still law, not enforced
    Row("h100-sxm", "DE", "2026-05-11", A, None, (), (GAO,), ("U22",), "before the decision"),
    Row("h100-sxm", "DE", "2026-05-12", A, None, (GAO,), (), ("U22", "U23"), "a caution for 3A090 exports"),
    Row("h100-sxm", "US", "2026-05-12", A, None, (), (GAO,), ("U22",), "a domestic purchase is not an export"),
    Row("h20", "DE", "2026-05-12", A, None, (), (GAO,), ("U22",), "the H20 is outside 3A090"),
    # U25 Entity List (2025-01-16): a listed buyer
    Row("h100-sxm", "DE", "2025-01-15", A, None, (), (), ("FR-2025-00480",), "listed only from 2025-01-16",
        name="Sophgo Technologies Ltd."),
    Row("h100-sxm", "DE", "2025-01-16", P, DENIAL, (), (), ("FR-2025-00480",), "licence for all EAR items, denial",
        name="Sophgo"),
    Row("h20", "CN", "2025-06-01", P, DENIAL, (), (), ("FR-2025-00704",), "Zhipu's alias", name="Zhipu AI"),
    Row("ascend-910c", "CN", "2025-06-01", A, None, ("us-entity-list",), (), ("FR-2025-00704",),
        "a domestic part: not subject to the EAR here, a caution", name="智谱"),
    # U6 roadmap parts and the GP10 guidance (2025-05-13)
    Row("ascend-950dt", "SG", "2025-05-12", A, None, (), (), ("U6", "BIS-GP10-2025-05"), "before the guidance"),
    Row("ascend-950dt", "SG", "2025-05-13", P, "guidance", (), (), ("U6", "BIS-GP10-2025-05"),
        "FP8 1,000 x 8 = TPP 8,000: 3A090 level"),
    Row("ascend-910d", "DE", "2025-06-01", P, "guidance", (), (), ("BIS-GP10-2025-05",), "named in the guidance"),
]


def test_every_row_cites_registered_sources(engine: ComplianceEngine) -> None:
    assert len(ROWS) >= 40
    for r in ROWS:
        missing = [s for s in r.sources if s not in engine.sources]
        assert not missing, f"{r.sku}/{r.country}/{r.on}: unregistered {missing}"


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.sku}-{r.country}-{r.on}-{r.name or r.parent or r.via or ''}"
                                           for r in ROWS])
def test_event_verdicts_follow_the_sources(engine: ComplianceEngine, row: Row) -> None:
    buyer = Buyer(country=row.country, kind=row.kind, on=date.fromisoformat(row.on),  # type: ignore[arg-type]
                  name=row.name, parent=row.parent, via_country=row.via)
    r = engine.check(row.sku, buyer)
    assert (r.verdict, r.license_outlook) == (row.verdict, row.outlook), f"{row.why} [{', '.join(row.sources)}]"
    warned = {w.rule_id for w in r.warnings}
    assert set(row.warn) <= warned, f"{row.why}: missing {set(row.warn) - warned}"
    assert not set(row.no_warn) & warned, f"{row.why}: unexpected {set(row.no_warn) & warned}"


def test_the_affiliates_rule_says_its_status_is_unknown_after_the_suspension(engine: ComplianceEngine) -> None:
    during = engine.check("h100-sxm", Buyer(country="DE", on=date(2026, 6, 1), parent="Sophgo"))
    after = engine.check("h100-sxm", Buyer(country="DE", on=date(2026, 12, 6), parent="Sophgo"))
    assert during.screening.affiliates_rule == "suspended" and not during.unknowns
    assert after.screening.affiliates_rule == "status_unknown"
    assert any("2026-11-09" in u and "unconfirmed" in u for u in after.unknowns)
    assert "FR-2025-19001" in after.citations and "U9" in after.citations


def test_case_by_case_lists_its_conditions_and_the_volume_cap(engine: ComplianceEngine) -> None:
    r = engine.check("h200", Buyer(country="CN", on=date(2026, 3, 1)))
    cbc = next(f for f in r.rules if f.rule_id == "us-2026-01-case-by-case")
    assert any("50%" in line and "conditions" in line for line in cbc.arithmetic)
    cap = next(w for w in r.warnings if w.rule_id == "us-2026-01-case-by-case")
    assert cap.severity == "caution" and "50%" in cap.text and "U17" in cap.citations
    via = engine.check("h200", Buyer(country="CN", on=date(2026, 3, 1), via_country="SG"))
    assert any("presumption of denial kept" in line for f in via.rules for line in f.arithmetic)


def test_h20_is_not_for_sale_after_the_production_halt(catalog: Catalog) -> None:
    h20 = catalog.accelerators["h20"]
    assert h20.unavailable_reason(date(2025, 8, 21), "CN") is None
    for country in ("CN", "DE"):
        reason = h20.unavailable_reason(date(2025, 8, 22), country)
        assert reason is not None and "U2" in reason


def test_roadmap_and_unshipped_parts_are_not_for_sale(catalog: Catalog) -> None:
    dt_reason = catalog.accelerators["ascend-950dt"].unavailable_reason(date(2026, 12, 6), "CN")
    assert dt_reason is not None and "roadmap date only" in dt_reason and "U6" in dt_reason
    assert catalog.accelerators["b30a"].unavailable_reason(date(2026, 12, 6), "CN") is not None
    assert catalog.accelerators["ascend-910d"].unavailable_reason(date(2026, 12, 6), "CN") is not None
    pr = catalog.accelerators["ascend-950pr"]
    assert pr.unavailable_reason(date(2026, 2, 15), "CN") is not None  # roadmap 2026-Q1, taken from end of Q1
    assert pr.unavailable_reason(date(2026, 3, 1), "CN") is None


def test_new_parts_keep_their_unknowns(catalog: Catalog) -> None:
    accs = catalog.accelerators
    b300, mi325x, dt_ = accs["b300"], accs["mi325x"], accs["ascend-950dt"]
    assert not any(b300.dense.get(p).known for p in ("fp8", "bf16", "fp16", "tf32", "fp32", "int8"))
    assert mi325x.memory_gb.value == 256 and mi325x.dense.fp8.grade == "D" and not mi325x.dense.bf16.known
    assert dt_.memory_gb.value == 144 and dt_.memory_bandwidth_tbps.value == 4.0 and not dt_.tdp_w.known
    system = catalog.systems["atlas-950-superpod"]
    assert system.accelerator == "ascend-950dt" and system.accelerators.value == 8192 and system.price is None
    pr = catalog.accelerators["ascend-950pr"]
    assert pr.memory_gb.value == 112  # the Atlas 350 card; the chip roadmap's 128 GB is labelled in the notes
    assert any("128 GB" in n and "chip" in n.lower() for n in pr.notes)
    assert any("card" in n.lower() for n in pr.notes)


def test_h200_prices_per_chip_and_per_module(catalog: Catalog) -> None:
    chip = catalog.accelerators["h200"].price
    module = catalog.nodes["hgx-h200"].price
    assert chip is not None and (chip.currency, chip.base, chip.source, chip.grade) == ("USD", 27000, ("U16",), "S")
    assert module is not None and module.currency == "CNY" and module.base == 1_500_000 and "U16" in module.source

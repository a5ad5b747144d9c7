"""Verdict table written from the sources (facts.md section 3, the NVIDIA/AMD filings, the Federal Register and
BIS guidance registered in sources.yaml), not from the engine's output.

Each row: SKU, buyer country, buyer kind, headquarters, date, expected verdict and licence outlook, the source ids
the expectation rests on, and why. Periods covered: before Oct 2022 (incl. the Aug-2022 letters), Oct 2022 - Oct
2023, the 2023-10-23 acceleration window, after 2023-11-17, Apr 2025, Aug 2025 and 2026; destinations in D:1,
D:4, D:5, A:5/A:6, E:1/E:2, Russia/Belarus; headquarters in D:5; PRC chips inside and outside China; consumer
cards.
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
    kind: str
    hq: str | None
    on: str
    verdict: str
    outlook: str | None
    sources: tuple[str, ...]
    why: str


C, S = "commercial", "state_funded"
DENIAL, APPROVAL, GUIDANCE = "denial_presumed", "approval_presumed", "guidance"
P, L, A = "prohibited", "license_required", "allowed"

ROWS = [
    # ---------------------------------------------------------------- before Oct 2022
    Row("a100-80gb", "CN", C, None, "2022-06-01", A, None,
        ("R13",), "no advanced-computing requirement before the letter of 2022-08-26"),
    Row("h100-sxm", "CN", C, None, "2022-09-01", P, DENIAL,
        ("R13",), "Aug-2022 letter: A100/H100 to China need a licence"),
    Row("a100-40gb", "HK", C, None, "2022-09-01", P, DENIAL,
        ("R13", "EAR-HK-2020"), "letter names China including Hong Kong"),
    Row("a100-80gb", "RU", C, None, "2022-09-01", P, DENIAL,
        ("R13", "EAR-RU-2022"), "letter names Russia too; Russia sanctions since 2022-02-24"),
    Row("a100-80gb", "DE", C, None, "2022-09-01", A, None, ("R13",), "letter covers China and Russia only"),
    Row("a800", "CN", C, None, "2022-09-01", A, None,
        ("R13", "P14"), "A800's 400 GB/s I/O is below the A100-equivalent level"),
    Row("h100-sxm", "RU", C, None, "2022-03-15", P, DENIAL,
        ("EAR-RU-2022",), "Russia: licence for all CCL items, policy of denial, from 2022-02-24"),
    # ---------------------------------------------------------------- Oct 2022 - Oct 2023
    Row("a100-80gb", "CN", C, None, "2023-06-01", P, DENIAL,
        ("R1", "C2"), "TPP 4,992 >= 4,800 and NVLink 600 >= 600 GB/s"),
    Row("h100-sxm", "HK", C, None, "2023-06-01", P, DENIAL,
        ("R1", "EAR-HK-2020"), "3A090 to China; Hong Kong treated as China"),
    Row("a800", "CN", C, None, "2023-06-01", A, None, ("R1", "P14", "C2"), "NVLink 400 < 600 GB/s: the AND test fails"),
    Row("h800", "CN", C, None, "2023-06-01", A, None, ("R1", "P15", "C2"), "NVLink 400 < 600 GB/s"),
    Row("h100-sxm", "AE", C, None, "2023-06-01", A, None,
        ("R1", "NV-8K-2023-10-17"), "D:1/D:4 destinations were added only by the Oct-2023 rule"),
    Row("a100-80gb", "VN", C, None, "2023-06-01", A, None,
        ("R1", "NV-8K-2023-10-17"), "Vietnam newly covered from Oct 2023"),
    Row("rtx-4090", "CN", C, None, "2023-06-01", A, None,
        ("R1", "RTX4090-IO", "NV-8K-2023-10-17"), "PCIe-only card; first covered by the Oct-2023 rule"),
    Row("h100-sxm", "RU", C, None, "2023-06-01", P, DENIAL, ("EAR-RU-2022",), "Russia sanctions"),
    # ---------------------------------------------------------------- the 2023-10-23 acceleration window
    Row("a800", "CN", C, None, "2023-11-01", P, DENIAL,
        ("NV-8K-2023-10-24", "R2"), "requirement effective immediately for A800 from 2023-10-23"),
    Row("h800", "CN", C, None, "2023-11-01", P, DENIAL, ("NV-8K-2023-10-24", "R2"), "effective immediately for H800"),
    Row("h800", "CN", C, None, "2023-10-20", A, None,
        ("NV-8K-2023-10-24", "R1", "P15"), "before the acceleration and before 2023-11-17"),
    Row("a800", "SA", C, None, "2023-11-01", L, APPROVAL,
        ("NV-8K-2023-10-24", "NV-8K-2023-10-17", "R2"), "Saudi Arabia (D:4): licence, approval presumed"),
    Row("h100-sxm", "AE", C, None, "2023-11-01", L, APPROVAL,
        ("NV-8K-2023-10-24", "NV-8K-2023-10-17", "R2"), "UAE (D:4) in the accelerated window"),
    Row("rtx-4090", "CN", C, None, "2023-11-01", A, None,
        ("NV-8K-2023-10-24",), "RTX 4090 not among the accelerated parts; rule effective 2023-11-17"),
    # ---------------------------------------------------------------- after 2023-11-17
    Row("h100-sxm", "CN", C, None, "2024-06-01", P, DENIAL, ("R2", "C2"), "3A090.a datacenter part to D:5"),
    Row("h800", "CN", C, None, "2024-06-01", P, DENIAL, ("R2", "C2"), "interconnect test removed; TPP 15,831"),
    Row("a800", "CN", C, None, "2024-01-01", P, DENIAL, ("R2", "C2"), "TPP 4,992 >= 4,800"),
    Row("h100-sxm", "MO", C, None, "2024-06-01", P, DENIAL, ("R2",), "Macau: presumption of denial"),
    Row("h100-sxm", "AE", C, None, "2024-06-01", L, APPROVAL, ("R2", "NV-8K-2023-10-17"), "UAE is D:4, not A:5/A:6"),
    Row("h100-sxm", "SA", C, None, "2024-06-01", L, APPROVAL, ("R2", "NV-8K-2023-10-17"), "Saudi Arabia is D:4"),
    Row("h200", "VN", C, None, "2024-06-01", L, APPROVAL, ("R2", "NV-8K-2023-10-17"), "Vietnam is D:1"),
    Row("mi300x", "KZ", C, None, "2024-06-01", L, APPROVAL, ("R2", "EAR740S1"), "Kazakhstan is D:1; TPP 20,919"),
    Row("b200", "PK", C, None, "2025-03-01", L, APPROVAL, ("R2", "EAR740S1"), "Pakistan is D:4"),
    Row("gaudi3", "QA", C, None, "2024-06-01", L, APPROVAL, ("R2", "EAR740S1"), "Qatar is D:4; TPP 29,360"),
    Row("h100-sxm", "IL", C, None, "2024-06-01", A, None,
        ("NV-8K-2023-10-17", "EAR740S1"), "Israel is D:4 but also A:6: excluded"),
    Row("h100-sxm", "DE", C, None, "2024-06-01", A, None, ("R2",), "A:5, not D"),
    Row("h100-sxm", "JP", C, None, "2024-06-01", A, None, ("R2",), "A:5"),
    Row("h100-sxm", "SG", C, None, "2024-06-01", A, None, ("R2", "EAR740S1"), "Singapore is not in D:1/D:4/D:5"),
    Row("h100-sxm", "SG", C, "CN", "2024-06-01", P, DENIAL,
        ("R2", "R11"), "headquartered in D:5: licence wherever located"),
    Row("h100-sxm", "AE", C, "CN", "2024-06-01", P, DENIAL,
        ("R2", "R11"), "Chinese-headquartered buyer in the UAE is treated as D:5"),
    Row("h100-sxm", "DE", C, "US", "2024-06-01", A, None, ("R2",), "US parent, German location"),
    Row("h20", "CN", C, None, "2024-06-01", A, None,
        ("R2", "P1", "C2"), "H20 outside 3A090 (TPP 2,368, PD 2.91); no letter yet"),
    Row("l20", "CN", C, None, "2024-06-01", A, None, ("P26", "C2"), "L20 misses b.2 (PD 3.14 < 3.2)"),
    Row("rtx-4090", "CN", C, None, "2024-06-01", L, "nac_notification",
        ("R2", "RTX4090-TPP", "NV-8K-2023-10-17"), "non-datacenter TPP 5,286: NAC with notification to D:5"),
    Row("rtx-4090d", "CN", C, None, "2024-06-01", A, None,
        ("RTX4090D-TPP", "R2"), "TPP 4,707 < 4,800 and not for datacenters (Note 2)"),
    Row("rtx-4090", "AE", C, None, "2024-06-01", A, None,
        ("NAC-ACA-2024", "R3"), "NAC/ACA without notification for D:1/D:4"),
    Row("ascend-910b", "DE", C, None, "2024-06-01", A, None,
        ("BIS-GP10-2025-05",), "before the GP10 guidance of 2025-05-13"),
    Row("h100-sxm", "BY", C, None, "2024-06-01", P, DENIAL, ("EAR-BY-2022",), "Belarus sanctions from 2022-03-02"),
    Row("l2", "IR", C, None, "2024-06-01", P, DENIAL,
        ("EAR746", "EAR740S1"), "Iran (E:1): even an uncontrolled L2 needs a licence, denial"),
    Row("l2", "CU", C, None, "2024-06-01", P, DENIAL, ("EAR746", "EAR740S1"), "Cuba (E:2) embargo"),
    Row("rtx-4090d", "KP", C, None, "2024-06-01", P, DENIAL, ("EAR746", "EAR740S1"), "North Korea (E:1)"),
    Row("l20", "SY", C, None, "2024-06-01", P, DENIAL, ("EAR746", "EAR740S1"), "Syria (E:1) in 2024"),
    # ---------------------------------------------------------------- Jan - May 2025
    Row("h100-sxm", "DE", C, None, "2025-03-01", A, None,
        ("R5", "R6"), "AI Diffusion rescinded before its compliance date 2025-05-15"),
    Row("h20", "CN", C, None, "2025-05-01", L, "not_granted_yet", ("R7",), "Apr-2025 letter; no licence granted yet"),
    Row("h20", "MO", C, None, "2025-05-01", L, "not_granted_yet", ("R7",), "letter covers China including Macau"),
    Row("h20", "DE", C, None, "2025-05-01", A, None, ("R7",), "letter: China and D:5 only"),
    Row("h20", "AE", C, None, "2025-05-01", A, None, ("R7", "EAR740S1"), "UAE is D:4, not D:5; H20 outside 3A090"),
    Row("h20", "US", C, None, "2025-05-01", A, None, ("R7",), "domestic US buyer"),
    Row("mi308x", "CN", C, None, "2025-05-01", L, "not_granted_yet", ("R14", "P48"), "AMD's own letter of 2025-04-15"),
    Row("h20", "RU", C, None, "2025-05-01", P, DENIAL, ("EAR-RU-2022",), "Russia sanctions, whatever the TPP"),
    Row("ascend-910c", "DE", C, None, "2025-06-01", P, GUIDANCE,
        ("BIS-GP10-2025-05", "GP10-ANALYSIS"), "named in the GP10 guidance; no licence exception"),
    Row("ascend-910b", "AE", C, None, "2025-06-01", P, GUIDANCE,
        ("BIS-GP10-2025-05", "GP10-ANALYSIS"), "guidance applies to buyers anywhere outside China"),
    Row("ascend-910b", "CN", C, None, "2025-06-01", A, None,
        ("BIS-GP10-2025-05",), "US rules do not reach a buyer in China buying domestic chips"),
    # ---------------------------------------------------------------- Jul - Dec 2025
    Row("h20", "CN", C, None, "2025-07-20", L, "assured", ("P57",), "US assured licences would be granted"),
    Row("h20", "CN", C, None, "2025-09-01", L, "granted", ("P56",), "Commerce issued H20 licences in August 2025"),
    Row("mi308x", "CN", C, None, "2025-09-01", L, "not_granted_yet",
        ("P48",), "MI308 licences only reported Nov-Dec 2025"),
    Row("mi308x", "CN", C, None, "2025-12-01", L, "granted", ("P48",), "AMD received MI308 licences"),
    Row("h20", "IR", C, None, "2025-09-01", P, DENIAL, ("EAR746", "EAR740S1"), "Iran embargo"),
    Row("rtx-5090d", "CN", C, None, "2025-09-01", A, None,
        ("RTX5090D-TOPS", "R2"), "2,375 FP4-sparse TOPS: TPP 4,750 < 4,800, consumer card"),
    Row("rtx-4090", "CN", C, None, "2025-09-01", L, "nac_notification",
        ("R2", "RTX4090-TPP"), "still 3A090.a, NAC with notification"),
    Row("ascend-910b", "CN", S, None, "2025-12-01", A, None,
        ("BIS-GP10-2025-05", "C1"), "state-funded domestic purchase in China"),
    # ---------------------------------------------------------------- 2026
    Row("h200", "CN", C, None, "2026-03-01", L, "case_by_case",
        ("R9", "R12"), "TPP 15,831 < 21,000 and 4,800 < 6,500 GB/s; sold in the US"),
    Row("mi300x", "MO", C, None, "2026-03-01", L, "case_by_case",
        ("R9", "C2"), "case-by-case applies to China and Macau"),
    Row("h200", "AE", C, None, "2026-03-01", L, APPROVAL, ("R2", "R9"), "Jan-2026 rule changes China/Macau only"),
    Row("h200", "SG", C, "CN", "2026-03-01", P, DENIAL, ("R9", "R11"), "D:5-headquartered entities stay under denial"),
    Row("b200", "CN", C, None, "2026-03-01", P, DENIAL,
        ("R9", "C2"), "TPP 36,000 and 7,700 GB/s: outside the case-by-case zone"),
    Row("h800", "CN", C, None, "2026-03-01", P, DENIAL, ("R9",), "not sold commercially in the US"),
    Row("h20", "CN", C, None, "2026-03-01", L, "granted", ("P56",), "licences issued since Aug 2025"),
    Row("h100-sxm", "RU", C, None, "2026-03-01", P, DENIAL, ("EAR-RU-2022",), "Russia sanctions"),
    Row("ascend-910c", "CN", S, None, "2026-03-01", A, None,
        ("BIS-GP10-2025-05", "C1"), "domestic chip bought in China"),
    Row("ascend-910c", "US", C, None, "2026-03-01", P, GUIDANCE,
        ("BIS-GP10-2025-05", "GP10-ANALYSIS"), "US buyer of a named Ascend"),
    Row("ascend-950pr", "SG", C, None, "2026-03-01", P, GUIDANCE,
        ("BIS-GP10-2025-05", "C3"), "list not exhaustive: 804 INT8 TOPS x 8 = TPP 6,432 >= 4,800"),
]


def test_table_is_large_and_covers_every_group(engine: ComplianceEngine) -> None:
    assert len(ROWS) >= 60
    periods = {r.on[:7] for r in ROWS}
    assert {"2022-06", "2023-06", "2023-11", "2024-06", "2025-05", "2025-09", "2026-03"} <= periods
    labels = set()
    for r in ROWS:
        labels |= set(engine.country_groups(r.country, date.fromisoformat(r.on)))
    assert {"D:1", "D:4", "D:5", "A:5", "A:6", "E:1", "E:2"} <= labels
    assert any(r.hq for r in ROWS) and any(r.kind == S for r in ROWS)


def test_every_row_cites_registered_sources(catalog: Catalog) -> None:
    for r in ROWS:
        assert r.sources and r.why
        missing = [s for s in r.sources if s not in catalog.sources]
        assert not missing, f"{r.sku}/{r.country}/{r.on}: unregistered sources {missing}"


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.sku}-{r.country}-{r.hq or ''}-{r.kind[:5]}-{r.on}" for r in ROWS])
def test_verdict_follows_the_sources(engine: ComplianceEngine, row: Row) -> None:
    buyer = Buyer(country=row.country, kind=row.kind, headquarters_country=row.hq,  # type: ignore[arg-type]
                  on=date.fromisoformat(row.on))
    r = engine.check(row.sku, buyer)
    assert (r.verdict, r.license_outlook) == (row.verdict, row.outlook), f"{row.why} [{', '.join(row.sources)}]"
    if r.verdict != "allowed":
        assert r.citations and r.reasons


@pytest.mark.parametrize("country", ["IR", "KP", "CU", "SY", "RU", "BY"])
def test_embargoed_destinations_are_never_allowed(engine: ComplianceEngine, catalog: Catalog, country: str) -> None:
    on = date(2025, 9, 1)
    for sku in catalog.accelerators:
        r = engine.check(sku, Buyer(country=country, on=on))
        assert r.verdict == "prohibited", sku
        assert any(f.rule_id == "us-embargo-sanctions" for f in r.rules)

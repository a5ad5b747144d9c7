"""The rule fact sheets in corpus/sources/ and the rule packs must agree: a chat answer quoting a page may not
contradict the engine. Each claim extracts a figure, date or destination scope from the page text and compares it
with the value the rule pack holds."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from optimizer.catalog import Catalog
from optimizer.compliance import ComplianceEngine

PAGES = Path(__file__).resolve().parents[2] / "corpus" / "sources"
ON = date(2024, 6, 1)


def _rule(engine: ComplianceEngine, rid: str) -> Any:
    return next(r for r in engine.rules if r.id == rid)


def _p(engine: ComplianceEngine, rid: str, name: str) -> float:
    return float(getattr(_rule(engine, rid).params, name))


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def _labels(engine: ComplianceEngine, names: tuple[str, ...]) -> set[str]:
    return {engine.groups[f"US:{n}"].label or n for n in names}


# (page, regex with groups, what the groups must equal, computed from the packs)
Claim = tuple[str, str, Callable[[ComplianceEngine], tuple[Any, ...]]]
CLAIMS: list[Claim] = [
    # Oct 2022: TPP AND I/O, dates, destinations of the Aug-2022 letter
    ("rule-2022-10-tpp-interconnect-en", r"transfer rate of (\d+) Gbyte/s or more",
     lambda e: (_p(e, "us-2022-10-3a090", "io_gbps_min"),)),
    ("rule-2022-10-tpp-interconnect-en", r"of 4,800 \((\d+)\) or more",
     lambda e: (_p(e, "us-2022-10-3a090", "tpp_min"),)),
    ("rule-2022-10-tpp-interconnect-zh", r"达到 (\d+) GB/s 或以上",
     lambda e: (_p(e, "us-2022-10-3a090", "io_gbps_min"),)),
    ("rule-2022-10-tpp-interconnect-zh", r"达到 4,800（(\d+)）或以上",
     lambda e: (_p(e, "us-2022-10-3a090", "tpp_min"),)),
    ("rule-2022-10-tpp-interconnect-en", r"effective on (\d{4}-\d{2}-\d{2}) and",
     lambda e: (str(_rule(e, "us-2022-10-3a090").effective_from),)),
    ("rule-2022-10-tpp-interconnect-en", r"On (\d{4}-\d{2}-\d{2}) the US government sent NVIDIA",
     lambda e: (str(_rule(e, "us-2022-08-a100-h100-letter").effective_from),)),
    ("rule-2022-10-tpp-interconnect-en", r"exports to China \(including Hong Kong\) and (Russia)",
     lambda e: ("Russia" if {"CN", "HK", "RU"} <= e.members("china_or_russia", date(2022, 9, 1)) else "?",)),
    # Oct 2023: tiers, dates, destination scope and review policy
    ("rule-2023-10-tpp-density-en",
     r"\*\*3A090\.a\*\*: TPP ≥ 4,800 \((\d+)\); or TPP ≥ 1,600 \((\d+)\) with PD ≥ ([\d.]+)",
     lambda e: tuple(_p(e, "us-2023-10-3a090", n) for n in ("a1_tpp", "a2_tpp", "a2_pd"))),
    ("rule-2023-10-tpp-density-en",
     r"TPP ≥ 2,400 \((\d+)\) and < 4,800 with PD ≥ ([\d.]+) and < ([\d.]+) \(b\.1\); or TPP ≥ 1,600 with PD ≥ ([\d.]+)",
     lambda e: tuple(_p(e, "us-2023-10-3a090", n) for n in ("b1_tpp_low", "b1_pd_low", "a2_pd", "b2_pd_low"))),
    ("rule-2023-10-tpp-density-zh", r"TPP ≥ 4,800（(\d+)）；或 TPP ≥ 1,600（(\d+)）且性能密度 ≥ ([\d.]+)",
     lambda e: tuple(_p(e, "us-2023-10-3a090", n) for n in ("a1_tpp", "a2_tpp", "a2_pd"))),
    ("rule-2023-10-tpp-density-zh",
     r"2,400（(\d+)）≤ TPP < 4,800 且 ([\d.]+) ≤ 性能密度 < ([\d.]+)；b\.2 为 TPP ≥ 1,600 且 ([\d.]+)",
     lambda e: tuple(_p(e, "us-2023-10-3a090", n) for n in ("b1_tpp_low", "b1_pd_low", "a2_pd", "b2_pd_low"))),
    ("rule-2023-10-tpp-density-en", r"Effective on (\d{4}-\d{2}-\d{2})",
     lambda e: (str(_rule(e, "us-2023-10-3a090").effective_from),)),
    ("rule-2023-10-tpp-density-en", r"On (\d{4}-\d{2}-\d{2}) the US government told NVIDIA",
     lambda e: (str(_rule(e, "us-2023-10-23-acceleration").effective_from),)),
    ("rule-2023-10-tpp-density-en", r"Country Groups (D:\d), (D:\d) and (D:\d) unless also in (A:\d) or (A:\d)",
     lambda e: (*sorted(_labels(e, e.groups["US:scope_3a090_2023"].union) - {"Macau"}),
                *sorted(_labels(e, e.groups["US:scope_3a090_2023"].minus)))),
    ("rule-2023-10-tpp-density-zh", r"(D:\d)、(D:\d)、(D:\d) 国家组中不同时属于 (A:\d)、(A:\d) 的国家",
     lambda e: (*sorted(_labels(e, e.groups["US:scope_3a090_2023"].union) - {"Macau"}),
                *sorted(_labels(e, e.groups["US:scope_3a090_2023"].minus)))),
    ("rule-2023-10-tpp-density-en",
     r"to (D:\d) \(which includes China\) and (Macau) are reviewed with a presumption of (denial)",
     lambda e: (*sorted(_labels(e, e.groups["US:d5_or_macau"].union)),
                _review(e, "d5_or_macau"))),
    ("rule-2023-10-tpp-density-en",
     r"Licences to (D:\d) and (D:\d) destinations that are not also in (D:\d) .* presumption of (approval)",
     lambda e: (*sorted(_labels(e, e.groups["US:d1_d4"].union)), "D:5", _review(e, "d1_d4"))),
    ("rule-2023-10-tpp-density-en", r"for example the (United Arab Emirates), (Saudi Arabia) and (Vietnam)",
     lambda e: tuple(n if c in e.members("d1_d4", ON) else "?"
                     for c, n in (("AE", "United Arab Emirates"), ("SA", "Saudi Arabia"), ("VN", "Vietnam")))),
    ("rule-2023-10-tpp-density-en", r"(Israel) is in D:4 but also in A:6, so it is excluded",
     lambda e: ("Israel" if "IL" in e.members("D4", ON) and "IL" not in e.members("scope_3a090_2023", ON) else "?",)),
    # Dec 2024 HBM
    ("rule-2024-12-hbm-3a090c-en", r"greater than (\d+) GB/s per mm²",
     lambda e: (_p(e, "us-2024-12-hbm", "density_gbps_per_mm2"),)),
    ("rule-2024-12-hbm-3a090c-en", r"took effect on (\d{4}-\d{2}-\d{2})",
     lambda e: (str(_rule(e, "us-2024-12-hbm").effective_from),)),
    # 2025: AI diffusion dates, H20 letter scope and date
    ("rule-2025-h20-mi308-licences-en", r"It took effect on (\d{4}-\d{2}-\d{2}), with a compliance date",
     lambda e: (str(_rule(e, "us-2025-01-ai-diffusion").effective_from),)),
    ("rule-2025-h20-mi308-licences-en", r"It was rescinded on (\d{4}-\d{2}-\d{2})",
     lambda e: (str(_day_after(_rule(e, "us-2025-01-ai-diffusion").effective_to)),)),
    ("rule-2025-h20-mi308-licences-en", r"On (\d{4}-\d{2}-\d{2}) \(9 April 2025\)",
     lambda e: (str(_rule(e, "us-2025-04-h20-letter").effective_from),)),
    ("rule-2025-h20-mi308-licences-en", r"its own letter, dated (\d{4}-\d{2}-\d{2})",
     lambda e: (str(_rule(e, "us-2025-04-mi308-letter").effective_from),)),
    ("rule-2025-h20-mi308-licences-en",
     r"It applies to (China) \(including (Hong Kong) and (Macau)\), to Country Group (D:\d)",
     lambda e: ("China" if {"CN", "HK", "MO"} <= e.members("d5_or_macau", ON) else "?", "Hong Kong", "Macau",
                *sorted(_labels(e, e.groups["US:d5_or_macau"].union) - {"Macau"}))),
    ("rule-2025-h20-mi308-licences-en",
     r"ICs at the (3A090) level developed or produced by companies in (D:\d) countries or (Macau)",
     lambda e: ("3A090", *sorted(_labels(e, e.groups[f"US:{_gp10_origin(e)}"].union)))),
    # 2026: case-by-case limits, date, tariff bands
    ("rule-2025-2026-h200-case-by-case-en", r"below 21,000 \((\d+)\)",
     lambda e: (_p(e, "us-2026-01-case-by-case", "tpp_below"),)),
    ("rule-2025-2026-h200-case-by-case-en", r"below 6,500 GB/s \((\d+) GB/s\)",
     lambda e: (_p(e, "us-2026-01-case-by-case", "dram_gbps_below"),)),
    ("rule-2025-2026-h200-case-by-case-zh", r"低于 21,000（(\d+)）",
     lambda e: (_p(e, "us-2026-01-case-by-case", "tpp_below"),)),
    ("rule-2025-2026-h200-case-by-case-zh", r"低于 6,500 GB/s（(\d+) GB/s）",
     lambda e: (_p(e, "us-2026-01-case-by-case", "dram_gbps_below"),)),
    ("rule-2025-2026-h200-case-by-case-en", r"took effect on (\d{4}-\d{2}-\d{2})",
     lambda e: (str(_rule(e, "us-2026-01-case-by-case").effective_from),)),
    ("rule-2025-2026-h200-case-by-case-en", r"\| 1 \| ([\d,]+)–([\d,]+) \| ([\d,]+)–([\d,]+) GB/s",
     lambda e: _band(e, 0)),
    ("rule-2025-2026-h200-case-by-case-en", r"\| 2 \| ([\d,]+)–([\d,]+) \| ([\d,]+)–([\d,]+) GB/s",
     lambda e: _band(e, 1)),
    ("rule-2025-2026-h200-case-by-case-en", r"imposes a (\d+)% tariff",
     lambda e: (_p(e, "us-2026-01-chip-tariff", "fraction") * 100,)),
    # 2025-2026 events: the Affiliates rule and its suspension, the conditions of 91 FR 1684, Malaysia's permit
    ("rule-2025-2026-affiliates-entity-list-en", r"On (\d{4}-\d{2}-\d{2}) an interim final rule",
     lambda e: (str(_rule(e, "us-2025-09-affiliates-rule").effective_from),)),
    ("rule-2025-2026-affiliates-entity-list-en", r"suspended the Affiliates rule for one year, to (\d{4}-\d{2}-\d{2})",
     lambda e: (str(_rule(e, "us-2025-09-affiliates-rule").suspensions[0].until),)),
    ("rule-2025-2026-affiliates-entity-list-en", r"On (\d{4}-\d{2}-\d{2}), as part of the US–China trade",
     lambda e: (str(_rule(e, "us-2025-09-affiliates-rule").suspensions[0].since),)),
    ("rule-2025-2026-affiliates-entity-list-en", r"after 9 November 2026 the status of the rule is (unknown)",
     lambda e: ("unknown" if str(_rule(e, "us-2025-09-affiliates-rule").status_unknown_after) == "2026-11-09"
                else "?",)),
    ("rule-2025-2026-affiliates-entity-list-zh", r"暂停一年，至(\d{4})年(\d+)月(\d+)日",
     lambda e: tuple(int(x) for x in str(_rule(e, "us-2025-09-affiliates-rule").suspensions[0].until).split("-"))),
    ("events-2025-2026-supply-transit-en", r"under TPP ([\d,]+) and DRAM bandwidth ([\d,]+) GB/s",
     lambda e: (_p(e, "us-2026-01-case-by-case", "tpp_below"), _p(e, "us-2026-01-case-by-case", "dram_gbps_below"))),
    ("events-2025-2026-supply-transit-en", r"China volumes stay at or below (\d+)% of US shipments",
     lambda e: (50 if "50%" in (_rule(e, "us-2026-01-case-by-case").params.volume_cap or "") else -1,)),
    ("events-2025-2026-supply-transit-en", r"\*\*(\d{4}-\d{2}-\d{2}):\*\* Malaysia",
     lambda e: (str(_rule(e, "my-2025-07-strategic-trade-permit").effective_from),)),
    ("events-2025-2026-supply-transit-en", r"\*\*(\d{4}-\d{2}-\d{2}): AI Diffusion is still law",
     lambda e: (str(_rule(e, "us-2026-05-gao-ai-diffusion").effective_from),)),
    ("events-2025-2026-supply-transit-en", r"\*\*(\d{4}-\d{2}-\d{2}): customs checks",
     lambda e: (str(_rule(e, "cn-2025-10-customs-checks").effective_from),)),
]


def _gp10_origin(engine: ComplianceEngine) -> str:
    origin = _rule(engine, "us-2025-05-gp10-prc-3a090").developed_in
    assert origin is not None
    return str(origin)


def _review(engine: ComplianceEngine, group: str) -> str:
    rv = next(r for r in _rule(engine, "us-2023-10-3a090").review if r.group == group)
    return str({"denial_presumed": "denial", "approval_presumed": "approval"}.get(rv.outlook, rv.outlook))


def _day_after(d: date | None) -> date:
    assert d is not None
    return date.fromordinal(d.toordinal() + 1)


def _band(engine: ComplianceEngine, i: int) -> tuple[float, ...]:
    b = _rule(engine, "us-2026-01-chip-tariff").params.bands[i]
    return (b.tpp_min, b.tpp_max, b.dram_gbps_min, b.dram_gbps_max)


def _body(page: str) -> str:
    text = (PAGES / f"{page}.md").read_text(encoding="utf-8")
    return text.split("\n---\n", 1)[1] if text.startswith("---") else text


def _norm(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return _num(v)
        except ValueError:
            return v
    return float(v) if isinstance(v, int | float) else v


@pytest.mark.parametrize(("page", "pattern", "expected"), CLAIMS, ids=[f"{c[0]}:{i}" for i, c in enumerate(CLAIMS)])
def test_page_matches_rule_pack(engine: ComplianceEngine, page: str, pattern: str,
                                expected: Callable[[ComplianceEngine], tuple[Any, ...]]) -> None:
    m = re.search(pattern, _body(page))
    assert m, f"{page}: the page no longer states {pattern!r}"
    said = tuple(_norm(g) for g in m.groups())
    held = tuple(_norm(v) for v in expected(engine))
    assert said == held, f"{page} says {said}, the rule pack holds {held}"


def test_rule_pages_cite_registered_sources(catalog: Catalog) -> None:
    for path in sorted(PAGES.glob("rule-*.md")):
        for group in re.findall(r"\[([A-Z][A-Za-z0-9, -]+)\]", _body(path.stem)):
            for sid in (s.strip() for s in group.split(",")):
                assert sid in catalog.sources, f"{path.name}: [{sid}] is not in the source registry"

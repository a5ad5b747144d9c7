"""Fact sheets carry the date of what they summarise (not the day they were written), so date filters work."""

from __future__ import annotations

import datetime as dt

from corpus.index import CorpusIndex
from corpus.loaders import find_sources, read_document
from corpus.types import SearchFilters
from tests.corpus.conftest import SOURCES

AUTHORED = dt.date(2026, 11, 29)
AUTHORED_WAVE3 = dt.date(2026, 12, 6)
"""The fact sheets on the events of mid-2025 to mid-2026 (facts.md §10) were written a week later."""


def test_every_fact_sheet_dates_its_content_not_its_writing() -> None:
    docs = {d.doc_id: d for d in map(read_document, find_sources(SOURCES))}
    sheets = [d for d in docs.values() if not d.doc_id.startswith("seed-")]
    assert len(sheets) == 38
    for d in sheets:
        assert d.authored in (AUTHORED, AUTHORED_WAVE3), d.doc_id
        assert d.authored is not None
        assert d.date != d.authored, f"{d.doc_id} is dated the day it was written"
        assert all(day <= d.authored for day in d.source_dates.values()), d.doc_id
        if d.date is None:  # unknown stays unknown: no dated event or source
            assert d.date_source == "front_matter" or d.date_source is None
        else:
            assert d.date_source == "front_matter" and d.date < d.authored
        twin = d.doc_id[:-3] + ("-zh" if d.doc_id.endswith("-en") else "-en")
        assert docs[twin].date == d.date, f"{d.doc_id} and {twin} summarise the same events"
    assert docs["rule-2022-10-tpp-interconnect-en"].date == dt.date(2022, 10, 13)
    assert docs["rule-2023-10-tpp-density-zh"].date == dt.date(2023, 10, 25)
    assert docs["rule-2024-12-hbm-3a090c-en"].date == dt.date(2024, 12, 5)
    assert docs["rule-2022-10-tpp-interconnect-en"].source_dates["R1"] == dt.date(2022, 10, 13)
    assert docs["cambricon-hygon-kunlunxin-en"].date is None  # "published: null": no text date is guessed
    assert docs["rule-2025-2026-affiliates-entity-list-en"].date == dt.date(2025, 11, 10)  # the suspension
    assert docs["events-2025-2026-supply-transit-zh"].source_dates["U22"] == dt.date(2026, 5, 12)


def test_date_filter_finds_the_2022_rule(shipped_index: CorpusIndex) -> None:
    before_2025 = SearchFilters(date_to=dt.date(2024, 12, 31))
    passages = shipped_index.search("TPP 4800", k=5, filters=before_2025)
    assert passages and passages[0].doc_id.startswith("rule-2022-10-tpp-interconnect")
    assert all(p.date is not None and p.date <= dt.date(2024, 12, 31) for p in passages)
    assert {p.date_source for p in passages} == {"front_matter"}
    in_2023 = SearchFilters(date_from=dt.date(2023, 1, 1), date_to=dt.date(2023, 12, 31))
    assert {p.doc_id for p in shipped_index.search("performance density", k=5, filters=in_2023)} <= {
        "rule-2023-10-tpp-density-en", "rule-2023-10-tpp-density-zh"
    }

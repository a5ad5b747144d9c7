"""Entity screening: exact, alias, Chinese-name and near-miss names against the shipped Entity List parties."""

from __future__ import annotations

from datetime import date

import pytest

from optimizer.compliance import Buyer, ComplianceEngine
from optimizer.compliance.screening import jaro_winkler, normalise, screen_name, similarity

ON = date(2026, 3, 1)


def _check(engine: ComplianceEngine, sku: str = "h100-sxm", country: str = "DE", **names: str):  # type: ignore[no-untyped-def]
    return engine.check(sku, Buyer(country=country, on=ON, **names))  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "entity", "how"), [
    ("Sophgo Technologies Ltd.", "sophgo", "exact"),          # the listed name
    ("SOPHGO TECHNOLOGIES LIMITED", "sophgo", "exact"),       # case and designators do not matter
    ("Sophgo", "sophgo", "exact"),                            # equal to the listed name once designators go
    ("Zhipu AI", "zhipu", "alias"),
    ("Dawning Information Industry", "sugon", "alias"),       # one of Sugon's nine aliases in 84 FR 29371
    ("Hygon", "chengdu-haiguang-ic", "alias"),
    ("算能科技有限公司", "sophgo", "chinese_name"),
    ("智谱", "zhipu", "chinese_name"),
    ("华为技术有限公司", "huawei", "chinese_name"),
    ("中科寒武纪科技股份有限公司", "cambricon", "chinese_name"),
])
def test_listed_names_are_matched(engine: ComplianceEngine, name: str, entity: str, how: str) -> None:
    r = _check(engine, name=name)
    assert r.verdict == "prohibited" and r.license_outlook == "denial_presumed"
    assert r.screening.status == "listed"
    m = next(m for m in r.screening.matches if m.entity_id == entity)
    assert m.match == how and m.score == 1.0 and m.in_force
    firing = next(f for f in r.rules if f.rule_id == "us-entity-list")
    assert m.notice in firing.arithmetic[0]  # the Federal Register notice is cited in the verdict
    assert set(m.citations) <= set(r.citations)


@pytest.mark.parametrize(("name", "entity"), [
    ("Sofgo Ltd", "sophgo"),            # a typo
    ("Sophgo Trading Co.", "sophgo"),   # a longer name around a listed one
    ("Huawei Cloud", "huawei"),
    ("华为云", "huawei"),
    ("Netrix Information Industry", "nettrix"),
    ("Inspur", "inspur-group"),          # the group is listed; which unit the buyer is must be verified
    ("浪潮信息", "inspur-group"),
])
def test_near_misses_are_possible_matches_never_a_verdict(engine: ComplianceEngine, name: str, entity: str) -> None:
    r = _check(engine, name=name)
    assert r.verdict == "allowed"  # not silently failed ...
    assert r.screening.status == "possible_match"  # ... and not silently passed
    m = next(m for m in r.screening.matches if m.entity_id == entity)
    assert m.match == "possible" and 0.85 <= m.score < 1
    warning = next(w for w in r.warnings if w.rule_id == "us-entity-list")
    assert warning.severity == "caution" and "possible match — verify" in warning.text and name in warning.text


@pytest.mark.parametrize("name", ["Alibaba Cloud", "Tencent", "ByteDance", "阿里巴巴", "腾讯", "DeepSeek",
                                  "Lenovo", "Baidu", "iFlytek", "Bitmain"])
def test_unlisted_names_are_clear(engine: ComplianceEngine, name: str) -> None:
    r = _check(engine, name=name)
    assert r.screening.status == "clear" and not r.screening.matches
    assert r.verdict == "allowed"
    assert "listed parties" in r.screening.text


def test_no_name_is_not_screened(engine: ComplianceEngine) -> None:
    r = _check(engine)
    assert r.screening.status == "not_screened" and r.screening.matches == ()


def test_a_listed_buyer_of_a_domestic_part_in_china_gets_a_caution(engine: ComplianceEngine) -> None:
    r = _check(engine, sku="ascend-910c", country="CN", name="Sophgo")
    assert r.verdict == "allowed" and r.screening.status == "listed"
    w = next(w for w in r.warnings if w.rule_id == "us-entity-list")
    assert w.severity == "caution" and "not US-origin" in w.text


def test_a_listed_parent_reaches_the_buyer_only_while_the_affiliates_rule_applies(engine: ComplianceEngine) -> None:
    in_force = engine.check("h100-sxm", Buyer(country="SG", on=date(2025, 10, 15), name="Acme Compute Pte",
                                              parent="Moore Threads"))
    assert in_force.verdict == "prohibited" and in_force.screening.status == "affiliate"
    assert in_force.screening.affiliates_rule == "in_force"
    suspended = engine.check("h100-sxm", Buyer(country="SG", on=date(2026, 3, 1), parent="Moore Threads"))
    assert suspended.verdict == "allowed" and suspended.screening.affiliates_rule == "suspended"


def test_normalise_and_similarity() -> None:
    assert normalise("Sophgo Technologies Ltd.") == "sophgo"
    assert normalise("算能科技有限公司") == "算能"
    assert normalise("Cambricon (Xi'an) Integrated Circuit Co., Ltd.") == "cambricon xi an integrated circuit"
    assert similarity("sophgo", "sophgo") == 1.0
    assert similarity("tencent", "sophgo") < 0.85
    assert jaro_winkler("martha", "marhta") == pytest.approx(0.961, abs=0.001)  # the textbook value
    assert jaro_winkler("dwayne", "duane") == pytest.approx(0.84, abs=0.001)


def test_every_screened_party_is_dated_and_sourced(engine: ComplianceEngine) -> None:
    pack = engine.screening
    assert pack is not None and len(pack.entities) >= 30
    for e in pack.entities:
        notice = pack.notices[e.notice]
        assert pack.listed_on(e) <= date(2025, 3, 28)
        assert all(s in engine.sources for s in (*e.source, *notice.source))
        assert notice.citation or notice.note, f"{e.notice}: neither a citation nor a note on why none"
    ids = {e.id for e in pack.entities}
    assert {"huawei", "sophgo", "zhipu", "sugon", "cambricon", "biren", "moore-threads"} <= ids
    hits = screen_name("PowerAIR", pack.entities)
    assert hits and hits[0].entity.country == "SG"

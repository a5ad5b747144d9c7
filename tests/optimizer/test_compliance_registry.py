"""One ordered registry of rule kinds: every kind the packs use is declared once, with its order and needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.compliance import ComplianceEngine, registry
from optimizer.compliance.loading import parse_rule_pack
from optimizer.errors import CatalogError

PACKAGE = Path(__file__).resolve().parents[2] / "optimizer" / "compliance"


def test_every_kind_used_by_the_packs_is_registered_once_in_order(engine: ComplianceEngine) -> None:
    kinds = registry.kinds()
    names = [k.kind for k in kinds]
    assert len(names) == len(set(names)) and [k.order for k in kinds] == sorted({k.order for k in kinds})
    assert {r.kind for r in engine.rules} <= set(names)
    assert set(names) >= {"eccn_3a090_2023", "is_informed", "entity_list", "affiliates_rule", "cn_guidance"}
    # classification runs before the letters, the letters before what modifies them, screening before warnings
    pos = {n: i for i, n in enumerate(names)}
    assert pos["eccn_3a090_2023"] < pos["is_informed"] < pos["case_by_case_review"] < pos["outlook_change"]
    assert pos["outlook_change"] < pos["entity_list"] < pos["cost_adder"] < pos["notice"] < pos["cn_guidance"]
    assert all(k.doc for k in kinds)  # each evaluator says what it does


def test_a_kind_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        registry.rule_kind("notice", order=999)(lambda engine, rule, st: None)
    with pytest.raises(ValueError, match="share order"):
        registry.rule_kind("brand_new_kind", order=120)(lambda engine, rule, st: None)


@pytest.mark.parametrize(("rule", "needle"), [
    ("kind: no_such_kind\n    effect: prohibited", "unknown kind 'no_such_kind'"),
    ("kind: is_informed", "needs `effect`"),
    ("kind: case_by_case_review\n    outlook: case_by_case", "needs `params`"),
    ("kind: notice", "needs `severity`"),
])
def test_the_schema_checks_kinds_against_the_registry(rule: str, needle: str) -> None:
    text = (f"schema_version: 1\njurisdiction: US\nrules:\n  - id: r\n    {rule}\n    title: t\n"
            "    effective_from: 2025-01-01\n    citations: [R1]\n")
    with pytest.raises(CatalogError, match=needle):
        parse_rule_pack(text, "test.yaml")


def test_the_split_keeps_each_module_small() -> None:
    for path in [PACKAGE / "engine.py", *(PACKAGE / "evaluators").glob("*.py")]:
        assert len(path.read_text(encoding="utf-8").splitlines()) < 400, path.name

"""Boilerplate rules: headline runs, reader comments, disclaimers and bylines, without eating facts."""

from __future__ import annotations

from corpus.boilerplate import classify_lines, is_disclaimer, is_headline_list
from tests.corpus.conftest import SOURCES


def test_seed_article_boilerplate_is_found_and_facts_are_kept() -> None:
    text = (SOURCES / "seed-h20-return-2025-07-15.md").read_text(encoding="utf-8")
    body = text.split("\n---\n", 1)[1]
    lines = body.split("\n")
    labels = dict(zip(lines, classify_lines(lines), strict=True))
    first = next(line for line in lines if line.strip())
    assert labels[first] == "headline_list"
    assert labels["网友看法"] == "comments"
    assert [labels[line] for line in lines if line.startswith(("1、网友", "2、网友", "3、网友"))] == ["comments"] * 3
    assert labels[next(line for line in lines if line.startswith("本财经资讯"))] == "disclaimer"
    assert labels["记者 郑晨烨"] == "byline"
    facts = [line for line in lines if "7994" in line or "浪潮、新华三、宁畅" in line or "H100、A100以及H800" in line]
    assert len(facts) == 3 and all(labels[line] is None for line in facts)


def test_english_comment_section_runs_to_the_next_heading() -> None:
    lines = ["## Market", "Sales grew 63% in 2024.", "## Reader comments", "Great article!", "I disagree.",
             "## Appendix", "The TPP threshold is 4,800."]
    labels = classify_lines(lines)
    assert labels == [None, None, "comments", "comments", "comments", None, None]


def test_disclaimer_needs_two_cues_and_stays_short() -> None:
    assert is_disclaimer("Disclaimer: the views expressed are the author's own.")
    assert is_disclaimer("Copyright 2025. All rights reserved; this article does not represent our views.")
    assert not is_disclaimer("The licence covers copyright-free designs only.")
    assert not is_disclaimer("版权" + "很长的事实陈述，" * 60 + "不代表")


def test_headline_run_versus_enumerations_in_prose() -> None:
    assert is_headline_list(
        "外交部回应美方关税问题、 学者谈中欧关系的新变化、 中方驳斥所谓激光事件的报道、 "
        "媒体人评欧盟制裁、 记者:中方掌握主导权、 等。"
    )
    assert is_headline_list("Related articles: Nvidia shares hit a record")
    assert not is_headline_list("中标厂商包括昆仑、中科可控、宝德、长江计算、超聚变、百信、华鲲振宇等。")
    prose = "H100、A100、H800、A800 由此无法对华销售。同年11月，英伟达备好三款芯片：H20、L20 和 L2。"
    assert not is_headline_list(prose)

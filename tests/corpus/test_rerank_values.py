"""The reranker's stated-value bonus and title completion: the passage that states the asked value wins."""

from __future__ import annotations

import pytest

from corpus.glossary import Glossary
from corpus.index import CorpusIndex
from corpus.rerank import Candidate, ConceptCoverageReranker, _states_value, asked_phrase
from corpus.text import Tokenizer


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("What is the TPP threshold in the October 2023 rule?", "tpp threshold"),
        ("What is the performance density threshold of 3A090.a in the 2023 rule?", "performance density threshold"),
        ("What is the memory capacity and bandwidth of the H20?", "memory capacity and bandwidth"),
        ("How much memory does the L20 have?", "memory"),
        ("H20的FP16算力是多少？", "FP16算力"),
        ("H20的显存是什么", "显存"),
        ("BIS在2023年10月设定了哪两道技术红线？", ""),  # asks for no value
    ],
)
def test_asked_phrase(question: str, phrase: str) -> None:
    assert asked_phrase(question) == phrase


@pytest.mark.parametrize(
    ("text", "words", "states"),
    [
        ("tpp ≥ 4,800 (4800)", ["tpp"], True),
        ("显存为 96gb", ["显存"], True),
        ("memory: 96gb hbm3", ["memory"], True),
        ("the tiers (eccn 3a090)", ["tier"], False),  # a rule name, not a value
        ("the tiers: tpp ≥ 4,800", ["tier"], True),  # plural of the concept word, then a value
        ("rule announced on 2023-10-17", ["rule"], False),  # a year cut by the window edge is still a year
        ("licences for tier-1 items to d:5", ["tier"], False),  # "-1" touches a date mark, D:5 is a group name
        ("capacity of 80 gb", ["cap"], False),  # only whole words ("cap" is not in "capacity")
        ("h20 and h100 parts", ["and"], False),  # names with digits are no values
        ("2023年10月17日公布", ["公布"], False),
    ],
)
def test_states_value(text: str, words: list[str], states: bool) -> None:
    assert _states_value(text, words) is states


QUESTION = "What is the TPP threshold in the October 2023 rule?"
TITLE = "October 2023 US rule: 3A090.a/.b tiers"


def _candidate(tokenizer: Tokenizer, body: str, title: str = TITLE) -> Candidate:
    return Candidate(
        text=f"{title}\n{body}",
        tokens=frozenset(tokenizer.words(body)),
        title_tokens=frozenset(tokenizer.words(title)),
        body=body,
    )


def test_the_title_completes_coverage_and_its_numbers_are_no_values(tokenizer: Tokenizer, glossary: Glossary) -> None:
    reranker = ConceptCoverageReranker(tokenizer, glossary)
    answer = _candidate(tokenizer, "The tiers\n- 3A090.a: TPP ≥ 4,800")
    # Names the rule but states nothing; the "3" of the title's "3A090" used to count as its value.
    elsewhere = _candidate(tokenizer, "The tiers\nLicences are reviewed with a presumption of denial.")
    answer_score, elsewhere_score = reranker.relevance(QUESTION, [answer, elsewhere])
    # Every concept (rule, October, 2023 from the title; threshold via "tiers" and TPP in the body) + the value.
    assert answer_score == pytest.approx(1.0 + 0.3)
    assert elsewhere_score < 0.75


def test_a_name_found_only_in_the_title_still_counts_half(tokenizer: Tokenizer, glossary: Glossary) -> None:
    reranker = ConceptCoverageReranker(tokenizer, glossary)
    body = "NVLink bandwidth: 900 GB/s"
    [score] = reranker.relevance("NVLink bandwidth H800", [_candidate(tokenizer, body, "NVIDIA H100, H800 and H200")])
    [full] = reranker.relevance("NVLink bandwidth H800", [_candidate(tokenizer, f"H800 {body}", "NVIDIA H800")])
    assert full == pytest.approx(1.0) and score < 0.9


@pytest.mark.parametrize(
    "question", ["What is the TPP threshold in the October 2023 rule?", "2023年10月新规的TPP门槛是多少？"]
)
def test_the_threshold_passage_of_the_named_rule_reaches_the_top_5(shipped_index: CorpusIndex, question: str) -> None:
    hits = shipped_index.search(question, k=5)
    assert any(p.doc_id.startswith("rule-2023-10-tpp-density-") and "4,800" in p.text for p in hits), [
        (p.doc_id, p.text[:60]) for p in hits
    ]

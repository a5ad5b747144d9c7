"""Question → intent + flat typed request, in Chinese and English (pure functions, no I/O).

The parser reads the language, not a list of questions: it finds the things a buyer states (dates, parts,
model names, amounts of money, deadlines, shares, rates, sizes) and classifies each number by the words
around it. What the catalog knows (SKU aliases, vendors, countries) is passed in as a :class:`Lexicon`.

Defaults that are reasonable (tokens = 20 × params for pre-training, today's date, buyer country from the
currency or language, currency from the language) are applied and listed in ``assumptions`` so the answer can
state them; a required value that is missing turns the intent into ``clarify`` with what is needed.

The package is cut by job: :mod:`.model` (typed results), :mod:`.vocab` (English and Chinese vocabulary),
:mod:`.units` (numbers and units in context), :mod:`.intent` (intent and defaults), :mod:`.followup` (editing
the previous request).
"""

from service.agent.parse.followup import apply_followup, is_followup
from service.agent.parse.intent import Facts, apply_defaults, decide_intent, extract, finish, parse_question
from service.agent.parse.model import (
    TOKENS_PER_PARAM,
    Assumption,
    Change,
    FlatRequest,
    Intent,
    Lang,
    Lexicon,
    ParsedQuestion,
    PresetLookup,
    WhatIfSpec,
    WorkloadKind,
    no_presets,
)
from service.agent.parse.vocab import detect_language

__all__ = [
    "TOKENS_PER_PARAM", "Assumption", "Change", "Facts", "FlatRequest", "Intent", "Lang", "Lexicon",
    "ParsedQuestion", "PresetLookup", "WhatIfSpec", "WorkloadKind", "apply_defaults", "apply_followup",
    "decide_intent", "detect_language", "extract", "finish", "is_followup", "no_presets", "parse_question",
]

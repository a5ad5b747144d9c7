"""Reading numbers as people write them: the shared notation reader (:mod:`service.presenters.notation`).

Kept under the agent for the parser and the grounding check; the presenter that writes figures reads them back with
the same functions, so what an answer writes is what the check reads.
"""

from service.presenters.notation import (
    CN_DIGITS,
    CN_NUM_CHARS,
    EN_WORDS,
    MULTIPLIERS,
    NUMBER_RE,
    NumberMatch,
    cn_int,
    find_numbers,
    parse_amount,
    plain_number,
)

__all__ = ["CN_DIGITS", "CN_NUM_CHARS", "EN_WORDS", "MULTIPLIERS", "NUMBER_RE", "NumberMatch", "cn_int",
           "find_numbers", "parse_amount", "plain_number"]

"""Text normalisation and tokenisation shared by BM25, the hashing embedding and the glossary.

Chinese runs are segmented with jieba in search mode (a long word also yields its parts: 性能密度 → 性能, 密度,
性能密度); other runs are split into lower-case words and numbers with a light plural stemmer. Numbers lose
their thousands separators so "4,800" and "4800" are one token; a number glued to a unit ("96GB") also
yields its parts ("96", "gb") so it matches "96 GB".
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{CJK}]+")
_CJK_CHAR = re.compile(f"[{CJK}]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
UNITS = "gb|tb|mb|pb|gbps|tbps|gib|tib|w|kw|mw|gw|kwh|mwh|nm|mm|ghz|mhz|tflops|pflops|eflops|tops|ms"
"""Units split from a number glued to them; single letters are left alone ("910b" is a model, not 910 bytes)."""
_NUM_UNIT = re.compile(f"^(\\d+(?:\\.\\d+)?)({UNITS})$")

EN_STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being below between both
    but by can could did do does doing down during each few for from further had has have having he her here hers
    how i if in into is it its itself just me more most my no nor not of off on once only or other our ours out over
    own same she should so some such than that the their theirs them then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your yours
    s t does did whats much many""".split()
)
ZH_STOPWORDS = frozenset(
    """的 了 是 在 和 与 及 或 等 也 都 而 对 将 为 被 把 从 由 于 其 之 这 那 有 个 吗 呢 吧 啊 么
    什么 多少 哪些 哪 哪个 如何 怎么 怎样 为什么 是否 一个 一款 我们 他们 它 可以 就 还 又 并 即 该 此
    着 过 得 地 所 以 因 如 若 但 则 已 已经 会 能 要 中 上 下 多 几 请问 一下 呀 嘛 哪里 何 谁""".split()
)

log = logging.getLogger(__name__)


def normalize(text: str) -> str:
    """Fold width and case, and drop thousands separators, so equal facts compare equal.

    Args:
        text: Any text.

    Returns:
        NFKC-normalised, lower-cased text with "4,800" turned into "4800".
    """
    return _THOUSANDS.sub("", unicodedata.normalize("NFKC", text).lower())


def cjk_ratio(text: str) -> float:
    """Share of CJK ideographs among the non-space characters of ``text`` (0 for empty text)."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(1 for c in chars if _CJK_CHAR.match(c)) / len(chars)


def stem(word: str) -> str:
    """Strip an English plural ending ("servers" → "server", "densities" → "density"); leave other words alone."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")) and not word[-2].isdigit():
        return word[:-1]
    return word


def ascii_tokens(run: str, *, keep_stopwords: bool = False) -> list[str]:
    """Tokens of a normalised non-CJK run: words (stemmed), numbers, model names, number+unit split.

    A number glued to a unit ("96gb", "400w") also yields its parts; a model name such as "910c" does not.
    """
    tokens: list[str] = []
    for word in _WORD.findall(run):
        if word in EN_STOPWORDS and not keep_stopwords:
            continue
        tokens.append(stem(word))
        m = _NUM_UNIT.match(word)
        if m:
            tokens.extend((m.group(1), m.group(2)))
    return tokens


class Tokenizer:
    """Bilingual tokenizer with its own jieba dictionary instance (cache kept in a folder we choose).

    Args:
        cache_dir: Folder for jieba's prefix-dictionary cache; None uses jieba's default (the temp folder).
        user_words: Extra words jieba must keep whole (glossary terms such as 性能密度, 昇腾).
    """

    def __init__(self, cache_dir: Path | None = None, user_words: Iterable[str] = ()) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._jieba: Any = jieba.Tokenizer()
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            self._jieba.tmp_dir = str(cache_dir)
        self._user_words = sorted({w for w in user_words if _CJK_RUN.fullmatch(w)})
        self._ready = False
        self._lock = threading.Lock()

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            self._jieba.initialize()
            for word in self._user_words:
                self._jieba.add_word(word, freq=max(self._jieba.suggest_freq(word), 2_000))
            self._ready = True

    def words(self, text: str, *, search_mode: bool = True) -> list[str]:
        """Index/query tokens of ``text``: jieba words for Chinese runs, words and numbers for the rest.

        Args:
            text: Raw text in any mix of Chinese and English.
            search_mode: Use jieba's search mode (long words also yield their parts).

        Returns:
            Tokens in order, stop words removed; may be empty.
        """
        self._ensure_ready()
        norm = normalize(text)
        tokens: list[str] = []
        pos = 0
        for m in _CJK_RUN.finditer(norm):
            if m.start() > pos:
                tokens.extend(ascii_tokens(norm[pos : m.start()]))
            cut = self._jieba.cut_for_search(m.group()) if search_mode else self._jieba.cut(m.group())
            tokens.extend(w for w in cut if w not in ZH_STOPWORDS and not w.isspace())
            pos = m.end()
        if pos < len(norm):
            tokens.extend(ascii_tokens(norm[pos:]))
        return tokens

    def cjk_words(self, run: str) -> list[str]:
        """Words of a CJK run by jieba (accurate mode) of a CJK run, stop words kept; used by the hashing embedding."""
        self._ensure_ready()
        return list(self._jieba.cut(run))


@lru_cache(maxsize=8)
def shared_tokenizer(cache_dir: Path | None, user_words: tuple[str, ...]) -> Tokenizer:
    """One tokenizer per (cache folder, word list) per process: jieba's dictionary takes about a second to load."""
    return Tokenizer(cache_dir, user_words)


def cjk_runs(text: str) -> Iterable[re.Match[str]]:
    """Matches of the CJK runs of an already normalised text."""
    return _CJK_RUN.finditer(text)


_PRECISION = re.compile(r"^(?:fp|bf|tf|int|mxfp)\d+$")
_QUANTITY = re.compile(f"^\\d+(?:\\.\\d+)?(?:{UNITS})$")


def is_identifier(token: str) -> bool:
    """True for a token naming a product or a rule ("h20", "910b", "mi300x", "3a090"), not a precision or a quantity."""
    has_alpha = any(c.isalpha() for c in token)
    has_digit = any(c.isdigit() for c in token)
    return has_alpha and has_digit and not _PRECISION.match(token) and not _QUANTITY.match(token)

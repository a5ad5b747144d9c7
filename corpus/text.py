"""Text normalisation and tokenisation shared by BM25, the hashing embedding and the glossary.

Chinese runs are segmented with jieba in search mode (a long word also yields its parts: 性能密度 → 性能, 密度,
性能密度); other runs are split into lower-case words and numbers with a light plural stemmer. Numbers lose
their thousands separators so "4,800" and "4800" are one token; a number glued to a unit ("96GB") also
yields its parts ("96", "gb") so it matches "96 GB".
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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


CUTS_FILE = "cuts.json"
"""jieba's cuts of the CJK runs queries meet (glossary terms, titles, questions), kept in the cache folder."""
MAX_REMEMBERED_CUTS = 20_000
"""The cut cache stops growing at this many entries (a run in each mode counts twice)."""
MAX_REMEMBERED_RUN = 64
"""Longer CJK runs are cut but never remembered (sentences of passages, not words of questions)."""
MAX_REMEMBERED_PASSAGES = 5_000
"""Indexed passages whose words a process keeps (:meth:`Tokenizer.passage_words`), about four shipped corpora."""
_PASSAGE_WORDS: dict[tuple[str, str], tuple[str, ...]] = {}


def _jieba_fingerprint() -> str:
    """Identifies the installed jieba and its dictionary without importing it (a cut depends on both)."""
    import importlib.util

    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        return "jieba-missing"
    folder = Path(spec.origin).parent
    parts = []
    for name in ("__init__.py", "dict.txt"):
        try:
            st = (folder / name).stat()
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{name}:-")
    return "|".join(parts)


class Tokenizer:
    """Bilingual tokenizer with its own jieba dictionary instance (cache kept in a folder we choose).

    jieba's dictionary takes about a second of CPU to load, so it is loaded only when a CJK run must be cut
    that the cut cache does not hold. The cache (``cuts.json`` in ``cache_dir``) maps a run to jieba's words
    in search and accurate mode; it is keyed by jieba's files and the user words, so a cut from the cache is the
    cut jieba would give. Runs met while searching are remembered (saved by :meth:`save_cuts`); ingestion cuts
    passages inside :meth:`transient` so sentences of the corpus do not fill it, and primes it with the
    glossary terms and titles (:meth:`prime`). An English question then never loads jieba.

    Args:
        cache_dir: Folder for jieba's prefix-dictionary cache and the cut cache; None keeps both in memory only
            (jieba's own cache then goes to its default, the temp folder).
        user_words: Extra words jieba must keep whole (glossary terms such as 性能密度, 昇腾).
    """

    def __init__(self, cache_dir: Path | None = None, user_words: Iterable[str] = ()) -> None:
        self._cache_dir = cache_dir
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
        self._jieba: Any = None
        self._user_words = sorted({w for w in user_words if _CJK_RUN.fullmatch(w)})
        self._ready = False
        self._lock = threading.Lock()
        self._cuts_lock = threading.Lock()
        self._cuts: dict[str, tuple[str, ...]] | None = None
        self._dirty = False
        self._local = threading.local()
        self._signature = ""
        self._words_key: str | None = None

    # ------------------------------------------------------------------ jieba

    def _ensure_ready(self) -> Any:
        if self._ready:
            return self._jieba
        with self._lock:
            if self._ready:
                return self._jieba
            import jieba

            freq, total = _main_dictionary(self._cache_dir)
            tok: Any = jieba.Tokenizer()
            tok.FREQ, tok.total, tok.initialized = dict(freq), total, True  # a copy: add_word changes it
            for word in self._user_words:
                tok.add_word(word, freq=max(tok.suggest_freq(word), 2_000))
            self._jieba = tok
            self._ready = True
            return tok

    @property
    def words_key(self) -> str:
        """Identifies this tokenizer's glossary words: tokenizers with the same key cut every text the same way."""
        if self._words_key is None:
            import hashlib

            self._words_key = hashlib.sha256("\n".join(self._user_words).encode("utf-8")).hexdigest()
        return self._words_key

    @property
    def jieba_loaded(self) -> bool:
        """True once jieba's dictionary was loaded in this process (diagnostics and tests)."""
        return self._ready

    # ------------------------------------------------------------------ cut cache

    def _cut_path(self) -> Path | None:
        return None if self._cache_dir is None else self._cache_dir / CUTS_FILE

    def _load_cuts(self) -> dict[str, tuple[str, ...]]:
        cuts = self._cuts
        if cuts is not None:
            return cuts
        with self._lock:
            if self._cuts is not None:
                return self._cuts
            import hashlib

            words = "\n".join(self._user_words).encode("utf-8")
            self._signature = f"{_jieba_fingerprint()}|{hashlib.sha256(words).hexdigest()}"
            loaded: dict[str, tuple[str, ...]] = {}
            path = self._cut_path()
            if path is not None and path.is_file():
                import json

                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                    if isinstance(data, dict) and data.get("signature") == self._signature:
                        loaded = {k: tuple(v) for k, v in data.get("cuts", {}).items()}
                except (OSError, ValueError):  # unreadable or half-written by an older release: start afresh
                    loaded = {}
            self._cuts = loaded
            return loaded

    def _cut(self, run: str, search_mode: bool) -> tuple[str, ...]:
        """Words of one CJK run as jieba cuts them, from the cut cache when it holds them."""
        key = ("s:" if search_mode else "a:") + run
        cuts = self._load_cuts()
        got = cuts.get(key)
        if got is not None:
            return got
        jb = self._ensure_ready()
        got = tuple(jb.cut_for_search(run) if search_mode else jb.cut(run))
        if (
            not getattr(self._local, "transient", False)
            and len(run) <= MAX_REMEMBERED_RUN
            and len(cuts) < MAX_REMEMBERED_CUTS
        ):
            with self._cuts_lock:
                cuts[key] = got
                self._dirty = True
        return got

    @contextmanager
    def transient(self) -> Iterator[None]:
        """Within this block, this thread's cuts are not remembered (bulk tokenisation of passages)."""
        before = getattr(self._local, "transient", False)
        self._local.transient = True
        try:
            yield
        finally:
            self._local.transient = before

    def prime(self, texts: Iterable[str]) -> None:
        """Remember the cuts (both modes) of every CJK run of ``texts``: glossary terms and titles at ingestion."""
        for text in texts:
            for m in _CJK_RUN.finditer(normalize(text)):
                self._cut(m.group(), True)
                self._cut(m.group(), False)

    def save_cuts(self) -> None:
        """Write the remembered cuts to the cache folder when new ones were added (atomically; errors ignored)."""
        path = self._cut_path()
        if not self._dirty or path is None or self._cuts is None:
            return
        import json
        import os
        import tempfile

        with self._cuts_lock:
            payload = {"signature": self._signature, "cuts": {k: list(v) for k, v in self._cuts.items()}}
            self._dirty = False
        tmp: str | None = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=".cuts-", suffix=".json", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, path)
        except OSError as exc:  # a read-only data folder: the cache is an optimisation only
            log.debug("cannot save jieba cuts to %s: %s", path, exc)
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    # ------------------------------------------------------------------ tokens

    def words(self, text: str, *, search_mode: bool = True) -> list[str]:
        """Index/query tokens of ``text``: jieba words for Chinese runs, words and numbers for the rest.

        Args:
            text: Raw text in any mix of Chinese and English.
            search_mode: Use jieba's search mode (long words also yield their parts).

        Returns:
            Tokens in order, stop words removed; may be empty.
        """
        norm = normalize(text)
        tokens: list[str] = []
        pos = 0
        for m in _CJK_RUN.finditer(norm):
            if m.start() > pos:
                tokens.extend(ascii_tokens(norm[pos : m.start()]))
            cut = self._cut(m.group(), search_mode)
            tokens.extend(w for w in cut if w not in ZH_STOPWORDS and not w.isspace())
            pos = m.end()
        if pos < len(norm):
            tokens.extend(ascii_tokens(norm[pos:]))
        return tokens

    def passage_words(self, text: str) -> list[str]:
        """:meth:`words` of a passage being indexed, remembered per process and glossary words.

        Every fresh data folder indexes the same shipped passages; their sentences stay out of the cut cache (see
        :meth:`transient`), so without this each folder cut them with jieba again.
        """
        key = (self.words_key, text)
        got = _PASSAGE_WORDS.get(key)
        if got is None:
            got = tuple(self.words(text))
            if len(_PASSAGE_WORDS) >= MAX_REMEMBERED_PASSAGES:
                _PASSAGE_WORDS.clear()
            _PASSAGE_WORDS[key] = got
        return list(got)

    def cjk_words(self, run: str) -> list[str]:
        """Words of a CJK run by jieba (accurate mode), stop words kept; used by the hashing embedding."""
        return list(self._cut(run, False))


_main_lock = threading.Lock()
_main: tuple[dict[str, int], int] | None = None


def _main_dictionary(cache_dir: Path | None) -> tuple[dict[str, int], int]:
    """The main dictionary of jieba (word frequencies and their total), loaded once per process and never changed.

    Every tokenizer starts from the same one (only its own glossary words differ), and loading it costs ~0.5 s: a
    process that opened several data folders (or a test run, one folder per test) paid that for each.
    """
    global _main
    with _main_lock:
        if _main is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok: Any = jieba.Tokenizer()
            if cache_dir is not None:
                tok.tmp_dir = str(cache_dir)  # jieba's own file cache of the parsed dictionary
            tok.initialize()
            _main = (tok.FREQ, tok.total)
        return _main


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

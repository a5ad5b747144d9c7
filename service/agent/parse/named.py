"""Things a buyer names with their own units or words: latency limits of a serving workload and the buyer's name."""

from __future__ import annotations

import re

from service.agent.parse.units import _Text
from service.agent.parse.vocab import _CITIES, _CITIES_ZH, _COUNTRY_ZH, _DEMONYMS

# --------------------------------------------------------------------------------------------------
# latency limits of a serving workload

_LAT_VALUE = re.compile(r"(?P<v>\d+(?:\.\d+)?)\s*(?P<u>ms|msec|millis(?:econds?)?|milliseconds?|s|secs?|seconds?|毫秒|秒)"
                        r"(?![A-Za-z])", re.I)
_TTFT_WORD = re.compile(r"(time[- ]to[- ]first[- ]token|\bttft\b|first[- ]token (?:latency|time)|(?:to|until|before) (?:the )?"
                        r"first[- ]token|first[- ]token|首\s*(?:字|token|个token|词)"
                        r"\s*(?:延迟|时延|时间|响应时间|响应))", re.I)
_TPOT_WORD = re.compile(r"(time[- ]per[- ]output[- ]token|\btpot\b|per (?:output |generated |decoded )?token|"
                        r"inter[- ]token latency|token[- ]to[- ]token|每(?:个|一个)?\s*(?:输出|生成)?\s*token|"
                        r"(?:token|词元)\s*间(?:隔|延迟)?|每(?:个)?输出(?:词元|字))", re.I)
_LAT_GAP = 28


def _latency_value(m: re.Match[str]) -> float:
    v = float(m.group("v"))
    return v / 1000.0 if m.group("u").lower().startswith(("ms", "milli", "毫")) else v


def _latency_near(t: _Text, word: re.Pattern[str]) -> float | None:
    """The limit written next to a latency word ("TTFT under 0.8 s", "40 ms per output token", "首字延迟2秒以内")."""
    for w in word.finditer(t.masked):
        after = t.masked[w.end():w.end() + _LAT_GAP]
        m = _LAT_VALUE.search(after)
        if m and not re.search(r"[,;，；]", after[:m.start()]):
            start, end = w.end() + m.start(), w.end() + m.end()
        else:
            before = t.masked[max(0, w.start() - _LAT_GAP):w.start()]
            cands = [c for c in _LAT_VALUE.finditer(before) if not re.search(r"[,;，；]", before[c.end():])]
            if not cands:
                continue
            m = cands[-1]
            start, end = w.start() - len(before) + m.start(), w.start() - len(before) + m.end()
        value = _latency_value(m)
        t.blank(min(start, w.start()), max(end, w.end()))
        return value
    return None


_ANY_LATENCY_WORD = re.compile(r"(\blatency\b|response time|\bp9[059]\b|延迟|时延|响应时间)", re.I)
PER_TOKEN_BELOW_S = 0.3
"""A limit named only "latency" is per output token below this many seconds, else time to the first token."""


def find_latency(t: _Text) -> tuple[float | None, float | None]:
    """(TTFT limit, TPOT limit) in seconds, when the question states them.

    A limit named only "latency" ("latency under 2 s", "延迟放宽到3秒") is a time to the first token, or a time per
    output token when it is below :data:`PER_TOKEN_BELOW_S` ("latency under 50 ms").
    """
    ttft = _latency_near(t, _TTFT_WORD)
    tpot = _latency_near(t, _TPOT_WORD)
    if ttft is None and tpot is None:
        plain = _latency_near(t, _ANY_LATENCY_WORD)
        if plain is not None:
            return (None, plain) if plain < PER_TOKEN_BELOW_S else (plain, None)
    return ttft, tpot


# --------------------------------------------------------------------------------------------------
# prompt and output lengths of a serving workload ("2k input and 512 output tokens", "输入2000 token，输出500")

_LEN = r"(?P<n>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(?P<k>[kK千]?)"
_IO_EN = re.compile(rf"(?<![\w.]){_LEN}\s*(?:-?\s*tokens?\s+)?(?:of\s+)?(?P<kind>input|prompt|context|output|completion|"
                    rf"generated|generation)s?\b(?:\s+tokens?)?|\b(?P<kind2>input|prompt|context|output|completion)s?\s+"
                    rf"(?:length\s+)?(?:of\s+|is\s+|are\s+|=\s*|~\s*|around\s+|about\s+)?{_LEN.replace('n>', 'n2>').replace('k>', 'k2>')}"
                    rf"\s*(?:tokens?)?(?![\w.])", re.I)
_IO_ZH = re.compile(rf"(?P<kind>输入|提示词?|上下文|输出|生成)(?:长度)?(?:约|大约|为|是|平均)?\s*{_LEN}\s*(?:个)?\s*"
                    rf"(?:token|tokens|词元)?", re.I)
_PROMPT_KINDS = ("input", "prompt", "context", "输入", "提示", "提示词", "上下文")


def _tokens(n: str, k: str) -> int:
    return int(round(float(n.replace(",", "")) * (1000 if k else 1)))


def find_io_tokens(t: _Text) -> tuple[int | None, int | None]:
    """(mean prompt tokens, mean output tokens) a serving question names; the matches are blanked."""
    prompt = output = None
    for pattern in (_IO_EN, _IO_ZH):
        for m in list(pattern.finditer(t.masked)):
            g = m.groupdict()
            kind = (g.get("kind") or g.get("kind2") or "").lower()
            n, k = (g.get("n"), g.get("k")) if g.get("n") else (g.get("n2"), g.get("k2"))
            if not n:
                continue
            value = _tokens(n, k or "")
            if kind in _PROMPT_KINDS and prompt is None:
                prompt = value
            elif kind not in _PROMPT_KINDS and output is None:
                output = value
            else:
                continue
            t.blank(m.start(), m.end())
    return prompt, output


# --------------------------------------------------------------------------------------------------
# the buyer's own name (screened against the Entity List by the compliance engine)

_NAME_EN = re.compile(
    r"\b(?i:we are|we're|we at|i am from|i'm from|i work (?:at|for)|on behalf of|(?:our|the) (?:company|buyer|"
    r"client|customer|firm|organi[sz]ation) is|buyer named|company named|customer named|this is)\s+"
    r"(?P<name>[A-Z][\w&\-]*(?:\s+(?:[A-Z][\w&\-]*|of|and|&))*(?:,?\s+(?:Ltd|Inc|Co|Corp|LLC)\b\.?)?)")
_NAME_ZH = re.compile(r"(?:我们是|我们公司是|我司是|本公司是|我们来自|我来自|我是|买方是|客户是|我们这边是)\s*"
                      r"(?P<name>[A-Za-z\u4e00-\u9fff][\w\u4e00-\u9fff&.\-]{1,24}?)"
                      r"(?=\s*(?:[,，。.?？!！;；:：]|的|能|可以|可否|想|要|准备|打算|计划|需要|能否|是否|买|采购|$))")
_NOT_A_NAME = re.compile(r"^(?:a|an|the|one|some|in|from|based|looking|planning|trying|going|buying|interested|"
                         r"chinese|american|german|state|private|commercial|startup|university|government)\b|"
                         r"^(?:一|个|家|国企|央企|民营|私营|国有|初创|创业|高校|大学|政府|中国|国内|美国|买家|买方|用户|客户|公司|企业)",
                         re.I)


def find_buyer_name(t: _Text) -> str | None:
    """The buyer's organisation when the question names it ("we are Sophgo", "我们是算能").

    Only a proper name counts: "we are a Chinese startup" or "我们是一家国企" describe a buyer, they do not name one.
    """
    for pattern in (_NAME_EN, _NAME_ZH):
        m = pattern.search(t.masked)
        if not m:
            continue
        name = m.group("name").strip(" .,-")
        if pattern is _NAME_EN:
            if not name[:1].isupper():
                continue
            words = name.split()
            while words and words[-1].lower() in ("of", "and", "&"):
                words.pop()
            name = " ".join(words)
        if len(name) < 2 or _NOT_A_NAME.search(name) or _is_place(name):
            continue
        t.blank(m.start("name"), m.end("name"))
        return name
    return None


def _is_place(name: str) -> bool:
    """A city, country or demonym says where or what the buyer is, not its name ("我们是上海的一家国企")."""
    low = name.lower()
    return (name in _CITIES_ZH or name in _COUNTRY_ZH or low in _CITIES or low in _DEMONYMS
            or low.split()[0] in _CITIES or low.split("-")[0] in _CITIES)


# --------------------------------------------------------------------------------------------------
# accelerators the catalog does not have

# A part code as vendors write them: capitals then two to four digits and a short suffix (MI355X, L40S, V100, A6000,
# MLU690, GB300), or RTX/GTX with a space (RTX 5090). Not inside a hyphenated name (Qwen3-235B-A22B), not a year
# (FY2025), and not a code that starts with one of the words below (precisions, memory, link rates, currencies).
_PART_CODE = re.compile(r"(?<![A-Za-z0-9$¥€£.\-])((?:[A-Z]{1,4}-?(?!(?:19|20)\d\d(?![0-9A-Z]))\d{2,4}[A-Z]{0,3})"
                        r"|(?:[RG]TX\s\d{4}[A-Z]?))(?![A-Za-z0-9])")
_NOT_PARTS = frozenset({
    "FP", "BF", "TF", "INT", "UINT", "HBM", "DDR", "GDDR", "LPDDR", "PCIE", "NVL", "TPP", "PD", "SXM", "OAM", "FY",
    "CVE", "ISO", "GPT", "USD", "CNY", "RMB", "EUR", "JPY", "SGD", "HKD", "AED", "GBP", "US", "CN", "EAR",
    "ECCN", "NVLINK", "IB", "RDMA", "TB", "MB", "KW", "MW", "W", "NM", "CUDA", "ROCM", "CANN", "GPU", "NPU",
    "SDR", "QDR", "FDR", "EDR", "HDR", "NDR", "XDR", "GDR",  # InfiniBand link rates (NDR400, HDR200)
})


def find_unknown_parts(t: _Text) -> list[str]:
    """Part codes left in the question after the catalog's aliases were read (``t`` has those blanked).

    These are the parts the buyer named that the catalog does not have ("Is the MI355X allowed?").
    """
    found: list[str] = []
    for m in _PART_CODE.finditer(t.masked):
        code = m.group(1)
        letters = re.match(r"[A-Z]+", code)
        if letters is None or letters.group(0) in _NOT_PARTS:
            continue
        found.append(code)
        t.blank(m.start(1), m.end(1))
    return list(dict.fromkeys(found))

"""Number and unit extraction.

Dates, parts with counts, model names and sizes, money, rates, tokens, deadlines,
domestic shares, countries and excluded vendors, each read from the words around it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field

from service.agent.numbers import EN_WORDS, NumberMatch, find_numbers, plain_number
from service.agent.parse.model import Lang, Lexicon
from service.agent.parse.vocab import (
    _CITIES,
    _CITIES_ZH,
    _COUNTRY_ZH,
    _DEMONYMS,
    _DESTINATION_BEFORE,
    _HQ_AFTER,
    _HQ_BEFORE,
    _NEG_EN,
    _NEG_ZH,
    _US_VENDORS,
    _VENDOR_WORDS,
)

# --------------------------------------------------------------------------------------------------
# spans


@dataclass
class _Text:
    """The question with consumed spans blanked out, so one phrase is never read twice."""

    original: str
    masked: str

    def blank(self, start: int, end: int) -> None:
        self.masked = self.masked[:start] + " " * (end - start) + self.masked[end:]


_MONTHS = {m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"], start=1)}
_MONTH_RE = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|sep(?:t(?:ember)?)?|" \
            r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DATE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"), "ymd"),
    (re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]"), "ymd"),
    (re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?!\s*\d)"), "ym"),
    (re.compile(rf"\b{_MONTH_RE}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I), "mdy"),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH_RE}\.?,?\s+(\d{{4}})\b", re.I), "dmy"),
    (re.compile(rf"\b{_MONTH_RE}\.?,?\s+(\d{{4}})\b", re.I), "my"),
    (re.compile(r"\b(\d{4})-(\d{2})\b(?!-)"), "ym"),
    # a quarter: its first day ("2026年第二季度", "Q2 2026", "2026 Q2", "the second quarter of 2026")
    (re.compile(r"(\d{4})\s*年?\s*第?\s*([一二三四1-4])\s*季度"), "yq"),
    (re.compile(r"\bQ([1-4])\s*,?\s*(\d{4})\b", re.I), "qy"),
    (re.compile(r"\b(\d{4})\s*-?\s*Q([1-4])\b", re.I), "yq"),
    (re.compile(r"\b(first|second|third|fourth)\s+quarter\s+(?:of\s+)?(\d{4})\b", re.I), "qy"),
    # without a year ("9月1日", "Sept 1", "1 September"): the next such day on or after today
    (re.compile(r"(?<![\d年])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]"), "md"),
    (re.compile(rf"\b{_MONTH_RE}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?![.,]?\s*\d)", re.I), "md_en"),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH_RE}\b(?![.,]?\s*\d)", re.I), "dm_en"),
)


def _next_on_or_after(today: dt.date, month: int, day: int) -> dt.date:
    d = dt.date(today.year, month, day)
    return d if d >= today else dt.date(today.year + 1, month, day)


_QUARTERS = {"1": 1, "2": 2, "3": 3, "4": 4, "一": 1, "二": 2, "三": 3, "四": 4, "first": 1, "second": 2, "third": 3,
             "fourth": 4}


def _find_date(t: _Text, today: dt.date | None = None) -> dt.date | None:
    found = find_dated(t, today)
    return found[0] if found else None


def find_dated(t: _Text, today: dt.date | None = None) -> tuple[dt.date, int, int, str] | None:
    """The first date the text names, with its span and pattern kind (``ym``/``my`` name only a month); blanked."""
    for pattern, kind in _DATE_PATTERNS:
        m = pattern.search(t.masked)
        if not m:
            continue
        g = m.groups()
        now = today or dt.date.today()
        try:
            if kind == "md":
                d = _next_on_or_after(now, int(g[0]), int(g[1]))
            elif kind == "md_en":
                d = _next_on_or_after(now, _MONTHS[g[0][:3].lower()], int(g[1]))
            elif kind == "dm_en":
                d = _next_on_or_after(now, _MONTHS[g[1][:3].lower()], int(g[0]))
            elif kind == "ymd":
                d = dt.date(int(g[0]), int(g[1]), int(g[2]))
            elif kind == "ym":
                d = dt.date(int(g[0]), int(g[1]), 1)
            elif kind in ("yq", "qy"):
                year, q = (g[0], g[1]) if kind == "yq" else (g[1], g[0])
                quarter = _QUARTERS[q.lower()]
                d = dt.date(int(year), 3 * quarter - 2, 1)
            elif kind == "mdy":
                d = dt.date(int(g[2]), _MONTHS[g[0][:3].lower()], int(g[1]))
            elif kind == "dmy":
                d = dt.date(int(g[2]), _MONTHS[g[1][:3].lower()], int(g[0]))
            else:
                d = dt.date(int(g[1]), _MONTHS[g[0][:3].lower()], 1)
        except ValueError:
            continue
        t.blank(m.start(), m.end())
        return d, m.start(), m.end(), kind
    return None


_BY_DATE_BEFORE = re.compile(r"(?:before|by|until|till|no later than|deadline(?:\s+(?:of|is))?|due(?:\s+by)?|"
                             r"ready\s+by|done\s+by|finish(?:ed)?\s+by|complete(?:d)?\s+by)\s+(?:the\s+)?"
                             r"(?:end\s+of\s+|mid-?\s*)?$", re.I)
_BY_DATE_AFTER = re.compile(r"^\s*(?:底|末|中旬|上旬|下旬)?\s*(?:之前|以前|前)")


def date_as_deadline(text: str, start: int, end: int) -> bool:
    """Whether the date at ``text[start:end]`` ends the work ("before end of June 2027", "2027年6月底前")."""
    return bool(_BY_DATE_BEFORE.search(text[max(0, start - 40):start]) or _BY_DATE_AFTER.match(text[end:end + 8]))


def deadline_from_date(d: dt.date, kind: str, today: dt.date) -> float | None:
    """Days from today to a deadline date; a month alone ("by June 2027") means its last day."""
    if kind in ("yq", "qy"):  # "by Q2 2027": the quarter's last day
        d = d.replace(month=d.month + 2)
    if kind in ("ym", "my", "yq", "qy"):
        d = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    days = (d - today).days
    return float(days) if days > 0 else None


def _alias_parts(alias: str) -> list[str]:
    return [p for p in re.split(r"[\s\-_/]+", alias.strip()) if p]


@functools.lru_cache(maxsize=4096)
def _alias_pattern(alias: str) -> re.Pattern[str]:
    body = r"[\s\-_/]*".join(re.escape(p) for p in _alias_parts(alias))
    return re.compile(rf"(?<![A-Za-z0-9]){body}(?:s\b|'s\b)?(?![A-Za-z0-9])", re.I)


@functools.lru_cache(maxsize=4096)
def _word_pattern(word: str, flags: int = re.I) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", flags)


_ALIAS_CACHE: dict[int, list[tuple[str, str, str]]] = {}


def _alias_table(lex: Lexicon) -> list[tuple[str, str, str]]:
    """(alias, sku, the alias's first word in lower case), longest alias first."""
    key = id(lex.sku_aliases)
    if key not in _ALIAS_CACHE:
        pairs = sorted(lex.sku_aliases.items(), key=lambda kv: -len(kv[0]))
        _ALIAS_CACHE[key] = [(a, s, _alias_parts(a)[0].lower()) for a, s in pairs if len(a.strip()) >= 2]
    return _ALIAS_CACHE[key]


def _alias_patterns(lex: Lexicon, text: str) -> list[tuple[re.Pattern[str], str]]:
    """The alias patterns that can match ``text``, in precedence order.

    A pattern needs its alias's first word verbatim (any case), so aliases whose first word is not in the text
    are skipped without compiling them: a cold process compiles the few a question can match, not all ~180.
    """
    low = text.lower()
    return [(_alias_pattern(a), s) for a, s, first in _alias_table(lex) if first in low]


@dataclass(frozen=True)
class _Sku:
    sku: str
    start: int
    end: int
    count: int | None


_COUNT_BEFORE = re.compile(r"(\d[\d,]*)\s*(?:x|×|\*|张|块|片|颗|台|个|units? of|pieces? of|cards? of)?\s*(?:nvidia|英伟达|华为)?\s*$",
                           re.I)
_COUNT_AFTER = re.compile(r"^\s*(?:x|×|\*)\s*(\d[\d,]*)", re.I)


def _find_skus(t: _Text, lex: Lexicon) -> list[_Sku]:
    found: list[_Sku] = []
    for pattern, sku in _alias_patterns(lex, t.masked):
        for m in pattern.finditer(t.masked):
            before = t.masked[max(0, m.start() - 16):m.start()]
            after = t.masked[m.end():m.end() + 10]
            count: int | None = None
            cb = _COUNT_BEFORE.search(before)
            ca = _COUNT_AFTER.search(after)
            if cb and not re.search(r"[.\d]\s*[BTbt]\s*$", before):
                count = int(cb.group(1).replace(",", ""))
                t.blank(m.start() - len(before) + cb.start(1), m.start() - len(before) + cb.end(1))
            elif ca:
                count = int(ca.group(1).replace(",", ""))
                t.blank(m.end() + ca.start(1), m.end() + ca.end(1))
            found.append(_Sku(sku, m.start(), m.end(), count))
            t.blank(m.start(), m.end())
    found.sort(key=lambda s: s.start)
    return found


_MODEL_FAMILIES = (r"qwen|qwq|llama|deepseek|mistral|mixtral|chatglm|glm|baichuan|internlm|gemma|falcon|kimi|minimax|"
                   r"yi|phi|gpt|bloom|opt|t5|ernie|文心|通义千问|千问|混元|hunyuan|step|moonshot|grok|command[- ]r|"
                   r"olmo|pythia|nemotron|megatron|palm|chinchilla|gopher|jamba|dbrx|arctic|starcoder|codellama|"
                   r"seed|doubao|豆包|skywork|telechat|pangu|盘古")
# A family name is not followed by a small letter ("option", "steps", "seeds", "yield" are words, not models;
# DeepSeekMath and Qwen2.5 are models).
_MODEL_RE = re.compile(
    rf"(?<![A-Za-z])(?P<m>(?:{_MODEL_FAMILIES})(?-i:(?![a-z]))[A-Za-z0-9_.\-]*"
    rf"(?:\s+(?:\d+(?:\.\d+)?|v\d+(?:\.\d+)?|r\d)(?![\w.]))?"
    rf"(?:\s*-?\s*\d+(?:\.\d+)?\s?[bBmM](?![A-Za-z]))?)",
    re.I,
)
_MODEL_SIZE = re.compile(r"(?<![A-Za-z\d.])(\d+(?:\.\d+)?)\s?([bBmM])(?![A-Za-z])")
_MODEL_ACTIVE = re.compile(r"[-_ ]a(\d+(?:\.\d+)?)b\b", re.I)


def _find_model(t: _Text, lex: Lexicon) -> tuple[str | None, float | None, float | None]:
    m = _MODEL_RE.search(t.masked)
    if not m:
        return None, None, None
    name = m.group("m").strip(" -.")
    if len(name) < 3 or re.fullmatch(r"(?i)(yi|phi|opt|step|seed|gpt|t5)", name):
        return None, None, None
    t.blank(m.start(), m.end())
    active = None
    am = _MODEL_ACTIVE.search(name)
    stripped = name
    if am:
        active = float(am.group(1)) * 1e9
        stripped = name[:am.start()] + name[am.end():]
    sizes = [s for s in _MODEL_SIZE.finditer(stripped) if "x" not in stripped[max(0, s.start() - 2):s.start()].lower()]
    params = None
    if sizes:
        s = sizes[-1]
        params = float(s.group(1)) * (1e9 if s.group(2).lower() == "b" else 1e6)
    preset = lex.presets(name)
    if preset is not None:
        params = params or preset[0]
        active = active or preset[1]
    return name, params, active


# --------------------------------------------------------------------------------------------------
# numbers in context

_CUR_BEFORE_CNY = re.compile(r"(?:[¥￥]|rmb|cny|人民币|rmb¥)\s*$", re.I)
_CUR_BEFORE_USD = re.compile(r"(?:us\s?\$|\$|usd|美元|美金)\s*$", re.I)
_CUR_AFTER_CNY = re.compile(r"^\s*(?:元|块钱|块|人民币|rmb\b|cny\b|yuan\b|renminbi\b|chinese yuan)", re.I)
_CUR_AFTER_USD = re.compile(r"^\s*(?:美元|美金|刀|usd\b|dollars?\b|bucks\b|us dollars?\b)", re.I)
_BUDGET_WORD = re.compile(r"(budget|预算|资金|经费|投入|花费|有|花|出资|拿出|spend(?:ing)?|afford|capex|cost(?:s)? (?:of|up to|at most)|"
                          r"under|up to|no more than|at most|within|不超过|以内|不到|控制在|最多|总价)", re.I)
_PARAM_AFTER = re.compile(r"^\s*(?:-\s*)?(?:total\s+)?(?:parameters?|params?|参数|的参数|规模|个参数|dense|moe|"
                          r"(?:\w+\s){0,2}(?:model|llm|transformer)|(?:的)?(?:大)?模型|参数量|)", re.I)
_ACTIVE_AFTER = re.compile(r"^\s*(?:-\s*)?(?:active|activated|激活)", re.I)
_ACTIVE_BEFORE = re.compile(r"(active|activated|激活(?:参数)?|with)\s*(?:of|为|是)?\s*$", re.I)
_TOKENS_AFTER = re.compile(r"^\s*(?:(?:training|pre-?training|high[- ]quality)\s+)?(?:个)?(?:tokens?|toks?|词元|token数据|"
                           r"tokens? of (?:data|text))", re.I)
_TOKENS_BEFORE = re.compile(r"(?:on|over|with|using|用|在|训练|数据量|token数|tokens?)\s*[:：]?\s*(?:about|约|大约)?\s*$",
                            re.I)
_RPS_AFTER = re.compile(r"^\s*(?:concurrent\s+)?(?:requests?|reqs?|queries|qps|rps|calls|次|个请求|请求|qps的)\s*"
                        r"(?:/\s*s(?:ec)?\b|per\s+(?:second|sec|s)\b|a second|each second|每秒|/秒)?", re.I)
_RPS_BEFORE = re.compile(r"(qps|rps|每秒|throughput of|吞吐)\s*(?:of|为|达到|是|要|需要)?\s*(?:about|约)?\s*$", re.I)
_PERCENT = re.compile(r"(?:(?P<num>\d+(?:\.\d+)?)\s*(?:%|％|percent|per cent)|百分之(?P<cn>[零〇一二两三四五六七八九十百]+))",
                      re.I)
_DOMESTIC = re.compile(r"(domestic|chinese[- ]made|home[- ]grown|local(?:ly made)? (?:chips?|accelerators?)|国产|自主可控|"
                       r"本土|信创|non-us)", re.I)
_DOMESTIC_ONLY = re.compile(r"(domestic[- ]only|only domestic|only (?:use )?(?:chinese|domestic|local)|all[- ]domestic|"
                            r"purely domestic|100% domestic|entirely domestic|fully domestic|just domestic|"
                            r"只(?:用|要|买|采购|考虑|能用)?国产|仅(?:用|限|采购|考虑)?国产|全(?:部|都)?(?:用|采用|是)?国产|纯国产|"
                            r"全国产|国产化率\s*100|必须(?:全部)?(?:用|是)?国产|完全国产|国产芯片only|只能用国产)", re.I)
_HALF_DOMESTIC = re.compile(r"(at least half|half (?:of )?(?:the )?(?:chips|accelerators|cluster)|majority|"
                            r"一半以上|至少一半|过半|半数以上|不少于一半|一半)", re.I)
_TENTHS_DOMESTIC = re.compile(r"(?P<n>[一二两三四五六七八九十\d])\s*成(?:以上)?(?:的)?(?:芯片|算力|卡)?(?:要|是|用|为|采用)?\s*国产|"
                              r"国产(?:化率|芯片|占比|比例)?\s*(?:不低于|至少|达到|超过|占)?\s*(?P<n2>[一二两三四五六七八九十\d])\s*成")
_DURATION_EN = re.compile(
    r"(?<![A-Za-z])(?P<num>\d+(?:\.\d+)?|a couple of|couple of|a few|an?|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|ninety|half an?|half|several)\s*[- ]?\s*"
    r"(?P<unit>days?|weeks?|months?|years?|yrs?|wks?)\b",
    re.I,
)
_DURATION_ZH = re.compile(
    r"(?P<num>\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百半]+)\s*(?:个)?\s*(?P<unit>天|日|周|星期|礼拜|个?月|年)"
)
_UNIT_DAYS = {"day": 1, "days": 1, "d": 1, "week": 7, "weeks": 7, "wk": 7, "wks": 7, "month": 30, "months": 30,
              "year": 365, "years": 365, "yr": 365, "yrs": 365, "天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7,
              "月": 30, "个月": 30, "年": 365}
_HORIZON_NEAR = re.compile(r"(horizon|amorti[sz]|depreciat|over|for|运营|折旧|摊销|使用|周期|寿命)\s*(?:of|期)?\s*$", re.I)


def _duration_days(num: str, unit: str) -> float | None:
    raw = num.strip().lower()
    if raw in ("half", "half a", "half an", "半"):
        value: float | None = 0.5
    elif raw in EN_WORDS:
        value = float(EN_WORDS[raw])
    elif raw.startswith("半"):
        value = 0.5
    else:
        value = plain_number(raw.replace("半", ""))
        if value is not None and raw.endswith("半"):
            value += 0.5
    if value is None:
        return None
    return value * _UNIT_DAYS[unit.lower().replace("个", "") if unit not in ("个月",) else "月"]


_NUM_EN = (r"\d+(?:\.\d+)?|a couple of|a few|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|"
           r"fifteen|twenty|thirty|forty|fifty|sixty|ninety|half an?|half")
_UNIT_EN = r"days?|weeks?|months?|years?"
_MORE_TIME = (
    (re.compile(rf"(?<![A-Za-z])(?P<num>{_NUM_EN})\s+(?:more|extra|additional)\s+(?P<unit>{_UNIT_EN})\b|"
                rf"\banother\s+(?P<num2>{_NUM_EN})\s*(?P<unit2>{_UNIT_EN})\b|"
                rf"(?<![A-Za-z])(?P<num3>{_NUM_EN})\s+(?P<unit3>{_UNIT_EN})\s+(?:longer|later|more)\b", re.I), 1.0),
    (re.compile(rf"(?<![A-Za-z])(?P<num>{_NUM_EN})\s+(?:fewer|less)\s+(?P<unit>{_UNIT_EN})\b|"
                rf"(?<![A-Za-z])(?P<num3>{_NUM_EN})\s+(?P<unit3>{_UNIT_EN})\s+(?:earlier|sooner|shorter|less|fewer)\b",
                re.I), -1.0),
    (re.compile(r"(?:延长|再加|多给|再给|宽限|往后推|推迟|增加|多)(?:了)?\s*(?P<num>\d+(?:\.\d+)?|[一二两三四五六七八九十半]+)"
                r"\s*(?:个)?\s*(?P<unit>天|周|星期|个?月)"), 1.0),
    (re.compile(r"(?:缩短|提前|少|减少)(?:了)?\s*(?P<num>\d+(?:\.\d+)?|[一二两三四五六七八九十半]+)"
                r"\s*(?:个)?\s*(?P<unit>天|周|星期|个?月)"), -1.0),
)


def relative_deadline(text: str) -> float | None:
    """Days a follow-up adds to or takes from the deadline ("2 more months" → +60, "提前两周" → -14), if any."""
    for pattern, sign in _MORE_TIME:
        m = pattern.search(text)
        if not m:
            continue
        g = m.groupdict()
        num = g.get("num") or g.get("num2") or g.get("num3")
        unit = g.get("unit") or g.get("unit2") or g.get("unit3")
        if num is None or unit is None:
            continue
        days = _duration_days(num.replace("a couple of", "two").replace("a few", "three"), unit)
        if days:
            return sign * days
    return None


def _find_deadline(t: _Text) -> float | None:
    for pattern in (_DURATION_ZH, _DURATION_EN):
        for m in pattern.finditer(t.masked):
            before = t.masked[max(0, m.start() - 25):m.start()]
            after = t.masked[m.end():m.end() + 12]
            if _HORIZON_NEAR.search(before) and not re.search(r"(within|in|内|完成|finish|deadline)", before + after,
                                                              re.I):
                continue
            if re.match(r"^\s*(ago|old|前|以前)", after):
                continue
            if m.group("unit").lower().startswith(("年", "year", "yr")) and re.fullmatch(r"(?:19|20)\d\d",
                                                                                         m.group("num").strip()):
                continue  # "2026年第二季度" is a year, not a duration of 2,026 years
            days = _duration_days(m.group("num"), m.group("unit"))
            if days is None or days <= 0:
                continue
            t.blank(m.start(), m.end())
            return days
    return None


@dataclass
class _Numbers:
    budget: float | None = None
    currency: str | None = None
    params: float | None = None
    active: float | None = None
    tokens: float | None = None
    rps: float | None = None
    share: float | None = None
    extra_params: list[tuple[int, float]] = field(default_factory=list)
    other_currency: str | None = None
    """A budget written in a currency the catalog does not price in (EUR, GBP, JPY …): never read as yuan or dollars."""


_CUR_OTHER_BEFORE = re.compile(r"(?:€|£|eur|gbp|jpy|chf|sgd|hkd|aud|cad|(?<![A-Za-z])(?:S|HK|A|C)\$|欧元|英镑|日元)\s*$",
                               re.I)
_CUR_OTHER_AFTER = re.compile(r"^\s*(?:€|eur\b|euros?\b|gbp\b|pounds?\b|jpy\b|yen\b|chf\b|francs?\b|欧元|英镑|日元|"
                              r"(?:singapore|hong kong|australian|canadian|new taiwan|taiwan)\s+dollars?\b|"
                              r"sgd\b|hkd\b|aud\b|cad\b|twd\b|新加坡元|港元|港币|澳元|加元|新台币)", re.I)


def _currency_at(masked: str, n: NumberMatch) -> str | None:
    before = masked[max(0, n.start - 8):n.start]
    after = masked[n.end:n.end + 14]
    if _CUR_BEFORE_USD.search(before) or _CUR_AFTER_USD.search(after):
        return "USD"
    if _CUR_BEFORE_CNY.search(before) or _CUR_AFTER_CNY.search(after):
        return "CNY"
    return None


def _find_share(t: _Text) -> float | None:
    if _DOMESTIC_ONLY.search(t.masked):
        return 1.0
    for m in _PERCENT.finditer(t.masked):
        window = t.masked[max(0, m.start() - 30):m.end() + 30]
        if _DOMESTIC.search(window):
            value = float(m.group("num")) if m.group("num") else (plain_number(m.group("cn")) or 0.0)
            t.blank(m.start(), m.end())
            return min(value / 100.0, 1.0)
    tenths = _TENTHS_DOMESTIC.search(t.masked)
    if tenths:
        tens = plain_number(tenths.group("n") or tenths.group("n2"))
        if tens is not None and 0 < tens <= 10:
            return tens / 10.0
    if _DOMESTIC.search(t.masked) and _HALF_DOMESTIC.search(t.masked):
        return 0.5
    return None


_MONEY_MULTS = ("万", "亿", "千万", "百万", "十万", "m", "mn", "mm", "million", "k", "thousand", "bn", "billion")
_BUDGET_AFTER = re.compile(r"^\s*(?:的|of)?\s*(?:预算|资金|经费|budget)", re.I)


def _word_after(pattern: re.Pattern[str], after: str) -> bool:
    m = pattern.match(after)
    return bool(m and m.group(0).strip())


def _classify_numbers(t: _Text, lang: Lang) -> _Numbers:
    """Classify each remaining number by the words around it (money, rate, tokens, parameters)."""
    out = _Numbers()
    masked = t.masked
    for n in find_numbers(masked):
        before = masked[max(0, n.start - 30):n.start]
        after = masked[n.end:n.end + 30]
        cur = _currency_at(masked, n)
        mult = n.mult.lower()
        other = _CUR_OTHER_BEFORE.search(masked[max(0, n.start - 8):n.start]) or _CUR_OTHER_AFTER.match(after)
        if other and (cur is None or "$" in other.group(0)):  # "S$5M" is Singapore dollars, not US dollars
            out.other_currency = out.other_currency or other.group(0).strip()
            continue
        budget_word = bool(_BUDGET_WORD.search(before[-14:]) or _BUDGET_AFTER.match(after))
        if cur is not None or (budget_word and mult in _MONEY_MULTS and not _word_after(_PARAM_AFTER, after)
                               and not _word_after(_TOKENS_AFTER, after)):
            if out.budget is None:
                out.budget, out.currency = n.value, cur
            continue
        if _word_after(_RPS_AFTER, after) or _RPS_BEFORE.search(before):
            if out.rps is None:
                out.rps = n.value
            continue
        if _TOKENS_AFTER.match(after):
            if out.tokens is None:
                out.tokens = n.value
            continue
        if _ACTIVE_AFTER.match(after) or (_ACTIVE_BEFORE.search(before) and mult in ("b", "billion", "亿", "bn")
                                           and out.params is not None):
            out.active = n.value
            continue
        trillions = mult in ("t", "trillion", "万亿")
        if mult in ("b", "billion", "bn", "亿", "千亿", "百亿", "g") or (trillions and _word_after(_PARAM_AFTER, after)):
            if out.params is None:
                out.params = n.value
            else:
                out.extra_params.append((n.start, n.value))
            continue
        if (trillions or (_TOKENS_BEFORE.search(before) and n.value >= 1e9)) and out.tokens is None:
            out.tokens = n.value
    return out


_US = re.compile(r"\bUS\b(?!\$)")  # upper case only: "us" is a pronoun
_CURRENCY_NOUN = re.compile(r"^\s*(?:yen|yuan|renminbi|dollars?|francs?|won|rupees?|dirhams?|riyals?|pounds?|euros?|"
                            r"ringgit|baht|rupiah|dong|pesos?|reais|real|rand|lira|krona|kronor|元|币)(?![A-Za-z])", re.I)
_CONVERT_TO_OTHER = re.compile(
    r"(?<![A-Za-z])(?:换成|改成|改为|折合|用|以|in|into|to|switch to|convert to|show in|express in)\s*(?:[a-z]+\s+)?"
    r"(yen|jpy|euros?|eur|pounds?|gbp|francs?|chf|won|krw|rupees?|inr|dirhams?|aed|riyals?|sar|sgd|hkd|"
    r"日元|欧元|英镑|韩元|港元|港币|新加坡元|卢比|迪拉姆|里亚尔)(?![A-Za-z])", re.I)


def conversion_to_unpriced_currency(text: str) -> str | None:
    """The currency named in "show it in Japanese yen" / "换成日元" when the catalog does not price in it."""
    m = _CONVERT_TO_OTHER.search(text)
    return m.group(1) if m else None


_COMPANY_AFTER = re.compile(r"^\s*(?:-?owned\s+|-?based\s+|-?headquartered\s+)?(?:companies|company|firms?|labs?|"
                            r"buyers?|entities|entity|subsidiar\w+|startups?|clouds?|groups?|公司|企业|集团|团队)", re.I)
_LOCATED_BEFORE = re.compile(r"(?:\bin|\bat|located in|based in|operating in|office in|data ?cent(?:er|re) in|"
                             r"在|位于)\s*(?:the\s+)?$", re.I)


def _find_countries(t: _Text, lex: Lexicon) -> tuple[str | None, str | None]:
    """(buyer country, headquarters country) from country names, Chinese names and demonyms."""
    text = t.masked
    low = text.lower()
    hits: list[tuple[int, int, str]] = []
    for name, code in {**_COUNTRY_ZH, **_CITIES_ZH}.items():
        if name in text:
            hits.extend((m.start(), m.end(), code) for m in re.finditer(re.escape(name), text))
    names = {v.lower(): k for k, v in lex.countries.items()}
    names.update(_DEMONYMS)
    names.update(_CITIES)
    for name, code in sorted(names.items(), key=lambda kv: -len(kv[0])):
        if (len(name) < 3 and name not in ("us", "uk")) or name not in low:  # a pattern needs the name verbatim
            continue
        pat = _US if name == "us" else _word_pattern(name)
        hits.extend((m.start(), m.end(), code) for m in pat.finditer(text))
    # keep longest non-overlapping hits
    hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
    kept: list[tuple[int, int, str]] = []
    for h in hits:
        if kept and h[0] < kept[-1][1]:
            continue
        kept.append(h)
    country = hq = destination = None
    for start, end, code in kept:
        before = text[max(0, start - 30):start]
        if _DESTINATION_BEFORE.search(before):
            destination = destination or code
            continue
        after = text[end:end + 16]
        if _HQ_BEFORE.search(before) or _HQ_AFTER.search(after):
            hq = hq or code
        elif re.search(r"(made|designed|chips?|accelerators?|vendors?)\s*$", before, re.I) or re.match(
                r"^\s*(?:made|designed|chips?|accelerators?|vendors?|gpus?|parts?|芯片|厂商|制造|产)", after, re.I) \
                or _CURRENCY_NOUN.match(after):  # "Japanese yen", "Singapore dollars", "新加坡元": money, not a buyer
            continue
        else:
            country = country or code
    # "Chinese companies renting H100 in Malaysia": the company's country is its headquarters, the place is where the
    # buyer is located (the rules for D:5-headquartered entities follow the company abroad)
    company = next((code for start, end, code in kept if _COMPANY_AFTER.match(text[end:end + 24])), None)
    located = next((code for start, end, code in kept if _LOCATED_BEFORE.search(text[max(0, start - 24):start])),
                   None)
    if company is not None and located is not None and company != located and hq is None and destination is None:
        hq, country = company, located
    if destination is not None:  # "a Singapore company shipping them to Shanghai": rules apply where they go
        if country is not None and country != destination:
            hq = hq or country
        country = destination
    return country, hq


_VENDOR_JOIN = re.compile(r"^\s*(?:,|、|/|or|and|nor|或|和|及|与|以及|或者)\s*(?:any\s+|the\s+)?$", re.I)


_ONLY_BEFORE = re.compile(r"(?:(?<![A-Za-z])(?:only|just|exclusively|solely)\s+(?:use\s+|buy\s+|with\s+)?|只用|仅用|只要|只买|"
                          r"只考虑|仅限|只选)\s*$", re.I)
_ONLY_AFTER = re.compile(r"^\s*(?:only|alone)\b", re.I)


def vendor_only(text: str) -> str | None:
    """The one vendor a message restricts the plan to ("only AMD please", "只用华为"), if any."""
    for vendor, words in _VENDOR_WORDS.items():
        for w in words:
            if len(w) < 3 and w.isascii():
                continue
            pat = _word_pattern(w) if w.isascii() else re.compile(re.escape(w))
            for m in pat.finditer(text):
                if _ONLY_BEFORE.search(text[max(0, m.start() - 20):m.start()]) or _ONLY_AFTER.match(text[m.end():]):
                    return vendor
    return None


_MIX = re.compile(r"(混用|混合|搭配|组合|\bmix(?:ed|ing)?\b|\bcombin(?:e|ed|ation)\b|\bboth\b|\btogether\b)", re.I)


def vendors_only(text: str) -> list[str]:
    """The vendors a message restricts the plan to.

    "only AMD", "只用华为", "only Huawei and Cambricon", "华为和寒武纪混用": every vendor named, when one is marked
    "only" or the message mixes them.
    """
    one = vendor_only(text)
    named = vendors_named(text)
    if one is not None:
        return named if one in named else [one]
    return named if _MIX.search(text) and len(named) >= 2 else []


def vendors_named(text: str) -> list[str]:
    """Vendors a message names ("all NVIDIA parts", "英伟达的许可"), in the order of ``_VENDOR_WORDS``."""
    low = text.lower()
    found = []
    for vendor, words in _VENDOR_WORDS.items():
        for w in words:
            if w.isascii() and len(w) < 3:  # "nv" alone says too little
                continue
            if w.lower() in low and (not w.isascii() or _word_pattern(w).search(text)):
                found.append(vendor)
                break
    return found


def _find_excluded_vendors(t: _Text) -> list[str]:
    """Vendors the buyer rules out ("no NVIDIA", "without AMD or Intel", "不用英伟达", "不要美国芯片")."""
    text = t.masked
    low = text.lower()
    mentions: list[tuple[int, int, str]] = []
    for vendor, words in _VENDOR_WORDS.items():
        for w in words:
            if w.lower() not in low:  # a pattern needs the word verbatim (any case)
                continue
            pat = _word_pattern(w) if w.isascii() else re.compile(re.escape(w), re.I)
            mentions += [(m.start(), m.end(), vendor) for m in pat.finditer(text)]
    us = r"(?:us|american|u\.s\.|美国)[- ]?(?:made\s+)?(?:chips?|gpus?|parts?|vendors?|accelerators?|hardware|芯片|厂商|产品|的)?"
    for m in re.finditer(us, text, re.I):
        if m.group(0).strip().lower() not in ("us", "u.s.", "american", "美国"):
            mentions.append((m.start(), m.end(), "_us"))
    mentions.sort()
    out: list[str] = []
    negated_until = -1
    for start, end, vendor in mentions:
        before = text[max(0, start - 24):start]
        negated = bool(re.search(rf"{_NEG_EN}\s*(?:any\s+|using\s+|use\s+of\s+|the\s+|chips from\s+)?$", before, re.I)
                       or re.search(rf"{_NEG_ZH}\s*(?:用|使用|买)?$", before))
        chained = negated_until >= 0 and bool(_VENDOR_JOIN.match(text[negated_until:start]))
        if not (negated or chained):
            continue
        negated_until = end
        for v in (_US_VENDORS if vendor == "_us" else (vendor,)):
            if v not in out:
                out.append(v)
    return out

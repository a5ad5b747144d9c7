"""Question → intent + flat typed request, in Chinese and English (pure functions, no I/O).

The parser reads the language, not a list of questions: it finds the things a buyer states (dates, parts,
model names, amounts of money, deadlines, shares, rates, sizes) and classifies each number by the words
around it. What the catalog knows (SKU aliases, vendors, countries) is passed in as a :class:`Lexicon`.

Defaults that are reasonable (tokens = 20 × params for pre-training, today's date, buyer country from the
currency or language, currency from the language) are applied and listed in ``assumptions`` so the answer can
state them; a required value that is missing turns the intent into ``clarify`` with what is needed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.agent.numbers import EN_WORDS, NumberMatch, find_numbers, plain_number

Intent = Literal["recommend", "compare", "compliance", "estimate", "whatif", "search", "clarify"]
WorkloadKind = Literal["training", "fine_tune", "inference"]
Lang = Literal["zh", "en"]

TOKENS_PER_PARAM = 20.0
"""Compute-optimal pre-training tokens per parameter (Hoffmann et al. 2022, "Chinchilla"): the stated default."""


class FlatRequest(BaseModel):
    """The stable, flat request of ``procure ask --json`` (DESIGN.md §7); a field is absent when unknown."""

    model_config = ConfigDict(extra="forbid")

    workload: WorkloadKind | None = None
    params: float | None = None
    active_params: float | None = None
    model: str | None = None
    tokens: float | None = None
    budget: float | None = None
    currency: Literal["CNY", "USD"] | None = None
    deadline_days: float | None = None
    buyer_country: str | None = None
    buyer_kind: Literal["commercial", "state_funded"] | None = None
    headquarters_country: str | None = None
    date: dt.date | None = None
    objective: Literal["min_cost", "min_time"] | None = None
    skus: list[str] | None = None
    exclude_vendors: list[str] | None = None
    min_domestic_share: float | None = None
    requests_per_s: float | None = None
    count: int | None = Field(None, description="Accelerators named with a count (estimates).")
    extra_workloads: list[dict[str, Any]] | None = Field(
        None, description="Further workloads of a portfolio question (same flat fields)."
    )

    def flat(self) -> dict[str, Any]:
        """JSON-ready dict without unknown fields."""
        return self.model_dump(mode="json", exclude_none=True)


class Assumption(BaseModel):
    """A default the parser applied; the answer states it."""

    field: str
    value: Any
    reason: str


class Change(BaseModel):
    """A field a follow-up changed."""

    field: str
    old: Any = None
    new: Any = None


class WhatIfSpec(BaseModel):
    """The scenario a what-if question names."""

    remove_skus: list[str] = Field(default_factory=list)
    price_changes: dict[str, float] = Field(default_factory=dict)


class ParsedQuestion(BaseModel):
    """What the parser understood."""

    intent: Intent
    language: Lang
    request: FlatRequest
    stated: list[str] = Field(default_factory=list, description="Fields written in the question itself.")
    assumptions: list[Assumption] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list, description="Required values the question lacks.")
    changes: list[Change] = Field(default_factory=list, description="Fields a follow-up changed.")
    whatif: WhatIfSpec | None = None
    base_intent: Intent | None = Field(None, description="The intent before a missing value made it `clarify`.")


PresetLookup = Callable[[str], "tuple[float, float | None] | None"]
"""Model name → (params, active params) from a sourced presets file; returns None for unknown names."""


def no_presets(_name: str) -> tuple[float, float | None] | None:
    """Preset lookup used until a presets file is wired: no name resolves, sizes stay unknown."""
    return None


@dataclass(frozen=True)
class Lexicon:
    """What the parser needs from the catalog: SKU aliases, vendors, domestic vendors, countries."""

    sku_aliases: Mapping[str, str]
    """Alias as written (any case) → canonical SKU id."""
    vendors: Mapping[str, str] = field(default_factory=dict)
    """Vendor id → display name (ids are what ``exclude_vendors`` holds)."""
    countries: Mapping[str, str] = field(default_factory=dict)
    """ISO alpha-2 code → English short name."""
    presets: PresetLookup = no_presets
    cny_per_usd: float | None = None


# --------------------------------------------------------------------------------------------------
# language

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def detect_language(text: str) -> Lang:
    """``zh`` when Chinese characters outnumber Latin words, else ``en``."""
    cjk = len(_CJK.findall(text))
    words = len(_LATIN_WORD.findall(text))
    return "zh" if cjk and cjk >= words else "en"


# --------------------------------------------------------------------------------------------------
# vocabulary (language knowledge, not data)

_VENDOR_WORDS: dict[str, tuple[str, ...]] = {
    "nvidia": ("nvidia", "英伟达", "辉达", "nv"),
    "amd": ("amd", "超威"),
    "intel": ("intel", "英特尔", "gaudi"),
    "huawei": ("huawei", "华为", "昇腾", "ascend"),
    "cambricon": ("cambricon", "寒武纪"),
    "hygon": ("hygon", "海光"),
    "kunlunxin": ("kunlunxin", "kunlun", "昆仑芯", "昆仑"),
}
_US_VENDORS = ("nvidia", "amd", "intel")
_NEG_EN = r"(?:no|not|without|exclude|excluding|except|avoid|avoiding|skip|drop|never|non-|nothing from|ban|banning)"
_NEG_ZH = r"(?:不用|不要|不使用|不采用|不买|不考虑|排除|除了|除去|去掉|禁用|避开|不含|没有|别用|不能用)"

_COUNTRY_ZH: dict[str, str] = {
    "中国大陆": "CN", "中国": "CN", "国内": "CN", "大陆": "CN", "美国": "US", "德国": "DE", "法国": "FR", "英国": "GB",
    "日本": "JP", "韩国": "KR", "新加坡": "SG", "马来西亚": "MY", "印度": "IN", "阿联酋": "AE", "沙特": "SA",
    "越南": "VN", "俄罗斯": "RU", "以色列": "IL", "荷兰": "NL", "加拿大": "CA", "澳大利亚": "AU", "香港": "HK",
    "澳门": "MO", "台湾": "TW", "泰国": "TH", "印度尼西亚": "ID", "印尼": "ID", "巴西": "BR", "瑞士": "CH",
    "意大利": "IT", "西班牙": "ES", "瑞典": "SE", "伊朗": "IR", "朝鲜": "KP", "土耳其": "TR", "墨西哥": "MX",
    "卡塔尔": "QA", "哈萨克斯坦": "KZ", "巴基斯坦": "PK",
}
_DEMONYMS: dict[str, str] = {
    "chinese": "CN", "prc": "CN", "mainland": "CN", "american": "US", "u.s.": "US", "usa": "US", "us": "US",
    "german": "DE", "french": "FR", "british": "GB", "uk": "GB", "japanese": "JP", "korean": "KR",
    "south korean": "KR", "singaporean": "SG", "malaysian": "MY", "indian": "IN", "emirati": "AE", "uae": "AE",
    "saudi": "SA", "vietnamese": "VN", "russian": "RU", "israeli": "IL", "dutch": "NL", "canadian": "CA",
    "australian": "AU", "taiwanese": "TW", "thai": "TH", "indonesian": "ID", "brazilian": "BR", "swiss": "CH",
    "italian": "IT", "spanish": "ES", "swedish": "SE", "iranian": "IR", "turkish": "TR", "mexican": "MX",
    "hong kong": "HK", "macau": "MO", "south korea": "KR", "korea": "KR", "russia": "RU", "vietnam": "VN",
    "iran": "IR", "taiwan": "TW", "united states": "US", "america": "US", "the us": "US", "britain": "GB",
    "england": "GB", "holland": "NL", "saudi arabia": "SA", "emirates": "AE", "czechia": "CZ",
}
_HQ_BEFORE = re.compile(r"(headquarter(?:ed|s)?|hq|parent(?: company)?|owned by|总部|母公司|控股|集团)\W*(?:is |are |in |位于|在|设在|为)*\s*$",
                        re.I)
_HQ_AFTER = re.compile(r"^\s*[-‐]\s*(headquartered|owned|parented|hq|based parent)|^\s+(?:parent|holding company|owner)\b|"
                       r"^(?:资本|控股|资)", re.I)

_STATE = re.compile(r"(国有企业|国企|央企|国资|国有|事业单位|政府|国家资助|公立|state[- ]owned|state[- ]funded|soe\b|"
                    r"government|public (?:research )?(?:lab|institute|university)|state enterprise)", re.I)
_COMMERCIAL = re.compile(r"(民营|私营|私企|商业公司|private (?:company|firm|buyer)|commercial (?:buyer|company)|"
                         r"startup|start-up|互联网公司)", re.I)

_TRAIN = re.compile(r"(pre-?train|train(?:ing|s|ed)?\b|from scratch|预训练|训练|训一个|训个)", re.I)
_FINETUNE = re.compile(r"(fine[- ]?tun\w*|finetun\w*|\bsft\b|lora\b|continued pre-?training|post-?train\w*|微调|精调"
                       r"|后训练|对齐训练|指令调优)", re.I)
_SERVE = re.compile(r"(\bserv(?:e|es|ing)\b|inference|deploy\w*|host(?:ing)?\b|推理|部署|上线|服务|\bqps\b|"
                    r"requests? (?:per|a|/) ?s|req/s|\brps\b|tokens?/s|在线服务)", re.I)

_MIN_COST = re.compile(r"(cheapest|lowest[- ]cost|least (?:money|expensive)|minimi[sz]e (?:the )?cost|min(?:imum)? cost|"
                       r"as cheap(?:ly)? as possible|cheaply|save money|cost[- ]efficient|most economical|budget[- ]friendly|最便宜|成本最低|最省钱|省钱|"
                       r"花钱最少|最低成本|费用最低|性价比最高|最经济|最少的钱)", re.I)
_MIN_TIME = re.compile(r"(fastest|quickest|as (?:fast|soon|quickly) as possible|shortest (?:time|wall)|minimi[sz]e "
                       r"(?:the )?(?:time|duration)|min(?:imum)? time|asap|最快|尽快|尽可能快|时间最短|最短时间|"
                       r"耗时最短|用时最短|越快越好)", re.I)

_COMPLIANCE = re.compile(r"(allowed|permitted|compliant|compliance|legal(?:ly)?|export[- ]?control\w*|licen[cs]e"
                         r"[ds]?\b|licen[cs]ing|\beccn\b|3a090|controlled|restricted|sanction\w*|can (?:i|we|they|a"
                         r" buyer|[\w ]{0,30}?) (?:buy|import|purchase|get|ship|export)|合规|允许|许可|管制|出口|"
                         r"能否购买|能不能买|可以买|能买|可以购买|能否采购|可否|受限|禁售|禁运|违规)", re.I)
_WHATIF = re.compile(r"(what if|what happens if|what would happen|suppose|supposing|assume that|in case|"
                     r"如果|假如|假设|要是|万一|若是)", re.I)
_REVOKE = re.compile(r"(revok\w*|withdrawn|cancel+ed|banned|ban\b|cut off|unavailable|no longer available|"
                     r"can(?:no|')t (?:buy|get)|blocked|embargo\w*|吊销|撤销|撤回|禁售|断供|禁止|买不到|无法购买|停售|不可用|被禁)",
                     re.I)
_PRICE = re.compile(r"(price|cost|涨价|降价|价格|便宜|贵)", re.I)
_UP = re.compile(r"(ris\w*|up|increas\w*|jump\w*|higher|more expensive|涨|上涨|提高|增加|贵)", re.I)
_DOWN = re.compile(r"(fall\w*|drop\w*|down|decreas\w*|cut|lower|cheaper|降|下降|下跌|便宜|减少)", re.I)
_COMPARE = re.compile(r"(compar\w*|\bvs\.?\b|versus|better than|or the|对比|比较|哪个|哪款|哪一款|谁更|相比|还是|区别|差别|"
                      r"which is (?:better|cheaper|faster))", re.I)
_ESTIMATE = re.compile(r"(how long|how many (?:\S+\s+)?(?:days|hours|weeks|gpus?|accelerators?|cards?|chips?|nodes?)|gpu[- ]hours"
                       r"|accelerator[- ]hours|estimate|多久|多长时间|几天|多少天|多少张|多少块|多少卡|几张卡|估算|"
                       r"估计|卡时|需要多少时间|要多久|how much memory|显存)", re.I)
_SEARCH = re.compile(r"(what (?:does|do|did) (?:the )?(?:corpus|sources?|documents?|news|articles?) say|news|"
                     r"tell me about|what is|what are|who is|why (?:is|did|are)|explain|background|report(?:s|ed)?|"
                     r"search|find|look up|latest|policy|policies|rules? on|新闻|报道|介绍|什么是|为什么|政策|规定|"
                     r"搜索|查找|查一下|资料|说了什么|怎么回事|情况|背景)", re.I)


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
)


def _find_date(t: _Text) -> dt.date | None:
    for pattern, kind in _DATE_PATTERNS:
        m = pattern.search(t.masked)
        if not m:
            continue
        g = m.groups()
        try:
            if kind == "ymd":
                d = dt.date(int(g[0]), int(g[1]), int(g[2]))
            elif kind == "ym":
                d = dt.date(int(g[0]), int(g[1]), 1)
            elif kind == "mdy":
                d = dt.date(int(g[2]), _MONTHS[g[0][:3].lower()], int(g[1]))
            elif kind == "dmy":
                d = dt.date(int(g[2]), _MONTHS[g[1][:3].lower()], int(g[0]))
            else:
                d = dt.date(int(g[1]), _MONTHS[g[0][:3].lower()], 1)
        except ValueError:
            continue
        t.blank(m.start(), m.end())
        return d
    return None


def _alias_pattern(alias: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in re.split(r"[\s\-_/]+", alias.strip()) if p]
    body = r"[\s\-_/]*".join(parts)
    return re.compile(rf"(?<![A-Za-z0-9]){body}(?:s\b|'s\b)?(?![A-Za-z0-9])", re.I)


_ALIAS_CACHE: dict[int, list[tuple[re.Pattern[str], str]]] = {}


def _alias_patterns(lex: Lexicon) -> list[tuple[re.Pattern[str], str]]:
    key = id(lex.sku_aliases)
    if key not in _ALIAS_CACHE:
        pairs = sorted(lex.sku_aliases.items(), key=lambda kv: -len(kv[0]))
        _ALIAS_CACHE[key] = [(_alias_pattern(a), s) for a, s in pairs if len(a.strip()) >= 2]
    return _ALIAS_CACHE[key]


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
    for pattern, sku in _alias_patterns(lex):
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
_MODEL_RE = re.compile(
    rf"(?<![A-Za-z])(?P<m>(?:{_MODEL_FAMILIES})[A-Za-z0-9_.\-]*(?:\s+(?:\d+(?:\.\d+)?|v\d+(?:\.\d+)?|r\d)(?![\w.]))?"
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


def _find_countries(t: _Text, lex: Lexicon) -> tuple[str | None, str | None]:
    """(buyer country, headquarters country) from country names, Chinese names and demonyms."""
    text = t.masked
    hits: list[tuple[int, int, str]] = []
    for name, code in _COUNTRY_ZH.items():
        for m in re.finditer(re.escape(name), text):
            hits.append((m.start(), m.end(), code))
    names = {v.lower(): k for k, v in lex.countries.items()}
    names.update(_DEMONYMS)
    for name, code in sorted(names.items(), key=lambda kv: -len(kv[0])):
        if len(name) < 3 and name not in ("us", "uk"):
            continue
        flags = 0 if name in ("us",) else re.I
        pat = r"\bUS\b(?!\$)" if name == "us" else rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])"
        for m in re.finditer(pat, text, flags):
            hits.append((m.start(), m.end(), code))
    # keep longest non-overlapping hits
    hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
    kept: list[tuple[int, int, str]] = []
    for h in hits:
        if kept and h[0] < kept[-1][1]:
            continue
        kept.append(h)
    country = hq = None
    for start, end, code in kept:
        before = text[max(0, start - 30):start]
        after = text[end:end + 16]
        if _HQ_BEFORE.search(before) or _HQ_AFTER.search(after):
            hq = hq or code
        elif re.search(r"(made|designed|chips?|accelerators?|vendors?)\s*$", before, re.I) or re.match(
                r"^\s*(?:made|designed|chips?|accelerators?|vendors?|gpus?|parts?|芯片|厂商|制造|产)", after, re.I):
            continue
        else:
            country = country or code
    return country, hq


_VENDOR_JOIN = re.compile(r"^\s*(?:,|、|/|or|and|nor|或|和|及|与|以及|或者)\s*(?:any\s+|the\s+)?$", re.I)


def _find_excluded_vendors(t: _Text) -> list[str]:
    """Vendors the buyer rules out ("no NVIDIA", "without AMD or Intel", "不用英伟达", "不要美国芯片")."""
    text = t.masked
    mentions: list[tuple[int, int, str]] = []
    for vendor, words in _VENDOR_WORDS.items():
        for w in words:
            pat = re.escape(w) if not w.isascii() else rf"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])"
            mentions += [(m.start(), m.end(), vendor) for m in re.finditer(pat, text, re.I)]
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


# --------------------------------------------------------------------------------------------------
# intent and assembly


def _workloads(text: str) -> list[tuple[int, WorkloadKind]]:
    found: list[tuple[int, WorkloadKind]] = []
    spans: list[tuple[int, int]] = []
    for pattern, kind in ((_FINETUNE, "fine_tune"), (_TRAIN, "training"), (_SERVE, "inference")):
        for m in pattern.finditer(text):
            if any(s <= m.start() < e for s, e in spans):
                continue
            spans.append((m.start(), m.end()))
            found.append((m.start(), kind))  # type: ignore[arg-type]
    found.sort()
    # collapse repeats of one kind
    out: list[tuple[int, WorkloadKind]] = []
    for pos, kind in found:
        if not any(k == kind for _, k in out):
            out.append((pos, kind))
    return out


def parse_question(question: str, lex: Lexicon, *, today: dt.date | None = None) -> ParsedQuestion:
    """Parse one question on its own (no conversation) into intent, flat request and assumptions."""
    facts = extract(question, lex)
    return finish(facts, today=today or dt.date.today(), lex=lex)


@dataclass
class Facts:
    """What a message states, before defaults."""

    language: Lang
    text: str
    request: FlatRequest
    skus: list[_Sku]
    wants: dict[str, bool]
    whatif: WhatIfSpec | None


def extract(question: str, lex: Lexicon) -> Facts:
    """Everything the message itself states (no defaults, no intent decision yet)."""
    lang = detect_language(question)
    text = question.replace("，", ", ").replace("。", ". ").replace("：", ": ").replace("（", "(").replace("）", ")")
    text = text.replace("～", "~").replace("≥", ">=").replace("≤", "<=")
    t = _Text(text, text)
    date = _find_date(t)
    skus = _find_skus(t, lex)
    model, m_params, m_active = _find_model(t, lex)
    deadline = _find_deadline(t)
    share = _find_share(t)
    country, hq = _find_countries(t, lex)
    excluded = _find_excluded_vendors(t)
    nums = _classify_numbers(t, lang)
    low = text.lower()
    work = _workloads(text)
    req: dict[str, Any] = {}
    if work:
        req["workload"] = work[0][1]
    elif nums.rps is not None:
        req["workload"] = "inference"
    params = nums.params if nums.params is not None else m_params
    active = nums.active if nums.active is not None else m_active
    if params is not None and model and m_params is not None and nums.params is not None and len(work) < 2:
        params = m_params
    if params is not None:
        req["params"] = params
    if active is not None and (params is None or active <= params):
        req["active_params"] = active
    if model:
        req["model"] = model
    if nums.tokens is not None:
        req["tokens"] = nums.tokens
    if nums.budget is not None:
        req["budget"] = nums.budget
    if nums.currency is not None:
        req["currency"] = nums.currency
    elif re.search(r"(换成|改成|改为|用|以|in|to|switch to|convert to|show in)\s*(美元|美金|dollars?|usd)", text, re.I):
        req["currency"] = "USD"
    elif re.search(r"(换成|改成|改为|用|以|in|to|switch to|convert to|show in)\s*(人民币|元|rmb|cny|yuan)", text, re.I):
        req["currency"] = "CNY"
    if deadline is not None:
        req["deadline_days"] = deadline
    if country:
        req["buyer_country"] = country
    if hq:
        req["headquarters_country"] = hq
    if _STATE.search(text):
        req["buyer_kind"] = "state_funded"
    elif _COMMERCIAL.search(text):
        req["buyer_kind"] = "commercial"
    if date:
        req["date"] = date
    if _MIN_COST.search(text):
        req["objective"] = "min_cost"
    elif _MIN_TIME.search(text):
        req["objective"] = "min_time"
    sku_ids = list(dict.fromkeys(s.sku for s in skus))
    if sku_ids:
        req["skus"] = sku_ids
    if excluded:
        req["exclude_vendors"] = excluded
    if share is not None:
        req["min_domestic_share"] = share
    if nums.rps is not None:
        req["requests_per_s"] = nums.rps
    counts = [s.count for s in skus if s.count]
    if counts:
        req["count"] = counts[0]
    if len(work) >= 2:
        extra: list[dict[str, Any]] = []
        for pos, kind in work[1:]:
            w: dict[str, Any] = {"workload": kind}
            later = [v for p, v in nums.extra_params if p > pos]
            if kind == "inference" and nums.rps is not None:
                w["requests_per_s"] = nums.rps
                req.pop("requests_per_s", None)
            if later:
                w["params"] = later[0]
            elif model and m_params is not None and nums.params is not None and m_params != nums.params:
                w["params"] = m_params
                w["model"] = model
                req.pop("model", None)
                req["params"] = nums.params
            extra.append(w)
        req["extra_workloads"] = extra
    whatif = None
    if _WHATIF.search(text) or _REVOKE.search(text):
        spec = WhatIfSpec()
        if _REVOKE.search(text) and sku_ids:
            spec.remove_skus = sku_ids
        pct = _PERCENT.search(t.masked)
        if _PRICE.search(text) and sku_ids and pct and pct.group("num"):
            frac = float(pct.group("num")) / 100.0
            spec.price_changes = {sku_ids[0]: -frac if _DOWN.search(text) and not _UP.search(text) else frac}
        whatif = spec
    wants = {
        "compliance": bool(_COMPLIANCE.search(text)),
        "whatif": bool(_WHATIF.search(text)),
        "revoke": bool(_REVOKE.search(text)),
        "compare": bool(_COMPARE.search(text)),
        "estimate": bool(_ESTIMATE.search(text)),
        "search": bool(_SEARCH.search(low)),
    }
    return Facts(lang, text, FlatRequest.model_validate(req), skus, wants, whatif)


def decide_intent(f: Facts) -> Intent:
    """The intent of a stand-alone message from what it states and asks."""
    r = f.request
    skus = r.skus or []
    workload_like = r.workload is not None or r.params is not None or r.model is not None
    plan_like = workload_like and (r.budget is not None or r.deadline_days is not None or r.tokens is not None
                                   or r.requests_per_s is not None)
    if f.wants["whatif"] and (f.wants["revoke"] or (f.whatif and f.whatif.price_changes)):
        return "whatif"
    if f.wants["compare"] and len(skus) >= 2:
        return "compare"
    if f.wants["estimate"] and skus and workload_like:
        return "estimate"
    if skus and f.wants["compliance"] and not plan_like:
        return "compliance"
    if f.wants["whatif"] and workload_like:
        return "whatif"
    if workload_like or r.budget is not None:
        return "recommend"
    if skus and (r.buyer_country or r.date):
        return "compliance"
    if len(skus) >= 2:
        return "compare"
    if f.wants["compliance"] and not f.wants["search"]:
        return "compliance"
    return "search"


def finish(f: Facts, *, today: dt.date, lex: Lexicon, intent: Intent | None = None) -> ParsedQuestion:
    """Decide the intent, apply the stated defaults and list what is missing."""
    intent = intent or decide_intent(f)
    stated = list(f.request.flat().keys())
    req, assumptions, missing = apply_defaults(f.request, intent, f.language, today)
    parsed = ParsedQuestion(intent=intent, language=f.language, request=req, stated=stated, assumptions=assumptions,
                            missing=missing, whatif=f.whatif if intent == "whatif" else None)
    if missing:
        parsed.base_intent = intent
        parsed.intent = "clarify"
    return parsed


_DEFAULT_REASON_ZH = {
    "today's date": "今天的日期",
    "the question is in Chinese": "问题用中文提出",
    "the budget is in CNY": "预算以人民币计",
    "the budget is in USD": "预算以美元计",
    "the catalog's home market": "目录的默认市场",
    "no workload named; a model size suggests training": "未说明负载类型；给出了模型规模，按训练处理",
    f"{TOKENS_PER_PARAM:g} tokens per parameter (compute-optimal, Hoffmann et al. 2022)":
        f"每个参数 {TOKENS_PER_PARAM:g} 个 token（计算最优，Hoffmann 等，2022）",
}
"""The reasons of the defaults, as a Chinese answer states them."""


def apply_defaults(req: FlatRequest, intent: Intent, lang: Lang, today: dt.date
                   ) -> tuple[FlatRequest, list[Assumption], list[str]]:
    """Fill the reasonable defaults (stated) and list the required values still missing."""
    data = req.model_dump(exclude_none=True)
    notes: list[Assumption] = []
    missing: list[str] = []

    def default(name: str, value: Any, reason: str) -> None:
        if data.get(name) is None:
            data[name] = value
            notes.append(Assumption(field=name, value=value, reason=_DEFAULT_REASON_ZH.get(reason, reason)
                                    if lang == "zh" else reason))

    if intent in ("recommend", "whatif", "compliance", "estimate", "compare"):
        default("date", today, "today's date")
        if data.get("currency") == "CNY" or lang == "zh":
            default("buyer_country", "CN", "the question is in Chinese" if lang == "zh" else "the budget is in CNY")
        else:
            default("buyer_country", "US" if data.get("currency") == "USD" else "CN",
                    "the budget is in USD" if data.get("currency") == "USD" else "the catalog's home market")
    if intent in ("recommend", "whatif", "estimate"):
        if data.get("budget") is not None:
            default("currency", "CNY" if lang == "zh" else "USD",
                    "the question is in Chinese" if lang == "zh" else "the question is in English")
        workload = data.get("workload")
        if workload is None and data.get("params") is not None:
            default("workload", "training", "no workload named; a model size suggests training")
            workload = data["workload"]
        if data.get("params") is None:
            missing.append("params")
        if workload is None:
            missing.append("workload")
        if workload == "training" and data.get("params") is not None:
            default("tokens", TOKENS_PER_PARAM * float(data["params"]),
                    f"{TOKENS_PER_PARAM:g} tokens per parameter (compute-optimal, Hoffmann et al. 2022)")
        if workload == "fine_tune" and data.get("tokens") is None:
            missing.append("tokens")
        if workload == "inference" and data.get("requests_per_s") is None:
            missing.append("requests_per_s")
        if intent in ("recommend", "whatif") and workload != "inference" and data.get("budget") is None \
                and data.get("deadline_days") is None:
            missing.append("budget")
    if intent == "compliance" and not data.get("skus"):
        missing.append("skus")
    if intent == "compare" and len(data.get("skus") or []) < 2:
        missing.append("skus")
    return FlatRequest.model_validate(data), notes, missing


# --------------------------------------------------------------------------------------------------
# follow-ups

_FACTOR_WORDS = (
    (re.compile(r"(doubl\w*|twice|2x|two times|翻倍|翻一番|加倍|增加一倍|两倍|x2\b|×2)", re.I), 2.0),
    (re.compile(r"(tripl\w*|three times|3x|三倍|翻两番)", re.I), 3.0),
    (re.compile(r"(halv\w*|half|cut in half|减半|一半|砍半)", re.I), 0.5),
)
_BY_PERCENT = re.compile(r"(?P<dir>increas\w*|rais\w*|grow\w*|up|more|增加|提高|多|cut|reduc\w*|decreas\w*|down|less|"
                         r"减少|降低|少|削减)\s*(?:by\s*|了)?(?P<num>\d+(?:\.\d+)?)\s*(?:%|％|percent)", re.I)


def _relative(text: str, word: re.Pattern[str]) -> float | None:
    if not word.search(text):
        return None
    for pattern, factor in _FACTOR_WORDS:
        if pattern.search(text):
            return factor
    m = _BY_PERCENT.search(text)
    if m:
        frac = float(m.group("num")) / 100.0
        return 1 - frac if re.match(r"(cut|reduc|decreas|down|less|减|降|少|削)", m.group("dir"), re.I) else 1 + frac
    return None


_BUDGET_REF = re.compile(r"(budget|预算|money|资金|经费|钱)", re.I)
_DEADLINE_REF = re.compile(r"(deadline|time|期限|工期|时间|交付)", re.I)
_RELATIVE_FIELDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("budget", _BUDGET_REF),
    ("deadline_days", _DEADLINE_REF),
    ("requests_per_s", re.compile(r"(requests?|qps|rps|traffic|load|请求|流量|并发)", re.I)),
    ("tokens", re.compile(r"(tokens?|data(?:set)?|数据|语料)", re.I)),
    ("params", re.compile(r"(model size|bigger model|larger model|parameters?|params|模型规模|参数量?|模型大小)", re.I)),
)
_ANY_CHIP = re.compile(r"(any (?:chip|vendor|accelerator)|all vendors|no restriction|不限|任何芯片|都可以|放开)", re.I)


def is_followup(f: Facts) -> bool:
    """A message that edits the previous request rather than asking a new question."""
    r = f.request
    new_question = (r.workload is not None and (r.params is not None or r.model is not None)) or (
        f.wants["compliance"] and bool(r.skus) and len(f.text) > 40)
    return not new_question


def apply_followup(prev: ParsedQuestion, message: str, lex: Lexicon, *, today: dt.date | None = None
                   ) -> ParsedQuestion:
    """Edit the previous request with a follow-up ("what if the budget doubles?", "只用国产芯片呢？").

    Stated fields replace the old ones; relative edits (double, halve, +20%) scale them; a currency switch
    converts the budget at the catalog's exchange rate. Intents other than follow-ups parse afresh.
    """
    today = today or dt.date.today()
    f = extract(message, lex)
    if not is_followup(f):
        return finish(f, today=today, lex=lex)
    base = prev.request.model_dump(exclude_none=True)
    # assumptions of the previous turn are re-derived, so only what was stated carries over as stated
    new = dict(base)
    stated = f.request.model_dump(exclude_none=True)
    stated.pop("extra_workloads", None)
    if f.whatif and (f.whatif.remove_skus or f.whatif.price_changes) and prev.intent != "compliance":
        stated.pop("skus", None)  # "what if the H20 licence is revoked?" names the scenario, not a restriction
    for k, v in stated.items():
        if k in ("skus",) and prev.intent in ("compliance",) and not f.wants["compliance"] and not f.wants["compare"]:
            new[k] = v
        elif k == "exclude_vendors":
            new[k] = list(dict.fromkeys([*(base.get(k) or []), *v]))
        else:
            new[k] = v
    text = f.text
    for name, ref in _RELATIVE_FIELDS:  # "double the budget", "half the time", "2x the requests", "数据翻倍"
        factor = _relative(text, ref)
        if factor is not None and base.get(name) and name not in stated:
            new[name] = base[name] * factor
    if "currency" in stated and base.get("currency") and stated["currency"] != base["currency"] \
            and base.get("budget") and "budget" not in stated and lex.cny_per_usd:
        rate = lex.cny_per_usd
        new["budget"] = base["budget"] / rate if stated["currency"] == "USD" else base["budget"] * rate
    if _ANY_CHIP.search(text):
        new.pop("exclude_vendors", None)
        new.pop("min_domestic_share", None)
    if re.search(r"(commercial|private|民营|私营|商业)", text, re.I) and "buyer_kind" not in stated:
        new["buyer_kind"] = "commercial"
    prev_intent = prev.base_intent or prev.intent
    if prev_intent == "clarify":
        prev_intent = "recommend"
    changes = [Change(field=k, old=base.get(k), new=new.get(k))
               for k in sorted(set(base) | set(new)) if base.get(k) != new.get(k)]
    req = FlatRequest.model_validate(new)
    intent: Intent = prev_intent
    if prev_intent in ("recommend", "whatif") and changes:
        intent = "whatif"
    stated_fields = sorted(set(prev.stated) | {c.field for c in changes})
    req_clean, assumptions, missing = apply_defaults(
        FlatRequest.model_validate({k: v for k, v in new.items() if k in stated_fields}), intent, f.language, today)
    # the conversation keeps the previous turn's defaults unless this turn changed them
    merged = req_clean.model_dump(exclude_none=True)
    merged.update({k: v for k, v in req.model_dump(exclude_none=True).items() if k not in merged})
    parsed = ParsedQuestion(intent=intent, language=f.language, request=FlatRequest.model_validate(merged),
                            stated=stated_fields, assumptions=assumptions, missing=missing, changes=changes,
                            whatif=f.whatif if f.whatif and (f.whatif.remove_skus or f.whatif.price_changes)
                            else None)
    if missing:
        parsed.base_intent = intent
        parsed.intent = "clarify"
    return parsed

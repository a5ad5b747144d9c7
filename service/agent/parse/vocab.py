"""Vocabulary of the parser, English and Chinese side by side.

The words that name vendors, countries, buyer kinds,
workloads, objectives and what a question asks (language knowledge, not catalog data).
"""

from __future__ import annotations

import re

from service.agent.parse.model import Lang
from service.presenters.reasons import COUNTRY_ZH

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
    "t-head": ("t-head", "平头哥"),
}
_US_VENDORS = ("nvidia", "amd", "intel")
_NEG_EN = r"(?:no|not|without|exclude|excluding|except|avoid|avoiding|skip|drop|never|non-|nothing from|ban|banning)"
_NEG_ZH = r"(?:不用|不要|不使用|不采用|不买|不考虑|排除|除了|除去|去掉|禁用|避开|不含|没有|别用|不能用)"

_COUNTRY_ZH: dict[str, str] = {
    # the answers' table read backwards (one table for both directions), plus what people also write
    **{name: code for code, name in COUNTRY_ZH.items()},
    "中国大陆": "CN", "国内": "CN", "大陆": "CN", "印尼": "ID", "沙特阿拉伯": "SA",
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
# Cities where accelerators are bought and deployed: a buyer often names the city, not the country ("our Shanghai
# office", "a lab in Bengaluru", "迪拜的数据中心"). Export rules apply to the country the city is in.
_CITIES: dict[str, str] = {
    "beijing": "CN", "shanghai": "CN", "shenzhen": "CN", "guangzhou": "CN", "hangzhou": "CN", "chengdu": "CN",
    "wuhan": "CN", "nanjing": "CN", "tianjin": "CN", "chongqing": "CN", "suzhou": "CN", "hefei": "CN", "xi'an": "CN",
    "ningbo": "CN", "qingdao": "CN", "guiyang": "CN", "ulanqab": "CN", "zhongwei": "CN", "dubai": "AE",
    "abu dhabi": "AE", "riyadh": "SA", "jeddah": "SA", "doha": "QA", "tokyo": "JP", "osaka": "JP", "seoul": "KR",
    "mumbai": "IN", "bengaluru": "IN", "bangalore": "IN", "new delhi": "IN", "hyderabad": "IN", "chennai": "IN",
    "kuala lumpur": "MY", "johor": "MY", "jakarta": "ID", "bangkok": "TH", "hanoi": "VN", "ho chi minh city": "VN",
    "taipei": "TW", "hsinchu": "TW", "london": "GB", "paris": "FR", "berlin": "DE", "munich": "DE",
    "frankfurt": "DE", "amsterdam": "NL", "zurich": "CH", "tel aviv": "IL", "moscow": "RU", "istanbul": "TR",
    "san francisco": "US", "silicon valley": "US", "new york": "US", "seattle": "US", "toronto": "CA",
    "sydney": "AU", "melbourne": "AU",
}
_CITIES_ZH: dict[str, str] = {
    "北京": "CN", "上海": "CN", "深圳": "CN", "广州": "CN", "杭州": "CN", "成都": "CN", "武汉": "CN", "南京": "CN",
    "天津": "CN", "重庆": "CN", "苏州": "CN", "合肥": "CN", "西安": "CN", "宁波": "CN", "青岛": "CN", "贵阳": "CN",
    "乌兰察布": "CN", "中卫": "CN", "迪拜": "AE", "阿布扎比": "AE", "利雅得": "SA", "多哈": "QA", "东京": "JP",
    "大阪": "JP", "首尔": "KR", "孟买": "IN", "班加罗尔": "IN", "吉隆坡": "MY", "柔佛": "MY", "雅加达": "ID",
    "曼谷": "TH", "河内": "VN", "胡志明市": "VN", "台北": "TW", "新竹": "TW", "伦敦": "GB", "巴黎": "FR",
    "柏林": "DE", "慕尼黑": "DE", "法兰克福": "DE", "阿姆斯特丹": "NL", "苏黎世": "CH", "莫斯科": "RU", "硅谷": "US",
    "纽约": "US", "西雅图": "US", "旧金山": "US", "多伦多": "CA", "悉尼": "AU",
}
# the place the parts go ("shipping them to Shanghai", "运到上海"): the export destination, whoever the buyer is
_DESTINATION_BEFORE = re.compile(r"(?:ship(?:ping|ped|s)?|deliver(?:ing|ed|y|s)?|send(?:ing|s)?|sent|export(?:ing|ed)?|"
                                 r"mov(?:e|ing|ed)|destined|go(?:es|ing)?|install(?:ed|ing)?|deploy(?:ed|ing)?)"
                                 r"(?:\s+(?:them|it|the\s+\w+|\w+s))?\s+(?:to|for|in|into|at)\s+(?:our\s+|the\s+|a\s+)?"
                                 r"(?:\w+\s+)?$|(?:运到|运往|发往|送到|送往|出口到|部署在|部署到|装在)\s*$", re.I)
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

_COMPLIANCE = re.compile(r"(allowed|permitted|compliant|compliance|legal(?:ly)?|\b(?:ok|okay|fine|clear(?:ed)?) (?:for|to "
                         r"(?:buy|use|import))\b|export[- ]?control\w*|licen[cs]e"
                         r"[ds]?\b|licen[cs]ing|\beccn\b|\btpp\b|performance density|性能密度|总体处理性能|3a090|controlled|restricted|sanction\w*|can (?:i|we|they|a"
                         r" buyer|[\w -]{0,30}?) (?:buy|import|purchase|get|ship|export)|合规|允许|许可|管制|出口|"
                         r"(?:能否|能不能|可以|可否|能|是否能|是否可以)(?:购买|采购|买|进口)|可否|受限|禁售|禁运|违规|"
                         # the purchase first, the question after it: "想购买H200，可以吗？", "buy H200s, is that OK?"
                         r"(?:购买|采购|买|进口)[^。？?!！]{0,30}?(?:可以|行|能行|合法|允许)(?:吗|么|嘛)|"
                         r"(?:buy|purchase|import)\b[^.?!]{0,40}?\b(?:is (?:that|it|this)|would (?:that|it) be) "
                         r"(?:ok|okay|fine|allowed|legal|possible)\b)", re.I)
# the buyer opts in to parts that need a licence ("what if we accept the licence risk?", "需要许可证也可以")
_ACCEPT_RISK = re.compile(
    r"(accept\w*|tak\w+\s+on|tak\w+|live\s+with|bear\w*)\s+(?:the\s+|a\s+|any\s+)?licen[cs]e[-\s]*risk|"
    r"(?:even\s+if|although|though)\s+(?:it\s+|they\s+)?(?:need|needs|require|requires)\s+(?:a\s+)?licen[cs]es?|"
    r"(?:we\s+(?:can|will|could)\s+(?:get|apply\s+for|obtain)|willing\s+to\s+(?:get|apply\s+for))\s+(?:a\s+|the\s+)?"
    r"licen[cs]es?|"
    r"(接受|承担|愿意承担|不怕|不在乎)(?:一些|一定的)?许可(?:证)?(?:方面的)?风险|(可以|愿意|能)(?:去)?申请许可(?:证)?|"
    r"需要许可(?:证)?也(?:可以|行|没关系)", re.I)
_REFUSE_RISK = re.compile(r"(don'?t|do\s+not|won'?t|never|can'?t|cannot|不接受|不能接受|不愿|不想)", re.I)
# the buyer's software stack today ("we already run everything on CUDA", "我们现在用的是CANN")
_STACK = re.compile(
    r"(?:\b(?:we|our\s+(?:team|code(?:base)?|stack|models?|training))\s+(?:already\s+|currently\s+|mostly\s+|all\s+|"
    r"only\s+)?(?:run|runs|ran|use|uses|used|using|are\s+on|is\s+on|were\s+on|was\s+on|train\s+on|is\s+(?:built|written)\s+(?:on|in|for)|"
    r"are\s+built\s+on|work\s+(?:in|on|with)|live\s+on|rely\s+on)\s+(?:everything\s+on\s+|on\s+|only\s+)?"
    r"(?P<a>cuda|cann|rocm)\b|\b(?P<b>cuda|cann|rocm)[- ](?:shop|stack|based|codebase|code|ecosystem|users?)\b|"
    r"\b(?:stack|ecosystem)\s*(?:is|:)\s*(?P<c>cuda|cann|rocm)\b|"
    r"(?:现在|目前|一直|都|主要)?(?:用|使用|基于|跑在|依赖)(?:的是)?\s*(?P<d>cuda|cann|rocm)|"
    r"(?P<e>cuda|cann|rocm)\s*(?:生态|栈|代码|技术栈))", re.I)
_STACK_NAMES = {"cuda": "CUDA", "cann": "CANN", "rocm": "ROCm"}
# "what's the second best option?" after a plan: the runner-up plans the solver found for the same request
_ALTERNATIVES = re.compile(r"(second[- ]best|next[- ]best|runner[- ]up|\balternatives?\b|other (?:options|plans|choices)|"
                           r"(?:any|what) (?:other|else)\b.*\b(?:options?|plans?)|plan b\b|backup plan|次优|第二好|"
                           r"备选|别的方案|其他方案|其它方案|替代方案|还有(?:什么|哪些)?(?:别的|其他|其它)?(?:方案|选择))", re.I)
# "why not the H20?" after a plan: why a named part was not chosen (not a restriction to that part)
_WHY_NOT = re.compile(r"(\bwhy\s+(?:not|no)\b|\bwhy\s+(?:didn'?t|did\s+not|don'?t|doesn'?t|wasn'?t|isn'?t|is\s+not|was\s+not|"
                      r"aren'?t|weren'?t)\b|\bhow\s+come\b.*\b(?:not|isn'?t|wasn'?t|didn'?t)\b|"
                      r"为什么不|为何不|为啥不|怎么不|为什么没|为何没|为啥没|怎么没)", re.I)
_WHATIF = re.compile(r"(what if|what happens if|what would happen|suppose|supposing|assume that|in case|"
                     r"and if|how about if|what about if|如果|假如|假设|要是|万一|若是)", re.I)
_REVOKE = re.compile(r"(revok\w*|withdrawn|cancel+ed|banned|ban\b|cut off|unavailable|no longer available|"
                     r"stop(?:s|ped)? (?:selling|shipping|supplying|exporting)|no longer (?:sold|sells|ships|shipped)|"
                     r"pull(?:s|ed)\b|halt(?:s|ed)\b|discontinu\w*|denied|can no longer be (?:bought|sold|shipped)|out of stock|"
                     r"los(?:e|es|t|ing) (?:access to|supply of)|no (?:more )?access to|cut off from|失去|无法获得|"
                     r"禁了|禁运|不卖|停止(?:供应|销售|出货|出口)|停产|拿不到|断货|不再(?:供货|供应|销售|出售|出货|卖)|停供|缺货|无货|"
                     r"can(?:no|')t (?:buy|get)|blocked|embargo\w*|吊销|撤销|撤回|禁售|断供|禁止|买不到|无法购买|停售|不可用|被禁|"
                     r"不能(?:再)?(?:买|购买|采购)|买不了|不让(?:买|卖))",
                     re.I)
_PRICE = re.compile(r"(price|cost|cheaper|more expensive|pricier|\d+\s*%\s*off\b|discount\w*|涨价|降价|价格|便宜|贵|打折|折扣|"
                    r"打?\s*[\d一二三四五六七八九]{1,2}\s*折)", re.I)
_UP = re.compile(r"(ris\w*|\bup\b|increas\w*|jump\w*|higher|more expensive|pricier|涨|上涨|提高|增加|贵)", re.I)
_DOWN = re.compile(r"(fall\w*|drop\w*|down|decreas\w*|cut|lower|cheaper|\boff\b|discount\w*|降|下降|下跌|便宜|减少|"
                   r"打折|折扣|\d\s*折|[一二三四五六七八九]\s*折)", re.I)
_PRICE_TENTHS = re.compile(r"(?P<n>[一二两三四五六七八九\d])\s*成")
"""A price change in tenths ("便宜三成" = 30 % cheaper)."""
_PRICE_ZHE = re.compile(r"(?:打)?\s*(?P<n>[一二三四五六七八九\d])(?P<m>[一二三四五六七八九\d])?\s*折")
"""A discount as the share still paid ("打八折" = 80 % of the price, "八五折" = 85 %)."""
_COMPARE = re.compile(r"(compar\w*|\bvs\.?\b|versus|better than|\bor the\b|对比|比较|哪个|哪款|哪一款|谁更|相比|还是|区别|差别|"
                      r"which is (?:better|cheaper|faster))", re.I)
_ESTIMATE = re.compile(r"(how long|how many (?:\S+\s+)?(?:days|hours|weeks|gpus?|accelerators?|cards?|chips?|nodes?)|gpu[- ]hours"
                       r"|how many\s+(?:\S+\s+){1,3}(?:do|would|will|should|must|shall)\s+(?:i|we|you|they)\s+"
                       r"(?:need|have to buy|require)"
                       r"|accelerator[- ]hours|estimate|多久|多长时间|几天|多少天|多少张|多少块|多少卡|几张卡|估算|"
                       r"估计|卡时|需要多少时间|要多久|how much memory|显存|throughput|tokens? per second|tokens?/s\b|"
                       r"how fast|how many requests|吞吐|每秒多少)", re.I)
_ASK_SOURCES = re.compile(r"(what (?:does|do|did) (?:the )?(?:corpus|sources?|documents?|news|articles?|reports?) "
                          r"(?:say|said|report)|(?:search|look up|find) (?:the )?(?:corpus|sources|documents|news)|"
                          r"(?:资料|文献|来源|新闻|报道)(?:里|中)?(?:是)?(?:怎么说|如何说|说了什么|提到了?什么))", re.I)
"""An explicit request for the passages: answered by retrieval even when a part and a date are named."""
_SEARCH = re.compile(r"(what (?:does|do|did) (?:the )?(?:corpus|sources?|documents?|news|articles?) say|news|"
                     r"tell me about|what is|what are|who is|why (?:is|did|are)|explain|background|report(?:s|ed)?|"
                     r"search|find|look up|latest|policy|policies|rules? on|新闻|报道|介绍|什么是|为什么|政策|规定|"
                     r"搜索|查找|查一下|资料|说了什么|怎么回事|情况|背景)", re.I)

# "which accelerators can a Chinese buyer still buy?": a verdict for every part of the catalog, not a plan
_WHICH_PARTS = re.compile(r"(which (?:gpus?|cards?|chips?|accelerators?|parts?|nvidia|amd|intel)\b|what (?:gpus?|cards?|"
                          r"chips?|accelerators?|parts?) (?:are|can|could|may)|list (?:the |all )?(?:gpus?|cards?|chips?|"
                          r"accelerators?|parts?)|哪些(?:卡|显卡|芯片|gpu|加速卡|产品)|哪几(?:款|种)(?:卡|显卡|芯片|gpu|加速卡))",
                          re.I)
_ADVICE = re.compile(r"(which (?:gpus?|cards?|chips?|accelerators?|hardware)|what (?:gpus?|cards?|chips?|accelerators?|"
                     r"hardware) (?:should|to|do|would)|(?:should|shall) (?:i|we) buy|what (?:should|shall) (?:i|we) buy|"
                     r"recommend (?:a|some|me)? ?(?:gpus?|cards?|chips?|accelerators?)|best (?:gpus?|cards?|chips?|"
                     r"accelerators?)|买什么|买哪|选什么|选哪|推荐(?:一下|个|些)?(?:什么)?(?:卡|显卡|芯片|gpu|加速卡)|"
                     r"什么(?:卡|显卡|芯片|gpu|加速卡)(?:好|合适|比较好)|哪(?:种|款|个)(?:卡|显卡|芯片|gpu|加速卡)|性价比最高|"
                     r"最划算|most cost[- ]effective|best value|bang for (?:the|your) buck)", re.I)
"""A request for purchase advice without a workload ("which GPU should I buy?", "买什么卡好？")."""
_HEDGE = re.compile(r"(safest|most robust|hedg\w*|de-?risk\w*|robust to|insur\w* against|safe (?:plan|option|choice)|"
                    r"最稳妥|最稳|稳妥|最安全|对冲|保险起见|抗风险|降低风险)", re.I)
"""A request for the plan that survives licence revocation (a hedged recommendation), not for one scenario."""

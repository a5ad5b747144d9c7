"""The core's reasons (``Why`` codes with their values) worded in the reader's language.

The core writes every reason in English (``reason``/``text``, part of the stable JSON) and, for the sentences
a buyer meets first, a ``Why``: a code from a closed list and the values the sentence was built from. English
output keeps the core's sentence; Chinese output is written here from the code, so a Chinese answer does not
switch language halfway through a line. A reason without a code (estimator messages, rule-pack quotes) keeps
its English sentence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from service.usecases import OUTLOOK_TEXT, Why

COUNTRY_ZH: dict[str, str] = {
    "CN": "中国", "US": "美国", "DE": "德国", "JP": "日本", "SG": "新加坡", "MY": "马来西亚", "AE": "阿联酋",
    "SA": "沙特", "IN": "印度", "GB": "英国", "FR": "法国", "KR": "韩国", "VN": "越南", "RU": "俄罗斯",
    "MO": "澳门", "HK": "香港", "BY": "白俄罗斯", "IR": "伊朗", "KP": "朝鲜",
    "IL": "以色列", "NL": "荷兰", "CA": "加拿大", "AU": "澳大利亚", "TW": "台湾", "TH": "泰国", "ID": "印度尼西亚",
    "BR": "巴西", "CH": "瑞士", "IT": "意大利", "ES": "西班牙", "SE": "瑞典", "TR": "土耳其", "MX": "墨西哥",
    "QA": "卡塔尔", "KZ": "哈萨克斯坦", "PK": "巴基斯坦", "AR": "阿根廷", "ZA": "南非", "EG": "埃及", "KW": "科威特",
    "OM": "阿曼", "BH": "巴林", "JO": "约旦", "IQ": "伊拉克", "SY": "叙利亚", "CU": "古巴", "VE": "委内瑞拉",
    "MM": "缅甸", "KH": "柬埔寨", "LA": "老挝", "PH": "菲律宾", "NZ": "新西兰", "IE": "爱尔兰",
    "PL": "波兰", "UA": "乌克兰", "NO": "挪威", "FI": "芬兰", "DK": "丹麦", "BE": "比利时", "AT": "奥地利",
    "PT": "葡萄牙", "GR": "希腊", "CZ": "捷克", "HU": "匈牙利", "CL": "智利", "CO": "哥伦比亚", "NG": "尼日利亚",
}
"""Display names of the countries buyers name most often (ISO codes elsewhere)."""

OUTLOOK_ZH: dict[str, str] = {
    "denial_presumed": "推定拒绝：许可证申请按推定拒绝（或拒绝政策）审查",
    "guidance": "指引：BIS 指引（并非许可要求）警告，交易该物项有违反第十条一般禁令（GP10）的风险；不适用任何许可例外",
    "approval_presumed": "推定批准：需要许可证，申请按推定批准审查",
    "not_granted_yet": "需要许可证，目前尚未获批",
    "classification_undetermined": "无法依据有来源的数据确定管制分类；按需要许可证处理",
    "case_by_case": "许可证逐案审查（附条件）",
    "nac_notification": "NAC 许可例外：出口前须通知 BIS；BIS 仍可要求许可证",
    "assured": "许可证已获保证并正在发放",
    "granted": "许可证已发放",
}
"""The licence outlooks of ``OUTLOOK_TEXT``, in Chinese (same keys)."""

OUTLOOK_SHORT_ZH: dict[str, str] = {
    "denial_presumed": "推定拒绝", "guidance": "GP10 指引", "approval_presumed": "推定批准",
    "not_granted_yet": "尚未获批", "classification_undetermined": "分类未定", "case_by_case": "逐案审查",
    "nac_notification": "NAC 通知", "assured": "已获保证", "granted": "已获批",
}

STATUS_ZH: dict[str, str] = {"chosen": "选中", "over budget": "超出预算", "misses deadline": "无法按期完成",
                             "blocked by policy": "被采购政策排除", "excluded": "被排除", "feasible": "可行但不是最优"}
"""Statuses of the considered options, in Chinese."""

VERDICT_ZH: dict[str, str] = {"allowed": "允许", "license_required": "需要许可证", "prohibited": "禁止"}


def country(code: str, lang: str) -> str:
    """A country code as the reader names it (Chinese names for the common ones; the code otherwise)."""
    return COUNTRY_ZH.get(code, code) if lang == "zh" else code


def outlook_text(outlook: str | None, lang: str) -> str:
    """The long description of a licence outlook."""
    if not outlook:
        return "前景未知" if lang == "zh" else "outlook unknown"
    table = OUTLOOK_ZH if lang == "zh" else OUTLOOK_TEXT
    return table.get(outlook, outlook.replace("_", " "))


def _outlook_short(outlook: str) -> str:
    return OUTLOOK_SHORT_ZH.get(outlook, outlook.replace("_", " "))


VENDOR_NAMES: dict[str, dict[str, str]] = {
    "en": {"nvidia": "NVIDIA", "amd": "AMD", "intel": "Intel", "huawei": "Huawei", "cambricon": "Cambricon",
           "hygon": "Hygon", "kunlunxin": "Kunlunxin", "t-head": "T-Head"},
    "zh": {"nvidia": "英伟达", "amd": "AMD", "intel": "英特尔", "huawei": "华为", "cambricon": "寒武纪",
           "hygon": "海光", "kunlunxin": "昆仑芯", "t-head": "平头哥"},
}
"""Vendor ids as a reader names them (an answer never shows ``t-head`` or ``kunlunxin``)."""


def vendor_name(vendor: str, lang: str) -> str:
    """A vendor id in the reader's words (the id itself when unknown)."""
    return VENDOR_NAMES["zh" if lang == "zh" else "en"].get(vendor, vendor)


def reason_text(why: Why | Mapping[str, Any] | None, fallback: str, lang: str) -> str:
    """The reason in ``lang``: the core's English sentence, or the Chinese one written from its code.

    English keeps the core's sentence, except the terse verdict line ("license_required (granted), risk premium
    5%"), which is written out in words.
    """
    if why is None:
        return fallback
    try:
        if not isinstance(why, Why):
            why = Why.model_validate(why)  # a plan read back from JSON
        if lang != "zh":
            return _verdict(why.args, "en") if why.code == "verdict" else fallback
        return _zh(why, fallback)
    except (KeyError, ValueError):  # a client-sent plan may carry a code without its values: keep its sentence
        return fallback


def _zh(why: Why, fallback: str) -> str:
    a = why.args
    code = why.code
    if code == "prohibited":
        detail = "；".join(x for x in (a.get("classification"), _outlook_short(a.get("outlook") or "")) if x)
        return f"{a['date']} 对{country(a['country'], 'zh')}买方禁售" + (f"（{detail}）" if detail else "")
    if code == "not_shipping":
        announced = f"{a['announced']} 发布，" if a.get("announced") else ""
        return f"{a['date']} 尚未批量出货（{announced}{a['from']} 起批量出货）"
    if code == "not_for_sale":
        until = f"至 {a['end']}" if a.get("end") else "，至今未恢复"
        return f"{a['date']} 不对{country(a['country'], 'zh')}买方销售（自 {a['start']} 起{until}）"
    if code == "not_released":
        return f"{a['date']} 尚未发布（{a['released']} 发布）"
    if code == "consumer_card":
        return "消费级显卡（并非为数据中心设计或销售），仅在 skus 中点名时才考虑"
    if code == "supply_zero":
        return f"{a['sku']} 的供应上限为 0"
    if code == "licence_held_back":
        return (f"需要许可证（{_outlook_short(a.get('outlook') or '') or '前景未知'}）；除非买方接受许可风险"
                "（--accept-license-risk），否则暂不采用")
    if code == "licence_excluded":
        return f"需要许可证（{_outlook_short(a.get('outlook') or '')}）；采购政策排除此类产品"
    if code == "restricted":  # a China-side measure bars the part for this buyer: the rule's month, not its text
        m = re.match(r"^(us|cn)-(\d{4})-(\d{2})", a.get("rule", ""))
        where = "中国" if not m or m.group(1) == "cn" else "美国"
        when = f" {m.group(2)}年{int(m.group(3))}月" if m else ""
        return f"受{where}{when}的采购措施限制，按买方政策暂不采用（详见引用来源）"
    if code == "screening_possible":
        who = "买方" if a.get("who") == "buyer" else "母公司"
        return (f"可能匹配，请核实：{who}“{a['given']}”与实体清单上的“{a['entity']}”相近（匹配“{a['matched']}”，"
                f"相似度 {a['score']}；{a['listed_on']} 列入，{a['notice']}）。出口前请确认法定名称和地址；"
                "一旦确认匹配，所有受 EAR 管辖的物项都需要许可证。")
    if code == "vendor_not_allowed":
        return f"厂商 {vendor_name(a['vendor'], 'zh')} 不在允许的厂商名单中"
    if code == "vendor_denied":
        return f"厂商 {vendor_name(a['vendor'], 'zh')} 被买方政策排除"
    if code == "verdict":
        return _verdict(a, "zh")
    if code == "no_price":
        return f"{a['sku']} 没有有来源的价格；可用 --catalog 补充价格后再计算"
    if code == "hbm_supply":
        return (f"{a['name']} 依赖 HBM；带宽密度高于 {a['density']} GB/s/mm² 的独立 HBM 受管制（3A090.c），"
                "而中国的先进芯片依赖进口 HBM，因此供应存在风险。")
    return fallback



_VERDICT_EN = {"allowed": "allowed", "license_required": "licence required", "prohibited": "prohibited"}
_VERDICT_WORDS = {"en": (" ({})", ", risk premium {}", ", fees {}"), "zh": ("（{}）", "，风险溢价 {}", "，费用 {}")}


def _verdict(a: dict[str, str], lang: str) -> str:
    """"licence required (granted), risk premium 5%, fees 15%" / "需要许可证（已获批），风险溢价 5%，费用 15%"."""
    zh = lang == "zh"
    outlook_w, premium_w, fees_w = _VERDICT_WORDS["zh" if zh else "en"]
    text = (VERDICT_ZH if zh else _VERDICT_EN).get(a["verdict"], a["verdict"])
    if a.get("outlook"):
        text += outlook_w.format(_outlook_short(a["outlook"]) if zh else a["outlook"].replace("_", " "))
    if a.get("premium"):
        text += premium_w.format(a["premium"])
    if a.get("fees"):
        text += fees_w.format(a["fees"])
    return text

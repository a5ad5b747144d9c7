"""Rules, classifications and warnings in words: short rule names and Chinese summaries (no raw identifiers)."""

from __future__ import annotations

import re
from typing import Any

from service.agent.parse import Lang
from service.presenters.reasons import outlook_text, reason_text
from service.usecases import ComplianceResult

_JURISDICTION_ZH = {"US": "美国", "CN": "中国"}
_EFFECT_ZH = {"prohibited": "禁止", "license_required": "需要许可证", "warning": "风险提示", "cost_adder": "额外费用",
              "classification": "分类", "outlook_change": "许可前景变化"}
_CLASS_ZH = {"not_controlled": "不属于 3A090 管制范围", "not_subject_to_ear": "不受美国 EAR 管辖",
             "ear99": "EAR99（一般不需许可证）"}
_SEVERITY_ZH = {"info": "提示", "caution": "注意", "warning": "警示", "high": "高风险"}


def rule_name(rule_id: str, jurisdiction: str, lang: Lang) -> str:
    """A rule's short name from its id: ``us-2023-10-3a090`` → "US rule of 2023-10 (3A090)", "美国 2023年10月规则"."""
    if "entity-list" in rule_id:
        return "美国实体清单" if lang == "zh" else "US Entity List"
    m = re.match(r"^(?:us|cn)-(\d{4})-(\d{2})(?:-\d{2})?-?(.*)$", rule_id)
    if not m:
        return rule_id
    year, month, rest = m.groups()
    code = re.search(r"3a\d{3}(?:\.[a-z])?", rest)
    tag = code.group(0).upper() if code else ""
    if lang == "zh":
        where = _JURISDICTION_ZH.get(jurisdiction, jurisdiction)
        return f"{where} {year}年{int(month)}月规则" + (f"（{tag}）" if tag else "")
    return f"{jurisdiction} rule of {year}-{month}" + (f" ({tag})" if tag else "")


def classification_text(value: str, lang: Lang) -> str:
    """A classification in words (never ``not_controlled``)."""
    if lang == "zh":
        return _CLASS_ZH.get(value, value.replace("_", " "))
    return value.replace("_", " ")


def warning_text(w: Any, lang: Lang) -> str:
    """A warning in the answer's language: the core's sentence, or a Chinese one from its code or rule."""
    text = reason_text(w.why, w.text.strip(), lang)
    if lang == "zh" and (not _CJK.search(text) or _mostly_latin(text)):  # English, even quoting a Chinese name
        jurisdiction = "CN" if w.rule_id.startswith("cn-") else "US"
        severity = _SEVERITY_ZH.get(str(w.severity), "提示")
        return f"{rule_name(w.rule_id, jurisdiction, lang)}：{severity}（详见引用来源）"
    return text


_CJK = re.compile(r"[\u4e00-\u9fff]")
_EN_WORD = re.compile(r"\b[a-z]{2,}\b")  # lower-case words: names and codes (HBM, Ascend, TPP) do not count


def _mostly_latin(text: str) -> bool:
    """A sentence in English: several lower-case English words, more of their letters than Chinese characters."""
    words = _EN_WORD.findall(text)
    return len(words) >= 4 and sum(map(len, words)) > len(_CJK.findall(text))


def reason_zh(rule: Any, r: ComplianceResult) -> str:
    """One rule of a check as a Chinese summary (its name, effect and outlook; the classification with its TPP)."""
    name = rule_name(rule.rule_id, rule.jurisdiction, "zh")
    if rule.effect == "classification":
        tpp = f"TPP {r.tpp:,.0f}" if r.tpp is not None else ""
        return f"{name}：{classification_text(r.classification, 'zh')}" + (f"（{tpp}）" if tpp else "")
    outlook = outlook_text(rule.outlook, "zh") if rule.outlook else ""
    return f"{name}：{_EFFECT_ZH.get(rule.effect, rule.effect)}" + (f"（{outlook}）" if outlook else "")

"""China-side measures: purchase guidance and domestic-only rules for buyers in China."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optimizer.compliance.registry import rule_kind
from optimizer.compliance.schema import Rule
from optimizer.compliance.state import EvalState, applies, warn

if TYPE_CHECKING:
    from optimizer.compliance.engine import ComplianceEngine


@rule_kind("cn_guidance", order=150, needs=("severity",))
def _eval_cn_guidance(engine: ComplianceEngine, rule: Rule, st: EvalState) -> None:
    """Guidance against buying named parts or vendors (or parts matching ``applies_to``), for buyers in China."""
    if not engine.dest(rule, st, located_only=True):
        return
    named = st.acc.id in rule.skus or st.acc.vendor in rule.vendors
    if not (named or (rule.applies_to is not None and not rule.skus and not rule.vendors)) or not applies(rule, st):
        return
    warn(st, rule, rule.severity_for(st.buyer.kind))


@rule_kind("cn_domestic_only", order=160, needs=("severity",))
def _eval_cn_domestic(engine: ComplianceEngine, rule: Rule, st: EvalState) -> None:
    """Domestic-only rules for some buyer kinds (state-funded data centres)."""
    if st.acc.domestic_china or st.buyer.kind not in rule.buyer_kinds:
        return
    if not engine.dest(rule, st, located_only=True):
        return
    warn(st, rule, rule.severity_for(st.buyer.kind), f"{rule.text} {st.acc.name} is a foreign part.")

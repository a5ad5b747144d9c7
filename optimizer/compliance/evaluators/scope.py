"""Evaluators that decide who is reached: headquarters in a listed group, embargoed destinations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optimizer.compliance.registry import rule_kind
from optimizer.compliance.results import OUTLOOK_TEXT
from optimizer.compliance.schema import Rule
from optimizer.compliance.state import EvalState, firing

if TYPE_CHECKING:
    from optimizer.compliance.engine import ComplianceEngine


@rule_kind("headquarters_rule", order=10)
def _eval_hq(engine: ComplianceEngine, rule: Rule, st: EvalState) -> None:
    """A buyer headquartered in the rule's group is treated as if located there."""
    if st.hq_d5 and engine.hq_applies(rule, st.buyer):
        st.firings.append(
            firing(
                rule,
                effect="classification",
                arithmetic=(
                    f"buyer located in {st.buyer.country}, headquartered in {st.buyer.headquarters_country} "
                    f"({', '.join(engine.country_groups(st.buyer.headquarters_country, st.buyer.on))})",
                ),
                text="US licence requirements for D:5/Macau apply as if the buyer were located there",
            )
        )


@rule_kind("embargo", order=20, needs=("effect",))
def _eval_embargo(engine: ComplianceEngine, rule: Rule, st: EvalState) -> None:
    """Embargoed or sanctioned destinations: every accelerator is prohibited."""
    if not engine.dest(rule, st, located_only=True):
        return
    line, src = engine.membership(rule, st)
    st.firings.append(
        firing(
            rule,
            src,
            effect=rule.effect or "prohibited",
            outlook=rule.outlook,
            arithmetic=(line,),
            text=f"embargoed or sanctioned destination: {OUTLOOK_TEXT[rule.outlook or 'denial_presumed']}",
        )
    )

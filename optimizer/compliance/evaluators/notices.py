"""Warnings that do not change the verdict (notices, HBM supply) and the GP10 guidance on PRC chips."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optimizer.compliance.params import HbmParams
from optimizer.compliance.registry import rule_kind
from optimizer.compliance.schema import Rule
from optimizer.compliance.state import EvalState, applies, firing, warn
from optimizer.reasons import Why

if TYPE_CHECKING:
    from optimizer.compliance.engine import ComplianceEngine


@rule_kind("notice", order=120, needs=("severity",))
def _eval_notice(engine: ComplianceEngine, rule: Rule, st: EvalState) -> None:
    """A dated notice shown as a warning for the parts, destinations and shipping routes it concerns."""
    if not applies(rule, st):
        return
    if rule.destinations is not None and not engine.dest(rule, st):
        return
    if rule.exempt_destinations is not None and engine.in_group(rule, rule.exempt_destinations, st.buyer.country,
                                                                 st.buyer.on):
        return
    if not engine.via(rule, st):
        return
    warn(st, rule, rule.severity_for(st.buyer.kind))


@rule_kind("gp10_guidance", order=130, needs=("effect", "severity"))
def _eval_gp10(engine: ComplianceEngine, rule: Rule, st: EvalState) -> None:
    """May-2025 GP10 guidance: 3A090-level PRC chips bought outside China."""
    acc, on = st.acc, st.buyer.on
    named = acc.id in rule.skus
    if not (named or engine.in_group(rule, rule.developed_in, acc.country_of_origin, on)):
        return
    if engine.in_group(rule, rule.exempt_destinations, st.buyer.country, on):
        return
    tier = st.equivalent_tier
    lines = [f"{acc.name} is designed by {acc.vendor} in {acc.country_of_origin}; buyer located in {st.buyer.country}"]
    lines += [f"{ln} (3A090 tests applied to a non-US part)" if i == 0 else ln
              for i, ln in enumerate(st.equivalent_lines)]
    if named:
        lines.append(f"{acc.name} is named in the guidance")
    if named or (tier or "").startswith("3A090"):
        st.firings.append(
            firing(
                rule,
                effect=rule.effect or "prohibited",
                outlook=rule.outlook,
                arithmetic=tuple(lines),
                text=f"{tier or '3A090'}-level PRC IC bought outside China: {rule.text}",
            )
        )
    elif tier == "not_controlled":
        st.firings.append(
            firing(rule, effect="classification", arithmetic=tuple(lines),
                    text="below the 3A090 level: the GP10 guidance does not apply")
        )
    else:
        warn(
            st,
            rule,
            rule.severity_for(st.buyer.kind),
            f"{acc.name}: 3A090 level cannot be determined from sourced data, so the May-2025 GP10 guidance on PRC "
            f"advanced ICs may apply to a buyer in {st.buyer.country}.",
        )


@rule_kind("hbm_supply", order=140, params=HbmParams)
def _eval_hbm(engine: ComplianceEngine, rule: Rule, st: EvalState) -> None:
    """Dec-2024 HBM control: supply risk for Chinese parts built on imported HBM."""
    if st.subject or not (st.acc.memory_type or "").upper().startswith("HBM") or st.acc.country_of_origin != "CN":
        return
    p: HbmParams = rule.params
    warn(
        st,
        rule,
        "caution",
        f"{st.acc.name} relies on HBM; standalone HBM above {p.density_gbps_per_mm2} GB/s/mm² is controlled "
        "(3A090.c) and PRC advanced ICs rely on imported HBM, so supply is at risk.",
        why=Why(code="hbm_supply", args={"name": st.acc.name, "density": f"{p.density_gbps_per_mm2}"}),
    )

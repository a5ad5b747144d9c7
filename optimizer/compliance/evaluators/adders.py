"""Fees and tariffs added to the purchase price."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optimizer.compliance.params import FractionParams, TariffParams
from optimizer.compliance.registry import rule_kind
from optimizer.compliance.results import CostAdder
from optimizer.compliance.schema import Rule
from optimizer.compliance.state import EvalState, firing

if TYPE_CHECKING:
    from optimizer.compliance.engine import ComplianceEngine


@rule_kind("cost_adder", order=100, params=FractionParams)
def _eval_cost_adder(engine: ComplianceEngine, rule: Rule, st: EvalState) -> None:
    """A fee (revenue share) as a fraction of the price for named parts and destinations."""
    if st.acc.id not in rule.skus or not engine.dest(rule, st):
        return
    p: FractionParams = rule.params
    st.adders.append(
        CostAdder(rule_id=rule.id, fraction=p.fraction, text=rule.text or rule.title, citations=rule.citations)
    )
    st.firings.append(
        firing(rule, effect="cost_adder", fee_fraction=p.fraction, text=f"{p.fraction:.0%} added to the price")
    )


@rule_kind("tariff_band", order=110, params=TariffParams)
def _eval_tariff(engine: ComplianceEngine, rule: Rule, st: EvalState) -> None:
    """A tariff for parts whose TPP and DRAM bandwidth fall in one of the bands."""
    m = st.metrics
    if not st.subject or m.tpp is None or m.dram_gbps is None or not engine.dest(rule, st):
        return
    p: TariffParams = rule.params
    for band in p.bands:
        if band.tpp_min <= m.tpp <= band.tpp_max and band.dram_gbps_min <= m.dram_gbps <= band.dram_gbps_max:
            line = (
                f"TPP {m.tpp:.0f} in {band.tpp_min:.0f}–{band.tpp_max:.0f} and DRAM {m.dram_gbps:.0f} GB/s in "
                f"{band.dram_gbps_min:.0f}–{band.dram_gbps_max:.0f} GB/s"
            )
            st.adders.append(
                CostAdder(rule_id=rule.id, fraction=p.fraction, text=rule.text or rule.title, citations=rule.citations)
            )
            st.firings.append(
                firing(
                    rule,
                    effect="cost_adder",
                    fee_fraction=p.fraction,
                    arithmetic=(line,),
                    text=f"{p.fraction:.0%} tariff added to the price",
                )
            )
            return

"""Licence letters and the rules that change their outlook: is-informed letters, case-by-case, outlook changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optimizer.compliance.params import CaseByCaseParams
from optimizer.compliance.registry import rule_kind
from optimizer.compliance.results import OUTLOOK_TEXT
from optimizer.compliance.schema import Rule
from optimizer.compliance.state import EvalState, firing, fmt, replace_firing, warn

if TYPE_CHECKING:
    from optimizer.compliance.engine import ComplianceEngine


@rule_kind("is_informed", order=50, needs=("effect",))
def _eval_is_informed(engine: ComplianceEngine, rule: Rule, st: EvalState) -> None:
    """An 'is-informed' letter naming parts (and parts equivalent by bandwidth) for some destinations."""
    named = st.acc.id in rule.skus
    lines: list[str] = []
    if not named:
        if not (rule.equivalent_to and st.subject and st.acc.datacenter):
            return
        if st.classification.startswith("3A090"):
            return  # already controlled by the ECCN; the letter targets parts that escape it
        ref = engine.catalog.accelerators[rule.equivalent_to]
        ref_bw, ref_link = ref.memory_bandwidth_tbps.value, ref.intra_node_link_gbps.value
        bw, link = st.acc.memory_bandwidth_tbps.value, st.acc.intra_node_link_gbps.value
        hit_bw = bw is not None and ref_bw is not None and bw >= ref_bw
        hit_link = link is not None and ref_link is not None and link >= ref_link
        if not (hit_bw or hit_link):
            return
        if hit_bw:
            lines.append(f"memory bandwidth {bw} TB/s ≥ {ref.name}'s {ref_bw} TB/s")
        if hit_link:
            lines.append(f"interconnect {link:.0f} GB/s ≥ {ref.name}'s {ref_link:.0f} GB/s")
    else:
        lines.append(f"{st.acc.name} is named in the letter")
    if not engine.dest(rule, st) or rule.effect is None:
        return
    if named:
        # The letter names the part, so it governs where the ECCN tests could not classify it.
        st.firings = [f for f in st.firings if f.outlook != "classification_undetermined"]
    st.firings.append(
        firing(
            rule,
            effect=rule.effect,
            outlook=rule.outlook,
            arithmetic=tuple(lines),
            text=f"licence required for {st.buyer.country}: {OUTLOOK_TEXT[rule.outlook or 'not_granted_yet']}",
        )
    )


@rule_kind("case_by_case_review", order=60, params=CaseByCaseParams, needs=("modifies", "outlook"))
def _eval_case_by_case(engine: ComplianceEngine, rule: Rule, st: EvalState) -> None:
    """Moves a presumption of denial to case-by-case review for parts under the limits."""
    target = next((f for f in st.firings if f.rule_id == rule.modifies and f.effect == "prohibited"), None)
    if target is None:
        return
    p: CaseByCaseParams = rule.params
    m = st.metrics
    lines = [
        f"TPP {fmt(m.tpp)} {'<' if (m.tpp or 1e12) < p.tpp_below else '≥'} {p.tpp_below:.0f}",
        f"DRAM bandwidth {fmt(m.dram_gbps)} GB/s {'<' if (m.dram_gbps or 1e12) < p.dram_gbps_below else '≥'} "
        f"{p.dram_gbps_below:.0f} GB/s",
    ]
    eligible = m.tpp is not None and m.tpp < p.tpp_below and m.dram_gbps is not None and m.dram_gbps < p.dram_gbps_below
    if rule.requires_us_commercial_availability:
        sold = st.acc.us_commercially_available
        lines.append({True: "sold commercially in the US", False: "not sold commercially in the US",
                      None: "US commercial availability not sourced"}[sold])
        eligible = eligible and bool(sold)
    located = engine.dest(rule, st, located_only=True)
    if not located:
        lines.append(f"buyer not located in the eligible destinations ({st.buyer.country})")
        eligible = False
    via = st.buyer.via_country
    if p.reexport_denial and via is not None and via != "US":
        lines.append(f"shipped from abroad (re-export or trans-shipment via {via}): presumption of denial kept")
        eligible = False
    if eligible and p.conditions:
        lines.append("conditions: " + "; ".join(p.conditions))
    if eligible:
        replace_firing(
            st,
            target,
            target.model_copy(
                update={
                    "effect": "license_required",
                    "outlook": rule.outlook,
                    "text": f"{st.classification} to {st.buyer.country}: reviewed case by case under the Jan-2026 rule",
                }
            ),
        )
        st.firings.append(
            firing(
                rule,
                effect="outlook_change",
                outlook=rule.outlook,
                arithmetic=tuple(lines),
                text=rule.text or "case-by-case review",
            )
        )
        if p.volume_cap:
            warn(st, rule, "caution", f"{st.acc.name}: {p.volume_cap}.")
    else:
        st.firings.append(
            firing(
                rule,
                effect="classification",
                arithmetic=tuple(lines),
                text="not eligible for case-by-case review; presumption of denial remains",
            )
        )


@rule_kind("outlook_change", order=70, needs=("modifies", "outlook"))
def _eval_outlook(engine: ComplianceEngine, rule: Rule, st: EvalState) -> None:
    """Changes the licence outlook of a letter's firing (assured, granted)."""
    if st.acc.id not in rule.skus:
        return
    target = next(
        (f for f in st.firings if f.rule_id == rule.modifies and f.effect in ("license_required", "prohibited")), None
    )
    if target is None or rule.outlook is None:
        return
    replace_firing(
        st,
        target,
        target.model_copy(
            update={
                "outlook": rule.outlook,
                "text": f"licence required for {st.buyer.country}: {OUTLOOK_TEXT[rule.outlook]}",
            }
        ),
    )
    st.firings.append(
        firing(rule, effect="outlook_change", outlook=rule.outlook, text=rule.text or OUTLOOK_TEXT[rule.outlook])
    )

"""The 3A090 classification rules: Oct-2022 (TPP and I/O) and Oct-2023 (TPP and performance density tiers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optimizer.compliance.metrics import ChipMetrics
from optimizer.compliance.params import Params2022, Params2023
from optimizer.compliance.registry import rule_kind
from optimizer.compliance.results import OUTLOOK_TEXT
from optimizer.compliance.schema import Rule
from optimizer.compliance.state import EvalState, firing

if TYPE_CHECKING:
    from optimizer.compliance.engine import ComplianceEngine


def classify_2023(p: Params2023, m: ChipMetrics, datacenter: bool) -> tuple[str, list[str]]:
    """Apply the Oct-2023 3A090 tests; return (classification, arithmetic lines)."""
    tpp, pd = m.tpp, m.pd
    if tpp is None:
        return "undetermined", ["TPP unknown (dense throughput not sourced)"]
    lines = [f"TPP = {m.tpp_text().removeprefix('TPP ')} ({m.precision} dense peak × bit length)"]
    if not datacenter and tpp < p.a1_tpp:
        lines.append(f"not designed for datacenters and TPP {tpp:.0f} < {p.a1_tpp:.0f} (Note 2) → 3A090 does not apply")
        return "not_controlled", lines
    if tpp >= p.a1_tpp:
        lines.append(f"TPP {tpp:.0f} ≥ {p.a1_tpp:.0f} (a.1)")
        return "3A090.a", lines
    if tpp < min(p.a2_tpp, p.b2_tpp, p.b1_tpp_low):
        lines.append(f"TPP {tpp:.0f} < {min(p.a2_tpp, p.b2_tpp):.0f} → below every 3A090 tier")
        return "not_controlled", lines
    if pd is None:
        lines.append(f"TPP {tpp:.0f} ≥ {p.a2_tpp:.0f} but performance density unknown (die area not sourced)")
        return "undetermined", lines
    lines.append(f"PD = {tpp:.0f} / {m.die_area_mm2:.2f} mm² = {pd:.2f}")
    if tpp >= p.a2_tpp and pd >= p.a2_pd:
        lines.append(f"TPP {tpp:.0f} ≥ {p.a2_tpp:.0f} and PD {pd:.2f} ≥ {p.a2_pd} (a.2)")
        return "3A090.a", lines
    lines.append(f"TPP {tpp:.0f} < {p.a1_tpp:.0f} and PD {pd:.2f} < {p.a2_pd} → not 3A090.a")
    b1 = p.b1_tpp_low <= tpp < p.a1_tpp and p.b1_pd_low <= pd < p.a2_pd
    b2 = tpp >= p.b2_tpp and p.b2_pd_low <= pd < p.a2_pd
    if b1 or b2:
        which = "b.1" if b1 else "b.2"
        lines.append(f"meets 3A090.{which}")
        return "3A090.b", lines
    b1_text = f"TPP {tpp:.0f} < {p.b1_tpp_low:.0f}" if tpp < p.b1_tpp_low else f"PD {pd:.2f} < {p.b1_pd_low}"
    lines.append(f"b.1 fails ({b1_text}); b.2 fails (PD {pd:.2f} < {p.b2_pd_low}) → outside 3A090")
    return "not_controlled", lines


# ---------------------------------------------------------------------- evaluators (one per kind)


@rule_kind("eccn_3a090_2022", order=30, params=Params2022, needs=("effect",))
def _eval_2022(engine: ComplianceEngine, rule: Rule, st: EvalState) -> None:
    """Oct-2022 3A090: TPP ≥ 4800 AND chip-to-chip I/O ≥ 600 GB/s, to the rule's destinations."""
    if not st.subject:
        return
    p: Params2022 = rule.params
    m = st.metrics
    if m.tpp is None:
        st.classification, lines, controlled = "undetermined", ["TPP unknown"], False
    elif m.tpp < p.tpp_min:
        st.classification, controlled = "not_controlled", False
        lines = [f"TPP {m.tpp:.0f} < {p.tpp_min:.0f}"]
    elif m.io_gbps is None:
        st.classification, controlled = "undetermined", False
        lines = [f"TPP {m.tpp:.0f} ≥ {p.tpp_min:.0f} but chip-to-chip I/O unknown"]
    elif m.io_gbps < p.io_gbps_min:
        st.classification, controlled = "not_controlled", False
        lines = [
            f"TPP {m.tpp:.0f} ≥ {p.tpp_min:.0f} but I/O {m.io_gbps:.0f} GB/s < {p.io_gbps_min:.0f} GB/s (both needed)"
        ]
    else:
        st.classification, controlled = "3A090.a", True
        lines = [f"TPP {m.tpp:.0f} ≥ {p.tpp_min:.0f} and I/O {m.io_gbps:.0f} GB/s ≥ {p.io_gbps_min:.0f} GB/s"]
    dest = engine.dest(rule, st)
    if controlled and dest and rule.effect:
        st.firings.append(
            firing(
                rule,
                effect=rule.effect,
                outlook=rule.outlook,
                arithmetic=tuple(lines),
                text=f"3A090 item; licence required for {st.buyer.country}, reviewed under a presumption of denial",
            )
        )
    else:
        outcome = "controlled, but no licence requirement for this destination" if controlled else "not controlled"
        if st.classification == "undetermined":
            outcome = "classification undetermined"
        st.firings.append(firing(rule, effect="classification", arithmetic=tuple(lines), text=outcome))
        if st.classification == "undetermined" and dest:
            st.firings.append(
                firing(
                    rule,
                    effect="license_required",
                    outlook="classification_undetermined",
                    arithmetic=tuple(lines),
                    text="cannot rule out 3A090 from sourced data",
                )
            )


@rule_kind("eccn_3a090_2023", order=40, params=Params2023, needs=("effect",))
def _eval_2023(engine: ComplianceEngine, rule: Rule, st: EvalState) -> None:
    """Oct-2023 3A090.a/.b tiers, with the review policy of the buyer's destination group."""
    if not st.subject or (rule.skus and st.acc.id not in rule.skus):
        return
    p: Params2023 = rule.params
    tier, lines = classify_2023(p, st.metrics, st.acc.datacenter)
    st.classification = tier
    review = engine.review(rule, st)
    c = st.buyer.country
    if review is None or tier == "not_controlled":
        scope = engine.groups[f"{rule.jurisdiction}:{rule.destinations}"].title if rule.destinations else None
        text = {
            "not_controlled": "not controlled under 3A090",
            "undetermined": "classification undetermined",
        }.get(tier, f"{tier} item; no licence requirement for {c}" + (f" (outside {scope})" if scope else ""))
        if review is None and tier != "not_controlled":
            lines = [*lines, engine.membership_line(rule, st)]
        st.firings.append(firing(rule, effect="classification", arithmetic=tuple(lines), text=text))
        return
    member_line, member_src = engine.membership(rule, st)
    lines = [*lines, member_line]
    if tier == "undetermined":
        st.firings.append(
            firing(
                rule,
                effect="license_required",
                outlook="classification_undetermined",
                arithmetic=tuple(lines),
                text="cannot rule out 3A090 from sourced data; treat as licence-required",
            )
        )
        return
    if tier == "3A090.a" and st.acc.datacenter:
        st.firings.append(
            firing(
                rule,
                member_src,
                effect=review.effect,
                outlook=review.outlook,
                arithmetic=tuple(lines),
                text=f"3A090.a to {c}: licence required, {OUTLOOK_TEXT[review.outlook]}",
            )
        )
        return
    reason = "not designed for datacenters, TPP ≥ 4800" if tier == "3A090.a" else "3A090.b datacenter item"
    if review.effect == "prohibited":
        st.firings.append(
            firing(
                rule,
                member_src,
                effect="license_required",
                outlook="nac_notification",
                arithmetic=tuple(lines),
                text=f"{tier} ({reason}): License Exception NAC with prior notification to BIS",
            )
        )
        return
    st.firings.append(
        firing(
            rule,
            member_src,
            effect="classification",
            arithmetic=tuple(lines),
            text=(
                f"{tier} ({reason}): eligible for License Exception NAC without notification for {c} "
                "(License Exception ACA from 2024-04-04); no individual licence needed"
            ),
        )
    )

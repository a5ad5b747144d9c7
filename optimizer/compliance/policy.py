"""Buyer policy applied to a verdict: may the part be recommended, and at what risk premium?"""

from __future__ import annotations

from optimizer.compliance.results import BuyerPolicy, ComplianceResult, PolicyDecision
from optimizer.reasons import Why


def decide(vendor: str, result: ComplianceResult, policy: BuyerPolicy) -> PolicyDecision:
    """The policy decision for a part of ``vendor`` with this verdict."""
    if result.verdict == "prohibited":
        return PolicyDecision(admissible=False, reason=f"prohibited: {result.reasons[0] if result.reasons else ''}")
    if policy.vendor_allow is not None and vendor not in policy.vendor_allow:
        return PolicyDecision(admissible=False, reason=f"vendor {vendor} is not in the allowed vendors",
                              why=Why(code="vendor_not_allowed", args={"vendor": vendor}))
    if vendor in policy.vendor_deny:
        return PolicyDecision(admissible=False, reason=f"vendor {vendor} is denied by the buyer policy",
                              why=Why(code="vendor_denied", args={"vendor": vendor}))
    restrictive = [w for w in result.warnings if w.severity == "restrictive"]
    if restrictive and not policy.allow_restricted:
        return PolicyDecision(admissible=False, reason=f"restricted: {restrictive[0].text}",
                              why=Why(code="restricted", args={"rule": restrictive[0].rule_id}))
    premium = 0.0
    reason = "allowed"
    if result.verdict == "license_required":
        if policy.license_required == "exclude":
            return PolicyDecision(
                admissible=False, reason=f"licence required ({result.license_outlook}); policy excludes such parts",
                why=Why(code="licence_excluded", args={"outlook": result.license_outlook or ""}),
            )
        if policy.license_required == "allow_with_risk_premium" and result.license_outlook is not None:
            premium = policy.risk_premium.get(result.license_outlook, 0.0)
        reason = f"licence required ({result.license_outlook}); risk premium {premium:.0%}"
    if any(w.severity == "caution" for w in result.warnings):
        premium += policy.caution_premium
    return PolicyDecision(admissible=True, premium=premium, reason=reason)


__all__ = ["decide"]

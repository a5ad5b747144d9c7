"""Entity screening: a listed buyer (Entity List) and a buyer owned by a listed party (Affiliates rule).

A buyer whose name equals a listed party's name, alias or Chinese name after normalisation needs a licence for
every item subject to the EAR, reviewed under the listing's policy (a presumption of denial): the verdict is
``prohibited`` with the Federal Register notice cited. A name that is only similar is a *possible* match: a
caution that says "possible match — verify", never a verdict either way. The Affiliates rule reaches a buyer
whose named parent is listed while the rule is in force; during its suspension the buyer gets a caution, and
after the last day its status is known the verdict follows the rule's own terms with the unknown stated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optimizer.compliance.params import ScreeningParams
from optimizer.compliance.registry import rule_kind
from optimizer.compliance.results import Screening, ScreeningMatch
from optimizer.compliance.schema import Rule
from optimizer.compliance.screening import NameHit, ScreeningPack
from optimizer.compliance.state import EvalState, firing, warn
from optimizer.reasons import Why

if TYPE_CHECKING:
    from optimizer.compliance.engine import ComplianceEngine


def _threshold(rule: Rule) -> float:
    p = rule.params
    return p.possible_match_score if isinstance(p, ScreeningParams) else ScreeningParams().possible_match_score


def _match(pack: ScreeningPack, st: EvalState, query: str, given: str, hit: NameHit) -> ScreeningMatch:
    e = hit.entity
    notice = pack.notices[e.notice]
    listed = pack.listed_on(e)
    return ScreeningMatch(
        query=query,  # type: ignore[arg-type]
        given=given, entity_id=e.id, entity=e.name, matched=hit.matched, match=hit.match, score=hit.score,
        listed_on=listed, in_force=listed <= st.buyer.on, notice=notice.label(),
        license_requirement=e.license_requirement, review_policy=e.review_policy,
        citations=tuple(dict.fromkeys((*notice.source, *e.source))),
    )


def _record(st: EvalState, m: ScreeningMatch) -> None:
    if not any(x.query == m.query and x.entity_id == m.entity_id for x in st.matches):
        st.matches.append(m)


def _hits(engine: ComplianceEngine, rule: Rule, st: EvalState, query: str, given: str | None
          ) -> list[ScreeningMatch]:
    """Matches and possible matches of one given name; possible ones are recorded and cautioned here."""
    pack = engine.screening
    if pack is None or not given:
        return []
    out = []
    for hit in engine.screen_hits(given, _threshold(rule)):
        m = _match(pack, st, query, given, hit)
        _record(st, m)
        if m.match == "possible":
            _possible(st, rule, m, "buyer" if query == "buyer_name" else "parent")
        else:
            out.append(m)
    return out


def _possible(st: EvalState, rule: Rule, m: ScreeningMatch, who: str) -> None:
    warn(st, rule, "caution",
         f"possible match — verify: {who} {m.given!r} resembles Entity List party {m.entity!r} (matched "
         f"{m.matched!r}, similarity {m.score:.2f}; listed {m.listed_on}, {m.notice}). Confirm the legal name and "
         "address before any export; a confirmed match needs a licence for all items subject to the EAR.",
         why=Why(code="screening_possible", args={"who": who, "given": m.given, "entity": m.entity,
                                                   "matched": m.matched, "score": f"{m.score:.2f}",
                                                   "listed_on": str(m.listed_on), "notice": m.notice}),
         extra_citations=m.citations)


@rule_kind("entity_list", order=80, params=ScreeningParams, needs=("effect", "outlook"))
def _eval_entity_list(engine: ComplianceEngine, rule: Rule, st: EvalState) -> None:
    """A buyer named on the Entity List needs a licence for every item subject to the EAR."""
    name = st.buyer.name or ""
    for m in _hits(engine, rule, st, "buyer_name", name):
        if not m.in_force:
            warn(st, rule, "info", f"buyer {name!r} matches {m.entity!r}, listed only from {m.listed_on} ({m.notice})",
                 extra_citations=m.citations)
            continue
        line = (f"buyer {name!r} = listed party {m.entity!r} ({m.match.replace('_', ' ')} {m.matched!r}), "
                f"listed {m.listed_on}: {m.notice}")
        if st.subject:
            st.firings.append(firing(
                rule, m.citations, effect=rule.effect, outlook=rule.outlook, arithmetic=(line,),
                text=f"Entity List: licence required for {m.license_requirement}, {m.review_policy}"))
        else:
            warn(st, rule, "caution",
                 f"buyer is on the Entity List ({m.entity}, {m.notice}); {st.acc.name} is not US-origin, but foreign-"
                 "made items can still be subject to the EAR (foreign-direct-product rules are not decided here)",
                 extra_citations=m.citations)


@rule_kind("affiliates_rule", order=90, params=ScreeningParams, needs=("effect", "outlook"))
def _eval_affiliates(engine: ComplianceEngine, rule: Rule, st: EvalState) -> None:
    """Entity List restrictions reach a buyer owned 50 % or more by a listed party (its named parent)."""
    parent = st.buyer.parent or ""
    on = st.buyer.on
    for m in _hits(engine, rule, st, "buyer_parent", parent):
        if not m.in_force:
            continue
        line = (f"parent {parent!r} = listed party {m.entity!r}, listed {m.listed_on} ({m.notice}); a named parent "
                "is taken to own 50 % or more of the buyer (verify the ownership)")
        if on < rule.effective_from:
            st.affiliates = "not_yet_in_force"
            warn(st, rule, "caution",
                 f"{line}. Before {rule.effective_from} an unlisted subsidiary was not itself restricted, but "
                 "shipments to it were a red flag for diversion to its listed parent.", extra_citations=m.citations)
            continue
        suspension = rule.suspended(on)
        if suspension is not None:
            st.affiliates = "suspended"
            warn(st, rule, "caution",
                 f"{line}. The Affiliates rule is suspended from {suspension.since} to {suspension.until}; "
                 f"absent an extension it applies again from the day after.",
                 extra_citations=(*m.citations, *suspension.source))
            continue
        unknown = rule.status_unknown(on)
        st.affiliates = "status_unknown" if unknown else "in_force"
        if unknown:
            text = (f"whether the Affiliates rule's suspension was extended after {rule.status_unknown_after} is "
                    "unconfirmed; by its own terms it applies again from the next day")
            if text not in st.unknowns:
                st.unknowns.append(text)
        if st.subject:
            st.firings.append(firing(
                rule, m.citations, effect=rule.effect, outlook=rule.outlook, arithmetic=(line,),
                text=("Affiliates rule: the parent's Entity List licence requirement extends to the buyer"
                      + (f" (status after {rule.status_unknown_after} unconfirmed)" if unknown else ""))))
        else:
            warn(st, rule, "caution",
                 f"{line}; {st.acc.name} is not US-origin (foreign-direct-product status is not decided here)",
                 extra_citations=m.citations)


def summarise(engine: ComplianceEngine, st: EvalState) -> Screening:
    """The screening result of one check: status, matches, the Affiliates rule's state and the list's date."""
    b = st.buyer
    if not (b.name or b.parent):
        return Screening(status="not_screened", text="no buyer name given; not screened")
    pack = engine.screening
    as_of = next((p.as_of for p in engine.packs if p.name == "screening"), None)
    if pack is None:
        return Screening(status="not_screened", buyer_name=b.name, buyer_parent=b.parent,
                         text="no screening list is loaded")
    matches = tuple(st.matches)
    firm = [m for m in matches if m.match != "possible" and m.in_force]
    if any(m.query == "buyer_name" for m in firm):
        status = "listed"
    elif any(m.query == "buyer_parent" for m in firm):
        status = "affiliate"
    elif any(m.match == "possible" for m in matches):
        status = "possible_match"
    else:
        status = "clear"
    text = {
        "listed": "the buyer is on the Entity List",
        "affiliate": "the buyer's parent is on the Entity List (Affiliates rule)",
        "possible_match": "possible match — verify before any export",
        "clear": f"no match among {len(pack.entities)} listed parties",
    }[status]
    return Screening(status=status, buyer_name=b.name, buyer_parent=b.parent,  # type: ignore[arg-type]
                     matches=matches, affiliates_rule=st.affiliates, list_as_of=as_of,  # type: ignore[arg-type]
                     text=text)


__all__ = ["summarise"]

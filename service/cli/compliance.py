"""``procure compliance``: export-control verdicts."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from service import usecases
from service.cli._common import CatalogOpt, JsonOpt, console, context, emit_json

app = typer.Typer(help="Check export-control rules for an accelerator, buyer and date.", no_args_is_help=True)


class BuyerKindChoice(StrEnum):
    """Buyer kinds accepted on the command line."""

    commercial = "commercial"
    state_funded = "state_funded"


@app.command("check")
def check(
    sku: Annotated[str, typer.Argument(help="Accelerator id or alias.")],
    buyer_country: Annotated[str, typer.Option("--buyer-country", help="ISO 3166-1 alpha-2 code, e.g. CN, DE.")],
    on: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: today).")] = None,
    buyer_kind: Annotated[BuyerKindChoice, typer.Option("--buyer-kind")] = BuyerKindChoice.commercial,
    headquarters: Annotated[
        str | None, typer.Option("--headquarters", help="Country of the buyer's ultimate parent, if different.")
    ] = None,
    buyer_name: Annotated[str | None, typer.Option("--buyer-name", help="Buyer's legal name, screened against the "
                                                   "Entity List (English or Chinese).")] = None,
    buyer_parent: Annotated[str | None, typer.Option("--buyer-parent", help="Name of the buyer's parent (50 % owner),"
                                                     " screened for the Affiliates rule.")] = None,
    via: Annotated[str | None, typer.Option("--via", help="Country the items are re-exported or trans-shipped from "
                                            "(ISO code), when not shipped directly by the US exporter.")] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Return the verdict (allowed / license_required / prohibited) with every rule that fired."""
    from service.presenters.data import data_line, screening_line

    ctx = context(catalog)
    result = usecases.check_compliance(ctx, sku, buyer_country=buyer_country, date=on,
                                       buyer_kind=buyer_kind.value, headquarters_country=headquarters,
                                       buyer_name=buyer_name, buyer_parent=buyer_parent, via_country=via)
    if as_json:
        emit_json(result)
        return
    colour = {"allowed": "green", "license_required": "yellow", "prohibited": "red"}[result.verdict]
    console.print(
        f"[bold]{result.name}[/] → buyer {result.buyer_country} ({result.buyer_kind}) on {result.date}: "
        f"[bold {colour}]{result.verdict}[/]"
        + (f" — {result.license_outlook_text}" if result.license_outlook_text and result.verdict != "allowed" else "")
    )
    tpp = "unknown" if result.tpp is None else f"{result.tpp:,.0f}"
    pd = "unknown" if result.performance_density is None else f"{result.performance_density:.2f}"
    console.print(f"classification {result.classification}; TPP {tpp}; performance density {pd}")
    groups = ", ".join(result.country_groups) or "none of the listed groups"
    line = f"country groups of {result.buyer_country} on {result.date}: {groups}"
    if result.headquarters_country:
        hq = ", ".join(result.headquarters_groups) or "none of the listed groups"
        line += f"; headquarters {result.headquarters_country}: {hq}"
    console.print(line, highlight=False, markup=False)
    for reason in result.reasons:
        console.print(f"  • {reason}", highlight=False, markup=False)
    screening = screening_line(result.screening)
    if screening:
        console.print(screening, highlight=False, markup=False, soft_wrap=True)
    for unknown in result.unknowns:
        console.print(f"  ? unknown: {unknown}", style="yellow", highlight=False, markup=False)
    if result.cost_adders:
        console.print("cost adders: " + ", ".join(f"{c.fraction:.0%} ({c.rule_id})" for c in result.cost_adders))
    data = data_line(result.data)
    if data:
        console.print(data, style="yellow" if result.data and result.data.stale else None, highlight=False,
                      markup=False, soft_wrap=True)
    console.print("citations:", highlight=False)
    for sid in result.citations:
        src = ctx.domain.engine.sources.get(sid)
        detail = f"{src.title}" + (f" <{src.url}>" if src and src.url else "") if src else ""
        console.print(f"  [{sid}] {detail}", highlight=False, markup=False, soft_wrap=True)

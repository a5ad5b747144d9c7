"""``procure catalog``: list, show and compare accelerators."""

from __future__ import annotations

from typing import Annotated

import typer

from service import usecases
from service.cli._common import CatalogOpt, JsonOpt, console, context, emit_json

app = typer.Typer(help="Browse the sourced accelerator catalog.", no_args_is_help=True)


def _num(v: float | None, digits: int = 0) -> str:
    return "—" if v is None else f"{v:,.{digits}f}"


@app.command("list")
def list_accelerators(
    catalog: CatalogOpt = None,
    vendor: Annotated[str | None, typer.Option(help="Only this vendor (e.g. nvidia, huawei).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List every accelerator with headline figures, TPP and price (FP16-only peaks are labelled FP16)."""
    from service.presenters import accelerator_summary
    from service.presenters.console import catalog_table

    entries = usecases.catalog_list(context(catalog), vendor=vendor)
    if as_json:
        emit_json([accelerator_summary(e) for e in entries])
        return
    console.print(catalog_table(entries, console.width))


@app.command("show")
def show_accelerator(
    sku: Annotated[str, typer.Argument(help="Id or alias, e.g. h20, 'Nvidia H20', 910B, 昇腾910B.")],
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one accelerator with every figure, its sources and grades."""
    from rich.table import Table

    from service.presenters import accelerator_detail

    detail = usecases.catalog_show(context(catalog), sku)
    if as_json:
        emit_json(accelerator_detail(detail))
        return
    acc = detail.accelerator
    table = Table(title=f"{acc.name} ({acc.id})", show_header=True, header_style="bold")
    table.add_column("field", overflow="fold")
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("range", no_wrap=True)
    table.add_column("grade")
    table.add_column("sources / reason", overflow="fold")
    for name, fig in detail.figures():
        rng = "" if fig.low is None and fig.high is None else f"{_num(fig.lo, 2)}–{_num(fig.hi, 2)}"
        why = ", ".join(fig.source) if fig.known else f"unknown: {fig.reason}"
        table.add_row(name, _num(fig.value, 2), rng, fig.grade or "", why)
    console.print(table)
    comp = detail.computed
    console.print(
        f"TPP {_num(comp['tpp'])} ({comp['tpp_precision']}), performance density "
        f"{_num(comp['performance_density'], 2)}; vendor {acc.vendor}, origin {acc.country_of_origin}, "
        f"software {acc.software_ecosystem}", highlight=False, markup=False,
    )
    if acc.price:
        pr = acc.price
        console.print(
            f"price {pr.low:,.0f}–{pr.high:,.0f} {pr.currency} (base {pr.base:,.0f}), {pr.date}, "
            f"sources {', '.join(pr.source)} ({pr.grade})", highlight=False, markup=False,
        )
    else:
        console.print(f"price unknown: {acc.price_reason}", highlight=False, markup=False)
    if acc.availability is not None:
        ship = acc.availability.volume_shipments
        when = "no shipments reported: " + (acc.availability.not_shipping or "") if ship is None else (
            f"volume shipments {'planned ' if ship.planned else ''}from {ship.date} ({', '.join(ship.source)})")
        console.print(when, highlight=False, markup=False)
    for note in acc.notes:
        console.print(f"note: {note}", highlight=False, markup=False, soft_wrap=True)
    for system in detail.systems:
        console.print(f"system: {system['name']} ({system['accelerators'].get('value', '?')} × {acc.id})",
                      highlight=False, markup=False)


def compare(
    skus: Annotated[list[str], typer.Argument(help="Two or more ids or aliases, e.g. h20 910B H800.")],
    buyer_country: Annotated[str | None, typer.Option("--buyer-country", help="Add verdicts for this buyer.")] = None,
    on: Annotated[str | None, typer.Option("--date", help="Date of the verdicts, YYYY-MM-DD (default today).")] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Accelerators side by side: headline figures, price and (with --buyer-country) export verdicts."""
    from service.presenters.console import comparison_table

    result = usecases.compare(context(catalog), skus, buyer_country=buyer_country, date=on)
    if as_json:
        emit_json(result)
        return
    console.print(comparison_table(result))

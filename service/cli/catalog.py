"""``procure catalog``: list and show accelerators."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from service.cli._common import CatalogOpt, JsonOpt, console, domain, emit_json
from service.presenters import accelerator_detail, accelerator_summary

app = typer.Typer(help="Browse the sourced accelerator catalog.", no_args_is_help=True)


def _num(v: float | None, digits: int = 0) -> str:
    return "—" if v is None else f"{v:,.{digits}f}"


@app.command("list")
def list_accelerators(
    catalog: CatalogOpt = None,
    vendor: Annotated[str | None, typer.Option(help="Only this vendor (e.g. nvidia, huawei).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List every accelerator with headline figures, TPP and price."""
    dom = domain(catalog)
    rows = [
        accelerator_summary(a, dom.catalog)
        for a in dom.catalog.accelerators.values()
        if vendor is None or a.vendor == vendor.lower()
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"Accelerators ({len(rows)})", header_style="bold")
    for col in (
        "id",
        "vendor",
        "BF16 TFLOPS",
        "FP8 TFLOPS",
        "mem GB",
        "TB/s",
        "link GB/s",
        "TDP W",
        "TPP",
        "PD",
        "price",
    ):
        table.add_column(col, justify="left" if col in ("id", "vendor", "price") else "right")
    for r in rows:
        price = r["price"]
        price_text = "—" if price is None else f"{price['base']:,.0f} {price['currency']} ({price['grade']})"
        table.add_row(
            r["id"],
            r["vendor"],
            _num(r["bf16_dense_tflops"], 1),
            _num(r["fp8_dense_tflops"], 1),
            _num(r["memory_gb"]),
            _num(r["memory_bandwidth_tbps"], 2),
            _num(r["intra_node_link_gbps"]),
            _num(r["tdp_w"]),
            _num(r["tpp"]),
            _num(r["performance_density"], 2),
            price_text,
        )
    console.print(table)


@app.command("show")
def show_accelerator(
    sku: Annotated[str, typer.Argument(help="Id or alias, e.g. h20, 'Nvidia H20', 910B, 昇腾910B.")],
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one accelerator with every figure, its sources and grades."""
    dom = domain(catalog)
    acc = dom.catalog.accelerator(sku)
    detail = accelerator_detail(acc, dom.catalog)
    if as_json:
        emit_json(detail)
        return
    table = Table(title=f"{acc.name} ({acc.id})", show_header=True, header_style="bold")
    table.add_column("field")
    table.add_column("value", justify="right")
    table.add_column("range")
    table.add_column("grade")
    table.add_column("sources / reason")

    def add(name: str, fig: object) -> None:
        from optimizer.catalog import Figure

        if not isinstance(fig, Figure):
            return
        rng = "" if fig.low is None and fig.high is None else f"{_num(fig.lo, 2)}–{_num(fig.hi, 2)}"
        why = ", ".join(fig.source) if fig.known else f"unknown: {fig.reason}"
        table.add_row(name, _num(fig.value, 2), rng, fig.grade or "", why)

    for p in ("fp8", "bf16", "fp16", "tf32", "fp32", "int8"):
        add(f"dense {p} {'TOPS' if p == 'int8' else 'TFLOPS'}", acc.dense.get(p))  # type: ignore[arg-type]
    for name in (
        "memory_gb",
        "memory_bandwidth_tbps",
        "intra_node_link_gbps",
        "io_bandwidth_gbps",
        "logic_die_area_mm2",
        "tdp_w",
    ):
        add(name, getattr(acc, name))
    console.print(table)
    comp = detail["computed"]
    console.print(
        f"TPP {_num(comp['tpp'])} ({comp['tpp_precision']}), performance density "
        f"{_num(comp['performance_density'], 2)}; vendor {acc.vendor}, origin {acc.country_of_origin}, "
        f"software {acc.software_ecosystem}"
    )
    if acc.price:
        pr = acc.price
        console.print(
            f"price {pr.low:,.0f}–{pr.high:,.0f} {pr.currency} (base {pr.base:,.0f}), {pr.date}, "
            f"sources {', '.join(pr.source)} ({pr.grade})"
        )
    else:
        console.print(f"price unknown: {acc.price_reason}")

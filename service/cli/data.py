"""``procure data``: the data packs in use, what a newer one changes, installing one, undoing the last install."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service import usecases
from service.cli._common import JsonOpt, console, context, emit_json

app = typer.Typer(help="Dated data packs: status, diff, import, rollback.", no_args_is_help=True)


@app.command("status")
def status(
    today: Annotated[str | None, typer.Option("--date", help="Measure ages on this date (default today).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every pack in use: version, as-of date, age in days, origin (embedded or installed) and record counts."""
    from service.presenters.data import render_status

    result = usecases.data_status(context(lazy_domain=True), today=today)
    if as_json:
        emit_json(result)
        return
    render_status(console, result)


@app.command("diff")
def diff(
    old: Annotated[str, typer.Argument(help="Old pack: a file, or a pack name for the one in use (e.g. us_rules).")],
    new: Annotated[str, typer.Argument(help="New pack: a file, or a pack name for the one in use.")],
    on: Annotated[str | None, typer.Option("--date", help="Date the sampled verdicts are checked on (default "
                                                          "today).")] = None,
    country: Annotated[list[str] | None, typer.Option("--country", help="Destination to sample (repeatable; default "
                                                                        "CN, HK, US, DE, JP, SG, MY, AE, SA, IN, VN, "
                                                                        "RU).")] = None,
    sku: Annotated[list[str] | None, typer.Option("--sku", help="Part to sample (repeatable; default all).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """What NEW changes against OLD: rules added/ended/changed, verdicts that flip, price moves, parts, parties."""
    from service.presenters.data import render_diff

    result = usecases.data_diff(context(lazy_domain=True), old, new, on=on, countries=country or None,
                                skus=sku or None)
    if as_json:
        emit_json(result)
        return
    render_diff(console, result)


@app.command("import")
def import_(
    packs: Annotated[list[Path], typer.Argument(help="Pack file(s) (YAML with a `pack:` header).")],
    force: Annotated[bool, typer.Option("--force", help="Install even a pack older than the one in use.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Validate the packs with the rest of the data, then install them atomically (the previous ones are kept)."""
    from service.presenters.data import render_import

    files = [usecases.read_pack_file(p) for p in packs]
    result = usecases.data_import(context(lazy_domain=True), files, force=force)
    if as_json:
        emit_json(result)
        return
    render_import(console, result)


@app.command("rollback")
def rollback(as_json: JsonOpt = False) -> None:
    """Undo the last import: each pack it installed goes back to the version it replaced."""
    from service.presenters.data import render_rollback

    result = usecases.data_rollback(context(lazy_domain=True))
    if as_json:
        emit_json(result)
        return
    render_rollback(console, result)

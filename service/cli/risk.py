"""``procure risk scenarios``: the scenario set a hedged plan uses, as a table or as a risk file to edit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service import usecases
from service.cli._common import CatalogOpt, JsonOpt, console, context, emit_json, err_console
from service.cli.recommend import AcceptRiskOpt, RiskObjectiveChoice, RiskObjectiveOpt, RiskOpt, StackOpt

app = typer.Typer(no_args_is_help=True, help="Risk scenarios of hedged plans (licence shocks, delays, prices).")

OutOpt = Annotated[Path | None, typer.Option(
    "--out", help="Write the scenario set as a risk file (YAML, every event written out) to edit and pass back with "
    "`procure recommend --risk FILE`.")]


@app.command("scenarios")
def scenarios(
    request: Annotated[Path, typer.Option("--request", help="YAML/JSON request file (as for `procure recommend`).")],
    risk: RiskOpt = None,
    risk_objective: RiskObjectiveOpt = None,
    current_stack: StackOpt = None,
    accept_license_risk: AcceptRiskOpt = False,
    out: OutOpt = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the scenario set derived from the data for a request (events, groups, probabilities, scenarios)."""
    from rich.table import Table

    from service.presenters.risk import event_lines

    req = usecases.with_license_risk(usecases.load_request_file(request), accept_license_risk)
    objective = None if risk_objective is None else RiskObjectiveChoice(risk_objective).value
    settings = usecases.risk_settings(risk or usecases.DEFAULT_RISK, objective=objective,
                                      current_stack=current_stack, base=req.risk)
    result = usecases.risk_scenarios(context(catalog), req, settings)
    if out is not None:
        import yaml

        text = yaml.safe_dump(result.settings.model_dump(mode="json", exclude_none=True), sort_keys=False,
                              allow_unicode=True)
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise usecases.InvalidInputError(f"cannot write {out} ({exc.strerror or exc})") from None
        err_console.print(f"risk file written to {out}", highlight=False)
    if as_json:
        emit_json(result)
        return
    console.print(f"{len(result.events)} events over {', '.join(result.candidates)}; {result.method} "
                  f"({result.joint_outcomes:,} joint outcomes), {len(result.scenarios)} scenarios", highlight=False)
    for line in event_lines(result.events):
        console.print(f"  {line}", highlight=False, markup=False)
    table = Table()
    table.add_column("scenario", overflow="fold")
    table.add_column("prob.", justify="right", no_wrap=True)
    for s in result.scenarios[:20]:
        table.add_row(s.name, f"{s.probability:.1%}")
    if len(result.scenarios) > 20:
        rest = sum(s.probability for s in result.scenarios[20:])
        table.add_row(f"{len(result.scenarios) - 20} other scenarios", f"{rest:.1%}")
    console.print(table)

"""The ``procure`` command line (Typer)."""

from __future__ import annotations

import typer

from service.cli import ask as ask_cli
from service.cli import batch, catalog, compliance, data, estimate, keys, recommend
from service.cli import corpus as corpus_cli
from service.cli import risk as risk_cli
from service.cli._common import ProcureGroup
from service.cli.serve import serve

app = typer.Typer(
    name="procure",
    cls=ProcureGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Decision support for buying AI accelerators: catalog, export compliance, estimates, plans.",
)
app.add_typer(catalog.app, name="catalog")
app.add_typer(compliance.app, name="compliance")
app.add_typer(estimate.app, name="estimate")
app.command("validate")(estimate.validate)
app.command("compare")(catalog.compare)
app.command("recommend")(recommend.recommend)
app.command("whatif")(recommend.whatif)
app.command("serve")(serve)
app.command("search")(corpus_cli.search)
app.command("ingest")(corpus_cli.ingest)
app.add_typer(corpus_cli.eval_app, name="eval")
app.add_typer(keys.app, name="keys")
ask_cli.register(app)
app.add_typer(batch.app, name="batch")
app.add_typer(risk_cli.app, name="risk")
app.add_typer(data.app, name="data")
app.add_typer(__import__("service.cli.llm", fromlist=["app"]).app, name="llm")


def main() -> None:
    """Console-script entry point."""
    app()

"""``procure search``, ``procure ingest`` and ``procure eval retrieval``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service import usecases
from service.cli._common import JsonOpt, console, context, emit_json, err_console, fail

if TYPE_CHECKING:
    from service.usecases import IngestReport

eval_app = typer.Typer(help="Evaluate parts of the system against question sets.", no_args_is_help=True)

PROGRESS_MIN_FILES = 20
"""Folders with at least this many files get a progress bar (on stderr, when it is a terminal)."""


_DATE_ORIGIN = {
    "front_matter": "front matter",
    "pdf_metadata": "PDF metadata",
    "docx_metadata": "Word properties",
    "html_meta": "page metadata",
    "text": "read from the text",
}


def _date(value: str | None, option: str) -> dt.date | None:
    return None if value is None else usecases.day(value, what=option)


def search(
    query: Annotated[str, typer.Argument(help="Question or keywords, Chinese or English.")],
    k: Annotated[int, typer.Option("--k", "-k", help="Number of passages (1–50).")] = 5,
    kind: Annotated[
        list[str] | None, typer.Option(help="Only this kind: news, regulation, datasheet, analysis (repeatable).")
    ] = None,
    language: Annotated[list[str] | None, typer.Option(help="Only this language: zh or en (repeatable).")] = None,
    date_from: Annotated[str | None, typer.Option(help="Only documents published on or after YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option(help="Only documents published on or before YYYY-MM-DD.")] = None,
    include_nonfactual: Annotated[
        bool, typer.Option(help="Also return boilerplate (reader comments, disclaimers, headline lists).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Search the corpus (BM25 + vectors, fused); English questions also find Chinese passages."""
    filters = usecases.SearchFilters.model_validate(
        {
            "kind": tuple(kind) if kind else None,
            "language": tuple(language) if language else None,
            "date_from": _date(date_from, "--date-from"),
            "date_to": _date(date_to, "--date-to"),
            "include_nonfactual": include_nonfactual,
        }
    )
    ctx = context(lazy_domain=True)
    ctx.corpus.get(read_only=True)  # searching only: never rewrite the vector store
    passages = usecases.search(ctx, query, k=k, filters=filters)
    if as_json:
        emit_json([p.model_dump(mode="json") for p in passages])
        return
    if not passages:
        console.print("no passages match")
        return
    for rank, p in enumerate(passages, start=1):
        when = p.date.isoformat() if p.date else "date unknown"
        if p.date and p.date_source not in (None, "front_matter"):
            when += f" from {_DATE_ORIGIN.get(p.date_source or '', p.date_source)}"
        console.print(
            f"[bold]{rank}.[/] {p.title} [dim]({p.doc_id}, {when}, {p.kind}, {p.language}; score {p.score:.4f})[/]",
            highlight=False,
        )
        console.print(p.text, markup=False, highlight=False)
        console.print()


def _print_report(report: IngestReport) -> None:
    console.print(
        f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
        f"removed {len(report.removed)}, failed {len(report.failed)}"
        + (f", repaired {len(report.repaired)} (their vectors were missing)" if report.repaired else "")
        + f"; {report.chunks_written} chunks written; "
        f"index holds {report.documents_total} documents, {report.chunks_total} chunks ({report.seconds:.1f} s)",
        highlight=False,
    )


def ingest(
    path: Annotated[
        Path | None,
        typer.Argument(help="File or folder (.md, .txt, .html, .pdf, .docx); default: the configured corpus folder."),
    ] = None,
    wait: Annotated[
        float | None,
        typer.Option(
            "--wait",
            min=0,
            help="Seconds to wait for another ingestion into the same data folder to finish (default "
            "PROCURE_INGEST_WAIT_S, 60); 0 fails at once.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Index documents incrementally: unchanged files are skipped, changed ones replaced, deleted ones removed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    ctx = context(lazy_domain=True)
    wait_s = ctx.settings.ingest_wait_s if wait is None else wait

    def waiting(holder: str) -> None:
        err_console.print(
            f"waiting up to {wait_s:g} s for another ingestion to finish ({holder})", highlight=False, soft_wrap=True
        )

    show = err_console.is_terminal and usecases.source_count(ctx, path) >= PROGRESS_MIN_FILES
    with Progress(
        TextColumn("[bold]ingest[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err_console,
        transient=True,
        disable=not show,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, of: int, name: str) -> None:
            bar.update(task, completed=done, total=of, description=name)

        report = usecases.ingest(ctx, path, wait_s=wait_s, progress=progress, on_wait=waiting)
    if as_json:
        emit_json(report)
    else:
        _print_report(report)
    for failure in report.failed:
        err_console.print(f"[yellow]skipped[/] {failure.path}: {failure.error}", highlight=False, soft_wrap=True)
    if report.failed:
        raise fail(f"{len(report.failed)} file(s) could not be ingested; their previous versions (if any) were kept")


@eval_app.command("retrieval")
def eval_retrieval(
    file: Annotated[Path, typer.Argument(help='JSONL file of {"q": ..., "expect_any": [...]} questions.')],
    k: Annotated[int, typer.Option("--k", "-k", help="Passages per question (1–50).")] = 5,
    as_json: JsonOpt = False,
) -> None:
    """Report recall@k and MRR of corpus search on a question file."""
    report = usecases.evaluate_retrieval(context(lazy_domain=True), file, k=k)
    if as_json:
        emit_json(report)
        return
    for result in report.results:
        mark = f"[green]{result.rank}[/]" if result.found else "[red]miss[/]"
        console.print(f"{mark}\t{result.q}", highlight=False)
    console.print(
        f"[bold]recall@{report.k} {report.recall_at_k:.3f}  MRR {report.mrr:.3f}  n {report.n}[/]", highlight=False
    )

"""``procure batch``: run sweeps of recommendations as durable jobs, follow them, read their results."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from service.cli._common import CatalogOpt, JsonOpt, console, emit_json, err_console
from service.cli._stdout import stdout_to_stderr
from service.settings import get_settings

if TYPE_CHECKING:
    from rich.table import Table

    from service.jobs.store import JobStatus, JobStore

# The jobs package (SQLAlchemy, the optimizer) is imported inside the commands, keeping `procure` start-up light.

app = typer.Typer(no_args_is_help=True, help="Batch optimization jobs: sweeps of recommendations, durable, resumable.")


class ExecutorChoice(StrEnum):
    """Where workers run."""

    local = "local"
    ray = "ray"


class ResultFormat(StrEnum):
    """Result output formats."""

    jsonl = "jsonl"
    csv = "csv"
    table = "table"


JobIdArg = Annotated[str, typer.Argument(help="Job id (from `procure batch run` or `procure batch list`).")]


def _store() -> JobStore:
    from service.jobs.manage import open_store

    return open_store(get_settings())


def _money(v: Any, currency: str | None = None) -> str:
    from service.presenters.numbers import money

    return money(float(v), currency) if isinstance(v, int | float) else "–"


def _status_table(st: JobStatus) -> Table:
    from rich.table import Table

    d = st.as_dict()
    t = Table(title=f"job {st.id}" + (f" ({st.name})" if st.name else ""), show_header=False)
    for key in ("state", "total", "done", "failed", "running", "pending", "progress", "rate_per_min", "eta_s",
                "executor", "created_at", "started_at", "finished_at"):
        t.add_row(key, "–" if d[key] is None else str(d[key]))
    return t


class _Bar:
    """A rich progress bar on stderr (stdout stays clean for --json): done, failed, rate, ETA."""

    def __init__(self, total: int, enabled: bool) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("failed {task.fields[failed]}"), TimeElapsedColumn(), TextColumn("ETA"),
                                 TimeRemainingColumn(), console=err_console, disable=not enabled, transient=False)
        self.task = self.progress.add_task("batch", total=total, failed=0)

    def __call__(self, st: JobStatus) -> None:
        self.progress.update(self.task, completed=st.finished, failed=st.counts.get("failed", 0))


@app.command("run")
def run(
    spec_file: Annotated[Path, typer.Argument(metavar="SPEC", help="Sweep spec (YAML or JSON).")],
    job_id: Annotated[str | None, typer.Option("--job-id", help="Job id; running again with it resumes.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, max=512, help="Worker processes.")] = None,
    executor: Annotated[ExecutorChoice | None, typer.Option("--executor", help="local (default) or ray.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write results to FILE.csv, .jsonl or .parquet.")] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a sweep (or resume it: the same --job-id recomputes nothing that finished).

    The sweep may expand to at most PROCURE_JOBS__MAX_SCENARIOS scenarios (checked before any work). With --json,
    stdout carries the JSON alone: whatever Ray or a solver prints while the job runs goes to stderr.
    """
    from service.jobs import manage
    from service.jobs.results import columns, format_of, write_results
    from service.jobs.spec import load_spec

    if out is not None:
        format_of(out)  # a bad suffix fails before any work
    settings = get_settings()
    cap = settings.jobs.max_scenarios
    spec = load_spec(spec_file, max_scenarios=cap)
    store = manage.open_store(settings)
    with stdout_to_stderr(as_json):
        status, created = manage.submit(store, spec, job_id=job_id, max_scenarios=cap)
        if not created:
            err_console.print(f"resuming job {status.id}: {status.finished}/{status.total} finished",
                              highlight=False)
        bar = _Bar(status.total, enabled=sys.stderr.isatty() or not as_json)
        with bar.progress:
            final = manage.execute(settings, store, status.id, executor=executor.value if executor else None,
                                   workers=workers, on_progress=bar, resume_cancelled=True, extra_catalogs=catalog)
    written = None
    if out is not None:
        written = write_results(out, manage.rows(store, final.id), columns(final.axes))
    if as_json:
        emit_json({**final.as_dict(), "created": created, "out": str(out) if out else None, "rows_written": written})
        return
    console.print(_status_table(final))
    if out is not None:
        console.print(f"{written} result rows written to {out}")
    if final.state == "completed":
        console.print(f"results: procure batch results {final.id} --format csv · summary: procure batch summary "
                      f"{final.id}", highlight=False)


@app.command("status")
def status(job_id: JobIdArg, as_json: JsonOpt = False) -> None:
    """State, counts, progress and ETA of a job."""
    st = _store().status(job_id)
    if as_json:
        emit_json(st.as_dict())
    else:
        console.print(_status_table(st))


@app.command("list")
def list_jobs(limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50, as_json: JsonOpt = False) -> None:
    """Recent jobs, newest first."""
    from rich.table import Table

    jobs = _store().recent(limit=limit)
    if as_json:
        emit_json([j.as_dict() for j in jobs])
        return
    t = Table(title="jobs")
    for col in ("id", "name", "state", "done", "failed", "total", "created"):
        t.add_column(col)
    for j in jobs:
        d = j.as_dict()
        t.add_row(j.id, j.name or "", j.state, str(d["done"]), str(d["failed"]), str(j.total),
                  (d["created_at"] or "")[:19])
    console.print(t)


@app.command("cancel")
def cancel(job_id: JobIdArg, as_json: JsonOpt = False) -> None:
    """Cancel a job: no scenario starts after this; finished results are kept."""
    st = _store().cancel(job_id)
    if as_json:
        emit_json(st.as_dict())
    else:
        console.print(f"job {st.id}: {st.state} ({st.finished}/{st.total} finished)")


@app.command("results")
def results(
    job_id: JobIdArg,
    fmt: Annotated[ResultFormat, typer.Option("--format", help="jsonl (one object per line), csv or table.")]
    = ResultFormat.jsonl,
    out: Annotated[Path | None, typer.Option("--out", help="Write to FILE.csv, .jsonl or .parquet instead.")] = None,
) -> None:
    """Result rows: scenario id, swept values, status, chosen parts, cost low/base/high, time, binding, error."""
    from rich.table import Table

    from service.jobs import manage
    from service.jobs.results import columns, csv_chunks, flat_row, jsonl_chunks, write_results

    store = _store()
    st = store.status(job_id)
    cols = columns(st.axes)
    rows = manage.rows(store, job_id)
    if out is not None:
        n = write_results(out, rows, cols)
        err_console.print(f"{n} rows written to {out}")
        return
    if fmt is ResultFormat.table:
        shown = ["scenario_id", *st.axes, "status", "parts", "total_cost", "time_days", "binding_constraints", "error"]
        t = Table(title=f"results of {job_id}")
        for c in shown:
            t.add_column(c, overflow="fold")
        for r in rows:
            flat = flat_row(r, shown)
            flat["total_cost"] = _money(r.get("total_cost"), r.get("currency"))
            flat["time_days"] = f"{r['time_days']:.1f}" if r.get("time_days") is not None else ""
            t.add_row(*(str(flat[c]) for c in shown))
        console.print(t)
        return
    chunks = jsonl_chunks(rows) if fmt is ResultFormat.jsonl else csv_chunks(rows, cols)
    for chunk in chunks:
        sys.stdout.write(chunk)
    sys.stdout.flush()


@app.command("summary")
def summary(job_id: JobIdArg, as_json: JsonOpt = False) -> None:
    """Which part wins where (by axis), break-even budgets, the cheapest plan per country and date."""
    from rich.table import Table

    from service.jobs import manage

    data = manage.summary(_store(), job_id)
    if as_json:
        emit_json(data)
        return
    console.print(f"job {job_id}: {data['scenarios']} results · " +
                  ", ".join(f"{k} {v}" for k, v in data["outcomes"].items()), highlight=False)
    for axis, entries in data["winners_by_axis"].items():
        t = Table(title=f"winner by {axis}")
        for col in (axis, "winner", "share", "all outcomes"):
            t.add_column(col)
        for e in entries:
            t.add_row(_text(e["value"]), e["winner"] or "–", f"{e['share']:.0%}",
                      ", ".join(f"{k} {v}" for k, v in e["counts"].items()))
        console.print(t)
    if data["break_even_budgets"]:
        t = Table(title="break-even budgets (the winner changes between these budgets)")
        for col in ("context", "below", "above", "budget from", "budget to"):
            t.add_column(col)
        for b in data["break_even_budgets"]:
            t.add_row(_text(b["context"]), b["below"], b["above"], _money(b["budget_low"], b.get("currency")),
                      _money(b["budget_high"], b.get("currency")))
        console.print(t)
    t = Table(title="cheapest feasible plan per country and date")
    for col in ("country", "date", "parts", "total cost (low–high)", "days", "scenario"):
        t.add_column(col)
    for c in data["cheapest_by_country_date"]:
        t.add_row(c["country"], c["date"], c["parts"],
                  f"{_money(c['total_cost'], c['currency'])} ({_money(c['total_cost_low'], c['currency'])}–"
                  f"{_money(c['total_cost_high'], c['currency'])})",
                  f"{c['time_days']:.1f}" if c["time_days"] is not None else "–",
                  c["scenario_id"])
    console.print(t)


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items()) or "–"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@app.command("worker")
def worker(
    workers: Annotated[int | None, typer.Option("--workers", min=1, max=512, help="Workers per job.")] = None,
    executor: Annotated[ExecutorChoice | None, typer.Option("--executor", help="local (default) or ray.")] = None,
    once: Annotated[bool, typer.Option("--once", help="Run the unfinished jobs, then exit.")] = False,
    idle_s: Annotated[float, typer.Option("--idle-s", min=0.1, help="Seconds between looks for new jobs.")] = 5.0,
) -> None:
    """Run submitted jobs as they arrive (the worker service of a deployment; the API can leave jobs to it).

    Database and Ray outages are waited out with backoff (PROCURE_JOBS__RETRY_MAX_S); the worker's state is
    reported for `procure batch worker-health`.
    """
    import signal
    import threading

    from service.jobs.daemon import WorkerState, serve, state_path

    settings = get_settings()
    state = WorkerState(state_path(settings))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # `docker stop`, Ctrl-C: leave the job to be resumed, then exit
        signal.signal(sig, lambda *_: stop.set())

    def finished(st: JobStatus) -> None:
        err_console.print(f"job {st.id}: {st.state} ({st.finished}/{st.total})", highlight=False)

    err_console.print(f"batch worker: reporting its state to {state.path}", highlight=False)
    serve(settings, executor=executor.value if executor else None, workers=workers, once=once, idle_s=idle_s,
          state=state, on_finished=finished, stop=stop)
    state.report("stopped", force=True)


@app.command("worker-health")
def worker_health(
    max_age_s: Annotated[float, typer.Option("--max-age", min=1, help="Oldest acceptable state report, seconds.")]
    = 60.0,
    as_json: JsonOpt = False,
) -> None:
    """Exit 0 when this host's batch worker reported within --max-age seconds (its loop is alive), else 1."""
    from service.jobs.daemon import health, state_path

    ok, data = health(state_path(get_settings()), max_age_s)
    if as_json:
        emit_json({"healthy": ok, **data})
    else:
        (console if ok else err_console).print(
            f"worker {'alive' if ok else 'NOT alive'}: {data.get('state')} "
            f"(reported {data.get('age_s', '?')} s ago){' · ' + str(data['error']) if data.get('error') else ''}",
            highlight=False)
    if not ok:
        raise typer.Exit(1)

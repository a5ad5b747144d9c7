"""Result rows of a job: the stable flat shape, and CSV / JSONL / Parquet writers that stream."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from service.usecases import InvalidInputError

PLAN_FIELDS = ("plan_status", "parts", "items", "nodes", "accelerators", "total_cost_low", "total_cost",
               "total_cost_high", "currency", "time_days", "binding_constraints", "domestic_share", "country", "date",
               "objective", "budget_amount", "message")
RISK_FIELDS = ("risk_objective", "probability_on_time_base", "probability_on_time_hedged", "expected_total_cost_base",
               "expected_total_cost_hedged", "hedged_parts", "hedged_items")
"""Filled when the scenario's request carries `risk` (hedged plans); empty otherwise."""
TAIL_FIELDS = ("error", "duration_ms", "attempts", "worker")
FORMATS = ("jsonl", "csv", "parquet")


def result_row(stored: dict[str, Any]) -> dict[str, Any]:
    """One flat row: ``scenario_id``, the swept values, ``status``, the plan, the error and the ``worker``.

    The swept values are keyed by their paths; ``worker`` names the host, Ray node and process that computed it.
    """
    result = stored.get("result") or {}
    row: dict[str, Any] = {"scenario_id": stored["scenario_id"]}
    row.update(stored.get("swept") or {})
    row["status"] = stored["status"]
    for key in PLAN_FIELDS:
        row[key] = result.get("budget" if key == "budget_amount" else key)
    for key in RISK_FIELDS:
        row[key] = result.get(key)
    row["error"] = stored.get("error")
    row["duration_ms"] = round(stored["duration_ms"], 2) if stored.get("duration_ms") is not None else None
    row["attempts"] = stored.get("attempts")
    row["worker"] = stored.get("worker")  # <coordinator token>@<host>[/<ray node ip>/node:<id>]/pid:<pid>
    return row


def columns(axes: list[str]) -> list[str]:
    """Column order of tabular outputs."""
    return ["scenario_id", *axes, "status", *PLAN_FIELDS, *RISK_FIELDS, *TAIL_FIELDS]


def _cell(key: str, value: Any) -> Any:
    if value is None:
        return ""
    if key in ("items", "hedged_items"):
        return "; ".join(f"{i['sku']} x{i['accelerators']} ({i['workload']})" for i in value)
    if key == "binding_constraints":
        return "; ".join(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def flat_row(row: dict[str, Any], cols: list[str]) -> dict[str, Any]:
    """A row with lists and mappings turned into text cells (CSV, Parquet, tables)."""
    return {c: _cell(c, row.get(c)) for c in cols}


def jsonl_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One JSON object per line."""
    for row in rows:
        yield json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def csv_chunks(rows: Iterable[dict[str, Any]], cols: list[str], *, every: int = 500) -> Iterator[str]:
    """CSV text with a header, yielded every ``every`` rows."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for n, row in enumerate(rows, 1):
        writer.writerow(flat_row(row, cols))
        if n % every == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    if buf.getvalue():
        yield buf.getvalue()


def format_of(path: Path) -> str:
    """Output format from a file suffix.

    Raises:
        InvalidInputError: the suffix is not .csv, .jsonl or .parquet.
    """
    fmt = path.suffix.lower().lstrip(".")
    if fmt == "json":
        fmt = "jsonl"
    if fmt not in FORMATS:
        raise InvalidInputError(f"--out must end in .csv, .jsonl or .parquet (got {path.name})")
    return fmt


def write_results(path: Path, rows: Iterable[dict[str, Any]], cols: list[str]) -> int:
    """Write rows to ``path`` in the format its suffix names; returns the number of rows.

    Raises:
        InvalidInputError: unknown suffix, or Parquet without pyarrow installed.
    """
    fmt = format_of(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for r in rows:
            count += 1
            yield r

    if fmt == "parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise InvalidInputError("Parquet output needs pyarrow: pip install 'procure[parquet]'") from None
        table = pa.Table.from_pylist([flat_row(r, cols) | _numbers(r) for r in counted()])
        pq.write_table(table, path)
        return count
    with path.open("w", encoding="utf-8", newline="") as fh:
        chunks = jsonl_chunks(counted()) if fmt == "jsonl" else csv_chunks(counted(), cols)
        for chunk in chunks:
            fh.write(chunk)
    return count


def _numbers(row: dict[str, Any]) -> dict[str, Any]:
    """Numeric columns stay numeric in Parquet (empty text would make them strings)."""
    keys = ("nodes", "accelerators", "total_cost_low", "total_cost", "total_cost_high", "time_days",
            "domestic_share", "budget_amount", "duration_ms", "attempts", "probability_on_time_base",
            "probability_on_time_hedged", "expected_total_cost_base", "expected_total_cost_hedged")
    return {k: row.get(k) for k in keys}

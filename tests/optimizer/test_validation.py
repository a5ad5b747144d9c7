"""The estimator against published runs: the dev-set accuracy targets of the issue."""

from __future__ import annotations

import pytest

from optimizer.catalog import Catalog
from optimizer.errors import CatalogError
from optimizer.estimator import load_runs, validate_runs


def test_dev_runs_meet_the_accuracy_targets(catalog: Catalog) -> None:
    dev = [r for r in load_runs() if r.set == "dev"]
    assert {r.id for r in dev} == {"llama2-70b", "llama1-65b", "bloom-176b", "nemotron4-15b"}
    report = validate_runs(catalog, dev)
    assert report.median_abs_error <= 0.20
    for row in report.rows:
        assert 1 / 1.5 <= row.predicted_hours / row.reported_hours <= 1.5, row.id
        assert row.in_range, f"{row.id}: {row.reported_hours} outside {row.predicted_low}–{row.predicted_high}"


def test_all_runs_validate_and_report_statistics(catalog: Catalog) -> None:
    runs = load_runs()
    assert len(runs) >= 12
    assert len({r.id for r in runs}) == len(runs)
    report = validate_runs(catalog, runs)
    errors = sorted(abs(r.error) for r in report.rows)
    assert report.max_abs_error == pytest.approx(errors[-1])
    assert report.n == len(runs) and set(report.by_set) == {"dev", "extra"}


def test_bad_runs_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "runs.yaml"
    bad.write_text("runs:\n  - id: x\n", encoding="utf-8")
    with pytest.raises(CatalogError):
        load_runs(bad)
    with pytest.raises(CatalogError):
        load_runs(tmp_path / "missing.yaml")

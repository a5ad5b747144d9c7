"""CLI: JSON shapes on stdout only, one-line errors with exit code 2, overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_catalog_list_json() -> None:
    code, out, err = run("catalog", "list", "--json")
    assert code == 0, err
    rows = json.loads(out)
    ids = {r["id"] for r in rows}
    assert {"h20", "ascend-910b", "gaudi3"} <= ids
    h20 = next(r for r in rows if r["id"] == "h20")
    assert h20["tpp"] == pytest.approx(2368)


def test_catalog_list_table_is_human_readable() -> None:
    code, out, _ = run("catalog", "list", "--vendor", "huawei")
    assert code == 0
    assert "ascend-910b" in out and "h20" not in out


def test_catalog_show_by_chinese_alias() -> None:
    code, out, _ = run("catalog", "show", "昇腾910B", "--json")
    assert code == 0
    detail = json.loads(out)
    assert detail["id"] == "ascend-910b"
    assert detail["dense"]["fp16"]["low"] == 256
    assert detail["computed"]["tpp"] == pytest.approx(5120)


def test_compliance_check_json_shape() -> None:
    code, out, err = run("compliance", "check", "H20", "--buyer-country", "CN", "--date", "2025-05-01", "--json")
    assert code == 0, err
    body = json.loads(out)
    for key in ("sku", "tpp", "performance_density", "classification", "verdict", "reasons", "citations"):
        assert key in body
    assert body["sku"] == "h20"
    assert body["verdict"] == "license_required"
    assert body["license_outlook"] == "not_granted_yet"
    assert isinstance(body["reasons"], list) and isinstance(body["citations"], list)


def test_compliance_check_text() -> None:
    code, out, _ = run("compliance", "check", "a800", "--buyer-country", "CN", "--date", "2023-06-01")
    assert code == 0
    assert "allowed" in out and "600 GB/s" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("compliance", "check", "h2x", "--buyer-country", "CN", "--date", "2025-01-01"), "unknown accelerator"),
        (("compliance", "check", "h20", "--buyer-country", "CN", "--date", "2025-02-30"), "YYYY-MM-DD"),
        (("compliance", "check", "h20", "--buyer-country", "ZZ", "--date", "2025-02-01"), "unknown country code"),
        (("catalog", "show", "nothing-like-this"), "unknown accelerator"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: tuple[str, ...], needle: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert needle in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2  # one message, possibly wrapped once by the terminal width


def test_invalid_override_file_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("accelerators:\n  - id: h20\n    tdp_w: {value: -4, source: [P1], grade: S}\n", encoding="utf-8")
    code, out, err = run("catalog", "list", "--catalog", str(bad))
    assert code == 2 and out == ""
    assert "bad.yaml" in err and "negative" in err


def test_override_changes_price_in_output(tmp_path: Path) -> None:
    extra = tmp_path / "prices.yaml"
    extra.write_text(
        "accelerators:\n  - id: h20\n    price: {currency: CNY, low: 80000, base: 85000, high: 90000, "
        "basis: per_accelerator, date: '2026-06', source: [P6], grade: S}\n",
        encoding="utf-8",
    )
    code, out, _ = run("catalog", "show", "h20", "--json", "--catalog", str(extra))
    assert code == 0
    assert json.loads(out)["price"]["base"] == 85000


def test_catalog_files_setting_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = tmp_path / "prices.yaml"
    extra.write_text(
        "accelerators:\n  - id: l20\n    price: {currency: USD, low: 5000, base: 6000, high: 7000, "
        "basis: per_accelerator, date: '2026-06', source: [P1], grade: W}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PROCURE_CATALOG_FILES", json.dumps([str(extra)]))
    from service.settings import get_settings

    get_settings.cache_clear()
    code, out, _ = run("catalog", "show", "l20", "--json")
    assert code == 0 and json.loads(out)["price"]["base"] == 6000

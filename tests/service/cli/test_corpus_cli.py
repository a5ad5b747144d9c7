"""CLI for the corpus: ``procure search``, ``procure ingest``, ``procure eval retrieval``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app

runner = CliRunner()
DEV = Path(__file__).resolve().parents[3].parent / "shared" / "eval" / "retrieval_dev.jsonl"
EXTENDED = Path(__file__).resolve().parents[3] / "corpus" / "eval" / "retrieval_extended.jsonl"


@pytest.fixture(scope="module")
def shared_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus-cli-data")


@pytest.fixture(autouse=True)
def data_dir(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """One data folder for the module, so the shipped corpus is indexed once, not per test."""
    monkeypatch.setenv("PROCURE_DATA_DIR", str(shared_data))
    from service.settings import get_settings

    get_settings.cache_clear()
    yield shared_data
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_search_json_shape_on_a_fresh_data_folder() -> None:
    code, out, err = run("search", "中国移动采购了多少台AI服务器？", "--k", "3", "--json")
    assert code == 0, err
    passages = json.loads(out)
    assert len(passages) == 3
    for p in passages:
        assert {"text", "doc_id", "title", "score", "date", "kind", "language", "start", "end"} <= p.keys()
    assert any("7994" in p["text"] or "7,994" in p["text"] for p in passages)


def test_search_text_output_and_filters() -> None:
    code, out, _ = run("search", "TPP threshold", "--k", "2", "--kind", "regulation", "--language", "en")
    assert code == 0 and out.count("regulation, en") == 2


def test_date_to_finds_the_2022_rule_and_undated_passages_say_so() -> None:
    code, out, err = run("search", "TPP 4800", "--date-to", "2024-12-31", "--json")
    assert code == 0, err
    passages = json.loads(out)
    assert passages[0]["doc_id"].startswith("rule-2022-10-tpp-interconnect") and passages[0]["date"] == "2022-10-13"
    assert passages[0]["date_source"] == "front_matter"
    code, out, _ = run("search", "Cambricon MLU370 LPDDR5", "--k", "1", "--language", "en")
    assert code == 0 and "date unknown" in out


def test_ingest_is_idempotent_and_reports() -> None:
    run("search", "H20", "--json")  # make sure the index exists
    code, out, err = run("ingest", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["added"] == [] and report["updated"] == [] and len(report["unchanged"]) >= 16
    assert report["chunks_written"] == 0 and report["chunks_total"] > 0


def test_ingest_a_new_file_then_find_it(tmp_path: Path) -> None:
    note = tmp_path / "quote.md"
    note.write_text("---\nid: my-quote\nkind: analysis\n---\nOur distributor quoted the Zorblat-9 card at 1 yuan.\n")
    code, out, err = run("ingest", str(note))
    assert code == 0, err
    assert "added 1" in out
    code, out, _ = run("search", "Zorblat-9 distributor quote", "--k", "1", "--json")
    assert json.loads(out)[0]["doc_id"] == "my-quote"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("search", "", "--json"), "query is empty"),
        (("search", "   "), "query is empty"),
        (("search", "H20", "--k", "0"), "k must be"),
        (("search", "H20", "--k", "100000"), "k must be"),
        (("search", "H20", "--date-from", "2025-13-01"), "YYYY-MM-DD"),
        (("search", "H20", "--kind", "blog"), "kind"),
        (("search", "H20", "--date-from", "2026-01-01", "--date-to", "2025-01-01"), "swap them"),
        (("ingest", "/definitely/not/here"), "does not exist"),
        (("eval", "retrieval", "/definitely/not/here.jsonl"), "cannot read question file"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: tuple[str, ...], needle: str) -> None:
    code, out, err = run(*args)
    assert code == 2, (out, err)
    assert out == ""
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2


def test_ingest_non_utf8_file_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "gbk.txt"
    bad.write_bytes("英伟达H20芯片".encode("gbk"))
    code, out, err = run("ingest", str(bad))
    assert code == 2 and out == "" and "not UTF-8" in err


def test_malformed_question_file_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"q": "ok", "expect_any": ["x"]}\n{"q": "no phrases"}\n', encoding="utf-8")
    code, _, err = run("eval", "retrieval", str(bad))
    assert code == 2 and "q.jsonl:2" in err


@pytest.mark.slow
def test_eval_retrieval_json_on_the_dev_and_extended_sets() -> None:
    for path in (DEV, EXTENDED):
        if not path.exists():
            continue
        code, out, err = run("eval", "retrieval", str(path), "--k", "5", "--json")
        assert code == 0, err
        report = json.loads(out)
        assert {"recall_at_k", "mrr", "n", "results"} <= report.keys()
        assert report["n"] == len(report["results"]) > 0
        assert report["recall_at_k"] >= 0.9
        assert {"q", "found", "rank"} <= report["results"][0].keys()


def test_ingest_while_another_ingestion_holds_the_lock_is_exit_2(data_dir: Path) -> None:
    from corpus.locking import IngestLock

    run("search", "H20", "--json")  # make sure the index exists
    with IngestLock(data_dir / "corpus.ingest.lock").hold(timeout=0):
        code, out, err = run("ingest", "--wait", "0", "--json")
    assert code == 2 and out == ""
    assert "another ingestion is writing this index" in err and "Traceback" not in err
    code, out, err = run("ingest", "--json")  # released: runs normally
    assert code == 0, err

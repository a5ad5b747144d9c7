"""Chat sessions in SQLite (default) and PostgreSQL (when one runs on 127.0.0.1:5432)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from service.agent.parse import Lexicon, apply_followup, parse_question
from service.agent.sessions import SessionStore
from service.storage import make_engine, upgrade
from tests.agent.conftest import TODAY
from tests.pg import NO_POSTGRES, PG_URL, postgres_available


def _exercise(engine: Engine, lex: Lexicon) -> None:
    upgrade(engine)
    assert {"chat_sessions", "chat_turns"} <= set(inspect(engine).get_table_names())
    store = SessionStore(engine)
    sid = store.create()
    first = parse_question("预算5000万元，训练一个700亿参数的模型", lex, today=TODAY)
    store.append(sid, "q1", "a1", first, {"total_cost": 4.9e7, "currency": "CNY"})
    second = apply_followup(store.last(sid).parsed, "预算翻倍呢？", lex, today=TODAY)  # type: ignore[union-attr]
    store.append(sid, "q2", "a2", second, None)
    turns = SessionStore(engine).history(sid)  # a new store (a restarted service) reads the same history
    assert [t.message for t in turns] == ["q1", "q2"]
    assert turns[0].summary == {"total_cost": 4.9e7, "currency": "CNY"}
    assert turns[1].parsed.request.budget == 1e8 and [c.field for c in turns[1].parsed.changes] == ["budget"]
    assert store.exists(sid) and not store.exists("missing")


def test_sessions_in_sqlite(tmp_path: Path, lex: Lexicon) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'procure.db'}")
    _exercise(engine, lex)
    engine.dispose()


@contextmanager
def _scratch_schema() -> Iterator[Engine]:
    """An engine whose search path is a fresh PostgreSQL schema, dropped afterwards."""
    name = f"chat_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    statements = (f'CREATE SCHEMA "{name}"', f'DROP SCHEMA "{name}" CASCADE')
    with admin.begin() as conn:
        conn.execute(text(statements[0]))
    engine = make_engine(PG_URL + f"?options=-csearch_path%3D{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(statements[1]))
        admin.dispose()


@pytest.mark.integration
def test_sessions_in_postgresql(lex: Lexicon) -> None:
    if not postgres_available():
        pytest.fail(NO_POSTGRES)
    with _scratch_schema() as engine:
        _exercise(engine, lex)

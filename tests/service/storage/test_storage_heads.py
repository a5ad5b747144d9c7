"""The database's revision is checked without Alembic when it is already at the heads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from service.storage.db import MIGRATIONS_DIR, head_revisions, make_engine, upgrade

ROOT = Path(__file__).resolve().parents[3]


def test_heads_read_from_the_scripts_equal_alembics() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert head_revisions() == frozenset(ScriptDirectory.from_config(cfg).get_heads())


def test_heads_of_a_merge(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('revision = "a"\ndown_revision = None\n', encoding="utf-8")
    (tmp_path / "b.py").write_text('revision = "b"\ndown_revision = "a"\n', encoding="utf-8")
    (tmp_path / "c.py").write_text('revision = "c"\ndown_revision = "a"\n', encoding="utf-8")
    assert head_revisions(tmp_path) == {"b", "c"}
    (tmp_path / "d.py").write_text('revision = "d"\ndown_revision = ("b", "c")\n', encoding="utf-8")
    assert head_revisions(tmp_path) == {"d"}


def test_an_up_to_date_database_is_not_upgraded_through_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'procure.sqlite'}"
    upgrade(make_engine(url))  # a new database: Alembic creates every table
    with make_engine(url).connect() as conn:
        stamped = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    assert stamped == head_revisions()
    probe = (
        "import sys\nfrom service.storage.db import make_engine, upgrade\n"
        f"upgrade(make_engine({url!r}))\nprint('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_database_behind_the_heads_is_still_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'procure.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version WHERE version_num = '0004_api_keys'"))
        conn.execute(text("DROP TABLE api_keys"))
        conn.execute(text("DROP TABLE audit_events"))
    upgrade(engine)
    with engine.connect() as conn:
        stamped = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
        tables = {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    assert stamped == head_revisions()
    assert "api_keys" in tables

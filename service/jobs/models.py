"""Tables of batch jobs: one row per job, one per scenario (claim state), one per result (written once).

Times are UTC seconds since the epoch (floats): they compare the same way on SQLite and PostgreSQL.
The schema itself is created by the Alembic revisions ``0002_jobs`` and ``0005_owners_shared_index`` (the owning
key of a job, and idempotency keys scoped by it); these definitions must match them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from service.storage import Base

jobs = Table(
    "jobs",
    Base.metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200)),
    Column("spec", JSON, nullable=False),
    Column("spec_hash", String(32), nullable=False),
    Column("axes", JSON, nullable=False),
    Column("idempotency_key", String(300), unique=True),
    Column("state", String(16), nullable=False),
    Column("total", Integer, nullable=False),
    Column("executor", String(16)),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("owner", String(16)),
    Index("ix_jobs_state", "state", "created_at"),
    Index("ix_jobs_owner", "owner", "created_at"),
)

job_scenarios = Table(
    "job_scenarios",
    Base.metadata,
    Column("job_id", String(64), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("scenario_id", String(32), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("swept", JSON, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", String(128)),
    Column("lease_expires_at", Float),
    Column("started_at", Float),
    Column("finished_at", Float),
    Index("ix_job_scenarios_claim", "job_id", "status", "seq"),
    Index("ix_job_scenarios_owner", "lease_owner"),
)

job_results = Table(
    "job_results",
    Base.metadata,
    Column("job_id", String(64), primary_key=True),
    Column("scenario_id", String(32), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("result", JSON),
    Column("error", Text),
    Column("duration_ms", Float),
    Column("worker", String(128)),
    Column("attempts", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    ForeignKeyConstraint(["job_id", "scenario_id"], ["job_scenarios.job_id", "job_scenarios.scenario_id"],
                         ondelete="CASCADE"),
    Index("ix_job_results_seq", "job_id", "seq"),
    Index("ix_job_results_created", "job_id", "created_at"),
)

"""Batch jobs: jobs, their scenarios (claim state and leases) and their results (one per scenario).

Revision ID: 0002_jobs
Revises: 0001_base
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_jobs"
down_revision = "0001_base"
branch_labels = ("jobs",)
depends_on = None


def upgrade() -> None:
    """Create the three job tables and the indexes that claims, progress and result paging use."""
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200)),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("spec_hash", sa.String(32), nullable=False),
        sa.Column("axes", sa.JSON, nullable=False),
        sa.Column("idempotency_key", sa.String(200), unique=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("executor", sa.String(16)),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("finished_at", sa.Float),
    )
    op.create_index("ix_jobs_state", "jobs", ["state", "created_at"])
    op.create_table(
        "job_scenarios",
        sa.Column("job_id", sa.String(64), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("scenario_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("swept", sa.JSON, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("lease_owner", sa.String(128)),
        sa.Column("lease_expires_at", sa.Float),
        sa.Column("started_at", sa.Float),
        sa.Column("finished_at", sa.Float),
    )
    op.create_index("ix_job_scenarios_claim", "job_scenarios", ["job_id", "status", "seq"])
    op.create_index("ix_job_scenarios_owner", "job_scenarios", ["lease_owner"])
    op.create_table(
        "job_results",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("scenario_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.JSON),
        sa.Column("error", sa.Text),
        sa.Column("duration_ms", sa.Float),
        sa.Column("worker", sa.String(128)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.ForeignKeyConstraint(["job_id", "scenario_id"], ["job_scenarios.job_id", "job_scenarios.scenario_id"],
                                ondelete="CASCADE"),
    )
    op.create_index("ix_job_results_seq", "job_results", ["job_id", "seq"])
    op.create_index("ix_job_results_created", "job_results", ["job_id", "created_at"])


def downgrade() -> None:
    """Drop the job tables (results first)."""
    op.drop_table("job_results")
    op.drop_table("job_scenarios")
    op.drop_table("jobs")

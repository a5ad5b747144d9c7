"""API keys (HMAC-SHA256 digests, scopes, per-key limits) and the audit log of key use and ingests.

Revision ID: 0004_api_keys
Revises: 0001_base
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_api_keys"
down_revision = "0001_base"
branch_labels = ("api_keys",)
depends_on = None


def upgrade() -> None:
    """Create ``api_keys`` and ``audit_events``."""
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.String(200), nullable=False),
        sa.Column("rate_limit", sa.String(40), nullable=True),
        sa.Column("quota", sa.String(40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=True, index=True),
        sa.Column("method", sa.String(10), nullable=True),
        sa.Column("path", sa.String(300), nullable=True),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("client", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("detail", sa.String(1000), nullable=True),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("audit_events")
    op.drop_table("api_keys")

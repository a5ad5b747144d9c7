"""Base revision: every feature's tables branch from here in a revision of their own.

Revision ID: 0001_base
Revises:
"""

revision = "0001_base"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing: the base only anchors the feature branches (jobs, chat sessions, API keys)."""


def downgrade() -> None:
    """Nothing to undo."""

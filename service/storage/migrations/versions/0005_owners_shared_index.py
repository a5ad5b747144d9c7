"""Owners of jobs and chat sessions (the API key that created them) and the shared corpus index tables.

* ``jobs.owner`` and ``chat_sessions.owner``: the id of the API key that created the row (NULL: created without a
  key, on a loopback service or from the CLI). Other keys get 404 for them; the ``admin`` scope sees all.
  A job's idempotency key is stored scoped by its owner (``<owner>:<key>``), so two keys never share a job
  through the same ``Idempotency-Key``; the column is widened to hold the prefix.
* ``corpus_meta``, ``corpus_documents``, ``corpus_chunks``: the corpus manifest (documents, chunks, BM25 tokens,
  generation) for deployments whose vectors live on a Chroma server. It lives with the shared database, so
  every instance sees one index and none takes another's vectors for leftovers (:mod:`corpus.shared_manifest`).

This revision joins the ``jobs`` and ``chat_sessions`` branches.

Revision ID: 0005_owners_shared_index
Revises: 0002_jobs, 0003_chat_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_owners_shared_index"
down_revision = ("0002_jobs", "0003_chat_sessions")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the owner columns, widen the idempotency key, create the shared corpus tables."""
    op.add_column("jobs", sa.Column("owner", sa.String(16), nullable=True))
    op.create_index("ix_jobs_owner", "jobs", ["owner", "created_at"])
    if op.get_bind().dialect.name != "sqlite":  # SQLite does not enforce lengths (and cannot ALTER a column)
        op.alter_column("jobs", "idempotency_key", type_=sa.String(300), existing_type=sa.String(200))
    op.add_column("chat_sessions", sa.Column("owner", sa.String(16), nullable=True))
    op.create_table(
        "corpus_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "corpus_documents",
        sa.Column("doc_id", sa.Text, primary_key=True),
        sa.Column("path", sa.Text),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("pipeline", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("published", sa.String(10)),
        sa.Column("author", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("ingested_at", sa.String(32), nullable=False),
        sa.Column("date_source", sa.String(32)),
        sa.Column("details", sa.Text),
    )
    op.create_table(
        "corpus_chunks",
        sa.Column("chunk_id", sa.Text, primary_key=True),
        sa.Column("doc_id", sa.Text, sa.ForeignKey("corpus_documents.doc_id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.Column("section", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("factual", sa.Boolean, nullable=False),
        sa.Column("boilerplate", sa.Text),
        sa.Column("tokens", sa.Text, nullable=False),
    )
    op.create_index("ix_corpus_chunks_doc", "corpus_chunks", ["doc_id", "ordinal"])


def downgrade() -> None:
    """Drop the corpus tables and the owner columns."""
    op.drop_index("ix_corpus_chunks_doc", table_name="corpus_chunks")
    op.drop_table("corpus_chunks")
    op.drop_table("corpus_documents")
    op.drop_table("corpus_meta")
    op.drop_column("chat_sessions", "owner")
    op.drop_index("ix_jobs_owner", table_name="jobs")
    op.drop_column("jobs", "owner")

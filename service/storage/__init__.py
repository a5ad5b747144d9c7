"""Durable storage shared by the service's features (chat sessions, batch jobs, API keys).

One SQLAlchemy engine per process is built from ``Settings.database_url`` (a SQLite file under the data
directory by default, PostgreSQL by URL). The schema is owned by Alembic migrations in
``service/storage/migrations``: each feature adds its tables in its own revision that branches from
``0001_base``, and :func:`service.storage.db.upgrade` applies every head.
"""

from service.storage.db import Base, make_engine, session_factory, shared_engine, upgrade

__all__ = ["Base", "make_engine", "session_factory", "shared_engine", "upgrade"]

"""Chat sessions persisted through SQLAlchemy (SQLite by default, PostgreSQL by URL).

A session holds its turns; each turn keeps the message, the parsed question (so a follow-up can edit the
request) and a short summary of the plan (so the next answer can say what changed).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from service.agent.parse import ParsedQuestion
from service.storage import Base, session_factory
from service.usecases import commit_point


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ChatSession(Base):
    """One conversation."""

    __tablename__ = "chat_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    owner: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    """Id of the API key that started the conversation (migration 0005; None without a key)."""


class ChatTurn(Base):
    """One question and its answer."""

    __tablename__ = "chat_turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    parsed: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Turn:
    """A stored turn, detached from the database."""

    def __init__(self, message: str, answer: str, parsed: ParsedQuestion, summary: dict[str, Any] | None) -> None:
        self.message = message
        self.answer = answer
        self.parsed = parsed
        self.summary = summary


class SessionStore:
    """Create sessions, append turns, read the history."""

    def __init__(self, engine: Engine) -> None:
        self._factory = session_factory(engine)

    def create(self, owner: str | None = None) -> str:
        """A new empty session (owned by the API key id ``owner``, if any); returns its id."""
        sid = uuid.uuid4().hex
        with self._factory.begin() as db:
            db.add(ChatSession(id=sid, owner=owner))
        return sid

    def owner_of(self, session_id: str) -> tuple[bool, str | None]:
        """Whether the session exists, and the API key id that owns it (None: started without a key)."""
        with self._factory() as db:
            row = db.get(ChatSession, session_id)
        return (row is not None, row.owner if row is not None else None)

    def exists(self, session_id: str) -> bool:
        """True when the session is stored."""
        with self._factory() as db:
            return db.get(ChatSession, session_id) is not None

    def history(self, session_id: str, limit: int = 50) -> list[Turn]:
        """Turns of a session, oldest first."""
        with self._factory() as db:
            rows = db.scalars(select(ChatTurn).where(ChatTurn.session_id == session_id)
                              .order_by(ChatTurn.ordinal.desc()).limit(limit)).all()
        return [Turn(r.message, r.answer, ParsedQuestion.model_validate(r.parsed), r.summary) for r in reversed(rows)]

    def last(self, session_id: str) -> Turn | None:
        """The latest turn of a session, if any."""
        turns = self.history(session_id, limit=1)
        return turns[-1] if turns else None

    def append(self, session_id: str, message: str, answer: str, parsed: ParsedQuestion,
               summary: dict[str, Any] | None) -> None:
        """Store a turn (creating the session row if needed).

        The turn is the request's commit point: a request already cancelled (its client told 503/504) stores
        nothing, and one past this point is answered rather than cancelled.
        """
        commit_point()
        with self._factory.begin() as db:
            sess = db.get(ChatSession, session_id)
            if sess is None:
                sess = ChatSession(id=session_id)
                db.add(sess)
            count = len(db.scalars(select(ChatTurn.id).where(ChatTurn.session_id == session_id)).all())
            db.add(ChatTurn(session_id=session_id, ordinal=count, message=message, answer=answer,
                            parsed=parsed.model_dump(mode="json"), summary=summary))
            sess.updated_at = _now()

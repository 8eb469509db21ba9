"""Opening vigil's database: the one place that turns settings into an engine and sessions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from vigil.config import Settings
from vigil.store.db import DatabaseError, database_reason, make_engine, session_factory, upgrade


@dataclass(frozen=True)
class Store:
    """An open, migrated database."""

    settings: Settings
    """The settings it was opened with."""
    engine: Engine
    """The SQLAlchemy engine."""
    sessions: sessionmaker[Session]
    """Session factory bound to the engine."""

    def close(self) -> None:
        self.engine.dispose()


def open_store(settings: Settings, migrate: bool = True) -> Store:
    """Connect and bring the schema up to date; DatabaseError says what went wrong in one line."""
    try:
        engine = make_engine(settings.database_url)
        if migrate:
            upgrade(engine)
    except SQLAlchemyError as error:
        reason = database_reason(error)
        raise DatabaseError(f"cannot open database {_redact(settings.database_url)}: {reason}") from None
    return Store(settings, engine, session_factory(engine))


def _redact(url: str) -> str:
    """Hide a password in a database URL before it reaches a message or a log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<database url>"

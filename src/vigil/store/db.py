"""Engines and sessions for SQLite (embedded default) and PostgreSQL (teams)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from vigil.errors import first_line

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The csaf package configures root logging at INFO when imported; migrations should stay quiet.
logging.getLogger("alembic").setLevel(logging.WARNING)


class DatabaseError(Exception):
    """The database cannot be opened or migrated; the message says which and why."""


def database_reason(error: SQLAlchemyError) -> str:
    """The driver's own one-line reason, without SQLAlchemy's statement dump and help link."""
    original = getattr(error, "orig", None)
    return first_line(original if isinstance(original, BaseException) else error)


def make_engine(url: str) -> Engine:
    """An engine with vigil's connection settings: WAL + foreign keys on SQLite, psycopg 3 on PostgreSQL."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            parent = Path(database).expanduser().resolve().parent
            if not parent.is_dir():
                raise DatabaseError(f"{url}: directory {parent} does not exist")
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (dashboard) run beside an import; NORMAL is durable at every WAL checkpoint
    # and still atomic per transaction, which is what crash safety needs.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (a no-op when it is already there).

    The whole upgrade is one transaction on both databases, so a crash midway leaves the schema
    as it was. SQLite's DDL is transactional, but Python's sqlite3 module never opens a
    transaction for it; the migration therefore runs on its own engine that issues
    `BEGIN IMMEDIATE` itself, which also makes a second process wait instead of migrating twice.
    """
    if engine.dialect.name != "sqlite":
        _run_migrations(engine)
        return
    migration_engine = create_engine(engine.url, connect_args={"timeout": 30})
    event.listen(migration_engine, "connect", _sqlite_manual_transactions)
    event.listen(migration_engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    try:
        _run_migrations(migration_engine)
    finally:
        migration_engine.dispose()


def _sqlite_manual_transactions(dbapi_connection: sqlite3.Connection, record: Any) -> None:
    _sqlite_on_connect(dbapi_connection, record)
    dbapi_connection.isolation_level = None  # sqlite3 stops issuing BEGIN; the "begin" event does


def _run_migrations(engine: Engine) -> None:
    # Imported here, after the logger level above is set: alembic logs its plugin set-up on import.
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits as one unit, or not at all."""
    with factory() as session, session.begin():
        yield session

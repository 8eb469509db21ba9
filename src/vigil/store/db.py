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


SQLITE_POOL_SIZE = 20
"""Connections kept open per process (SQLite's are cheap; opening one costs its PRAGMAs every time)."""


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
        # A pool as large as a server's concurrent requests: past pool_size each checkout opened (and closed)
        # a new connection with its PRAGMAs, a tenth of a request's time under 20 clients (bench/api.py).
        engine = create_engine(parsed, connect_args={"timeout": 30}, pool_size=SQLITE_POOL_SIZE, max_overflow=20)
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


SITE_TABLES = ("asset", "installed_product", "finding", "finding_evidence", "finding_event", "action_item")
"""The tables large writes (imports, match runs) change the shape of."""


def refresh_statistics(engine: Engine, tables: tuple[str, ...] = SITE_TABLES) -> None:
    """Planner statistics after a large write. Without them SQLite picked a scan over every site's findings for
    a (site_id, id) lookup, and PostgreSQL (where autovacuum may be off or behind) a row filter instead of an
    index for the VEX export's installed products (bench/response_workflow.py). Sampled, so cheap: SQLite
    reads at most `analysis_limit` rows per index, PostgreSQL a fixed-size sample."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA analysis_limit=1000")
        for table in tables:
            connection.exec_driver_sql(f"ANALYZE {table}")  # our own table names, not input

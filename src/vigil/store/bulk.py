"""Bulk inserts at DBAPI speed: executemany on SQLite, COPY on PostgreSQL.

SQLAlchemy's executemany spends most of its time building and processing parameters per row
(≈ 40 % of a 100,000-asset inventory import, measured with cProfile). Here each column's bind
processor (the same conversion SQLAlchemy would apply: datetimes for SQLite, JSON, booleans) is
looked up once, and rows go to the driver as tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, Dialect, Table
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine


def _processor(column_type: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    if isinstance(column_type, JSON) and dialect.name == "postgresql":
        # psycopg's dialect leaves JSON to the driver's adapter, which COPY does not use: send text.
        return lambda value: orjson.dumps(value).decode()
    return column_type.bind_processor(dialect)


def bulk_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (all with the same keys) into `table` inside the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    columns = list(rows[0])
    processors: list[Callable[[Any], Any] | None] = [_processor(table.c[c].type, dialect) for c in columns]
    active = [(i, p) for i, p in enumerate(processors) if p is not None]

    def values(row: dict[str, Any]) -> tuple[Any, ...]:
        out = [row[c] for c in columns]
        for index, process in active:
            if out[index] is not None:
                out[index] = process(out[index])
        return tuple(out)

    names = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
    quoted_table = dialect.identifier_preparer.format_table(table)
    if dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {quoted_table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(values(row))
        return
    marks = ", ".join("?" for _ in columns)
    # Table and column names come from our own schema, quoted by the dialect; values are bound.
    statement = f"INSERT INTO {quoted_table} ({names}) VALUES ({marks})"  # noqa: S608
    connection.exec_driver_sql(statement, [values(r) for r in rows])

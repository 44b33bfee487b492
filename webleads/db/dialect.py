"""The few places where SQLite and PostgreSQL need different SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def insert(conn: Connection, table: sa.Table) -> Any:
    """An INSERT that supports ``on_conflict_do_update`` on the connection's dialect."""
    return postgresql.insert(table) if is_postgres(conn) else sqlite.insert(table)


def for_update(conn: Connection, stmt: sa.Select[Any]) -> sa.Select[Any]:
    """Lock selected rows on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises."""
    return stmt.with_for_update() if is_postgres(conn) else stmt


def bulk_insert(conn: Connection, table: sa.Table, columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """Append rows fast: COPY on PostgreSQL, one executemany on SQLite.

    ``rows`` hold values already in the driver's form (for SQLite: UTC datetimes as
    ISO text, JSON as text) so that no per-row SQLAlchemy processing runs.
    """
    if not rows:
        return
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    names = ", ".join(columns)
    if is_postgres(conn):
        with dbapi.cursor() as cur:
            with cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        marks = ", ".join("?" * len(columns))
        cur = dbapi.cursor()
        try:
            cur.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
        finally:
            cur.close()


def timestamp_converter(conn: Connection) -> Any:
    """How ``bulk_insert`` rows carry UTC datetimes on this connection's driver."""
    if is_postgres(conn):
        return _same
    return _sqlite_timestamp


def _same(value: Any) -> Any:
    return value


def _sqlite_timestamp(value: Any) -> str:
    # The text format SQLAlchemy's SQLite DateTime reads back (UTC, naive).
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")  # type: ignore[no-any-return]

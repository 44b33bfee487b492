"""The few places where SQLite and PostgreSQL need different SQL.

The hot path of ``store.py`` talks to the driver directly (prepared SQL text, rows
already in the driver's form): SQLAlchemy's per-statement and per-row work costs more
than the database itself at tens of thousands of hits per second.  Raw SQL there is
written with ``?`` placeholders; ``execute_many`` adapts them to psycopg's ``%s``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def insert(conn: Connection, table: sa.Table) -> Any:
    """An INSERT that supports ``on_conflict_do_update`` on the connection's dialect."""
    return postgresql.insert(table) if is_postgres(conn) else sqlite.insert(table)


def functions(conn: Connection) -> dict[str, str]:
    """Names for raw SQL: two-argument max/min, and row locking."""
    if is_postgres(conn):
        return {"greatest": "greatest", "least": "least", "lock": "FOR UPDATE OF v"}
    return {"greatest": "max", "least": "min", "lock": ""}


def json_merge(conn: Connection, old: Any, new: Any) -> Any:
    """SQL for ``old`` with the keys of the JSON object ``new`` set (NULL-safe)."""
    if is_postgres(conn):
        return sa.cast(sa.func.coalesce(sa.cast(old, postgresql.JSONB), sa.text("'{}'::jsonb"))
                       .op("||")(sa.cast(new, postgresql.JSONB)), sa.JSON)
    return sa.func.json_patch(sa.func.coalesce(old, "{}"), new)


def _driver(conn: Connection) -> Any:
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    return dbapi


def _placeholders(conn: Connection, sql: str) -> str:
    return sql.replace("?", "%s") if is_postgres(conn) else sql


def execute_many(conn: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run ``sql`` (``?`` placeholders) once per row, at the driver level."""
    if not rows:
        return
    cur = _driver(conn).cursor()
    try:
        cur.executemany(_placeholders(conn, sql), rows)
    finally:
        cur.close()


def execute(conn: Connection, sql: str, params: Sequence[Any]) -> None:
    """Run ``sql`` (``?`` placeholders) once, at the driver level."""
    cur = _driver(conn).cursor()
    try:
        cur.execute(_placeholders(conn, sql), params)
    finally:
        cur.close()


def fetch_all(conn: Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    cur = _driver(conn).cursor()
    try:
        cur.execute(_placeholders(conn, sql), params)
        return list(cur.fetchall())
    finally:
        cur.close()


def reserve_ids(conn: Connection, table: str, n: int) -> list[int]:
    """``n`` new primary keys for ``table``, so rows can be appended without RETURNING.

    PostgreSQL draws them from the column's sequence; on SQLite the write transaction
    (``BEGIN IMMEDIATE``) is exclusive, so the ids after the current maximum are free.
    """
    if n <= 0:
        return []
    if is_postgres(conn):
        rows = fetch_all(conn, f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                         "FROM generate_series(1, ?)", [n])
        return [int(r[0]) for r in rows]
    top = fetch_all(conn, f"SELECT coalesce(max(id), 0) FROM {table}", [])[0][0]
    return list(range(int(top) + 1, int(top) + 1 + n))


def bulk_insert(conn: Connection, table: sa.Table, columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """Append rows fast: COPY on PostgreSQL, one executemany on SQLite.

    ``rows`` hold values already in the driver's form (``timestamp_converter``; JSON
    as text) so that no per-row SQLAlchemy processing runs.
    """
    if not rows:
        return
    names = ", ".join(columns)
    if is_postgres(conn):
        # Binary COPY: psycopg formats binary rows in C, about half the client CPU of
        # the text format; each value is sent in its column's own binary type.
        with _driver(conn).cursor() as cur:
            with cur.copy(f"COPY {table.name} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(_copy_types(table, tuple(columns)))
                for row in rows:
                    copy.write_row(row)
    else:
        marks = ", ".join("?" * len(columns))
        execute_many(conn, f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)


@lru_cache(maxsize=64)
def _copy_types(table: sa.Table, columns: tuple[str, ...]) -> list[str]:
    """PostgreSQL type names of ``columns`` for a binary COPY (JSON goes as its text)."""
    types = []
    for name in columns:
        kind = table.c[name].type
        if isinstance(kind, sa.types.TypeDecorator):
            kind = kind.impl_instance
        if isinstance(kind, sa.BigInteger):
            types.append("int8")
        elif isinstance(kind, sa.Integer):
            types.append("int4")
        elif isinstance(kind, sa.Float):
            types.append("float8")
        elif isinstance(kind, sa.DateTime):
            types.append("timestamptz" if kind.timezone else "timestamp")
        elif isinstance(kind, sa.String | sa.JSON):
            types.append("text")
        else:
            raise TypeError(f"no binary COPY type for {table.name}.{name} ({kind!r})")
    return types


def timestamp_converter(conn: Connection) -> Callable[[datetime], Any]:
    """How rows given to the driver carry UTC datetimes on this connection."""
    if is_postgres(conn):
        return _same
    return _sqlite_timestamp


def timestamp_reader(conn: Connection) -> Callable[[Any], datetime]:
    """How timestamps read at the driver level become aware UTC datetimes."""
    if is_postgres(conn):
        return _same
    return _sqlite_read


def _same(value: Any) -> Any:
    return value


@lru_cache(maxsize=16384)  # a hit's time is also its session's and visitor's
def _sqlite_timestamp(value: datetime) -> str:
    # The text format SQLAlchemy's SQLite DateTime reads back (UTC, naive).
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def sqlite_timestamp(value: datetime) -> str:
    """An aware datetime in the text form SQLite columns of ``UTCDateTime`` hold."""
    return _sqlite_timestamp(value)


def _sqlite_read(value: Any) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


# -- searching free text for an address (data subjects) ---------------------------------------

def bytes_as_text(conn: Connection, column: Any) -> Any:
    """A binary column as text to search in, whatever its bytes.

    PostgreSQL: ``encode(…, 'escape')``, which never fails on invalid UTF-8 (unlike
    ``convert_from``): NUL and bytes from 0x80 become ``\\ooo``, ``\\`` is doubled, the
    rest is kept.  SQLite: the blob read as text (bytes unchanged).  Search for
    ``bytes_needle`` of the text, not the text itself.
    """
    if is_postgres(conn):
        return sa.func.encode(column, "escape")
    return sa.cast(column, sa.Text)


def bytes_needle(conn: Connection, text: str) -> str:
    """``text`` as its UTF-8 bytes appear in ``bytes_as_text``."""
    if not is_postgres(conn):
        return text
    return "".join("\\\\" if b == 0x5C else f"\\{b:03o}" if b == 0 or b >= 0x80 else chr(b)
                   for b in text.encode("utf-8"))


def json_as_text(conn: Connection, column: Any) -> Any:
    """A JSON column as its text (PostgreSQL ``json::text``; SQLite stores the text)."""
    if is_postgres(conn):
        return sa.cast(column, sa.Text)
    return sa.type_coerce(column, sa.Text)


def contains_folded(conn: Connection, text: Any, needles: Sequence[str]) -> Any:
    """SQL true when ``lower(text)`` holds one of ``needles`` (lower-case; taken
    literally, no LIKE wildcards).  ``strpos`` on PostgreSQL, ``instr`` on SQLite."""
    find = sa.func.strpos if is_postgres(conn) else sa.func.instr
    lowered = sa.func.lower(text)
    return sa.or_(*(find(lowered, needle) > 0 for needle in needles))

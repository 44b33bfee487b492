"""Engines for the two supported databases, configured once.

SQLite: WAL journal, a busy timeout, foreign keys on, and write transactions opened
with ``BEGIN IMMEDIATE`` so that two writers queue instead of failing half-way.
Read-only work may ask for a deferred transaction with ``read_only(conn)``.
PostgreSQL: psycopg 3 with a small pool.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

_json_encode = msgspec.json.Encoder()


def _json_serializer(value: Any) -> str:
    return _json_encode.encode(value).decode()


def create_engine(url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 5) -> Engine:
    """Build the engine for ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, sqlite_synchronous)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return sa.create_engine(
            parsed,
            json_serializer=_json_serializer,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
        )
    raise ValueError(f"unsupported database URL {parsed.render_as_string()!r}: "
                     "use sqlite:///FILE or postgresql+psycopg://...")


def _sqlite_engine(url: str, synchronous: str) -> Engine:
    # CPython's sqlite3 (3.11) binds None through its adapter protocol: a registry miss,
    # then two failed attribute lookups (``__adapt__``, ``__conform__``) that each raise
    # and clear an AttributeError: ~0.3 µs per NULL parameter, a quarter of the cost of
    # a hits row (a dozen of its 36 columns are NULL).  An adapter registered for
    # NoneType is found at once and returns None, bound as NULL exactly as before.
    # ``{}.get`` is a C callable returning None.  (The registry is process-wide.)
    sqlite3.register_adapter(type(None), cast(Callable[[None], None], {}.get))
    engine = sa.create_engine(
        url,
        json_serializer=_json_serializer,
        connect_args={"timeout": 30, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below open transactions, not pysqlite.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("webleads_read_only"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def read_only(engine: Engine) -> Connection:
    """A connection for reads: on SQLite its transactions do not take the write lock."""
    return engine.connect().execution_options(webleads_read_only=True)

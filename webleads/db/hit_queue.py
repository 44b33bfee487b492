"""SQL of the hit queue (``hit_queue`` table; format in ``webleads/hit_queue.py``).

The writer appends one row per batch; the processor takes the oldest rows, stores
their hits and deletes them in the same transaction, so a hit is either still queued
or stored, never both and never neither.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from webleads.db import dialect
from webleads.db.schema import hit_queue, hit_queue_marks

q = hit_queue.c
SQLITE_MARK = "sqlite-queue"


class Queued(NamedTuple):
    id: int
    hits: int
    payload: bytes


def enqueue_now(queue: Engine, enqueued_at: datetime, hits: int, payload: bytes) -> None:
    """Append one row in a transaction of its own, at the driver level: the server's
    writer does it for every batch, and SQLAlchemy's transaction and statement work
    cost 400 µs a commit against 160 (5 µs a hit at 47 hits a commit)."""
    raw = queue.raw_connection()
    try:
        cur = raw.cursor()
        if queue.dialect.name == "sqlite":
            # The connection runs in autocommit (engine.py): open the write
            # transaction as every other writer does.
            cur.execute("BEGIN IMMEDIATE")
            try:
                cur.execute(_INSERT_SQLITE, (dialect.sqlite_timestamp(enqueued_at), hits,
                                             payload))
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        else:
            try:
                cur.execute(_INSERT_PG, (enqueued_at, hits, payload))
                raw.commit()
            except BaseException:
                raw.rollback()
                raise
        cur.close()
    finally:
        raw.close()  # back to the pool


_INSERT_SQLITE = "INSERT INTO hit_queue (enqueued_at, hits, payload) VALUES (?, ?, ?)"
_INSERT_PG = "INSERT INTO hit_queue (enqueued_at, hits, payload) VALUES (%s, %s, %s)"


def queue_engine(engine: Engine, *, sqlite_synchronous: str = "FULL") -> Engine:
    """Where the hit queue lives.

    PostgreSQL: in the database itself (row locks: the server's inserts and the
    processor's long transactions do not wait for each other).  SQLite: in a file of
    its own beside the database (``FILE-queue``), because SQLite has one write lock
    per file: with the queue in the main file, every commit of the server would wait
    behind the processor's transactions.  The file is a buffer, not part of the
    migrated schema: its one table is created here.  An in-memory database keeps it
    inside (one process: nothing else could read a separate one)."""
    from webleads.db.engine import create_engine

    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return engine
    queue = create_engine(f"sqlite:///{path}-queue", sqlite_synchronous=sqlite_synchronous)
    # Ids must never come back (the mark says "rows up to this id are stored"):
    # AUTOINCREMENT, and the sequence starts past the mark, for a queue file that was
    # removed or replaced.
    with queue.begin() as qc:
        qc.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS hit_queue (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "enqueued_at DATETIME NOT NULL, hits INTEGER NOT NULL, payload BLOB NOT NULL)")
        mark = _mark_of(engine)
        qc.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) SELECT 'hit_queue', 0 "
                           "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence "
                           "WHERE name = 'hit_queue')")
        qc.exec_driver_sql("UPDATE sqlite_sequence SET seq = max(seq, ?) "
                           "WHERE name = 'hit_queue'", (mark,))
    return queue


def waiting(engine: Engine) -> tuple[int, datetime | None]:
    """Hits acknowledged and not stored yet, and when the oldest was queued: what
    ``webleads hits`` tells a user who sees fewer hits than sent.  Reads only: a missing
    queue file is an empty queue (it is not created), and on SQLite the rows up to the
    mark, stored already, are not counted."""
    from webleads.db.engine import create_engine, read_only

    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        with read_only(engine) as conn, conn.begin():
            return backlog(conn)
    if not os.path.exists(f"{path}-queue"):
        return 0, None
    mark = _mark_of(engine)
    queue = create_engine(f"sqlite:///{path}-queue")
    try:
        with read_only(queue) as qc, qc.begin():
            return backlog(qc, after=mark)
    except sa.exc.OperationalError:  # a file without the table: nothing was queued
        return 0, None
    finally:
        queue.dispose()


def _mark_of(engine: Engine) -> int:
    from webleads.db.engine import read_only

    try:
        with read_only(engine) as conn, conn.begin():
            return get_mark(conn)
    except sa.exc.OperationalError:  # not migrated yet: nothing was ever marked
        return 0


def take(conn: Connection, max_hits: int, *, after: int = 0) -> list[Queued]:
    """The oldest rows (with an id above ``after``) holding about ``max_hits`` hits,
    at least one row.

    PostgreSQL locks them and skips rows another processor holds, so processors can
    run side by side; SQLite's write transaction already excludes other writers."""
    stmt = (sa.select(q.id, q.hits, q.payload).where(q.id > after).order_by(q.id)
            .limit(max(1, min(max_hits, 500))))
    if dialect.is_postgres(conn):
        stmt = stmt.with_for_update(skip_locked=True)
    rows: list[Queued] = []
    total = 0
    for id_, n, payload in conn.execute(stmt):
        if rows and total + n > max_hits:
            break
        rows.append(Queued(id_, n, bytes(payload)))
        total += n
    return rows


def delete(conn: Connection, ids: list[int]) -> None:
    for start in range(0, len(ids), 500):
        conn.execute(hit_queue.delete().where(q.id.in_(ids[start:start + 500])))


def delete_upto(conn: Connection, last_id: int) -> int:
    return int(conn.execute(hit_queue.delete().where(q.id <= last_id)).rowcount or 0)


def get_mark(conn: Connection, name: str = SQLITE_MARK) -> int:
    """The id of the last queued row stored (a queue in another file than the hits:
    the mark is written with the hits, in their transaction, so a row is stored once
    even when the processor stops before deleting it from the queue)."""
    m = hit_queue_marks.c
    return int(conn.scalar(sa.select(m.last_id).where(m.name == name)) or 0)


def set_mark(conn: Connection, last_id: int, name: str = SQLITE_MARK) -> None:
    m = hit_queue_marks.c
    done = conn.execute(hit_queue_marks.update().where(m.name == name)
                        .values(last_id=last_id)).rowcount
    if not done:
        conn.execute(hit_queue_marks.insert().values(name=name, last_id=last_id))


def backlog(conn: Connection, *, after: int = 0) -> tuple[int, datetime | None]:
    """Hits waiting (in rows with an id above ``after``), and when the oldest waiting
    row was queued."""
    n, oldest = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(q.hits), 0),
                                       sa.func.min(q.enqueued_at)).where(q.id > after)).one()
    if oldest is not None and not isinstance(oldest, datetime):
        oldest = dialect.timestamp_reader(conn)(oldest)
    return int(n), oldest

"""Queries of the outbox: enqueue, claim, record outcomes, list, requeue, secrets.

The claim is one statement on both engines: ``UPDATE outbox ... WHERE id IN (SELECT id
... FOR UPDATE SKIP LOCKED) RETURNING ...``.  PostgreSQL locks the rows it picks and
concurrent workers skip them; SQLite ignores the locking clause, and its write
transaction (``BEGIN IMMEDIATE``, db/engine.py) already lets one worker in at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db import dialect
from webleads.db.schema_outbox import delivery_attempts as a
from webleads.db.schema_outbox import outbox as t
from webleads.db.schema_outbox import webhook_secrets as s
from webleads.outbox.model import (
    Attempt,
    AttemptOutcome,
    Channel,
    Language,
    Message,
    State,
    Stored,
)

LOST = "lease expired before the worker recorded an outcome (stopped or cut off)"
GAVE_UP = ("lease expired on the last allowed attempt: it may or may not have been "
           "delivered; `webleads outbox retry` sends it again with the same id")


def insert_message(conn: Connection, *, workspace_id: int, channel: Channel, destination: str,
                   kind: str, payload: dict[str, Any], language: Language,
                   idempotency_key: str, state: State, next_attempt_at: datetime,
                   created_at: datetime, last_error: str | None = None) -> int | None:
    """Insert a message; ``None`` when the workspace already has this idempotency key."""
    stmt = dialect.insert(conn, t).values(
        workspace_id=workspace_id, channel=channel, destination=destination, kind=kind,
        payload=payload, language=language, idempotency_key=idempotency_key, state=state,
        attempts=0, next_attempt_at=next_attempt_at, created_at=created_at,
        last_error=last_error,
    ).on_conflict_do_nothing(index_elements=["workspace_id", "idempotency_key"])
    found = conn.execute(stmt.returning(t.c.id)).scalar_one_or_none()
    return None if found is None else int(found)


def claim(conn: Connection, *, now: datetime, worker_id: str, limit: int,
          lease_until: datetime, max_attempts: int,
          only_id: int | None = None) -> list[tuple[Message, int]]:
    """Take up to ``limit`` due messages for ``worker_id``: (message, attempt row id).

    Due: pending and ``next_attempt_at <= now``, or sending with an expired lease (its
    worker died between sending and recording: it is sent again, with the same id).
    Expired leases on the last allowed attempt go to the dead-letter state instead.
    """
    expired = sa.and_(t.c.state == "sending", t.c.claimed_until <= now)
    _give_up(conn, expired, now=now, max_attempts=max_attempts)
    pick = sa.select(t.c.id).where(
        sa.or_(sa.and_(t.c.state == "pending", t.c.next_attempt_at <= now), expired))
    if only_id is not None:
        pick = pick.where(t.c.id == only_id)
    pick = pick.order_by(t.c.next_attempt_at, t.c.id).limit(limit)
    rows = list(conn.execute(
        sa.update(t).where(t.c.id.in_(pick.with_for_update(skip_locked=True)))
        .values(state="sending", claimed_by=worker_id, claimed_until=lease_until,
                attempts=t.c.attempts + 1)
        .returning(t.c.id, t.c.workspace_id, t.c.channel, t.c.destination, t.c.kind,
                   t.c.payload, t.c.language, t.c.idempotency_key, t.c.created_at,
                   t.c.attempts)
    ))
    if not rows:
        return []
    rows.sort(key=lambda r: r.id)
    ids = [r.id for r in rows]
    _lose_open_attempts(conn, ids, now)
    attempt_ids = conn.execute(
        sa.insert(a).returning(a.c.id, sort_by_parameter_order=True),
        [dict(outbox_id=r.id, attempt=r.attempts, worker=worker_id, started_at=now,
              outcome="sending") for r in rows],
    ).scalars().all()
    secrets = _secrets(conn, {(r.workspace_id, r.destination) for r in rows
                              if r.channel == "webhook"})
    return [(Message(
        id=r.id, workspace_id=r.workspace_id, channel=r.channel, destination=r.destination,
        kind=r.kind, payload=r.payload, language=r.language,
        idempotency_key=r.idempotency_key, created_at=r.created_at, attempt=r.attempts,
        secret=secrets.get((r.workspace_id, r.destination)),
    ), int(attempt_id)) for r, attempt_id in zip(rows, attempt_ids, strict=True)]


def _give_up(conn: Connection, expired: Any, *, now: datetime, max_attempts: int) -> None:
    stale = (sa.select(t.c.id).where(expired, t.c.attempts >= max_attempts)
             .with_for_update(skip_locked=True))
    dead = conn.execute(
        sa.update(t).where(t.c.id.in_(stale))
        .values(state="dead", claimed_by=None, claimed_until=None, last_error=GAVE_UP)
        .returning(t.c.id)
    ).scalars().all()
    _lose_open_attempts(conn, list(dead), now)


def _lose_open_attempts(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    if ids:
        conn.execute(sa.update(a).where(a.c.outbox_id.in_(ids), a.c.outcome == "sending")
                     .values(outcome="lost", finished_at=now, error=LOST))


def _secrets(conn: Connection, keys: set[tuple[int, str]]) -> dict[tuple[int, str], str]:
    if not keys:
        return {}
    rows = conn.execute(sa.select(s.c.workspace_id, s.c.url, s.c.secret)
                        .where(sa.tuple_(s.c.workspace_id, s.c.url).in_(sorted(keys))))
    return {(r.workspace_id, r.url): r.secret for r in rows}


def finish_attempt(conn: Connection, *, attempt_id: int, outcome: AttemptOutcome,
                   finished_at: datetime, status_code: int | None, reply: str | None,
                   error: str | None, duration_ms: int) -> None:
    """Complete an attempt row (even one already marked lost: the truth wins)."""
    conn.execute(sa.update(a).where(a.c.id == attempt_id).values(
        outcome=outcome, finished_at=finished_at, status_code=status_code, reply=reply,
        error=error, duration_ms=duration_ms))


def mark_delivered(conn: Connection, *, message_id: int, now: datetime) -> bool:
    """A confirmed delivery wins, whoever holds the lease: the message is never sent again."""
    result = conn.execute(
        sa.update(t).where(t.c.id == message_id, t.c.state != "delivered")
        .values(state="delivered", delivered_at=now, claimed_by=None, claimed_until=None,
                last_error=None))
    return bool(result.rowcount)


def mark_failed(conn: Connection, *, message_id: int, worker_id: str, attempt: int,
                state: State, next_attempt_at: datetime, error: str) -> bool:
    """Schedule a retry (``pending``) or give up (``dead``), if this worker still holds it."""
    result = conn.execute(
        sa.update(t).where(t.c.id == message_id, t.c.state == "sending",
                           t.c.claimed_by == worker_id, t.c.attempts == attempt)
        .values(state=state, next_attempt_at=next_attempt_at, claimed_by=None,
                claimed_until=None, last_error=error))
    return bool(result.rowcount)


def requeue(conn: Connection, *, message_id: int, now: datetime,
            workspace_id: int | None = None) -> bool:
    """Dead -> pending now, with a fresh budget of attempts (its history stays)."""
    where = [t.c.id == message_id, t.c.state == "dead"]
    if workspace_id is not None:
        where.append(t.c.workspace_id == workspace_id)
    result = conn.execute(sa.update(t).where(*where).values(
        state="pending", attempts=0, next_attempt_at=now, last_error=None))
    return bool(result.rowcount)


def list_messages(conn: Connection, *, state: State | None = None,
                  workspace_id: int | None = None, limit: int = 100) -> list[Stored]:
    query = sa.select(t).order_by(t.c.id.desc()).limit(limit)
    if state is not None:
        query = query.where(t.c.state == state)
    if workspace_id is not None:
        query = query.where(t.c.workspace_id == workspace_id)
    return [_stored(row) for row in conn.execute(query)]


def get_message(conn: Connection, message_id: int) -> Stored | None:
    row = conn.execute(sa.select(t).where(t.c.id == message_id)).first()
    if row is None:
        return None
    history = tuple(_attempt(r) for r in conn.execute(
        sa.select(a).where(a.c.outbox_id == message_id).order_by(a.c.id)))
    return _stored(row, history)


def count_by_state(conn: Connection, *, workspace_id: int | None = None) -> dict[str, int]:
    query = sa.select(t.c.state, sa.func.count()).group_by(t.c.state)
    if workspace_id is not None:
        query = query.where(t.c.workspace_id == workspace_id)
    return {str(state): int(n) for state, n in conn.execute(query)}




def get_webhook_secret(conn: Connection, *, workspace_id: int, url: str) -> str | None:
    found = conn.execute(sa.select(s.c.secret).where(s.c.workspace_id == workspace_id,
                                                     s.c.url == url)).scalar_one_or_none()
    return None if found is None else str(found)


def add_webhook_secret(conn: Connection, *, workspace_id: int, url: str, secret: str,
                       now: datetime) -> None:
    """Give ``url`` this secret unless it already has one."""
    conn.execute(dialect.insert(conn, s).values(
        workspace_id=workspace_id, url=url, secret=secret, created_at=now,
    ).on_conflict_do_nothing(index_elements=["workspace_id", "url"]))


def replace_webhook_secret(conn: Connection, *, workspace_id: int, url: str, secret: str,
                           now: datetime) -> None:
    stmt = dialect.insert(conn, s).values(workspace_id=workspace_id, url=url, secret=secret,
                                          created_at=now)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["workspace_id", "url"],
        set_={"secret": stmt.excluded.secret, "created_at": stmt.excluded.created_at}))


def _stored(row: Any, history: tuple[Attempt, ...] = ()) -> Stored:
    return Stored(
        id=row.id, workspace_id=row.workspace_id, channel=row.channel,
        destination=row.destination, kind=row.kind, payload=row.payload,
        language=row.language, idempotency_key=row.idempotency_key, state=row.state,
        attempts=row.attempts, next_attempt_at=row.next_attempt_at,
        claimed_by=row.claimed_by, claimed_until=row.claimed_until,
        created_at=row.created_at, delivered_at=row.delivered_at,
        last_error=row.last_error, history=history,
    )


def _attempt(row: Any) -> Attempt:
    return Attempt(
        id=row.id, outbox_id=row.outbox_id, attempt=row.attempt, worker=row.worker,
        started_at=row.started_at, finished_at=row.finished_at,
        outcome=cast(AttemptOutcome, row.outcome), status_code=row.status_code,
        reply=row.reply, error=row.error, duration_ms=row.duration_ms,
    )

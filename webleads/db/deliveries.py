"""Queries of the deliveries log (the dashboard's view of the outbox): a workspace's
messages page by page, filtered by state, with their attempts.

The log's states are the outbox's, with ``pending`` split in two: ``pending`` (never
tried yet) and ``retrying`` (pending after a failed attempt).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db.schema_outbox import delivery_attempts as a
from webleads.db.schema_outbox import outbox as t
from webleads.db.schema_outbox import webhook_secrets as s
from webleads.outbox.model import Attempt, AttemptOutcome, Stored

LogState = Literal["pending", "retrying", "sending", "delivered", "dead"]
LOG_STATES: tuple[LogState, ...] = get_args(LogState)


@dataclass(frozen=True, slots=True)
class Page:
    messages: list[Stored]   # with their attempts, newest message first
    total: int               # messages that match the filter


def log_state(message: Stored) -> LogState:
    if message.state == "pending" and message.attempts > 0:
        return "retrying"
    return cast(LogState, message.state)


def _where(workspace_id: int, state: LogState | None) -> list[Any]:
    where: list[Any] = [t.c.workspace_id == workspace_id]
    if state == "pending":
        where += [t.c.state == "pending", t.c.attempts == 0]
    elif state == "retrying":
        where += [t.c.state == "pending", t.c.attempts > 0]
    elif state is not None:
        where.append(t.c.state == state)
    return where


def page(conn: Connection, workspace_id: int, *, state: LogState | None, offset: int,
         limit: int) -> Page:
    where = _where(workspace_id, state)
    total = int(conn.execute(sa.select(sa.func.count()).select_from(t).where(*where))
                .scalar_one())
    rows = conn.execute(sa.select(t).where(*where).order_by(t.c.id.desc())
                        .offset(offset).limit(limit)).all()
    history = attempts(conn, [int(r.id) for r in rows])
    return Page([_stored(r, history.get(int(r.id), ())) for r in rows], total)


def counts(conn: Connection, workspace_id: int) -> dict[LogState, int]:
    """Messages of the workspace per log state."""
    out: dict[LogState, int] = dict.fromkeys(LOG_STATES, 0)
    retrying = sa.and_(t.c.state == "pending", t.c.attempts > 0)
    shown = sa.case((retrying, "retrying"), else_=t.c.state)
    for state, n in conn.execute(sa.select(shown, sa.func.count())
                                 .where(t.c.workspace_id == workspace_id).group_by(shown)):
        if state in out:
            out[cast(LogState, state)] = int(n)
    return out


def message(conn: Connection, workspace_id: int, message_id: int) -> Stored | None:
    row = conn.execute(sa.select(t).where(t.c.id == message_id,
                                          t.c.workspace_id == workspace_id)).first()
    if row is None:
        return None
    return _stored(row, attempts(conn, [message_id]).get(message_id, ()))


def attempts(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[Attempt, ...]]:
    out: dict[int, list[Attempt]] = {}
    if not ids:
        return {}
    for r in conn.execute(sa.select(a).where(a.c.outbox_id.in_(sorted(set(ids))))
                          .order_by(a.c.outbox_id, a.c.id)):
        out.setdefault(int(r.outbox_id), []).append(Attempt(
            id=int(r.id), outbox_id=int(r.outbox_id), attempt=int(r.attempt), worker=r.worker,
            started_at=r.started_at, finished_at=r.finished_at,
            outcome=cast(AttemptOutcome, r.outcome), status_code=r.status_code,
            reply=r.reply, error=r.error, duration_ms=r.duration_ms))
    return {k: tuple(v) for k, v in out.items()}


def _stored(row: Any, history: tuple[Attempt, ...]) -> Stored:
    return Stored(
        id=int(row.id), workspace_id=int(row.workspace_id), channel=row.channel,
        destination=row.destination, kind=row.kind, payload=row.payload,
        language=row.language, idempotency_key=row.idempotency_key, state=row.state,
        attempts=int(row.attempts), next_attempt_at=row.next_attempt_at,
        claimed_by=row.claimed_by, claimed_until=row.claimed_until,
        created_at=row.created_at, delivered_at=row.delivered_at,
        last_error=row.last_error, history=history)


def webhook_urls(conn: Connection, workspace_id: int) -> list[str]:
    """The webhook URLs of the workspace that have a signing secret."""
    return [str(u) for u in conn.execute(
        sa.select(s.c.url).where(s.c.workspace_id == workspace_id).order_by(s.c.url)).scalars()]

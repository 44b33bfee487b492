"""Queries on API tokens.  Tokens arrive here already hashed (webleads/api_tokens.py):
the table never holds a token, only its SHA-256 and a short prefix to tell them apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db.schema_web import api_tokens, users


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    workspace_id: int
    user_id: int | None
    user_name: str | None  # who created it (None: the user is gone)
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _token(row: sa.Row[tuple[object, ...]]) -> ApiToken:
    m = row._mapping
    return ApiToken(int(m["id"]), int(m["workspace_id"]),
                    int(m["user_id"]) if m["user_id"] is not None else None,
                    m["user_name"], m["name"], m["prefix"],
                    tuple(str(s) for s in (m["scopes"] or ())), m["created_at"],
                    m["last_used_at"], m["revoked_at"])


def _select() -> sa.Select[tuple[object, ...]]:
    t = api_tokens.c
    return sa.select(t.id, t.workspace_id, t.user_id, users.c.name.label("user_name"), t.name,
                     t.prefix, t.scopes, t.created_at, t.last_used_at, t.revoked_at
                     ).select_from(api_tokens.outerjoin(users, users.c.id == t.user_id))


def insert_token(conn: Connection, *, workspace_id: int, user_id: int | None, name: str,
                 prefix: str, token_hash: str, scopes: Sequence[str], now: datetime) -> int:
    return int(conn.execute(sa.insert(api_tokens).values(
        workspace_id=workspace_id, user_id=user_id, name=name, prefix=prefix,
        token_hash=token_hash, scopes=list(scopes), created_at=now,
    ).returning(api_tokens.c.id)).scalar_one())


def list_tokens(conn: Connection, workspace_id: int) -> list[ApiToken]:
    """The workspace's tokens, live ones first, newest first."""
    t = api_tokens.c
    return [_token(r) for r in conn.execute(
        _select().where(t.workspace_id == workspace_id)
        .order_by(t.revoked_at.is_not(None), t.id.desc()))]


def token_by_id(conn: Connection, workspace_id: int, token_id: int) -> ApiToken | None:
    t = api_tokens.c
    row = conn.execute(_select().where(t.id == token_id, t.workspace_id == workspace_id)).first()
    return _token(row) if row is not None else None


def token_by_hash(conn: Connection, token_hash: str) -> ApiToken | None:
    row = conn.execute(_select().where(api_tokens.c.token_hash == token_hash)).first()
    return _token(row) if row is not None else None


def revoke(conn: Connection, workspace_id: int, token_id: int, *, now: datetime) -> bool:
    """Revoke a live token of the workspace; False when there is none (or it was already)."""
    t = api_tokens.c
    return conn.execute(sa.update(api_tokens).where(
        t.id == token_id, t.workspace_id == workspace_id, t.revoked_at.is_(None),
    ).values(revoked_at=now)).rowcount == 1


def touch(conn: Connection, token_id: int, *, now: datetime, before: datetime) -> bool:
    """Set ``last_used_at`` unless it is already after ``before`` (one write a minute for
    a busy token, whatever the number of processes)."""
    t = api_tokens.c
    return conn.execute(sa.update(api_tokens).where(
        t.id == token_id, sa.or_(t.last_used_at.is_(None), t.last_used_at < before),
    ).values(last_used_at=now)).rowcount == 1

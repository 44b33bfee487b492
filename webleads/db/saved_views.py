"""SQL of the saved views of the accounts feed ("feeds"): a name and the query string of
the feed's filters, private to their author or shared with the workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db.schema_web import saved_views


@dataclass(frozen=True, slots=True)
class SavedView:
    id: int
    user_id: int
    name: str
    query: str
    shared: bool
    created_at: datetime


def _view(r: Any) -> SavedView:
    return SavedView(int(r.id), int(r.user_id), r.name, r.query, bool(r.shared), r.created_at)


def views(conn: Connection, workspace_id: int, user_id: int) -> list[SavedView]:
    """The user's own views and the workspace's shared ones, by name."""
    v = saved_views.c
    return [_view(r) for r in conn.execute(
        sa.select(saved_views).where(v.workspace_id == workspace_id,
                                     sa.or_(v.user_id == user_id, v.shared.is_(sa.true())))
        .order_by(sa.func.lower(v.name), v.id))]


def view(conn: Connection, workspace_id: int, user_id: int, view_id: int) -> SavedView | None:
    """A view the user may open: theirs, or shared, in this workspace only."""
    v = saved_views.c
    row = conn.execute(sa.select(saved_views).where(
        v.id == view_id, v.workspace_id == workspace_id,
        sa.or_(v.user_id == user_id, v.shared.is_(sa.true())))).first()
    return None if row is None else _view(row)


def save_view(conn: Connection, *, workspace_id: int, user_id: int, name: str, query: str,
              shared: bool, now: datetime) -> int:
    """Save a view; the user's view of the same name is replaced."""
    v = saved_views.c
    found = conn.execute(sa.select(v.id).where(
        v.workspace_id == workspace_id, v.user_id == user_id, v.name == name)).scalar()
    if found is not None:
        conn.execute(sa.update(saved_views).where(v.id == found)
                     .values(query=query, shared=shared))
        return int(found)
    return int(conn.execute(sa.insert(saved_views).values(
        workspace_id=workspace_id, user_id=user_id, name=name, query=query, shared=shared,
        created_at=now).returning(v.id)).scalar_one())


def delete_view(conn: Connection, workspace_id: int, view_id: int) -> None:
    v = saved_views.c
    conn.execute(sa.delete(saved_views).where(v.id == view_id, v.workspace_id == workspace_id))

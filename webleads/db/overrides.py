"""Queries on ``network_overrides``: a workspace's own knowledge of networks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db.schema import network_overrides as t
from webleads.db.schema import workspaces
from webleads.networks.overrides import Override


def load_overrides(conn: Connection, workspace_id: int | None = None) -> list[Override]:
    query = sa.select(t).order_by(t.c.id)
    if workspace_id is not None:
        query = query.where(t.c.workspace_id == workspace_id)
    return [_override(row) for row in conn.execute(query)]


def workspace_exists(conn: Connection, workspace_id: int) -> bool:
    found = conn.execute(sa.select(workspaces.c.id).where(workspaces.c.id == workspace_id))
    return found.first() is not None


def signature(conn: Connection) -> tuple[int, int]:
    """Changes whenever an override is added or removed (count and highest id)."""
    row = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(t.c.id), 0))
                       .select_from(t)).one()
    return int(row[0]), int(row[1])


def upsert_override(conn: Connection, override: Override, *, now: datetime,
                    created_by: str = "") -> int:
    """Insert, or replace the workspace's override of the same CIDR or ASN (new id)."""
    same = t.c.cidr == override.cidr if override.cidr else t.c.asn == override.asn
    conn.execute(sa.delete(t).where(t.c.workspace_id == override.workspace_id, same))
    return int(conn.execute(sa.insert(t).values(
        workspace_id=override.workspace_id, cidr=override.cidr, asn=override.asn,
        role=override.role, organisation=override.organisation, domain=override.domain,
        category=override.category, note=override.note, created_at=now, created_by=created_by,
    ).returning(t.c.id)).scalar_one())


def delete_override(conn: Connection, workspace_id: int, override_id: int) -> bool:
    result = conn.execute(sa.delete(t).where(t.c.workspace_id == workspace_id,
                                             t.c.id == override_id))
    return bool(result.rowcount)


def _override(row: Any) -> Override:
    return Override(
        id=row.id, workspace_id=row.workspace_id, cidr=row.cidr, asn=row.asn, role=row.role,
        organisation=row.organisation, domain=row.domain, category=row.category,
        note=row.note,
    )

"""Read-side queries used by the command line (``webleads hits``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db.schema import drops, hits, quarantine


def latest_hits(conn: Connection, site_id: int, *, limit: int) -> list[dict[str, Any]]:
    stmt = sa.select(hits).where(hits.c.site_id == site_id).order_by(
        hits.c.ts.desc(), hits.c.id.desc()).limit(limit)
    return [dict(row._mapping) for row in conn.execute(stmt)]


def drop_totals(conn: Connection, site_id: int) -> dict[str, int]:
    stmt = sa.select(drops.c.reason, sa.func.sum(drops.c.count)).where(
        drops.c.site_id == site_id).group_by(drops.c.reason)
    return {reason: int(n) for reason, n in conn.execute(stmt)}


def count_hits(conn: Connection, site_id: int | None = None) -> int:
    stmt = sa.select(sa.func.count()).select_from(hits)
    if site_id is not None:
        stmt = stmt.where(hits.c.site_id == site_id)
    return int(conn.execute(stmt).scalar_one())


def quarantine_rows(conn: Connection, *, limit: int = 100) -> list[dict[str, Any]]:
    stmt = sa.select(quarantine).order_by(quarantine.c.id.desc()).limit(limit)
    return [dict(row._mapping) for row in conn.execute(stmt)]

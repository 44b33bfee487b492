"""Read-side queries of the settings pages: a workspace's sites, whether their tag sends
hits (the last one, today's count, the requests refused), and the audit log by pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db.privacy import AuditEntry
from webleads.db.schema import hits, quarantine, sites
from webleads.db.schema_privacy import audit_log
from webleads.db.sites import site_by_key
from webleads.model import Site


@dataclass(frozen=True, slots=True)
class LastHit:
    received_at: datetime
    url: str


def workspace_sites(conn: Connection, workspace_id: int) -> list[Site]:
    """The workspace's sites, oldest first."""
    keys = conn.execute(sa.select(sites.c.key).where(sites.c.workspace_id == workspace_id)
                        .order_by(sites.c.id)).scalars().all()
    return [s for s in (site_by_key(conn, k) for k in keys) if s is not None]


def workspace_site(conn: Connection, workspace_id: int, site_id: int) -> Site | None:
    """The site ``site_id`` when it belongs to ``workspace_id`` (None otherwise)."""
    key = conn.execute(sa.select(sites.c.key).where(
        sites.c.id == site_id, sites.c.workspace_id == workspace_id)).scalar()
    return site_by_key(conn, str(key)) if key is not None else None


def last_hit(conn: Connection, site_id: int) -> LastHit | None:
    """The site's latest stored hit (by its time, on the (site_id, ts) index)."""
    row = conn.execute(sa.select(hits.c.received_at, hits.c.url).where(
        hits.c.site_id == site_id).order_by(hits.c.ts.desc(), hits.c.id.desc()).limit(1)).first()
    return LastHit(row.received_at, row.url) if row is not None else None


def hits_since(conn: Connection, site_id: int, since: datetime) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(hits).where(
        hits.c.site_id == site_id, hits.c.ts >= since)).scalar_one())


@dataclass(frozen=True, slots=True)
class Refusals:
    """Requests of one site refused by the collect endpoint, for one reason."""

    reason: str
    count: int
    last_at: datetime
    last_detail: str


def refusals_since(conn: Connection, site_key: str, since: datetime) -> list[Refusals]:
    """The site's requests kept in quarantine since ``since``, per reason, most first."""
    q = quarantine.c
    found = conn.execute(
        sa.select(q.reason, sa.func.count(), sa.func.max(q.id), sa.func.max(q.received_at))
        .where(q.received_at >= since, q.site_key == site_key).group_by(q.reason)).all()
    out = []
    for reason, count, last_id, last_at in found:
        detail = conn.execute(sa.select(q.detail).where(q.id == last_id)).scalar()
        out.append(Refusals(str(reason), int(count), last_at, str(detail or "")))
    return sorted(out, key=lambda r: (-r.count, r.reason))


def audit_page(conn: Connection, workspace_id: int, *, offset: int, limit: int,
               action: str | None = None) -> list[AuditEntry]:
    """Entries of the workspace's audit log, newest first."""
    a = audit_log.c
    stmt = sa.select(audit_log).where(a.workspace_id == workspace_id)
    if action:
        stmt = stmt.where(a.action == action)
    stmt = stmt.order_by(a.at.desc(), a.id.desc()).offset(offset).limit(limit)
    return [AuditEntry(int(r.id), r.workspace_id, r.at, r.actor, r.action, r.target,
                       dict(r.details or {})) for r in conn.execute(stmt)]


def audit_count(conn: Connection, workspace_id: int, *, action: str | None = None) -> int:
    a = audit_log.c
    stmt = sa.select(sa.func.count()).select_from(audit_log).where(a.workspace_id == workspace_id)
    if action:
        stmt = stmt.where(a.action == action)
    return int(conn.execute(stmt).scalar_one())


def audit_actions(conn: Connection, workspace_id: int) -> list[str]:
    """The actions found in the workspace's audit log (for a filter)."""
    a = audit_log.c
    return [str(x) for x in conn.execute(sa.select(a.action).where(
        a.workspace_id == workspace_id).distinct().order_by(a.action)).scalars()]

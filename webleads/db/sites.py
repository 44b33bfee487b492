"""Queries on workspaces and sites."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db.schema import sites, workspaces
from webleads.model import PageGroupRule, PrivacyMode, Site


def ensure_workspace(conn: Connection, name: str, *, now: datetime) -> int:
    found = conn.execute(sa.select(workspaces.c.id).where(workspaces.c.name == name)).scalar()
    if found is not None:
        return int(found)
    return int(conn.execute(
        sa.insert(workspaces).values(name=name, created_at=now).returning(workspaces.c.id)
    ).scalar_one())


def workspace_ids(conn: Connection) -> list[int]:
    """Every workspace, in creation order."""
    return [int(i) for i in conn.execute(
        sa.select(workspaces.c.id).order_by(workspaces.c.id)).scalars()]


def first_timezone(conn: Connection, workspace_id: int) -> str:
    """The time zone of the workspace's first site (UTC without a site)."""
    tz = conn.execute(sa.select(sites.c.timezone).where(sites.c.workspace_id == workspace_id)
                      .order_by(sites.c.id).limit(1)).scalar()
    return str(tz or "UTC")


def insert_site(conn: Connection, **values: Any) -> int:
    return int(conn.execute(sa.insert(sites).values(**values).returning(sites.c.id)).scalar_one())


def update_site(conn: Connection, site_id: int, **values: Any) -> None:
    conn.execute(sa.update(sites).where(sites.c.id == site_id).values(**values))


def load_sites(conn: Connection) -> list[Site]:
    return [_site(row) for row in conn.execute(sa.select(sites).order_by(sites.c.id))]


def site_by_key(conn: Connection, key: str) -> Site | None:
    row = conn.execute(sa.select(sites).where(sites.c.key == key)).first()
    return _site(row) if row else None


def privacy_mode_of(conn: Connection, site_id: int) -> PrivacyMode:
    """A site's privacy mode (b2b for a site that does not exist)."""
    mode = conn.execute(sa.select(sites.c.privacy_mode).where(sites.c.id == site_id)).scalar()
    return "audience" if mode == "audience" else "b2b"


def _site(row: Any) -> Site:
    return Site(
        id=row.id, workspace_id=row.workspace_id, key=row.key, name=row.name,
        domain=row.domain, origins=tuple(row.origins or ()), timezone=row.timezone,
        ignored_networks=tuple(row.ignored_networks or ()),
        page_groups=tuple(PageGroupRule(g["group"], g["pattern"]) for g in row.page_groups or ()),
        identity_mode=row.identity_mode, respect_dnt=row.respect_dnt,
        store_raw_ip=row.store_raw_ip, ip_mode=row.ip_mode, secret_hash=row.secret_hash,
        privacy_mode=row.privacy_mode, consent=row.consent,
    )

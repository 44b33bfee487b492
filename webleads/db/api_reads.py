"""Queries of the REST API that no other module has: a workspace's sites, one account
of a workspace."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db.schema import accounts, contacts, sites


def workspace_sites(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(
        sites.c.id, sites.c.key, sites.c.name, sites.c.domain, sites.c.timezone,
        sites.c.identity_mode, sites.c.created_at,
    ).where(sites.c.workspace_id == workspace_id).order_by(sites.c.id))
    return [dict(r._mapping) for r in rows]


def site_id_by_key(conn: Connection, workspace_id: int, key: str) -> int | None:
    found = conn.execute(sa.select(sites.c.id).where(sites.c.workspace_id == workspace_id,
                                                     sites.c.key == key)).scalar()
    return int(found) if found is not None else None


def workspace_account(conn: Connection, workspace_id: int, account_id: int
                      ) -> dict[str, Any] | None:
    row = conn.execute(sa.select(accounts).where(accounts.c.id == account_id,
                                                 accounts.c.workspace_id == workspace_id)
                       ).first()
    return dict(row._mapping) if row is not None else None


def account_contacts(conn: Connection, account_id: int, *, limit: int = 100
                     ) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(contacts.c.id, contacts.c.email, contacts.c.first_seen,
                                  contacts.c.last_seen)
                        .where(contacts.c.account_id == account_id)
                        .order_by(contacts.c.last_seen.desc()).limit(limit))
    return [dict(r._mapping) for r in rows]

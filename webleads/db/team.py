"""Queries of a workspace's team: its members with their role and lifecycle owner, the
admin count (locked, so that two requests cannot both remove "the other" admin), and
the order of the assignment rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db.lifecycle import bump_version
from webleads.db.schema_lifecycle import assignment_rules
from webleads.db.schema_web import memberships, users
from webleads.db.users import Role


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    email: str
    name: str
    role: Role
    owner_id: int | None
    install_admin: bool
    active: bool
    last_login_at: datetime | None


def _select() -> sa.Select[tuple[object, ...]]:
    u, m = users.c, memberships.c
    return (sa.select(u.id, u.email, u.name, m.role, m.owner_id, u.install_admin, u.active,
                      u.last_login_at)
            .select_from(memberships.join(users, u.id == m.user_id)))


def _member(row: sa.Row[tuple[object, ...]]) -> Member:
    r = row._mapping
    return Member(int(r["id"]), r["email"], r["name"], r["role"],
                  int(r["owner_id"]) if r["owner_id"] is not None else None,
                  bool(r["install_admin"]), bool(r["active"]), r["last_login_at"])


def members(conn: Connection, workspace_id: int) -> list[Member]:
    return [_member(r) for r in conn.execute(
        _select().where(memberships.c.workspace_id == workspace_id)
        .order_by(users.c.name, users.c.email))]


def member(conn: Connection, workspace_id: int, user_id: int) -> Member | None:
    row = conn.execute(_select().where(memberships.c.workspace_id == workspace_id,
                                       memberships.c.user_id == user_id)).first()
    return _member(row) if row is not None else None


def install_admins(conn: Connection) -> list[tuple[int, str, str]]:
    """(id, e-mail, name) of the install admins: they reach every workspace."""
    u = users.c
    return [(int(r.id), r.email, r.name) for r in conn.execute(
        sa.select(u.id, u.email, u.name).where(u.install_admin.is_(True), u.active.is_(True))
        .order_by(u.name))]


def admin_ids(conn: Connection, workspace_id: int) -> list[int]:
    """The workspace's admins, their membership rows locked until the transaction ends
    (PostgreSQL; SQLite's write transaction already runs alone)."""
    m = memberships.c
    return [int(i) for i in conn.execute(
        sa.select(m.user_id).where(m.workspace_id == workspace_id, m.role == "admin")
        .order_by(m.user_id).with_for_update()).scalars()]


def set_role(conn: Connection, workspace_id: int, user_id: int, role: Role) -> bool:
    m = memberships.c
    return conn.execute(sa.update(memberships).where(
        m.workspace_id == workspace_id, m.user_id == user_id).values(role=role)).rowcount == 1


def set_owner(conn: Connection, workspace_id: int, user_id: int, owner_id: int | None) -> bool:
    m = memberships.c
    return conn.execute(sa.update(memberships).where(
        m.workspace_id == workspace_id, m.user_id == user_id).values(owner_id=owner_id)
    ).rowcount == 1


def add_member(conn: Connection, workspace_id: int, user_id: int, role: Role) -> None:
    conn.execute(sa.insert(memberships).values(user_id=user_id, workspace_id=workspace_id,
                                               role=role, owner_id=None))


def move_assignment_rule(conn: Connection, workspace_id: int, rule_id: int, step: int, *,
                         now: datetime) -> bool:
    """Move a rule ``step`` places (-1: up, 1: down) in the order the rules are tried;
    positions are renumbered 10, 20, 30 ...  False when the workspace has no such rule."""
    r = assignment_rules.c
    ids = [int(i) for i in conn.execute(
        sa.select(r.id).where(r.workspace_id == workspace_id).order_by(r.position, r.id)
        .with_for_update()).scalars()]
    if rule_id not in ids:
        return False
    at = ids.index(rule_id)
    to = max(0, min(len(ids) - 1, at + step))
    ids.insert(to, ids.pop(at))
    for position, id_ in enumerate(ids, 1):
        conn.execute(sa.update(assignment_rules).where(r.id == id_).values(position=position * 10))
    bump_version(conn, workspace_id, now=now)
    return True

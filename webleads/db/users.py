"""Queries on users, their workspaces, browser sessions, password resets and failed
log-ins.  Tokens arrive here already hashed (webleads/web/auth.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db.schema import workspaces
from webleads.db.schema_web import (
    login_failures,
    memberships,
    password_resets,
    users,
    web_sessions,
)

Role = Literal["admin", "marketer", "sales"]
ROLES: tuple[Role, ...] = ("admin", "marketer", "sales")


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    name: str
    password_hash: str
    locale: str | None
    install_admin: bool
    active: bool


@dataclass(frozen=True, slots=True)
class Membership:
    """What a user may do in one workspace."""

    workspace_id: int
    workspace_name: str
    role: Role
    owner_id: int | None


def _user(row: sa.Row[tuple[object, ...]] | None) -> User | None:
    if row is None:
        return None
    m = row._mapping
    return User(int(m["id"]), m["email"], m["name"], m["password_hash"], m["locale"],
                bool(m["install_admin"]), bool(m["active"]))


def count_users(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one())


def insert_user(conn: Connection, *, email: str, name: str, password_hash: str,
                install_admin: bool, locale: str | None, now: datetime) -> int:
    return int(conn.execute(sa.insert(users).values(
        email=email, name=name, password_hash=password_hash, locale=locale,
        install_admin=install_admin, active=True, created_at=now,
    ).returning(users.c.id)).scalar_one())


def user_by_email(conn: Connection, email: str) -> User | None:
    return _user(conn.execute(sa.select(users).where(users.c.email == email)).first())


def user_by_id(conn: Connection, user_id: int) -> User | None:
    return _user(conn.execute(sa.select(users).where(users.c.id == user_id)).first())


def list_users(conn: Connection) -> list[User]:
    return [u for u in (_user(r) for r in conn.execute(sa.select(users).order_by(users.c.id)))
            if u is not None]


def update_user(conn: Connection, user_id: int, **values: object) -> None:
    conn.execute(sa.update(users).where(users.c.id == user_id).values(**values))


def set_membership(conn: Connection, *, user_id: int, workspace_id: int, role: Role,
                   owner_id: int | None = None) -> None:
    where = (memberships.c.user_id == user_id) & (memberships.c.workspace_id == workspace_id)
    if conn.execute(sa.select(memberships.c.role).where(where)).first() is None:
        conn.execute(sa.insert(memberships).values(user_id=user_id, workspace_id=workspace_id,
                                                   role=role, owner_id=owner_id))
    else:
        conn.execute(sa.update(memberships).where(where).values(role=role, owner_id=owner_id))


def remove_membership(conn: Connection, *, user_id: int, workspace_id: int) -> bool:
    return conn.execute(sa.delete(memberships).where(
        (memberships.c.user_id == user_id) & (memberships.c.workspace_id == workspace_id)
    )).rowcount > 0


def memberships_of(conn: Connection, user: User) -> list[Membership]:
    """The workspaces a user reaches, by name: an install admin is admin of every one."""
    if user.install_admin:
        rows = conn.execute(sa.select(workspaces.c.id, workspaces.c.name)
                            .order_by(workspaces.c.name))
        return [Membership(int(r.id), r.name, "admin", None) for r in rows]
    rows2 = conn.execute(
        sa.select(memberships.c.workspace_id, workspaces.c.name, memberships.c.role,
                  memberships.c.owner_id)
        .join(workspaces, workspaces.c.id == memberships.c.workspace_id)
        .where(memberships.c.user_id == user.id)
        .order_by(workspaces.c.name))
    return [Membership(int(r.workspace_id), r.name, r.role,
                       int(r.owner_id) if r.owner_id is not None else None) for r in rows2]


def membership(conn: Connection, user: User, workspace_id: int) -> Membership | None:
    for m in memberships_of(conn, user):
        if m.workspace_id == workspace_id:
            return m
    return None


def workspace_members(conn: Connection, workspace_id: int) -> list[tuple[User, Role]]:
    rows = conn.execute(
        sa.select(users, memberships.c.role)
        .join(memberships, memberships.c.user_id == users.c.id)
        .where(memberships.c.workspace_id == workspace_id)
        .order_by(users.c.email))
    out: list[tuple[User, Role]] = []
    for row in rows:
        user = _user(row)
        if user is not None:
            out.append((user, row.role))
    return out


# -- browser sessions -------------------------------------------------------------------

def insert_session(conn: Connection, *, token_hash: str, user_id: int, now: datetime,
                   lifetime: timedelta) -> None:
    conn.execute(sa.insert(web_sessions).values(
        token_hash=token_hash, user_id=user_id, created_at=now, seen_at=now,
        expires_at=now + lifetime))


def session_user(conn: Connection, token_hash: str, *, now: datetime) -> User | None:
    row = conn.execute(
        sa.select(users)
        .join(web_sessions, web_sessions.c.user_id == users.c.id)
        .where(web_sessions.c.token_hash == token_hash, web_sessions.c.expires_at > now,
               users.c.active.is_(True))).first()
    return _user(row)


def touch_session(conn: Connection, token_hash: str, *, now: datetime,
                  lifetime: timedelta) -> None:
    """Slide the expiry; written at most every few minutes by the caller."""
    conn.execute(sa.update(web_sessions).where(web_sessions.c.token_hash == token_hash)
                 .values(seen_at=now, expires_at=now + lifetime))


def session_seen_at(conn: Connection, token_hash: str) -> datetime | None:
    seen: datetime | None = conn.execute(sa.select(web_sessions.c.seen_at).where(
        web_sessions.c.token_hash == token_hash)).scalar()
    return seen


def delete_session(conn: Connection, token_hash: str) -> None:
    conn.execute(sa.delete(web_sessions).where(web_sessions.c.token_hash == token_hash))


def delete_user_sessions(conn: Connection, user_id: int) -> None:
    conn.execute(sa.delete(web_sessions).where(web_sessions.c.user_id == user_id))


def delete_expired_sessions(conn: Connection, *, now: datetime) -> int:
    return conn.execute(sa.delete(web_sessions).where(web_sessions.c.expires_at <= now)).rowcount


# -- password resets ----------------------------------------------------------------------

def insert_reset(conn: Connection, *, token_hash: str, user_id: int, now: datetime,
                 lifetime: timedelta) -> None:
    conn.execute(sa.insert(password_resets).values(
        token_hash=token_hash, user_id=user_id, created_at=now, expires_at=now + lifetime))


def valid_reset(conn: Connection, token_hash: str, *, now: datetime) -> int | None:
    """The user id of an unused, unexpired reset token."""
    found = conn.execute(sa.select(password_resets.c.user_id).where(
        password_resets.c.token_hash == token_hash, password_resets.c.used_at.is_(None),
        password_resets.c.expires_at > now)).scalar()
    return int(found) if found is not None else None


def use_reset(conn: Connection, token_hash: str, *, now: datetime) -> bool:
    """Mark the token used; False when another request used it first."""
    return conn.execute(sa.update(password_resets).where(
        password_resets.c.token_hash == token_hash, password_resets.c.used_at.is_(None),
    ).values(used_at=now)).rowcount == 1


# -- failed log-ins -------------------------------------------------------------------------

def add_failure(conn: Connection, key: str, *, now: datetime) -> None:
    conn.execute(sa.insert(login_failures).values(key=key[:300], at=now))


def failures_since(conn: Connection, key: str, since: datetime) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(login_failures).where(
        login_failures.c.key == key[:300], login_failures.c.at > since)).scalar_one())


def clear_failures(conn: Connection, key: str) -> None:
    conn.execute(sa.delete(login_failures).where(login_failures.c.key == key[:300]))


def prune_failures(conn: Connection, *, before: datetime) -> int:
    return conn.execute(sa.delete(login_failures).where(login_failures.c.at < before)).rowcount

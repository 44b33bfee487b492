"""The team of a workspace: members and their roles, the link between a sales rep's
log-in and the lifecycle owner accounts are assigned to.

Rules: a workspace never loses its last admin (neither by removal nor by a change of
role); a member is added with a new account (password given, or generated and shown
once) or, when the address already has an account on this installation, by adding
that account to the workspace (its password is left alone).  Every change is written
to the audit log in the transaction that makes it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection, Engine

from webleads.db import lifecycle as lifecycle_db
from webleads.db import team as db
from webleads.db import users as users_db
from webleads.db.team import Member
from webleads.db.users import ROLES, Role, User
from webleads.lifecycle import actions
from webleads.lifecycle.model import AssignmentRule, Owner
from webleads.privacy.audit import record_audit
from webleads.users import UserError, Users, normal_email

__all__ = ["Added", "Member", "TeamError", "UserError", "add_assignment_rule", "add_member",
           "add_owner", "assignment_rules", "change_role", "install_admins", "link_owner",
           "members", "move_assignment_rule", "new_password", "owners", "remove_assignment_rule",
           "remove_member", "set_owner_active"]


class TeamError(ValueError):
    """A change that is refused; ``field`` names the field, ``code`` the message key:
    ``not_member`` and ``no_owner`` (nothing of that id in the workspace), ``last_admin``,
    ``already_member``, ``invalid_role``, ``no_rule``."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


@dataclass(frozen=True, slots=True)
class Added:
    user: User
    existing: bool            # an account of the installation, now also in this workspace
    password: str | None      # the generated password, to show once


def members(engine: Engine, workspace_id: int) -> list[Member]:
    with engine.connect() as conn:
        return db.members(conn, workspace_id)


def install_admins(engine: Engine) -> list[tuple[int, str, str]]:
    with engine.connect() as conn:
        return db.install_admins(conn)


def check_role(value: str) -> Role:
    for role in ROLES:
        if role == value:
            return role
    raise TeamError("role", "invalid_role")


def new_password() -> str:
    """16 URL-safe characters: about 96 random bits."""
    return secrets.token_urlsafe(12)


def add_member(users: Users, workspace_id: int, *, email: str, name: str, role: str,
               password: str, actor: str, now: datetime | None = None) -> Added:
    """Add someone to the workspace.  An empty ``password`` is generated (and returned
    once); it is ignored for an address that already has an account."""
    now = now or datetime.now(UTC)
    chosen = check_role(role)
    address = normal_email(email)
    with users.engine.begin() as conn:
        existing = users_db.user_by_email(conn, address)
        if existing is not None:
            if db.member(conn, workspace_id, existing.id) is not None:
                raise TeamError("email", "already_member")
            db.add_member(conn, workspace_id, existing.id, chosen)
            record_audit(conn, workspace_id=workspace_id, actor=actor, action="member.add",
                         target=f"user:{existing.id}", details={"role": chosen}, now=now)
            return Added(existing, True, None)
    generated = None
    if not password:
        password = generated = new_password()
    user = users.create(address, password, name=name, role=chosen, workspace=workspace_id,
                        actor=actor, now=now)
    return Added(user, False, generated)


def _keep_an_admin(admins: list[int], user_id: int) -> None:
    if admins == [user_id]:
        raise TeamError("role", "last_admin")


def change_role(engine: Engine, workspace_id: int, user_id: int, role: str, *, actor: str,
                now: datetime | None = None) -> Role:
    """The member's new role (its previous one in the audit log)."""
    now = now or datetime.now(UTC)
    chosen = check_role(role)
    with engine.begin() as conn:
        admins = db.admin_ids(conn, workspace_id)
        found = db.member(conn, workspace_id, user_id)
        if found is None:
            raise TeamError("user", "not_member")
        if found.role == chosen:
            return chosen
        if chosen != "admin":
            _keep_an_admin(admins, user_id)
        db.set_role(conn, workspace_id, user_id, chosen)
        record_audit(conn, workspace_id=workspace_id, actor=actor, action="member.role",
                     target=f"user:{user_id}", details={"from": found.role, "to": chosen},
                     now=now)
    return chosen


def remove_member(engine: Engine, workspace_id: int, user_id: int, *, actor: str,
                  now: datetime | None = None) -> Member:
    """Take someone out of the workspace (their account stays for their other
    workspaces); the member removed."""
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        admins = db.admin_ids(conn, workspace_id)
        found = db.member(conn, workspace_id, user_id)
        if found is None:
            raise TeamError("user", "not_member")
        _keep_an_admin(admins, user_id)
        users_db.remove_membership(conn, user_id=user_id, workspace_id=workspace_id)
        record_audit(conn, workspace_id=workspace_id, actor=actor, action="member.remove",
                     target=f"user:{user_id}", details={"role": found.role}, now=now)
    return found


def link_owner(engine: Engine, workspace_id: int, user_id: int, owner_id: int | None, *,
               actor: str, now: datetime | None = None) -> None:
    """Tie a member's log-in to a lifecycle owner of the workspace (None: untie)."""
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        found = db.member(conn, workspace_id, user_id)
        if found is None:
            raise TeamError("user", "not_member")
        if owner_id is not None and owner_id not in {
                o.id for o in lifecycle_db.list_owners(conn, workspace_id)}:
            raise TeamError("owner", "no_owner")
        if found.owner_id == owner_id:
            return
        db.set_owner(conn, workspace_id, user_id, owner_id)
        record_audit(conn, workspace_id=workspace_id, actor=actor, action="member.owner",
                     target=f"user:{user_id}",
                     details={"from": found.owner_id, "to": owner_id}, now=now)



# -- lifecycle owners and assignment rules (webleads.lifecycle.actions, audited) -------------

def owners(engine: Engine, workspace_id: int) -> list[Owner]:
    with engine.connect() as conn:
        return lifecycle_db.list_owners(conn, workspace_id)


def assignment_rules(engine: Engine, workspace_id: int) -> list[AssignmentRule]:
    with engine.connect() as conn:
        return lifecycle_db.list_assignment_rules(conn, workspace_id)


def add_owner(engine: Engine, workspace_id: int, *, name: str, email: str,
              team: str | None, language: str, actor: str,
              now: datetime | None = None) -> int:
    """A new owner; ``ValueError`` names the bad field (name, email, language)."""
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        owner_id = actions.add_owner(conn, workspace_id, name=name, email=email.strip().lower(),
                                     team=team, language=language, now=now)
        record_audit(conn, workspace_id=workspace_id, actor=actor, action="owner.add",
                     target=f"owner:{owner_id}", details={"team": team}, now=now)
    return owner_id


def _owner(conn: Connection, workspace_id: int, owner_id: int) -> Owner:
    for owner in lifecycle_db.list_owners(conn, workspace_id):
        if owner.id == owner_id:
            return owner
    raise TeamError("owner", "no_owner")


def set_owner_active(engine: Engine, workspace_id: int, owner_id: int, *, active: bool,
                     actor: str, now: datetime | None = None) -> Owner:
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        owner = _owner(conn, workspace_id, owner_id)
        actions.set_owner_active(conn, workspace_id, owner.email, active=active, now=now)
        record_audit(conn, workspace_id=workspace_id, actor=actor,
                     action="owner.activate" if active else "owner.deactivate",
                     target=f"owner:{owner_id}", details={}, now=now)
    return owner


def add_assignment_rule(engine: Engine, workspace_id: int, *, kind: str,
                        conditions: Mapping[str, Any], owner_id: int | None,
                        team: str | None, actor: str, now: datetime | None = None) -> int:
    """A new rule, tried after the others; ``ValueError`` names the bad field."""
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        email = _owner(conn, workspace_id, owner_id).email if owner_id is not None else None
        rule_id = actions.add_assignment_rule(conn, workspace_id, kind=kind,
                                              conditions=conditions, owner_email=email,
                                              team=team, now=now)
        record_audit(conn, workspace_id=workspace_id, actor=actor, action="assignment.add",
                     target=f"assignment_rule:{rule_id}",
                     details={"kind": kind, "owner": owner_id, "team": team}, now=now)
    return rule_id


def move_assignment_rule(engine: Engine, workspace_id: int, rule_id: int, step: int, *,
                         actor: str, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        if not db.move_assignment_rule(conn, workspace_id, rule_id, step, now=now):
            raise TeamError("rule", "no_rule")
        record_audit(conn, workspace_id=workspace_id, actor=actor, action="assignment.move",
                     target=f"assignment_rule:{rule_id}", details={"step": step}, now=now)


def remove_assignment_rule(engine: Engine, workspace_id: int, rule_id: int, *, actor: str,
                           now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        try:
            actions.remove_assignment_rule(conn, workspace_id, rule_id, now=now)
        except actions.NotFound:
            raise TeamError("rule", "no_rule") from None
        record_audit(conn, workspace_id=workspace_id, actor=actor, action="assignment.remove",
                     target=f"assignment_rule:{rule_id}", details={}, now=now)

"""People who use the dashboard: creation, passwords, log-in with rate limiting,
browser sessions and password resets.  HTTP lives in webleads/web/; this module
decides, webleads/db/users.py stores."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from webleads.db import users as q
from webleads.db.engine import read_only
from webleads.db.sites import ensure_workspace
from webleads.db.users import ROLES, Membership, Role, User
from webleads.privacy.audit import record_audit

__all__ = ["ROLES", "Membership", "Role", "User", "UserError", "Users"]

SESSION_LIFETIME = timedelta(days=14)   # idle time before a session ends
SESSION_TOUCH = timedelta(minutes=5)    # how often the sliding expiry is written
RESET_LIFETIME = timedelta(hours=1)
FAIL_WINDOW = timedelta(minutes=15)
MAX_FAILS_PER_EMAIL = 5                 # then 15 minutes without trying that address
MAX_FAILS_PER_IP = 30                   # an address trying many accounts
MIN_PASSWORD = 10
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s.]{2,63}$")

LoginOutcome = Literal["ok", "bad", "limited"]


class UserError(ValueError):
    """Invalid input for a user; ``field`` names the field, ``code`` the message key."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normal_email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise UserError("email", "invalid_email")
    return email


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError("password", "password_short")
    if len(password) > 1000:
        raise UserError("password", "password_long")
    return password


@dataclass(frozen=True, slots=True)
class Login:
    outcome: LoginOutcome
    user: User | None = None
    token: str | None = None  # the new session's token (for the cookie)


class Users:
    """The use cases, bound to an engine; ``now`` is a parameter for tests."""

    def __init__(self, engine: Engine, *, hasher: PasswordHasher | None = None) -> None:
        self.engine = engine
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    # -- creation ---------------------------------------------------------------------

    def create(self, email: str, password: str, *, name: str = "", install_admin: bool = False,
               locale: str | None = None, workspace: int | str | None = None,
               role: Role = "admin", actor: str = "cli",
               now: datetime | None = None) -> User:
        """Create a user.  ``workspace`` (an id, or a name created when missing) gives a
        membership with ``role``; an install admin reaches every workspace anyway."""
        email = normal_email(email)
        check_password(password)
        if role not in ROLES:
            raise UserError("role", "invalid_role")
        if locale not in (None, "en", "fr"):
            raise UserError("locale", "invalid_locale")
        now = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            if q.user_by_email(conn, email) is not None:
                raise UserError("email", "email_taken")
            user_id = q.insert_user(conn, email=email, name=name.strip()[:200] or email,
                                    password_hash=self.hasher.hash(password),
                                    install_admin=install_admin, locale=locale, now=now)
            ws: int | None = None
            if workspace is not None:
                ws = workspace if isinstance(workspace, int) else ensure_workspace(
                    conn, workspace, now=now)
                q.set_membership(conn, user_id=user_id, workspace_id=ws, role=role)
            record_audit(conn, workspace_id=ws, actor=actor, action="user.create",
                         target=f"user:{user_id}",
                         details={"role": role if ws is not None else None,
                                  "install_admin": install_admin}, now=now)
            user = q.user_by_id(conn, user_id)
        assert user is not None
        return user

    def any_user(self) -> bool:
        with read_only(self.engine) as conn:
            return q.count_users(conn) > 0

    def set_password(self, user_id: int, password: str) -> None:
        check_password(password)
        with self.engine.begin() as conn:
            q.update_user(conn, user_id, password_hash=self.hasher.hash(password))
            q.delete_user_sessions(conn, user_id)

    # -- log-in -----------------------------------------------------------------------

    def login(self, email: str, password: str, *, ip: str, now: datetime | None = None) -> Login:
        now = now or datetime.now(UTC)
        email = email.strip().lower()[:254]
        keys = (f"email:{email}", f"ip:{ip}")
        since = now - FAIL_WINDOW
        with read_only(self.engine) as conn:
            if (q.failures_since(conn, keys[0], since) >= MAX_FAILS_PER_EMAIL
                    or q.failures_since(conn, keys[1], since) >= MAX_FAILS_PER_IP):
                return Login("limited")
            user = q.user_by_email(conn, email)
        if not self._verify(user, password):
            with self.engine.begin() as conn:
                for key in keys:
                    q.add_failure(conn, key, now=now)
            return Login("bad")
        assert user is not None
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            q.clear_failures(conn, keys[0])
            q.insert_session(conn, token_hash=token_hash(token), user_id=user.id, now=now,
                             lifetime=SESSION_LIFETIME)
            values: dict[str, object] = {"last_login_at": now}
            if self.hasher.check_needs_rehash(user.password_hash):
                values["password_hash"] = self.hasher.hash(password)
            q.update_user(conn, user.id, **values)
        return Login("ok", user, token)

    def _verify(self, user: User | None, password: str) -> bool:
        if self._dummy is None:
            # Verifying against this keeps an unknown address as slow as a known one.
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        try:
            ok = self.hasher.verify(user.password_hash if user else self._dummy, password)
        except (VerificationError, InvalidHashError):
            return False
        return bool(ok) and user is not None and user.active

    def session(self, token: str, *, now: datetime | None = None) -> User | None:
        """The user of a live session (sliding its expiry), or None."""
        now = now or datetime.now(UTC)
        hashed = token_hash(token)
        with read_only(self.engine) as conn:
            user = q.session_user(conn, hashed, now=now)
            seen = q.session_seen_at(conn, hashed) if user else None
        if user is not None and seen is not None and now - seen > SESSION_TOUCH:
            with self.engine.begin() as conn:
                q.touch_session(conn, hashed, now=now, lifetime=SESSION_LIFETIME)
        return user

    def logout(self, token: str) -> None:
        with self.engine.begin() as conn:
            q.delete_session(conn, token_hash(token))

    def memberships(self, user: User) -> list[Membership]:
        with read_only(self.engine) as conn:
            return q.memberships_of(conn, user)

    # -- password reset -----------------------------------------------------------------

    def start_reset(self, email: str, *, now: datetime | None = None) -> tuple[User, str] | None:
        """A reset token for an active user (None for an unknown address: the caller
        answers the same either way, so addresses cannot be probed)."""
        now = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            user = q.user_by_email(conn, email.strip().lower()[:254])
            if user is None or not user.active:
                return None
            token = secrets.token_urlsafe(32)
            q.insert_reset(conn, token_hash=token_hash(token), user_id=user.id, now=now,
                           lifetime=RESET_LIFETIME)
        return user, token

    def reset_valid(self, token: str, *, now: datetime | None = None) -> bool:
        with read_only(self.engine) as conn:
            return q.valid_reset(conn, token_hash(token), now=now or datetime.now(UTC)) is not None

    def finish_reset(self, token: str, password: str, *, now: datetime | None = None) -> bool:
        """Set the new password (every session of the user ends); False for a used,
        expired or unknown token."""
        check_password(password)
        now = now or datetime.now(UTC)
        hashed = token_hash(token)
        with self.engine.begin() as conn:
            user_id = q.valid_reset(conn, hashed, now=now)
            if user_id is None or not q.use_reset(conn, hashed, now=now):
                return False
            q.update_user(conn, user_id, password_hash=self.hasher.hash(password))
            q.delete_user_sessions(conn, user_id)
            q.clear_failures(conn, f"email:{(q.user_by_id(conn, user_id) or _NOBODY).email}")
        return True


_NOBODY = User(0, "", "", "", None, False, False)

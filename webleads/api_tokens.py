"""API tokens of a workspace: create (the token is shown once), verify, revoke.

A token is ``wl_`` and 43 URL-safe characters (256 random bits).  Only its SHA-256 is
stored, with its first characters as a *prefix* so that people can tell tokens apart in
lists; a token that leaks from a backup of the database is therefore worth nothing.
``verify`` answers the workspace and scopes of a live token and records when it was
last used, writing at most once a minute per token.  Creation and revocation are
written to the audit log (never the token itself).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from sqlalchemy.engine import Engine

from webleads.db import api_tokens as db
from webleads.db.api_tokens import ApiToken
from webleads.privacy.audit import record_audit

__all__ = ["SCOPES", "ApiToken", "NewToken", "Scope", "TokenError", "create", "find",
           "revoke", "tokens", "verify"]

Scope = Literal["read", "collect", "admin"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
PREFIX = "wlt_"  # site keys are "wl_": an API token is told apart at a glance
PREFIX_LEN = 11          # "wlt_" and 7 characters: what lists show
TOUCH_EVERY = timedelta(minutes=1)
MAX_NAME = 100
_SHAPE = re.compile(r"wlt_[A-Za-z0-9_-]{43}")


class TokenError(ValueError):
    """Invalid input; ``field`` names the field, ``code`` the message key."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


@dataclass(frozen=True, slots=True)
class NewToken:
    id: int
    token: str   # to show once; never stored
    prefix: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_scopes(scopes: Iterable[str]) -> tuple[Scope, ...]:
    wanted = set(scopes)
    if not wanted:
        raise TokenError("scopes", "no_scope")
    if not wanted <= set(SCOPES):
        raise TokenError("scopes", "bad_scope")
    return tuple(s for s in SCOPES if s in wanted)


def create(engine: Engine, *, workspace_id: int, user_id: int | None, name: str,
           scopes: Iterable[str], actor: str, now: datetime | None = None) -> NewToken:
    """A new token for the workspace; the only time its value is known."""
    now = now or datetime.now(UTC)
    label = " ".join(name.split())
    if not label:
        raise TokenError("name", "no_name")
    if len(label) > MAX_NAME:
        raise TokenError("name", "long_name")
    chosen = check_scopes(scopes)
    token = PREFIX + secrets.token_urlsafe(32)
    prefix = token[:PREFIX_LEN]
    with engine.begin() as conn:
        token_id = db.insert_token(conn, workspace_id=workspace_id, user_id=user_id,
                                   name=label, prefix=prefix, token_hash=token_hash(token),
                                   scopes=chosen, now=now)
        record_audit(conn, workspace_id=workspace_id, actor=actor, action="api_token.create",
                     target=f"api_token:{token_id}",
                     details={"name": label, "prefix": prefix, "scopes": list(chosen)},
                     now=now)
    return NewToken(token_id, token, prefix)


def verify(engine: Engine, token: str, *, now: datetime | None = None
           ) -> tuple[int, tuple[str, ...]] | None:
    """(workspace id, scopes) of a live token, or None (unknown, malformed or revoked)."""
    if not _SHAPE.fullmatch(token):
        return None
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        found = db.token_by_hash(conn, token_hash(token))
    if found is None or found.revoked_at is not None:
        return None
    if found.last_used_at is None or now - found.last_used_at >= TOUCH_EVERY:
        with engine.begin() as conn:
            db.touch(conn, found.id, now=now, before=now - TOUCH_EVERY)
    return found.workspace_id, found.scopes


def revoke(engine: Engine, *, workspace_id: int, token_id: int, actor: str,
           now: datetime | None = None) -> bool:
    """Revoke a token of the workspace; False when it has no such live token."""
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        found = db.token_by_id(conn, workspace_id, token_id)
        if found is None or not db.revoke(conn, workspace_id, token_id, now=now):
            return False
        record_audit(conn, workspace_id=workspace_id, actor=actor, action="api_token.revoke",
                     target=f"api_token:{token_id}",
                     details={"name": found.name, "prefix": found.prefix}, now=now)
    return True


def tokens(engine: Engine, workspace_id: int) -> list[ApiToken]:
    with engine.connect() as conn:
        return db.list_tokens(conn, workspace_id)


def find(engine: Engine, workspace_id: int, token_id: int) -> ApiToken | None:
    with engine.connect() as conn:
        return db.token_by_id(conn, workspace_id, token_id)

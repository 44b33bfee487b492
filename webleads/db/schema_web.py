"""Tables of the dashboard and the API: people, their workspaces, sessions, notes, views.

A user belongs to workspaces through ``memberships`` (one role per workspace); an
*install admin* (``users.install_admin``) reaches every workspace, which is how an
agency runs several clients on one install.  Browser sessions live in ``web_sessions``
under the SHA-256 of their token (the cookie holds the signed token, never stored as
is); ``password_resets`` and ``api_tokens`` store only hashes too.
"""

from __future__ import annotations

import sqlalchemy as sa

from webleads.db.schema import Id, UTCDateTime, metadata

users = sa.Table(
    "users", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),  # lower case
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),  # argon2id
    sa.Column("locale", sa.String(2)),  # 'fr', 'en' or NULL: the browser's
    sa.Column("install_admin", sa.Boolean(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_login_at", UTCDateTime()),
)

# role: admin | marketer | sales.  A sales rep's ``owner_id`` ties the login to the
# lifecycle owner that accounts are assigned to (its own accounts and its team's).
memberships = sa.Table(
    "memberships", metadata,
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("owner_id", Id, sa.ForeignKey("owners.id")),
    sa.Index(None, "workspace_id"),
)

web_sessions = sa.Table(
    "web_sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("seen_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Index(None, "user_id"),
)

password_resets = sa.Table(
    "password_resets", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("used_at", UTCDateTime()),
    sa.Index(None, "user_id"),
)

# Failed log-ins, for rate limiting across processes: key is "email:..." or "ip:...".
login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index(None, "key", "at"),
)

# What sales learned in a call or a meeting, on the account page.
account_notes = sa.Table(
    "account_notes", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("user_id", Id, sa.ForeignKey("users.id")),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index(None, "account_id", "created_at"),
)

# Saved views of the accounts feed ("feeds"): the query string of the filters;
# ``shared`` ones are listed for everyone in the workspace.
saved_views = sa.Table(
    "saved_views", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("query", sa.Text(), nullable=False),
    sa.Column("shared", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index(None, "workspace_id", "user_id"),
)

# API tokens: shown once at creation, stored as SHA-256; ``prefix`` lets people tell
# them apart in lists.
api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("user_id", Id, sa.ForeignKey("users.id")),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scopes", sa.JSON(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_used_at", UTCDateTime()),
    sa.Column("revoked_at", UTCDateTime()),
)

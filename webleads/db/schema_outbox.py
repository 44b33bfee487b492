"""Tables of the outbox: every outward message, and every attempt to deliver it.

A message is written in the transaction of the change that caused it (``outbox``), so it
exists if and only if that change committed.  Workers claim due messages, send them
outside any transaction and record each attempt (``delivery_attempts``).  See
webleads/outbox/ and docs/alerts.md.
"""

from __future__ import annotations

import sqlalchemy as sa

from webleads.db.schema import Id, UTCDateTime, metadata

outbox = sa.Table(
    "outbox", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),      # email, slack, teams, webhook
    sa.Column("destination", sa.Text(), nullable=False),       # an e-mail address or a URL
    sa.Column("kind", sa.String(64), nullable=False),          # mql, hot_page, digest, test ...
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),       # fr or en
    # Unique per workspace: enqueueing the same event twice is a no-op.  Receivers see
    # an id derived from it (webleads/outbox/model.py: event_id) on every attempt.
    sa.Column("idempotency_key", sa.String(200), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),         # pending, sending, delivered, dead
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    # The lease of the worker sending it: another worker may take it over once expired.
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_until", UTCDateTime()),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("delivered_at", UTCDateTime()),
    sa.Column("last_error", sa.Text()),
    sa.CheckConstraint("channel IN ('email', 'slack', 'teams', 'webhook')", name="channel"),
    sa.CheckConstraint("state IN ('pending', 'sending', 'delivered', 'dead')", name="state"),
    sa.UniqueConstraint("workspace_id", "idempotency_key"),
    sa.Index(None, "state", "next_attempt_at"),
)

# One row per attempt, written when a worker claims the message (outcome "sending") and
# completed when it knows the outcome; "lost" when its lease expired first.
delivery_attempts = sa.Table(
    "delivery_attempts", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("outbox_id", Id, sa.ForeignKey("outbox.id", ondelete="CASCADE"), nullable=False),
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("worker", sa.String(100), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime()),
    # sending, delivered, retry, permanent, lost
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("status_code", sa.Integer()),   # HTTP status or SMTP reply code
    sa.Column("reply", sa.Text()),            # the start of the HTTP body or the SMTP reply
    sa.Column("error", sa.Text()),
    sa.Column("duration_ms", sa.Integer()),
    sa.Index(None, "outbox_id"),
)

# The signing secret of each generic webhook destination of a workspace, created with
# its first message (webleads outbox secret URL shows it).
webhook_secrets = sa.Table(
    "webhook_secrets", metadata,
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("url", sa.String(2000), primary_key=True),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

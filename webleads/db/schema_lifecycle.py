"""Tables of the lifecycle: stages, owners and assignment, alert rules and digests.

See webleads/lifecycle/ and docs/lifecycle.md.  ``lifecycle_settings.version`` grows on
every change of a workspace's thresholds, owners, assignment rules or alert rules: the
after-batch hook caches them per workspace and version.
"""

from __future__ import annotations

import sqlalchemy as sa

from webleads.db.schema import Id, UTCDateTime, metadata

# One row per workspace, created with the defaults on first use.
lifecycle_settings = sa.Table(
    "lifecycle_settings", metadata,
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("engaged_score", sa.Float(), nullable=False),
    sa.Column("mql_score", sa.Float(), nullable=False),
    sa.Column("sla_hours", sa.JSON(), nullable=False),  # {"mql": 24, ...}
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

# The current stage of an account; ``manual``: set by a person (automatic transitions
# leave it alone).  ``score``/``scored_at``: the decayed score at the last batch, what
# "crosses a value" compares with.  ``touched_at``: the first touch in this stage (SLA).
account_stages = sa.Table(
    "account_stages", metadata,
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("since", UTCDateTime(), nullable=False),
    sa.Column("by", sa.String(200), nullable=False),
    sa.Column("manual", sa.Boolean(), nullable=False),
    sa.Column("score", sa.Float(), nullable=False),
    sa.Column("scored_at", UTCDateTime(), nullable=False),
    sa.Column("touched_at", UTCDateTime()),
    sa.Index(None, "workspace_id", "stage"),
)

stage_history = sa.Table(
    "stage_history", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("from_stage", sa.String(16)),
    sa.Column("to_stage", sa.String(16), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("by", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Index(None, "account_id", "at"),
)

owners = sa.Table(
    "owners", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("team", sa.String(100)),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.UniqueConstraint("workspace_id", "email"),
)

# First matching rule (by position) wins: an owner, or a team (round robin).
assignment_rules = sa.Table(
    "assignment_rules", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("conditions", sa.JSON(), nullable=False),
    sa.Column("owner_id", Id, sa.ForeignKey("owners.id")),
    sa.Column("team", sa.String(100)),
)

# Round robin: the number of accounts given to each team so far (atomic n = n + 1).
team_counters = sa.Table(
    "team_counters", metadata,
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("team", sa.String(100), primary_key=True),
    sa.Column("counter", sa.BigInteger(), nullable=False),
)

account_owners = sa.Table(
    "account_owners", metadata,
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("owner_id", Id, sa.ForeignKey("owners.id"), nullable=False),
    sa.Column("assigned_at", UTCDateTime(), nullable=False),
    sa.Column("by", sa.String(200), nullable=False),
    sa.Index(None, "owner_id"),
)

alert_rules = sa.Table(
    "alert_rules", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("params", sa.JSON(), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("destination", sa.Text(), nullable=False),  # or "owner"
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("cooldown_hours", sa.Float(), nullable=False),
    sa.Column("quiet_hours", sa.String(11)),  # "20:00-08:00"
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("digest", sa.Boolean(), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

alert_state = sa.Table(
    "alert_state", metadata,
    sa.Column("rule_id", Id, sa.ForeignKey("alert_rules.id"), primary_key=True),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("last_fired_at", UTCDateTime(), nullable=False),
)

# Alerts of digest rules, waiting for the daily digest of their recipient.  ``day``:
# the event's date in the rule's time zone.
digest_events = sa.Table(
    "digest_events", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("recipient", sa.String(254), nullable=False),
    sa.Column("owner_id", Id, sa.ForeignKey("owners.id")),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("day", sa.Date(), nullable=False),
    sa.Column("rule_id", Id, sa.ForeignKey("alert_rules.id"), nullable=False),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("event_key", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("workspace_id", "event_key"),
    sa.Index(None, "day", "recipient"),
)

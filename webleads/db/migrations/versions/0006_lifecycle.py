"""lifecycle: stages, owners, assignment rules, alert rules, digests

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webleads.db.schema

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> webleads.db.schema.UTCDateTime:
    return webleads.db.schema.UTCDateTime(timezone=True)


def _fk(table: str, column: str, other: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{other}.id"],
                                   name=op.f(f"fk_{table}_{column}_{other}"))


def upgrade() -> None:
    op.create_table(
        "lifecycle_settings",
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("engaged_score", sa.Float(), nullable=False),
        sa.Column("mql_score", sa.Float(), nullable=False),
        sa.Column("sla_hours", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        _fk("lifecycle_settings", "workspace_id", "workspaces"),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_lifecycle_settings")),
    )
    op.create_table(
        "account_stages",
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("since", _utc(), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("scored_at", _utc(), nullable=False),
        sa.Column("touched_at", _utc(), nullable=True),
        _fk("account_stages", "account_id", "accounts"),
        _fk("account_stages", "workspace_id", "workspaces"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_stages")),
    )
    op.create_index(op.f("ix_account_stages_workspace_id_stage"), "account_stages",
                    ["workspace_id", "stage"], unique=False)
    op.create_table(
        "stage_history",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("from_stage", sa.String(length=16), nullable=True),
        sa.Column("to_stage", sa.String(length=16), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _fk("stage_history", "workspace_id", "workspaces"),
        _fk("stage_history", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_history")),
    )
    op.create_index(op.f("ix_stage_history_account_id_at"), "stage_history",
                    ["account_id", "at"], unique=False)
    op.create_table(
        "owners",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _fk("owners", "workspace_id", "workspaces"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owners")),
        sa.UniqueConstraint("workspace_id", "email", name=op.f("uq_owners_workspace_id_email")),
    )
    op.create_table(
        "assignment_rules",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("owner_id", _ID, nullable=True),
        sa.Column("team", sa.String(length=100), nullable=True),
        _fk("assignment_rules", "workspace_id", "workspaces"),
        _fk("assignment_rules", "owner_id", "owners"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_rules")),
    )
    op.create_table(
        "team_counters",
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        _fk("team_counters", "workspace_id", "workspaces"),
        sa.PrimaryKeyConstraint("workspace_id", "team", name=op.f("pk_team_counters")),
    )
    op.create_table(
        "account_owners",
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("owner_id", _ID, nullable=False),
        sa.Column("assigned_at", _utc(), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        _fk("account_owners", "account_id", "accounts"),
        _fk("account_owners", "workspace_id", "workspaces"),
        _fk("account_owners", "owner_id", "owners"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_owners")),
    )
    op.create_index(op.f("ix_account_owners_owner_id"), "account_owners", ["owner_id"],
                    unique=False)
    op.create_table(
        "alert_rules",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("cooldown_hours", sa.Float(), nullable=False),
        sa.Column("quiet_hours", sa.String(length=11), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        _fk("alert_rules", "workspace_id", "workspaces"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
    )
    op.create_table(
        "alert_state",
        sa.Column("rule_id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("last_fired_at", _utc(), nullable=False),
        _fk("alert_state", "rule_id", "alert_rules"),
        _fk("alert_state", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("rule_id", "account_id", name=op.f("pk_alert_state")),
    )
    op.create_table(
        "digest_events",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("owner_id", _ID, nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rule_id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        _fk("digest_events", "workspace_id", "workspaces"),
        _fk("digest_events", "owner_id", "owners"),
        _fk("digest_events", "rule_id", "alert_rules"),
        _fk("digest_events", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_events")),
        sa.UniqueConstraint("workspace_id", "event_key",
                            name=op.f("uq_digest_events_workspace_id_event_key")),
    )
    op.create_index(op.f("ix_digest_events_day_recipient"), "digest_events",
                    ["day", "recipient"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_digest_events_day_recipient"), table_name="digest_events")
    op.drop_table("digest_events")
    op.drop_table("alert_state")
    op.drop_table("alert_rules")
    op.drop_index(op.f("ix_account_owners_owner_id"), table_name="account_owners")
    op.drop_table("account_owners")
    op.drop_table("team_counters")
    op.drop_table("assignment_rules")
    op.drop_table("owners")
    op.drop_index(op.f("ix_stage_history_account_id_at"), table_name="stage_history")
    op.drop_table("stage_history")
    op.drop_index(op.f("ix_account_stages_workspace_id_stage"), table_name="account_stages")
    op.drop_table("account_stages")
    op.drop_table("lifecycle_settings")

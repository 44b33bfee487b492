"""outbox: outbox, delivery_attempts, webhook_secrets

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webleads.db.schema

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", webleads.db.schema.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_until", webleads.db.schema.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column("created_at", webleads.db.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", webleads.db.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("channel IN ('email', 'slack', 'teams', 'webhook')",
                           name=op.f("ck_outbox_channel")),
        sa.CheckConstraint("state IN ('pending', 'sending', 'delivered', 'dead')",
                           name=op.f("ck_outbox_state")),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_outbox_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("workspace_id", "idempotency_key",
                            name=op.f("uq_outbox_workspace_id_idempotency_key")),
    )
    op.create_index(op.f("ix_outbox_state_next_attempt_at"), "outbox",
                    ["state", "next_attempt_at"], unique=False)

    op.create_table(
        "delivery_attempts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("outbox_id", _ID, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=False),
        sa.Column("started_at", webleads.db.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", webleads.db.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"],
                                name=op.f("fk_delivery_attempts_outbox_id_outbox"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    op.create_index(op.f("ix_delivery_attempts_outbox_id"), "delivery_attempts",
                    ["outbox_id"], unique=False)

    op.create_table(
        "webhook_secrets",
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("created_at", webleads.db.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_webhook_secrets_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("workspace_id", "url", name=op.f("pk_webhook_secrets")),
    )


def downgrade() -> None:
    op.drop_table("webhook_secrets")
    op.drop_index(op.f("ix_delivery_attempts_outbox_id"), table_name="delivery_attempts")
    op.drop_table("delivery_attempts")
    op.drop_index(op.f("ix_outbox_state_next_attempt_at"), table_name="outbox")
    op.drop_table("outbox")

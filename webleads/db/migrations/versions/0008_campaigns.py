"""campaigns: campaigns, daily costs, short links and their clicks

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webleads.db.schema

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> webleads.db.schema.UTCDateTime:
    return webleads.db.schema.UTCDateTime(timezone=True)


def _fk(table: str, column: str, other: str, key: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{other}.{key}"],
                                   name=op.f(f"fk_{table}_{column}_{other}"))


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("page_group", sa.String(length=100), nullable=True),
        sa.Column("objective", sa.String(length=32), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("budget_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("utm_campaign", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        _fk("campaigns", "workspace_id", "workspaces"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_campaigns_workspace_id_name")),
        sa.UniqueConstraint("workspace_id", "utm_campaign",
                            name=op.f("uq_campaigns_workspace_id_utm_campaign")),
    )
    op.create_table(
        "campaign_costs",
        sa.Column("campaign_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        _fk("campaign_costs", "campaign_id", "campaigns"),
        sa.PrimaryKeyConstraint("campaign_id", "day", name=op.f("pk_campaign_costs")),
    )
    op.create_table(
        "short_links",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", _ID, nullable=True),
        sa.Column("target_url", sa.Text(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        _fk("short_links", "campaign_id", "campaigns"),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_short_links")),
    )
    op.create_index(op.f("ix_short_links_campaign_id"), "short_links", ["campaign_id"],
                    unique=False)
    op.create_table(
        "short_link_clicks",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        _fk("short_link_clicks", "code", "short_links", "code"),
        sa.PrimaryKeyConstraint("code", "day", name=op.f("pk_short_link_clicks")),
    )


def downgrade() -> None:
    op.drop_table("short_link_clicks")
    op.drop_index(op.f("ix_short_links_campaign_id"), table_name="short_links")
    op.drop_table("short_links")
    op.drop_table("campaign_costs")
    op.drop_table("campaigns")

"""campaigns: contact consents, tracked e-mail clicks, conversion definitions, deals,
campaign summaries; indexes of sessions by utm_campaign and click id kind

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webleads.db.schema

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> webleads.db.schema.UTCDateTime:
    return webleads.db.schema.UTCDateTime(timezone=True)


def _fk(table: str, column: str, other: str, ondelete: str | None = None
        ) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{other}.id"], ondelete=ondelete,
                                   name=op.f(f"fk_{table}_{column}_{other}"))


def upgrade() -> None:
    op.create_table(
        "contact_consents",
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        _fk("contact_consents", "contact_id", "contacts", "CASCADE"),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_contact_consents")),
    )
    op.create_table(
        "tracked_clicks",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("campaign_id", _ID, nullable=False),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("clicked_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("claimed_at", _utc(), nullable=True),
        _fk("tracked_clicks", "workspace_id", "workspaces"),
        _fk("tracked_clicks", "campaign_id", "campaigns"),
        _fk("tracked_clicks", "contact_id", "contacts", "CASCADE"),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_tracked_clicks")),
    )
    op.create_index(op.f("ix_tracked_clicks_campaign_id_clicked_at"), "tracked_clicks",
                    ["campaign_id", "clicked_at"])
    op.create_index(op.f("ix_tracked_clicks_contact_id"), "tracked_clicks", ["contact_id"])
    op.create_table(
        "conversion_definitions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        _fk("conversion_definitions", "workspace_id", "workspaces"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversion_definitions")),
        sa.UniqueConstraint("workspace_id", "name",
                            name=op.f("uq_conversion_definitions_workspace_id_name")),
    )
    op.create_table(
        "deals",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("account_id", _ID, nullable=True),
        sa.Column("contact_id", _ID, nullable=True),
        sa.Column("campaign_id", _ID, nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        _fk("deals", "workspace_id", "workspaces"),
        _fk("deals", "account_id", "accounts", "SET NULL"),
        _fk("deals", "contact_id", "contacts", "SET NULL"),
        _fk("deals", "campaign_id", "campaigns"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals")),
        sa.UniqueConstraint("workspace_id", "ref", name=op.f("uq_deals_workspace_id_ref")),
    )
    op.create_index(op.f("ix_deals_workspace_id_day"), "deals", ["workspace_id", "day"])
    op.create_table(
        "campaign_summaries",
        sa.Column("campaign_id", _ID, nullable=False),
        sa.Column("sent_at", _utc(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        _fk("campaign_summaries", "campaign_id", "campaigns"),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaign_summaries")),
    )


    # Partial, covering: the sessions of campaigns, as the reports read them.
    op.create_index(op.f("ix_sessions_utm_campaign"), "sessions",
                    ["utm_campaign", "started_at", "account_id", "contact_id", "site_id"],
                    sqlite_where=sa.text("utm_campaign IS NOT NULL"),
                    postgresql_where=sa.text("utm_campaign IS NOT NULL"))
    op.create_index(op.f("ix_sessions_click_id_kind"), "sessions",
                    ["click_id_kind", "utm_campaign", "started_at", "account_id", "contact_id",
                     "site_id"],
                    sqlite_where=sa.text("click_id_kind IS NOT NULL"),
                    postgresql_where=sa.text("click_id_kind IS NOT NULL"))


def downgrade() -> None:
    op.drop_index(op.f("ix_sessions_click_id_kind"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_utm_campaign"), table_name="sessions")
    op.drop_table("campaign_summaries")
    op.drop_index(op.f("ix_deals_workspace_id_day"), table_name="deals")
    op.drop_table("deals")
    op.drop_table("conversion_definitions")
    op.drop_index(op.f("ix_tracked_clicks_contact_id"), table_name="tracked_clicks")
    op.drop_index(op.f("ix_tracked_clicks_campaign_id_clicked_at"), table_name="tracked_clicks")
    op.drop_table("tracked_clicks")
    op.drop_table("contact_consents")

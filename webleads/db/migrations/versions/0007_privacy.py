"""privacy: site retention, daily aggregates of purged hits, audit log

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webleads.db.schema

revision = "0007"
down_revision = "0006"
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
        "site_retention",
        sa.Column("site_id", _ID, nullable=False),
        sa.Column("hits_days", sa.Integer(), nullable=False),
        sa.Column("sessions_days", sa.Integer(), nullable=False),
        sa.Column("contacts_days", sa.Integer(), nullable=False),
        _fk("site_retention", "site_id", "sites"),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_site_retention")),
    )
    op.create_table(
        "daily_stats",
        sa.Column("site_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("page_group", sa.String(length=100), nullable=False),
        sa.Column("source_class", sa.String(length=16), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("network_category", sa.String(length=16), nullable=False),
        sa.Column("hits", sa.BigInteger(), nullable=False),
        sa.Column("pageviews", sa.BigInteger(), nullable=False),
        sa.Column("visitors", sa.BigInteger(), nullable=False),
        sa.Column("engaged_ms", sa.BigInteger(), nullable=False),
        _fk("daily_stats", "site_id", "sites"),
        sa.PrimaryKeyConstraint("site_id", "day", "page_group", "source_class", "country",
                                "network_category", name=op.f("pk_daily_stats")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=True),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("daily_stats")
    op.drop_table("site_retention")

"""french enrichment: fr_companies, account_fr, fr_api_cache

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webleads.db.schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "fr_companies",
        sa.Column("siren", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_key", sa.String(length=300), nullable=False),
        sa.Column("name_token", sa.String(length=100), nullable=False),
        sa.Column("compact_key", sa.String(length=300), nullable=False),
        sa.Column("sigle", sa.String(length=100), nullable=True),
        sa.Column("sigle_key", sa.String(length=100), nullable=True),
        sa.Column("trade_name", sa.String(length=300), nullable=True),
        sa.Column("trade_key", sa.String(length=300), nullable=True),
        sa.Column("naf", sa.String(length=8), nullable=True),
        sa.Column("naf_version", sa.String(length=16), nullable=True),
        sa.Column("naf25", sa.String(length=8), nullable=True),
        sa.Column("headcount_band", sa.String(length=2), nullable=True),
        sa.Column("category", sa.String(length=3), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("head_office_siret", sa.String(length=14), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("updated_at", webleads.db.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("siren", name=op.f("pk_fr_companies")),
    )
    for column in ("name_key", "name_token", "compact_key", "sigle_key", "trade_key"):
        op.create_index(op.f(f"ix_fr_companies_{column}"), "fr_companies", [column],
                        unique=False)

    op.create_table(
        "account_fr",
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("siren", sa.String(length=9), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.Column("matched_at", webleads.db.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_account_fr_account_id_accounts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_fr")),
    )
    op.create_index(op.f("ix_account_fr_siren"), "account_fr", ["siren"], unique=False)

    op.create_table(
        "fr_api_cache",
        sa.Column("query", sa.String(length=300), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("fetched_at", webleads.db.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("query", name=op.f("pk_fr_api_cache")),
    )


def downgrade() -> None:
    op.drop_table("fr_api_cache")
    op.drop_index(op.f("ix_account_fr_siren"), table_name="account_fr")
    op.drop_table("account_fr")
    for column in ("name_key", "name_token", "compact_key", "sigle_key", "trade_key"):
        op.drop_index(op.f(f"ix_fr_companies_{column}"), table_name="fr_companies")
    op.drop_table("fr_companies")

"""rollups: daily rollups of the overview (see webleads/db/schema_rollups.py)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webleads.db.schema

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> webleads.db.schema.UTCDateTime:
    return webleads.db.schema.UTCDateTime(timezone=True)


def _fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["site_id"], ["sites.id"],
                                   name=op.f(f"fk_{table}_site_id_sites"))


def _counts(*names: str) -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in names]


def upgrade() -> None:
    op.create_table(
        "rollup_sites",
        sa.Column("site_id", _ID, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("checked_id", sa.BigInteger(), nullable=False),
        _fk("rollup_sites"),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_rollup_sites")),
    )
    op.create_table(
        "rollup_days",
        sa.Column("site_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("built_at", _utc(), nullable=False),
        sa.Column("built_id", sa.BigInteger(), nullable=False),
        *_counts("stats_hits", "visits", "identified_visits", "hits",
                 "pageviews", "engaged_ms"),
        sa.Column("visitors", sa.LargeBinary(), nullable=False),
        sa.Column("accounts", sa.LargeBinary(), nullable=False),
        _fk("rollup_days"),
        sa.PrimaryKeyConstraint("site_id", "day", name=op.f("pk_rollup_days")),
    )
    op.create_table(
        "rollup_hours",
        sa.Column("site_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        *_counts("visits"),
        _fk("rollup_hours"),
        sa.PrimaryKeyConstraint("site_id", "day", "hour", name=op.f("pk_rollup_hours")),
    )
    op.create_table(
        "rollup_dims",
        sa.Column("site_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        *_counts("visits", "pageviews"),
        _fk("rollup_dims"),
        sa.PrimaryKeyConstraint("site_id", "day", "kind", "value",
                                name=op.f("pk_rollup_dims")),
    )


def downgrade() -> None:
    op.drop_table("rollup_dims")
    op.drop_table("rollup_hours")
    op.drop_table("rollup_days")
    op.drop_table("rollup_sites")

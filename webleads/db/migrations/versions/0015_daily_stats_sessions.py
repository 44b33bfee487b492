"""daily_stats.sessions: sessions no longer stored (erased or purged), so that the
overview's visits still add up

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("daily_stats") as batch:
        batch.add_column(sa.Column("sessions", sa.BigInteger(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("daily_stats") as batch:
        batch.drop_column("sessions")

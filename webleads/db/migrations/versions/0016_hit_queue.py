"""hit_queue: acknowledged hits waiting for the processor (WEBLEADS_PROCESSOR=separate);
hit_queue_marks: the last row stored from a queue kept in another SQLite file

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hit_queue",
        sa.Column("id", Id, primary_key=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "hit_queue_marks",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hit_queue_marks")
    op.drop_table("hit_queue")

"""privacy modes: sites.privacy_mode (audience | b2b) and sites.consent (wait | anonymous |
ignore); existing sites keep today's behaviour (b2b, consent not asked for)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("privacy_mode", sa.String(length=16),
                                      server_default="b2b", nullable=False))
        batch_op.add_column(sa.Column("consent", sa.String(length=16),
                                      server_default="ignore", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("consent")
        batch_op.drop_column("privacy_mode")

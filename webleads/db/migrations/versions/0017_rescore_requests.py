"""rescore_requests: whole-workspace rescores asked for from the dashboard, run in the
background a slice of accounts at a time; ix_hits_contact_id: a contact's hits, for
targeted rescores (identified hits only); ix_audit_log_workspace_id_target_at: the
audit entries of one account (its page's history) without walking the whole log

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from webleads.db.schema import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rescore_requests",
        sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), primary_key=True),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("requested_by", sa.String(320), nullable=False),
        sa.Column("started_at", UTCDateTime()),
        sa.Column("done_at", UTCDateTime()),
        sa.Column("hits", sa.BigInteger()),
        sa.Column("error", sa.String(1000)),
    )
    op.create_index("ix_hits_contact_id", "hits", ["contact_id"],
                    sqlite_where=sa.text("contact_id IS NOT NULL"),
                    postgresql_where=sa.text("contact_id IS NOT NULL"))
    op.create_index("ix_audit_log_workspace_id_target_at", "audit_log",
                    ["workspace_id", "target", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_workspace_id_target_at", table_name="audit_log")
    op.drop_index("ix_hits_contact_id", table_name="hits")
    op.drop_table("rescore_requests")

"""account page: contacts(account_id)

The account page lists an account's contacts; without this index that is a scan of
every contact (8 ms for 20,000 contacts on SQLite, growing with the table).  Contacts
are written once per new e-mail address, so the write path barely notices it.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_contacts_account_id"), "contacts", ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_contacts_account_id"), table_name="contacts")

"""scoring: scoring_settings, scoring_rules, fit_rules, score_ledger, account_scores,
account_interest, contact_scores

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webleads.db.schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts() -> webleads.db.schema.UTCDateTime:
    return webleads.db.schema.UTCDateTime(timezone=True)


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                   name=op.f(f"fk_{table}_workspace_id_workspaces"))


def upgrade() -> None:
    op.create_table(
        "scoring_settings",
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("half_life_days", sa.Float(), nullable=False),
        sa.Column("epoch", _ts(), nullable=False),
        sa.Column("rules_version", sa.Integer(), nullable=False),
        sa.Column("engaged_score", sa.Float(), nullable=False),
        sa.Column("grade_a", sa.Integer(), nullable=False),
        sa.Column("grade_b", sa.Integer(), nullable=False),
        sa.Column("grade_c", sa.Integer(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        _workspace_fk("scoring_settings"),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_scoring_settings")),
    )
    capped: list[sa.Column[int] | sa.Column[str]] = [
        sa.Column("cap", sa.Integer(), nullable=True),
        sa.Column("cap_period", sa.String(length=8), nullable=True)]
    for table, extra in (("scoring_rules", capped), ("fit_rules", [])):
        op.create_table(
            table,
            sa.Column("id", _ID, nullable=False),
            sa.Column("workspace_id", _ID, nullable=False),
            sa.Column("name", sa.String(length=100), nullable=False),
            sa.Column("label", sa.String(length=200), nullable=False),
            sa.Column("label_fr", sa.String(length=200), nullable=True),
            sa.Column("conditions", sa.JSON(), nullable=False),
            sa.Column("points", sa.Integer(), nullable=False),
            *extra,
            sa.Column("enabled", sa.Boolean(), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            _workspace_fk(table),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint("workspace_id", "name",
                                name=op.f(f"uq_{table}_workspace_id_name")),
        )

    op.create_table(
        "score_ledger",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=True),
        sa.Column("contact_id", _ID, nullable=True),
        sa.Column("rule_id", _ID, nullable=True),
        sa.Column("site_id", _ID, nullable=False),
        sa.Column("session_id", _ID, nullable=False),
        sa.Column("hit_id", _ID, nullable=True),
        sa.Column("ts", _ts(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("weight", sa.BigInteger(), nullable=False),
        sa.Column("page_group", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_score_ledger_account_id_accounts")),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"],
                                name=op.f("fk_score_ledger_contact_id_contacts")),
        _workspace_fk("score_ledger"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_ledger")),
    )
    for columns in (("account_id", "ts"), ("contact_id", "ts")):
        op.create_index(op.f(f"ix_score_ledger_{'_'.join(columns)}"), "score_ledger",
                        list(columns), unique=False)

    op.create_table(
        "account_scores",
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("weight", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_account_scores_account_id_accounts")),
        _workspace_fk("account_scores"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_scores")),
    )
    op.create_index(op.f("ix_account_scores_workspace_id_weight"), "account_scores",
                    ["workspace_id", "weight"], unique=False)

    op.create_table(
        "account_interest",
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("page_group", sa.String(length=100), nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("weight", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_account_interest_account_id_accounts")),
        _workspace_fk("account_interest"),
        sa.PrimaryKeyConstraint("account_id", "page_group", name=op.f("pk_account_interest")),
    )

    op.create_table(
        "contact_scores",
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("weight", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"],
                                name=op.f("fk_contact_scores_contact_id_contacts")),
        _workspace_fk("contact_scores"),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_contact_scores")),
    )


def downgrade() -> None:
    op.drop_table("contact_scores")
    op.drop_table("account_interest")
    op.drop_index(op.f("ix_account_scores_workspace_id_weight"), table_name="account_scores")
    op.drop_table("account_scores")
    for columns in (("account_id", "ts"), ("contact_id", "ts")):
        op.drop_index(op.f(f"ix_score_ledger_{'_'.join(columns)}"), table_name="score_ledger")
    op.drop_table("score_ledger")
    op.drop_table("fit_rules")
    op.drop_table("scoring_rules")
    op.drop_table("scoring_settings")

"""dashboard: users, memberships, sessions, notes, views, api tokens

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webleads.db.schema

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> webleads.db.schema.UTCDateTime:
    return webleads.db.schema.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('login_failures',
    sa.Column('id', _ID, nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('at', _utc(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    op.create_index(op.f('ix_login_failures_key_at'), 'login_failures', ['key', 'at'])

    op.create_table('users',
    sa.Column('id', _ID, nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('locale', sa.String(length=2), nullable=True),
    sa.Column('install_admin', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', _utc(), nullable=False),
    sa.Column('last_login_at', _utc(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('api_tokens',
    sa.Column('id', _ID, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('user_id', _ID, nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('created_at', _utc(), nullable=False),
    sa.Column('last_used_at', _utc(), nullable=True),
    sa.Column('revoked_at', _utc(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
        name=op.f('fk_api_tokens_workspace_id_workspaces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('password_resets',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', _ID, nullable=False),
    sa.Column('created_at', _utc(), nullable=False),
    sa.Column('expires_at', _utc(), nullable=False),
    sa.Column('used_at', _utc(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
        name=op.f('fk_password_resets_user_id_users')),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_password_resets'))
    )
    op.create_index(op.f('ix_password_resets_user_id'), 'password_resets', ['user_id'])

    op.create_table('saved_views',
    sa.Column('id', _ID, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('user_id', _ID, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('created_at', _utc(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_views_user_id_users')),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
        name=op.f('fk_saved_views_workspace_id_workspaces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views'))
    )
    op.create_index(op.f('ix_saved_views_workspace_id_user_id'), 'saved_views',
                    ['workspace_id', 'user_id'])

    op.create_table('web_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', _ID, nullable=False),
    sa.Column('created_at', _utc(), nullable=False),
    sa.Column('seen_at', _utc(), nullable=False),
    sa.Column('expires_at', _utc(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_sessions'))
    )
    op.create_index(op.f('ix_web_sessions_user_id'), 'web_sessions', ['user_id'])

    op.create_table('account_notes',
    sa.Column('id', _ID, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('account_id', _ID, nullable=False),
    sa.Column('user_id', _ID, nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', _utc(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
        name=op.f('fk_account_notes_account_id_accounts')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_notes_user_id_users')),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
        name=op.f('fk_account_notes_workspace_id_workspaces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_notes'))
    )
    op.create_index(op.f('ix_account_notes_account_id_created_at'), 'account_notes',
                    ['account_id', 'created_at'])

    op.create_table('memberships',
    sa.Column('user_id', _ID, nullable=False),
    sa.Column('workspace_id', _ID, nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('owner_id', _ID, nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['owners.id'],
        name=op.f('fk_memberships_owner_id_owners')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users')),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
        name=op.f('fk_memberships_workspace_id_workspaces')),
    sa.PrimaryKeyConstraint('user_id', 'workspace_id', name=op.f('pk_memberships'))
    )
    op.create_index(op.f('ix_memberships_workspace_id'), 'memberships', ['workspace_id'])



def downgrade() -> None:
    op.drop_index(op.f('ix_memberships_workspace_id'), table_name='memberships')

    op.drop_table('memberships')
    op.drop_index(op.f('ix_account_notes_account_id_created_at'), table_name='account_notes')

    op.drop_table('account_notes')
    op.drop_index(op.f('ix_web_sessions_user_id'), table_name='web_sessions')

    op.drop_table('web_sessions')
    op.drop_index(op.f('ix_saved_views_workspace_id_user_id'), table_name='saved_views')

    op.drop_table('saved_views')
    op.drop_index(op.f('ix_password_resets_user_id'), table_name='password_resets')

    op.drop_table('password_resets')
    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_index(op.f('ix_login_failures_key_at'), table_name='login_failures')

    op.drop_table('login_failures')

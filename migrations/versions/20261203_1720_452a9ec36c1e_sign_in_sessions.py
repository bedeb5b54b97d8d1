"""sign-in sessions kept on the server

One row per signed-in browser (the SHA-256 hash of the secret its session cookie carries,
when it began, when it was last used, when it ended), so that signing out ends every copy of
the cookie and sessions expire after an idle and an absolute time. Browsers signed in before
this revision have no row and are signed out once.

Revision ID: 452a9ec36c1e
Revises: e7b2c4d9a1f3
Create Date: 2026-12-03 17:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '452a9ec36c1e'
down_revision = 'e7b2c4d9a1f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_sessions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sign_in_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sign_in_sessions_token_hash'))
    )
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_sessions_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_sessions_user_id'))

    op.drop_table('sign_in_sessions')

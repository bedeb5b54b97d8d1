"""provider registrations confirmed by email

Revision ID: d3a7f9b2c6e1
Revises: c8d4e1f7a2b9
Create Date: 2026-12-03 18:00:00.000000

A provider's registration waits here until its owner follows the link emailed to them, as a
citizen's sign-up does, so registering never says whether an address has an account.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3a7f9b2c6e1'
down_revision = 'c8d4e1f7a2b9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('provider_registrations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_email', sa.String(length=254), nullable=False),
    sa.Column('owner_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_registrations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_provider_registrations_token_hash'))
    )
    with op.batch_alter_table('provider_registrations', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_provider_registrations_owner_email'), ['owner_email'], unique=False
        )


def downgrade():
    with op.batch_alter_table('provider_registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_registrations_owner_email'))
    op.drop_table('provider_registrations')

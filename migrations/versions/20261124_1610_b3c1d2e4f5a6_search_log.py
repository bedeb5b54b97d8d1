"""search log

Revision ID: b3c1d2e4f5a6
Revises: 6eb1ac7a3c88
Create Date: 2026-11-24 16:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b3c1d2e4f5a6'
down_revision = '6eb1ac7a3c88'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('search_log',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('searched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('words', sa.String(length=200), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('places', sa.JSON(), nullable=False),
    sa.Column('results', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_log'))
    )
    with op.batch_alter_table('search_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_log_searched_at'), ['searched_at'], unique=False)


def downgrade():
    with op.batch_alter_table('search_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_log_searched_at'))

    op.drop_table('search_log')

"""stripe events: each webhook event kept once

Revision ID: e7b3d9f5a2c8
Revises: c4e8a2f6b9d1
Create Date: 2026-12-03 23:00:00.000000

Stripe's event id is the key, so a delivery seen before is found and changes nothing; the
row says when it came, when it was handled and what was done (handled or ignored).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7b3d9f5a2c8'
down_revision = 'c4e8a2f6b9d1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stripe_events',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Enum('handled', 'ignored', name='stripe_event_outcome', native_enum=False, length=20, create_constraint=True), nullable=True),
    sa.Column('result', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_events'))
    )
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stripe_events_received_at'), ['received_at'], unique=False)


def downgrade():
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stripe_events_received_at'))

    op.drop_table('stripe_events')

"""payment mismatches: where Stripe and our records disagree, each kept once

Revision ID: b8d4f2a6c9e1
Revises: e7b3d9f5a2c8
Create Date: 2026-12-03 23:40:00.000000

Reconciliation stores each disagreement it finds (by kind, on which payment, Stripe object
or ledger transfer, for which amounts) once, under a unique key; council finance resolves
each with a reason (who, when, why).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d4f2a6c9e1'
down_revision = 'e7b3d9f5a2c8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payment_mismatches',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('kind', sa.Enum('paid_not_in_ledger', 'not_at_stripe', 'amounts_differ', 'refunded_not_here', name='mismatch_kind', native_enum=False, length=20, create_constraint=True), nullable=False),
    sa.Column('card_payment_id', sa.Uuid(), nullable=True),
    sa.Column('stripe_object_id', sa.String(length=255), nullable=True),
    sa.Column('transfer_key', sa.String(length=200), nullable=True),
    sa.Column('stripe_amount_pence', sa.BigInteger(), nullable=True),
    sa.Column('our_amount_pence', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.Column('repaired', sa.Boolean(), nullable=False),
    sa.Column('resolved_by_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['card_payment_id'], ['card_payments.id'], name=op.f('fk_payment_mismatches_card_payment_id_card_payments')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_payment_mismatches_resolved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_mismatches')),
    sa.UniqueConstraint('key', name=op.f('uq_payment_mismatches_key'))
    )
    with op.batch_alter_table('payment_mismatches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_mismatches_card_payment_id'), ['card_payment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_mismatches_found_at'), ['found_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_mismatches_resolved_at'), ['resolved_at'], unique=False)


def downgrade():
    with op.batch_alter_table('payment_mismatches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_mismatches_resolved_at'))
        batch_op.drop_index(batch_op.f('ix_payment_mismatches_found_at'))
        batch_op.drop_index(batch_op.f('ix_payment_mismatches_card_payment_id'))

    op.drop_table('payment_mismatches')

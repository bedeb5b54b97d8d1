"""card payments, orders awaiting payment and their card share

Revision ID: c4e8a2f6b9d1
Revises: a9d5c3e7f1b4
Create Date: 2026-12-03 22:30:00.000000

One row per card payment (an order's card share or a top-up), the order status "awaiting
payment" (its card share not yet paid), and each order's card share in pence.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a2f6b9d1'
down_revision = 'a9d5c3e7f1b4'
branch_labels = None
depends_on = None

_STATUSES = [
    'awaiting_approval', 'placed', 'accepted', 'declined', 'in_progress', 'completed',
    'cancelled',
]


def _check(column, statuses):
    return f"{column} IN (" + ", ".join(f"'{status}'" for status in statuses) + ")"


def _statuses(statuses):
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_orders_order_status'), type_='check')
        batch_op.create_check_constraint('order_status', _check('status', statuses))
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_order_events_from_status'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_order_events_to_status'), type_='check')
        batch_op.create_check_constraint('from_status', _check('from_status', statuses))
        batch_op.create_check_constraint('to_status', _check('to_status', statuses))


def upgrade():
    _statuses(['awaiting_payment'] + _STATUSES)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('card_pence', sa.BigInteger(), server_default='0', nullable=False)
        )
        batch_op.create_check_constraint(
            'card_in_total', 'card_pence >= 0 AND card_pence <= total_pence'
        )
    op.create_table('card_payments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=True),
    sa.Column('purpose', sa.Enum('order', 'top_up', name='card_purpose', native_enum=False, length=20, create_constraint=True), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.Enum('created', 'processing', 'requires_action', 'succeeded', 'failed', 'cancelled', 'mismatched', 'refund_due', 'partly_refunded', 'refunded', name='card_payment_status', native_enum=False, length=20, create_constraint=True), nullable=False),
    sa.Column('stripe_payment_intent_id', sa.String(length=255), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('transfer_key', sa.String(length=200), nullable=True),
    sa.Column('received_amount_pence', sa.BigInteger(), nullable=True),
    sa.Column('received_currency', sa.String(length=3), nullable=True),
    sa.Column('failure_reason', sa.Text(), nullable=False),
    sa.Column('refund_due_pence', sa.BigInteger(), nullable=False),
    sa.Column('refunded_pence', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_card_payments_amount_positive')),
    sa.CheckConstraint('refunded_pence >= 0', name=op.f('ck_card_payments_refunded_not_negative')),
    sa.CheckConstraint('refund_due_pence >= 0', name=op.f('ck_card_payments_refund_due_not_negative')),
    sa.CheckConstraint("(purpose = 'order') = (order_id IS NOT NULL)", name=op.f('ck_card_payments_order_payment_order')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_card_payments_order_id_orders')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_card_payments_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_payments')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_card_payments_idempotency_key')),
    sa.UniqueConstraint('stripe_payment_intent_id', name=op.f('uq_card_payments_stripe_payment_intent_id')),
    sa.UniqueConstraint('transfer_key', name=op.f('uq_card_payments_transfer_key'))
    )
    with op.batch_alter_table('card_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_payments_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_payments_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_payments_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('card_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_payments_status'))
        batch_op.drop_index(batch_op.f('ix_card_payments_person_id'))
        batch_op.drop_index(batch_op.f('ix_card_payments_order_id'))
    op.drop_table('card_payments')
    # An order awaiting payment has no status before this revision: it was never sent.
    op.execute(sa.text("UPDATE orders SET status = 'cancelled' WHERE status = 'awaiting_payment'"))
    op.execute(sa.text(
        "UPDATE order_events SET from_status = NULL WHERE from_status = 'awaiting_payment'"
    ))
    op.execute(sa.text(
        "UPDATE order_events SET to_status = 'cancelled' WHERE to_status = 'awaiting_payment'"
    ))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_orders_card_in_total'), type_='check')
        batch_op.drop_column('card_pence')
    _statuses(_STATUSES)

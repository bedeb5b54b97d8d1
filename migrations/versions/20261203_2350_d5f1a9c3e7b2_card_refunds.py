"""card refunds: unspent card money owed back, and Stripe's word on it

Revision ID: d5f1a9c3e7b2
Revises: b8d4f2a6c9e1
Create Date: 2026-12-03 23:50:00.000000

One row per refund owed to a card payment (how much, why, the release that made it owed,
our idempotency key, Stripe's refund id, the ledger hold and its posting), and a kind of
notification for the person told their money is back on their card.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5f1a9c3e7b2'
down_revision = 'b8d4f2a6c9e1'
branch_labels = None
depends_on = None

_KINDS = [
    'order_placed', 'order_needs_approval', 'order_approved', 'order_accepted',
    'order_declined', 'order_cancelled', 'delivery_to_confirm', 'delivery_queried',
    'invoice_raised', 'invoice_settled', 'budget_nearly_spent',
    'provider_registered', 'support_plan_drafted', 'listing_stale_soon',
]
_NEW_KINDS = ['card_refunded']


def _kinds_check(kinds):
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notifications_notification_kind'), type_='check')
        batch_op.create_check_constraint('notification_kind', _kinds_check(_KINDS + _NEW_KINDS))
    op.create_table('card_refunds',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('card_payment_id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=True),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Enum('declined', 'cancelled', 'refused', 'settled_less', 'order_gone', name='card_refund_reason', native_enum=False, length=20, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('owed', 'issuing', 'pending', 'succeeded', 'failed', name='card_refund_status', native_enum=False, length=20, create_constraint=True), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('stripe_refund_id', sa.String(length=255), nullable=True),
    sa.Column('hold_key', sa.String(length=200), nullable=True),
    sa.Column('transfer_key', sa.String(length=200), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_card_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['card_payment_id'], ['card_payments.id'], name=op.f('fk_card_refunds_card_payment_id_card_payments')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_card_refunds_order_id_orders')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_card_refunds_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_refunds')),
    sa.UniqueConstraint('hold_key', name=op.f('uq_card_refunds_hold_key')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_card_refunds_idempotency_key')),
    sa.UniqueConstraint('key', name=op.f('uq_card_refunds_key')),
    sa.UniqueConstraint('stripe_refund_id', name=op.f('uq_card_refunds_stripe_refund_id')),
    sa.UniqueConstraint('transfer_key', name=op.f('uq_card_refunds_transfer_key'))
    )
    with op.batch_alter_table('card_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_refunds_card_payment_id'), ['card_payment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_refunds_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_refunds_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_refunds_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('card_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_refunds_status'))
        batch_op.drop_index(batch_op.f('ix_card_refunds_person_id'))
        batch_op.drop_index(batch_op.f('ix_card_refunds_order_id'))
        batch_op.drop_index(batch_op.f('ix_card_refunds_card_payment_id'))
    op.drop_table('card_refunds')
    op.execute(sa.text("DELETE FROM notifications WHERE kind = 'card_refunded'"))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notifications_notification_kind'), type_='check')
        batch_op.create_check_constraint('notification_kind', _kinds_check(_KINDS))

"""recurring care by card: Stripe customers, card mandates and cycle charges

Revision ID: f3a7c1e9d5b2
Revises: d5f1a9c3e7b2
Create Date: 2026-12-04 00:10:00.000000

The person's Stripe Customer, their recorded agreement that each cycle's card share of an
order is charged to a saved card (a mandate), one row per attempt to charge a cycle, the card
payment purpose "cycle" (with an order, like "order"), and a notification kind for a failed
charge.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a7c1e9d5b2'
down_revision = 'd5f1a9c3e7b2'
branch_labels = None
depends_on = None

_KINDS = [
    'order_placed', 'order_needs_approval', 'order_approved', 'order_accepted',
    'order_declined', 'order_cancelled', 'delivery_to_confirm', 'delivery_queried',
    'invoice_raised', 'invoice_settled', 'budget_nearly_spent',
    'provider_registered', 'support_plan_drafted', 'listing_stale_soon', 'card_refunded',
]
_NEW_KINDS = ['card_charge_failed']


def _in(column, values):
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _purposes(purposes, with_order):
    with op.batch_alter_table('card_payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_card_payments_card_purpose'), type_='check')
        batch_op.drop_constraint(
            batch_op.f('ck_card_payments_order_payment_order'), type_='check'
        )
        batch_op.create_check_constraint('card_purpose', _in('purpose', purposes))
        batch_op.create_check_constraint(
            'order_payment_order',
            f"({_in('purpose', with_order)}) = (order_id IS NOT NULL)"
            if len(with_order) > 1
            else "(purpose = 'order') = (order_id IS NOT NULL)",
        )


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notifications_notification_kind'), type_='check')
        batch_op.create_check_constraint('notification_kind', _in('kind', _KINDS + _NEW_KINDS))
    _purposes(['order', 'top_up', 'cycle'], ['order', 'cycle'])
    op.create_table('stripe_customers',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('stripe_customer_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_stripe_customers_person_id_people')),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_stripe_customers')),
    sa.UniqueConstraint('stripe_customer_id', name=op.f('uq_stripe_customers_stripe_customer_id'))
    )
    op.create_table('card_mandates',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('setting_up', 'active', 'replaced', 'stopped', 'abandoned', name='mandate_status', native_enum=False, length=20, create_constraint=True), nullable=False),
    sa.Column('stripe_customer_id', sa.String(length=255), nullable=False),
    sa.Column('stripe_setup_intent_id', sa.String(length=255), nullable=False),
    sa.Column('stripe_payment_method_id', sa.String(length=255), nullable=True),
    sa.Column('amount_per_cycle_pence', sa.BigInteger(), nullable=False),
    sa.Column('charge_days_before', sa.Integer(), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('agreed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('agreed_by_id', sa.Uuid(), nullable=True),
    sa.Column('agreed_how', sa.String(length=200), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreed_by_id'], ['users.id'], name=op.f('fk_card_mandates_agreed_by_id_users')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_card_mandates_order_id_orders')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_card_mandates_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_mandates')),
    sa.UniqueConstraint('stripe_setup_intent_id', name=op.f('uq_card_mandates_stripe_setup_intent_id'))
    )
    with op.batch_alter_table('card_mandates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_mandates_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_mandates_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_mandates_status'), ['status'], unique=False)
    op.create_table('cycle_charges',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('cycle_id', sa.Uuid(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('card_payment_id', sa.Uuid(), nullable=False),
    sa.Column('mandate_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['card_payment_id'], ['card_payments.id'], name=op.f('fk_cycle_charges_card_payment_id_card_payments')),
    sa.ForeignKeyConstraint(['cycle_id'], ['order_cycles.id'], name=op.f('fk_cycle_charges_cycle_id_order_cycles')),
    sa.ForeignKeyConstraint(['mandate_id'], ['card_mandates.id'], name=op.f('fk_cycle_charges_mandate_id_card_mandates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_charges')),
    sa.UniqueConstraint('card_payment_id', name=op.f('uq_cycle_charges_card_payment_id')),
    sa.UniqueConstraint('cycle_id', 'attempt', name=op.f('uq_cycle_charges_cycle_id_attempt')),
    sa.UniqueConstraint('key', name=op.f('uq_cycle_charges_key'))
    )
    with op.batch_alter_table('cycle_charges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cycle_charges_cycle_id'), ['cycle_id'], unique=False)


def downgrade():
    with op.batch_alter_table('cycle_charges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycle_charges_cycle_id'))
    op.drop_table('cycle_charges')
    with op.batch_alter_table('card_mandates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_mandates_status'))
        batch_op.drop_index(batch_op.f('ix_card_mandates_person_id'))
        batch_op.drop_index(batch_op.f('ix_card_mandates_order_id'))
    op.drop_table('card_mandates')
    op.drop_table('stripe_customers')
    op.execute(sa.text("DELETE FROM card_refunds WHERE card_payment_id IN (SELECT id FROM card_payments WHERE purpose = 'cycle')"))
    op.execute(sa.text("DELETE FROM card_payments WHERE purpose = 'cycle'"))
    _purposes(['order', 'top_up'], ['order'])
    op.execute(sa.text("DELETE FROM notifications WHERE kind = 'card_charge_failed'"))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notifications_notification_kind'), type_='check')
        batch_op.create_check_constraint('notification_kind', _in('kind', _KINDS))

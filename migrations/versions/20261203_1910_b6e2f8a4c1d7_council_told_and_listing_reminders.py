"""council told of decisions waiting, and reminders before a listing is stale

Revision ID: b6e2f8a4c1d7
Revises: d3a7f9b2c6e1
Create Date: 2026-12-03 19:10:00.000000

Three kinds of notification (a provider registered, a support plan drafted, a listing about
to be flagged stale), and a row per listing reminder so the reminder job sends each one once.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b6e2f8a4c1d7'
down_revision = 'd3a7f9b2c6e1'
branch_labels = None
depends_on = None

_KINDS = [
    'order_placed', 'order_needs_approval', 'order_approved', 'order_accepted',
    'order_declined', 'order_cancelled', 'delivery_to_confirm', 'delivery_queried',
    'invoice_raised', 'invoice_settled', 'budget_nearly_spent',
]
_NEW_KINDS = ['provider_registered', 'support_plan_drafted', 'listing_stale_soon']


def _kinds_check(kinds):
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notifications_notification_kind'), type_='check')
        batch_op.create_check_constraint('notification_kind', _kinds_check(_KINDS + _NEW_KINDS))
    op.create_table('listing_reminders',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('service_id', sa.Uuid(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_listing_reminders_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_reminders')),
    sa.UniqueConstraint('service_id', 'confirmed_at', name=op.f('uq_listing_reminders_service_id_confirmed_at'))
    )
    with op.batch_alter_table('listing_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_reminders_service_id'), ['service_id'], unique=False)


def downgrade():
    with op.batch_alter_table('listing_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_reminders_service_id'))
    op.drop_table('listing_reminders')
    op.execute(
        sa.text("DELETE FROM notifications WHERE kind IN ("
                + ", ".join(f"'{kind}'" for kind in _NEW_KINDS) + ")")
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notifications_notification_kind'), type_='check')
        batch_op.create_check_constraint('notification_kind', _kinds_check(_KINDS))

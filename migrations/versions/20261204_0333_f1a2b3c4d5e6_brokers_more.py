"""brokers: what acting on someone's behalf needed beyond the first tables

Revision ID: f1a2b3c4d5e6
Revises: e7f8a9b0c1d2
Create Date: 2026-12-04 03:33:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'e7f8a9b0c1d2'
branch_labels = None
depends_on = None

# Notification kinds: the kinds before issue 17, and each part's new ones (one list per part,
# so parts add theirs with a targeted edit; the constraint is replaced once, here).
_KINDS = [
    'order_placed', 'order_needs_approval', 'order_approved', 'order_accepted',
    'order_declined', 'order_cancelled', 'delivery_to_confirm', 'delivery_queried',
    'invoice_raised', 'invoice_settled', 'budget_nearly_spent',
    'provider_registered', 'support_plan_drafted', 'listing_stale_soon', 'card_refunded',
    'card_charge_failed',
]
# CONSENTS: a consent given, withdrawn, about to end.
_CONSENTS_KINDS = ['consent_given', 'consent_revoked', 'consent_expiring']
# SHORTLISTS: a shortlist shared with the person, approved by them.
_SHORTLISTS_KINDS = ['shortlist_shared', 'shortlist_approved']
# ONBEHALF: an order placed for the person by a broker or attorney.
_ONBEHALF_KINDS = ['order_placed_for_you']
# QUESTIONS: a question for a provider, the provider's answer.
_QUESTIONS_KINDS = ['question_asked', 'question_answered']
_NEW_KINDS = _ONBEHALF_KINDS + _CONSENTS_KINDS + _SHORTLISTS_KINDS + _QUESTIONS_KINDS


def _in(column, values):
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _notification_kinds(kinds):
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notifications_notification_kind'), type_='check')
        batch_op.create_check_constraint('notification_kind', _in('kind', kinds))


def upgrade():
    _notification_kinds(_KINDS + _NEW_KINDS)
    # CONSENTS: when a consent's holders and the person were told it ends soon.
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expiry_reminded_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_column('expiry_reminded_at')
    op.execute(sa.text(
        "DELETE FROM notifications WHERE kind IN ("
        + ", ".join(f"'{kind}'" for kind in _NEW_KINDS) + ")"
    ))
    _notification_kinds(_KINDS)

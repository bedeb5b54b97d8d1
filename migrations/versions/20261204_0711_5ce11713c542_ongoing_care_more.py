"""ongoing care: what the parts of issue 18 needed beyond the first tables

Revision ID: 5ce11713c542
Revises: 4bd00602b431
Create Date: 2026-12-04 07:11:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '5ce11713c542'
down_revision = '4bd00602b431'
branch_labels = None
depends_on = None

# OUTCOMES: the notification kinds before and after "safety_check_missed" (a provider answered
# "no" to a safety check of an outcome order: the council is told).
_KINDS_BEFORE = [
    'order_placed', 'order_needs_approval', 'order_approved', 'order_accepted',
    'order_declined', 'order_cancelled', 'delivery_to_confirm', 'delivery_queried',
    'invoice_raised', 'invoice_settled', 'budget_nearly_spent',
    'provider_registered', 'support_plan_drafted', 'listing_stale_soon', 'card_refunded',
    'card_charge_failed', 'order_placed_for_you', 'consent_given', 'consent_revoked',
    'consent_expiring', 'shortlist_shared', 'shortlist_approved', 'question_asked',
    'question_answered', 'package_shortfall', 'package_carried', 'variation_proposed',
    'variation_council', 'variation_decided', 'reablement_started', 'reablement_ended',
    'outcomes_to_confirm', 'isf_requested', 'isf_decided', 'isf_spent',
]
_OUTCOMES_KINDS = ['safety_check_missed']


def _notification_kinds(kinds):
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notifications_notification_kind'), type_='check')
        batch_op.create_check_constraint(
            'notification_kind', "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"
        )


def upgrade():
    # Each part adds its operations here with a comment naming the part.
    # VARIATIONS: a pause's planned end.
    with op.batch_alter_table("package_variations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resumes_on", sa.Date(), nullable=True))
    # OUTCOMES: a safety check answered "no" tells the council.
    _notification_kinds(_KINDS_BEFORE + _OUTCOMES_KINDS)


def downgrade():
    # OUTCOMES
    op.execute("DELETE FROM notifications WHERE kind = 'safety_check_missed'")
    _notification_kinds(_KINDS_BEFORE)
    # VARIATIONS
    with op.batch_alter_table("package_variations", schema=None) as batch_op:
        batch_op.drop_column("resumes_on")
